"""Quiet builds and the lead-in, with real speech: a routine on the defaults lays out with no warning in any
language, every bundled routine and the starter too, and a real build starts with its silence and keeps every
sound at its timeline time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from voicecoach._audio.layout import Timing, layout_session
from voicecoach._plan.planner import plan_session
from voicecoach._routine.examples import starter_text
from voicecoach._routine.load import load_routine_file, load_routine_text
from voicecoach._routine.settings import parse_setting

from .audio_probe import RATE_HZ, speech_onset_s
from .conftest import build_and_decode, write_routine
from .session_checks import check_holds, check_length, check_silence, check_tones

# Names and holds, and how many of each (reps, sets, sides): every rest, prepare and countdown left to the defaults.
NAMES_AND_HOLDS = """\
title: Names and holds
exercises:
  - name: Resistance to flexion
    hold: 5s
    reps: 10
  - name: Ankle circles
    hold: 15s
    sides: [left leg, right leg]
    sets: 2
    reps: 3
  - name: Walk on tiptoe
    hold: 20s
    sets: 3
  - name: Grip the floor with your toes
    hold: 1m
"""

BUNDLED = sorted((Path(__file__).resolve().parent.parent / "voicecoach" / "examples").glob("*.yaml"))


def real_layout(routine, speech):
    """The session laid out on the real engine's length of every phrase (synthesized into the tests' cache)."""
    plan = plan_session(routine)
    clips = speech.clips(plan.phrases(), speech.settings_for(plan.voice, plan.language), spoken=plan.spoken)
    return layout_session(plan, {text: clip.length_ms for text, clip in clips.items()})


@pytest.mark.parametrize("language", ["en", "de", "fr"])
def test_a_routine_of_names_and_holds_lays_out_without_a_warning(speech, language):
    routine = load_routine_text(NAMES_AND_HOLDS).session(settings=(parse_setting(f"language={language}"),))
    timeline = real_layout(routine, speech)
    # No rest grew; in German and French the English names are said as written, which is the one warning.
    assert timeline.warnings == (() if language == "en" else (
        f"no {language} text for title, exercises[0].name, exercises[1].name, exercises[1].sides and 2 more: said "
        f"as written by a voice for en (a name inside a {language} cue, by the {language} voice); add "
        f"`{language}: ...` under each",))
    for gap in (event for event in timeline.events if event.kind == "gap"):
        assert gap.end_ms - gap.start_ms == gap.asked_ms  # a rest left out is asked for as long as it is


def test_every_bundled_routine_and_the_starter_lay_out_without_a_warning(speech, tmp_path):
    # Each example and each of its variants, what `voicecoach init` writes, and what `voicecoach import` drafts.
    warned = {}
    from voicecoach._routine.article import import_article

    seed = Path(__file__).resolve().parent / "corpus" / "articles" / "back-pain-feet-exercises.txt"
    imported = write_routine(tmp_path, import_article(seed).text, "imported.yaml")  # the seed article's draft
    for path in [*BUNDLED, write_routine(tmp_path, starter_text(), "starter.yaml"), imported]:
        routine_file = load_routine_file(path)
        for variant in (None, *routine_file.variant_names):
            warnings = real_layout(routine_file.session(variant), speech).warnings
            if warnings:
                warned[f"{path.name} {variant or 'base'}"] = warnings
    assert warned == {}


def test_a_real_build_starts_with_a_second_of_digital_silence_and_keeps_every_sound_on_time(tmp_path, cache_dir):
    routine = write_routine(tmp_path, "title: Lead-in\nexercises:\n  - {name: Heel slides, hold: 3s, reps: 3}\n"
                                      "  - {name: Bridge, hold: 4s, sides: true}\n")
    result, timeline, decoded = build_and_decode(routine, tmp_path / "out", cache_dir)
    assert result.warnings == () and timeline["warnings"] == []
    lead_in_s = 1.0  # the default lead_in: a second of digital silence before the first word
    first_s = lead_in_s + Timing().after_lead_in_ms / 1000  # past MP3's reach back from the first word
    first = timeline["events"][0]
    assert (first["kind"], first["start"]) == ("speech", first_s)
    assert timeline["chapters"][0]["start"] == 0.0
    assert not np.any(decoded[:round(lead_in_s * RATE_HZ)])  # digital silence: every sample of the second 0
    assert abs(speech_onset_s(decoded, first_s) - first_s) <= 0.010
    check_length(decoded, timeline)
    assert check_tones(decoded, timeline) > 10
    assert check_holds(decoded, timeline, {"heel-slides": 3000, "bridge": 4000}) == 5
    assert check_silence(decoded, timeline) > 5
