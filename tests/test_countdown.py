"""The spoken countdown (countdown_style: voice | both): each number on its whole second, in the session's language."""

from __future__ import annotations

import pytest

from voicecoach._audio.layout import Timing, layout_session
from voicecoach._audio.timeline import SpeechEvent, ToneEvent
from voicecoach._errors import LayoutError, RoutineError
from voicecoach._plan.planner import plan_session
from voicecoach._routine.languages import SUPPORTED_LANGUAGES, phrases_for
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
    # With both, a number has its second less the tick, the clearance after it and the countdown's own clearance
    # before the next second's sound: 670 ms. The 250 ms before other tones is not what bounds it.
    assert t.count_before_tick_ms < t.speech_before_tone_ms
    room_ms = 1000 - t.tick_ms - t.speech_after_tone_ms - t.count_before_tick_ms
    assert room_ms == 670
    fits = lay_out("both", lengths=lambda text: room_ms if text == "two" else fake_ms(text))
    two = [e for e in fits.events if isinstance(e, SpeechEvent) and e.text == "two"]
    next_sounds = sorted(e.start_ms for e in fits.events if isinstance(e, ToneEvent) and e.tone in ("tick", "start",
                                                                                                   "stop"))
    for number in two:
        following = min(at for at in next_sounds if at > number.start_ms)
        assert number.end_ms + t.count_before_tick_ms == following
    with pytest.raises(LayoutError, match='the count "two" lasts 0.671 s, but a number has 0.67 s in its second'):
        lay_out("both", lengths=lambda text: room_ms + 1 if text == "two" else fake_ms(text))


def test_the_numbers_are_in_the_sessions_language():
    said = {e.text for e in lay_out("voice", "fr").events if isinstance(e, SpeechEvent)}
    assert {"trois", "deux", "un"} <= said


def test_a_number_too_long_for_its_second_names_the_exercise():
    with pytest.raises(LayoutError) as caught:
        lay_out("voice", lengths=lambda text: 900 if text == "two" else fake_ms(text))
    assert str(caught.value) == ('c.yaml: Plank: the count "two" lasts 0.9 s, but a number has 0.85 s in its second; '
                                 "use a faster voice.rate, countdown_style: ticks, or a shorter countdown")


def real_layout(routine, speech):
    """The session laid out on the real engine's length of every phrase (as tests/test_defaults_and_lead_in.py)."""
    plan = plan_session(routine)
    clips = speech.clips(plan.phrases(), speech.settings_for(plan.voice, plan.language), spoken=plan.spoken)
    return layout_session(plan, {text: clip.length_ms for text, clip in clips.items()})


def assert_each_number_between_its_tick_and_the_next(timeline, words):
    """Every number said starts right after its tick and ends the countdown's clearance before the next
    second's sound (the next tick, or the tone that ends the hold or rest)."""
    t = Timing()
    tones = sorted(e.start_ms for e in timeline.events if isinstance(e, ToneEvent))
    ticks = {e.start_ms for e in timeline.events if isinstance(e, ToneEvent) and e.tone == "tick"}
    numbers = [e for e in timeline.events if isinstance(e, SpeechEvent) and e.text in words]
    assert numbers
    for number in numbers:
        tick_ms = number.start_ms - t.tick_ms - t.speech_after_tone_ms
        assert tick_ms in ticks, number
        following = min(at for at in tones if at > tick_ms)
        assert following == tick_ms + 1000, number
        assert number.end_ms + t.count_before_tick_ms <= following, number
    return numbers


ITALIAN = """\
title: Conta
language: it
exercises:
  - name: Plank
    hold: 8s
    reps: 2
    countdown: 5
    countdown_style: both
"""


def test_an_italian_countdown_of_five_with_both_lays_out_on_real_speech(speech):
    # "quattro" is the longest count of any language (614 ms at 160 wpm): more than the 570 ms that ending it
    # 250 ms before the next tick would leave, so the countdown has its own, shorter clearance.
    timeline = real_layout(parse_routine(ITALIAN, "conta.yaml"), speech)
    numbers = assert_each_number_between_its_tick_and_the_next(
        timeline, ("cinque", "quattro", "tre", "due", "uno"))
    assert len(numbers) == 4 * 5  # prepare, hold 1, rest, hold 2
    assert [e.text for e in numbers[:5]] == ["cinque", "quattro", "tre", "due", "uno"]


@pytest.mark.parametrize("language", sorted(SUPPORTED_LANGUAGES))
def test_every_languages_counts_one_to_ten_fit_with_both_at_the_default_rate(speech, language):
    routine = parse_routine(f"title: Ten\nlanguage: {language}\nexercises:\n"
                            "  - {name: Plank, hold: 12s, countdown: 10, countdown_style: both}\n", "ten.yaml")
    plan = plan_session(routine)
    assert plan.voice.rate_wpm == 160  # the default rate
    words = phrases_for(language)
    counts = tuple(words.count(k) for k in range(1, 11))
    numbers = assert_each_number_between_its_tick_and_the_next(real_layout(routine, speech), counts)
    assert {e.text for e in numbers} == set(counts)


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
