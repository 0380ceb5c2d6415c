"""Plug-ins: an engine and a store that a separately installed package adds through entry points."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .conftest import write_routine

PLUGIN = '''
"""A package of someone else's: a speech engine that hums for exactly 40 ms a character, and a store."""
import numpy as np

from voicecoach import Clip, SpeechSettings, VoiceInfo
from voicecoach._stores import FolderStore


class HumEngine:
    name, label, version, processes = "hum", "hum", "hum 1", True

    def voices(self):
        return [VoiceInfo("hum/en", "Hum", ("en",))]

    def settings_for(self, voice, language, where):
        return SpeechSettings(self.name, self.version, "hum/en", voice.rate_wpm, voice.volume)

    def synthesize(self, text, settings):
        frames = 40 * len(text) * 22050 // 1000
        hum = 0.3 * np.sin(2 * np.pi * 220 * np.arange(frames) / 22050)
        return Clip(np.rint(hum * 32767).astype("<i2").tobytes(), 22050)


def shelf(location, option):
    """shelf://NAME is the folder NAME under $SHELF."""
    import os
    return FolderStore(os.path.join(os.environ["SHELF"], location.split("://", 1)[1]), option)
'''


def _installed(tmp_path: Path) -> dict[str, str]:
    """The plug-in package on the path, with its entry points, as pip would install it."""
    site = tmp_path / "site"
    (site / "vcplug").mkdir(parents=True)
    (site / "vcplug" / "__init__.py").write_text(PLUGIN)
    info = site / "vcplug-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: vcplug\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[voicecoach.engines]\nhum = vcplug:HumEngine\n\n"
                                           "[voicecoach.stores]\nshelf = vcplug:shelf\n")
    return {**os.environ, "PYTHONPATH": str(site), "SHELF": str(tmp_path / "shelf")}


def test_an_installed_engine_speaks_a_routine_that_names_it(tmp_path):
    env = _installed(tmp_path)
    routine = write_routine(tmp_path, "title: Hummed\nvoice: {engine: hum}\n"
                                      "exercises:\n  - {name: Plank, hold: 2s, countdown: 0, announce: []}\n")
    out, cache = tmp_path / "out", tmp_path / "cache"
    run = subprocess.run([sys.executable, "-m", "voicecoach", "build", str(routine), "-q", "-o", str(out),
                          "--cache-dir", str(cache)], env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    timeline = json.loads((out / "hummed.timeline.json").read_text())
    said = [event for event in timeline["events"] if event["kind"] == "speech"]
    # each clip is exactly 40 ms a character, less the silence trimmed around it: none here, it hums throughout
    assert said and all(round((e["end"] - e["start"]) * 1000) == 40 * len(e["text"]) for e in said)
    voices = subprocess.run([sys.executable, "-m", "voicecoach", "voices"], env=env, capture_output=True,
                            text=True, timeout=120)
    assert "hum      hum/en" in voices.stdout


def test_a_routine_naming_no_engine_lists_the_installed_ones(tmp_path):
    env = _installed(tmp_path)
    routine = write_routine(tmp_path, "title: T\nvoice: {engine: hmm}\nexercises:\n  - {name: P, hold: 2s}\n")
    run = subprocess.run([sys.executable, "-m", "voicecoach", "validate", str(routine)], env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert run.stderr == (f'{routine}:2: voice.engine: "hmm" is not a speech engine; write `engine: pyttsx3` '
                          "(espeak-ng, the default), `engine: piper` (a natural neural voice) or `engine: hum`\n")


def test_an_installed_store_takes_a_build(tmp_path, cache_dir):
    env = _installed(tmp_path)
    routine = write_routine(tmp_path, "title: Shelved\nexercises:\n  - {name: Plank, hold: 2s}\n")
    run = subprocess.run([sys.executable, "-m", "voicecoach", "build", str(routine), "-q", "-o", "shelf://top",
                          "--cache-dir", str(cache_dir)], env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert sorted(path.name for path in (tmp_path / "shelf" / "top").iterdir()) == [
        "shelved.lrc", "shelved.mp3", "shelved.timeline.json"]
