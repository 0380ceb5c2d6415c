"""A speech engine with exact, known lengths, for tests that are not about speech.

It plugs in where the real one does (``voicecoach.engines``' factory for
``pyttsx3``), so a whole build or CLI run takes milliseconds of "speech" and
every phrase's length is known in advance: ``FAKE_MS(text)``. Its clips are a
soft 300 Hz hum (audible, so they pass the same checks as real speech) and its
cache entries never serve the real engine (another version in the key).
"""

from __future__ import annotations

import numpy as np

from voicecoach._routine.model import Voice
from voicecoach._speech.engines import Clip, SpeechSettings, VoiceInfo

RATE_HZ = 22_050
HUM_HZ = 300


def fake_ms(text: str) -> int:
    """How long the fake engine takes to say ``text``, in ms (at any rate)."""
    return 300 + 40 * len(text)


class FakeEngine:
    name = "pyttsx3"  # stands in for the default engine
    label = "fake"
    version = "fake exact lengths 1"
    processes = False

    def voices(self) -> list[VoiceInfo]:
        return [VoiceInfo("fake/en", "Fake", ("en",))]

    def settings_for(self, voice: Voice, language: str, where) -> SpeechSettings:
        return SpeechSettings(self.name, self.version, f"fake/{language}", voice.rate_wpm, voice.volume)

    def synthesize(self, text: str, settings: SpeechSettings) -> Clip:
        frames = fake_ms(text) * RATE_HZ // 1000
        hum = 0.25 * np.sin(2 * np.pi * HUM_HZ * np.arange(frames) / RATE_HZ)
        return Clip(np.rint(hum * 32767).astype("<i2").tobytes(), RATE_HZ)
