"""Tempo reps: every rep lasts the sum of its phases, every phase starts with its cue, each rep is counted."""

from __future__ import annotations

import json

import numpy as np
import pytest

from voicecoach._audio.layout import Timing, layout_session
from voicecoach._audio.timeline import PhaseEvent, SpeechEvent, ToneEvent
from voicecoach._errors import LayoutError, RoutineError
from voicecoach._plan.planner import plan_session
from voicecoach._plan.script import format_script
from voicecoach._routine.read import parse_routine

from .audio_probe import onset_s, speech_onset_s
from .conftest import build_and_decode, write_routine
from .fake_engine import fake_ms
from .session_checks import check_holds, check_timing, events

ROUTINE = """\
title: Slow squats
prepare: 6s
exercises:
  - name: Squats
    tempo: "{tempo}"
    reps: 3
    sets: 2
    set_rest: 8s
    phase_cue: {cue}
"""
TIMING = Timing()


def lay_out(tempo: str = "3-1-1-0", cue: str = "tone", extra: str = "", lengths=fake_ms):
    plan = plan_session(parse_routine(ROUTINE.format(tempo=tempo, cue=cue) + extra, "t.yaml"))
    return layout_session(plan, {text: lengths(text) for text in plan.phrases()})


def test_a_set_is_its_reps_back_to_back_each_the_sum_of_its_phases():
    timeline = lay_out()
    holds = [e for e in timeline.events if e.kind == "hold"]
    assert [hold.end_ms - hold.start_ms for hold in holds] == [15_000, 15_000]
    phases = [e for e in timeline.events if isinstance(e, PhaseEvent)]
    assert [(p.phase, p.end_ms - p.start_ms) for p in phases[:3]] == [("down", 3000), ("bottom", 1000), ("up", 1000)]
    assert len(phases) == 2 * 3 * 3  # the 0 s top phase has no event
    for hold in holds:
        mine = [p for p in phases if hold.start_ms <= p.start_ms < hold.end_ms]
        assert mine[0].start_ms == hold.start_ms and mine[-1].end_ms == hold.end_ms
        for before, after in zip(mine, mine[1:]):
            assert before.end_ms == after.start_ms  # no gap between phases or reps
        assert [p.rep for p in mine] == [1, 1, 1, 2, 2, 2, 3, 3, 3]


def test_each_phase_starts_with_a_phase_tone_and_the_set_with_its_start_tone():
    timeline = lay_out()
    phase_starts = [e.start_ms for e in timeline.events if isinstance(e, PhaseEvent)]
    tones = {e.start_ms: e.tone for e in timeline.events if isinstance(e, ToneEvent)}
    starts = {e.start_ms for e in timeline.events if e.kind == "hold"}
    for at_ms in phase_starts:
        assert tones[at_ms] == ("start" if at_ms in starts else "phase")
    # No countdown ticks inside a set: its reps are its count.
    for hold in (e for e in timeline.events if e.kind == "hold"):
        assert not [e for e in timeline.events if isinstance(e, ToneEvent) and e.tone == "tick"
                    and hold.start_ms < e.start_ms < hold.end_ms]


def test_each_rep_is_counted_as_it_ends():
    timeline = lay_out()
    hold = next(e for e in timeline.events if e.kind == "hold")
    said = [e for e in timeline.events if isinstance(e, SpeechEvent) and e.text in ("one", "two", "three")]
    after_tone = TIMING.phase_ms + TIMING.speech_after_tone_ms
    assert [(e.text, e.start_ms - hold.start_ms) for e in said[:2]] == [("one", 5000 + after_tone),
                                                                        ("two", 10_000 + after_tone)]
    # The last number follows the stop tone, before the release.
    three = said[2]
    assert three.start_ms == hold.end_ms + TIMING.stop_tone_ms + TIMING.speech_after_tone_ms
    release = next(e for e in timeline.events if isinstance(e, SpeechEvent) and e.start_ms > three.start_ms)
    assert release.text == "Release"


def test_phase_words_start_on_their_phase_and_a_count_takes_the_first_words_place():
    timeline = lay_out(tempo="2-0-2-0", cue="voice")
    hold = next(e for e in timeline.events if e.kind == "hold")
    said = [(e.start_ms - hold.start_ms, e.text) for e in timeline.events
            if isinstance(e, SpeechEvent) and hold.start_ms <= e.start_ms < hold.end_ms]
    after_start = TIMING.start_tone_ms + TIMING.speech_after_tone_ms
    assert said == [(after_start, "down"), (2000, "up"), (4000, "one"), (6000, "up"), (8000, "two"), (10_000, "up")]


def test_count_silent_says_no_numbers():
    timeline = lay_out(extra="    count: silent\n")
    assert not [e for e in timeline.events if isinstance(e, SpeechEvent) and e.text in ("one", "two", "three")]


def test_named_phases_in_another_language():
    text = ROUTINE.format(tempo="x", cue="voice").replace('tempo: "x"', "tempo: {down: 2s, up: 2s}")
    plan = plan_session(parse_routine("language: de\n" + text, "t.yaml"))
    timeline = layout_session(plan, {text: fake_ms(text) for text in plan.phrases()})
    words = {e.text for e in timeline.events if isinstance(e, SpeechEvent)}
    assert {"runter", "hoch", "eins", "zwei", "drei"} <= words


def test_the_script_shows_each_rep_and_its_cues():
    plan = plan_session(parse_routine(ROUTINE.format(tempo="3-1-1-0", cue="tone"), "t.yaml"))
    lines = format_script(plan).splitlines()
    at = lines.index("  REPS    15 s  Squats (set 1): 3 reps of 5 s")
    assert lines[at + 1] == "    each rep: down 3 s, bottom 1 s, up 1 s (a phase tone starts each)"
    assert lines[at + 2] == '    counted aloud as each rep ends: "one", "two", "three"'


