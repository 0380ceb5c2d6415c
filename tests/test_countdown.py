"""The spoken countdown (countdown_style: voice | both): each number on its whole second, in the session's language."""

from __future__ import annotations

import pytest

from voicecoach._audio.layout import Timing, layout_session
from voicecoach._audio.timeline import SpeechEvent, ToneEvent
from voicecoach._errors import LayoutError, RoutineError
from voicecoach._plan.planner import plan_session
from voicecoach._routine.read import parse_routine

from .audio_probe import speech_onset_s
from .conftest import build_and_decode, write_routine
from .fake_engine import fake_ms
from .session_checks import check_timing

ROUTINE = """\
title: Count with me
language: {language}
prepare: 6s
exercises:
  - name: Plank
    hold: 8s
    reps: 2
    rep_rest: 7s
    countdown: 3
    countdown_style: {style}
"""


def lay_out(style: str, language: str = "en", lengths=fake_ms):
    plan = plan_session(parse_routine(ROUTINE.format(style=style, language=language), "c.yaml"))
    return layout_session(plan, {text: lengths(text) for text in plan.phrases()})


def test_voice_says_each_number_on_its_whole_second_instead_of_a_tick():
    timeline = lay_out("voice")
    said = [e for e in timeline.events if isinstance(e, SpeechEvent) and e.text in ("three", "two", "one")]
    starts = [e.start_ms for e in timeline.events if isinstance(e, ToneEvent) and e.tone == "start"]
    assert not [e for e in timeline.events if isinstance(e, ToneEvent) and e.tone == "tick"]
    # Before each start tone (prepare, the rest) and each stop tone (the holds): 3, 2, 1 on the last seconds.
    stops = [e.start_ms for e in timeline.events if isinstance(e, ToneEvent) and e.tone == "stop"]
    expected = sorted(edge - k * 1000 for edge in starts + stops for k in (3, 2, 1))
    assert [e.start_ms for e in said] == expected
    assert [e.text for e in said[:3]] == ["three", "two", "one"]


def test_both_ticks_and_says_each_number_after_its_tick():
    timeline = lay_out("both")
    t = Timing()
    ticks = [e.start_ms for e in timeline.events if isinstance(e, ToneEvent) and e.tone == "tick"]
    said = [e.start_ms for e in timeline.events if isinstance(e, SpeechEvent) and e.text in ("three", "two", "one")]
    assert said == [tick + t.tick_ms + t.speech_after_tone_ms for tick in ticks]


def test_the_numbers_are_in_the_sessions_language():
    said = {e.text for e in lay_out("voice", "fr").events if isinstance(e, SpeechEvent)}
    assert {"trois", "deux", "un"} <= said


def test_a_number_too_long_for_its_second_names_the_exercise():
    with pytest.raises(LayoutError) as caught:
        lay_out("voice", lengths=lambda text: 800 if text == "two" else fake_ms(text))
    assert str(caught.value) == ('c.yaml: Plank: the count "two" lasts 0.8 s, but a number has 0.75 s in its second; '
                                 "use a faster voice.rate, countdown_style: ticks, or a shorter countdown")


def test_an_unknown_style_is_one_line():
    with pytest.raises(RoutineError) as caught:
        parse_routine(ROUTINE.format(style="beeps", language="en"), "c.yaml")
    assert str(caught.value) == ('c.yaml:10: exercises[0].countdown_style: "beeps" is not supported; '
                                 "use ticks, voice or both")


def test_each_spoken_number_starts_on_its_second_in_the_decoded_mp3(tmp_path, cache_dir):
    path = write_routine(tmp_path, ROUTINE.format(style="voice", language="de"))
    _, timeline, decoded = build_and_decode(path, tmp_path / "out", cache_dir)
    check_timing(decoded, timeline, {"plank": 8000})
    numbers = [e for e in timeline["events"] if e["kind"] == "speech" and e["text"] in ("drei", "zwei", "eins")]
    assert len(numbers) == 4 * 3  # prepare, hold 1, rest, hold 2
    for number in numbers:
        heard = speech_onset_s(decoded, number["start"])
        assert abs(heard - number["start"]) <= 0.020, (number, heard)