def test_the_timeline_file_has_the_phase_events():
    timeline = lay_out()
    data = json.loads(timeline.to_json())
    first = next(event for event in data["events"] if event["kind"] == "phase")
    hold = next(event for event in data["events"] if event["kind"] == "hold")
    assert first == {"start": hold["start"], "end": round(hold["start"] + 3.0, 3), "kind": "phase",
                     "exercise": "squats", "phase": "down", "rep": 1, "set": 1}
    read_back = type(timeline).from_json(timeline.to_json())
    assert [e for e in read_back.events if isinstance(e, PhaseEvent)] == \
        [e for e in timeline.events if isinstance(e, PhaseEvent)]


@pytest.mark.parametrize(("tempo", "expected"), [
    ("3-1-1", 't.yaml:5: exercises[0].tempo: "3-1-1" has 3 phases; write seconds down-bottom-up-top, e.g. '
              '"3-1-1-0", or name each phase, e.g. `tempo: {down: 3s, up: 1s}`'),
    ("slow", 't.yaml:5: exercises[0].tempo: "slow" has 1 phase; write seconds down-bottom-up-top, e.g. "3-1-1-0", '
             "or name each phase, e.g. `tempo: {down: 3s, up: 1s}`"),
    ("3-x-1-0", 't.yaml:5: exercises[0].tempo: "3-x-1-0" is not a tempo; write seconds down-bottom-up-top, e.g. '
                '"3-1-1-0", or name each phase, e.g. `tempo: {down: 3s, up: 1s}`'),
    ("3-0.25-1-0", "t.yaml:5: exercises[0].tempo: the bottom phase lasts 0.25 s; a phase lasts 0 (none) or at "
                   "least 0.5 s, so that its cue fits"),
    ("0-0-0-0", 't.yaml:5: exercises[0].tempo: a rep of "0-0-0-0" lasts under 0.5 s; give its phases more time, '
                'e.g. "3-1-1-0"'),
])
def test_a_bad_tempo_is_one_line(tempo, expected):
    with pytest.raises(RoutineError) as caught:
        lay_out(tempo=tempo)
    assert str(caught.value) == expected


def test_hold_and_tempo_together_is_one_line():
    with pytest.raises(RoutineError) as caught:
        lay_out(extra="    hold: 5s\n")
    assert str(caught.value) == ("t.yaml:10: exercises[0].hold: a tempo exercise has no hold: its reps last their "
                                 "phases, and each phase has its cue; remove it, or remove tempo")


def test_count_aloud_on_a_hold_is_one_line():
    with pytest.raises(RoutineError) as caught:
        parse_routine("title: T\nexercises:\n  - name: Plank\n    hold: 5s\n    count: aloud\n", "t.yaml")
    assert str(caught.value) == ("t.yaml:5: exercises[0].count: count is for an exercise with a tempo (moving reps, "
                                 'e.g. `tempo: "3-1-1-0"`); this one holds, so remove it')


def test_a_phase_word_too_long_for_its_phase_names_the_exercise():
    with pytest.raises(LayoutError) as caught:
        lay_out(tempo="2-0-1-0", cue="voice", lengths=lambda text: 900 if text == "up" else fake_ms(text))
    assert str(caught.value) == (
        't.yaml: Squats: "up" lasts 0.9 s and does not fit in its phase of the down 2 s, up 1 s tempo (it would run '
        "into the stop tone at 9 s); use longer phases or a faster voice.rate, or phase_cue: tone")


# ---------------------------------------------------------------- the decoded MP3


def test_every_phase_cue_and_every_rep_is_exact_in_the_decoded_mp3(tmp_path, cache_dir):
    path = write_routine(tmp_path, ROUTINE.format(tempo="3-1-1-0", cue="tone"))
    _, timeline, decoded = build_and_decode(path, tmp_path / "out", cache_dir)
    tones, holds, _ = check_timing(decoded, timeline, {"squats": 15_000})
    assert holds == 2
    phases = events(timeline, "phase")
    heard = [onset_s(decoded, phase["start"]) for phase in phases]
    for phase, at_s in zip(phases, heard):  # a phase tone, or the set's start tone, on every phase
        assert abs(at_s - phase["start"]) <= 0.010, (phase, at_s)
    # Every rep, from the cue that starts it to the cue that starts the next (or the stop tone), lasts 5 s.
    stops = [onset_s(decoded, tone["start"]) for tone in events(timeline, "tone") if tone["tone"] == "stop"]
    rep_firsts = [at for phase, at in zip(phases, heard) if phase["phase"] == "down"]
    for set_number in range(2):
        marks = rep_firsts[3 * set_number:3 * set_number + 3] + [stops[set_number]]
        assert np.allclose(np.diff(marks), 5.0, atol=0.010), marks


def test_every_phase_word_starts_on_its_phase_in_the_decoded_mp3(tmp_path, cache_dir):
    path = write_routine(tmp_path, ROUTINE.format(tempo="2-0-2-0", cue="voice"))
    _, timeline, decoded = build_and_decode(path, tmp_path / "out", cache_dir)
    check_holds(decoded, timeline, {"squats": 12_000})
    starts = {tone["start"] for tone in events(timeline, "tone")}
    for phase in events(timeline, "phase"):
        if phase["start"] in starts:
            continue  # the set's first phase: its start tone, then its word
        heard = speech_onset_s(decoded, phase["start"])
        assert abs(heard - phase["start"]) <= 0.010, (phase, heard)
