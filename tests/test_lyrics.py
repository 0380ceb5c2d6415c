"""Lyrics and subtitles: every spoken line at the time the timeline gives it, in each format's own spelling."""

from __future__ import annotations

import pytest

from voicecoach._audio.layout import layout_session
from voicecoach._audio.timeline import Chapter, SpeechEvent, Timeline, ToneEvent
from voicecoach._plan.planner import plan_session
from voicecoach._publish.lyrics import lrc_text, srt_text, synced_lines, vtt_text
from voicecoach._routine.read import parse_routine

from .fake_engine import fake_ms


def timeline() -> Timeline:
    events = (SpeechEvent(0, 1250, "Hello\nthere"), ToneEvent(1500, 1800, "start", 880),
              SpeechEvent(3_725_004, 3_726_500, "Session complete"))
    return Timeline("Plank test", 3_727_500, events, (Chapter("Intro", 0, 3_727_500),))


def test_srt_numbers_each_spoken_line_with_comma_milliseconds():
    assert srt_text(timeline()) == ("1\n00:00:00,000 --> 00:00:01,250\nHello there\n\n"
                                    "2\n01:02:05,004 --> 01:02:06,500\nSession complete\n")


def test_vtt_has_its_header_and_dot_milliseconds():
    assert vtt_text(timeline()) == ("WEBVTT\n\n00:00:00.000 --> 00:00:01.250\nHello there\n\n"
                                    "01:02:05.004 --> 01:02:06.500\nSession complete\n")


def test_lrc_and_sylt_give_each_line_its_start():
    assert lrc_text(timeline(), "Plank").splitlines()[-2:] == ["[00:00.00]Hello there", "[62:05.00]Session complete"]
    assert synced_lines(timeline()) == [("Hello there", 0), ("Session complete", 3_725_004)]


@pytest.mark.parametrize("language, line", [("es", "Quedan 10 segundos"), ("de", "Noch 10 Sekunden"),
                                            ("fr", "Encore 10 secondes"), ("nl", "Nog 10 seconden"),
                                            ("en", "10 seconds left")])
def test_a_time_left_line_starts_with_a_capital_in_lyrics_and_subtitles(language, line):
    routine = parse_routine(f"title: Plank\nlanguage: {language}\n"
                            "exercises: [{name: Plank, hold: 30s, announce: [10s]}]\n", "p.yaml")
    plan = plan_session(routine)
    timeline = layout_session(plan, {text: fake_ms(text) for text in plan.phrases()})
    assert line in [text for text, _ in synced_lines(timeline)]
    assert f"]{line}\n" in lrc_text(timeline, "Plank")
    assert f"\n{line}\n" in srt_text(timeline) and f"\n{line}\n" in vtt_text(timeline)


def test_the_non_breaking_space_french_puts_before_a_colon_stays_in_lyrics_and_subtitles():
    routine = parse_routine("title: Gainage\nlanguage: fr\nexercises: [{name: Planche, hold: 5s}]\n", "p.yaml")
    plan = plan_session(routine)
    timeline = layout_session(plan, {text: fake_ms(text) for text in plan.phrases()})
    line = "Exercice 1 sur 1\u00a0: Planche"
    assert line in [text for text, _ in synced_lines(timeline)]
    assert f"]{line}\n" in lrc_text(timeline, "Gainage") and f"\n{line}\n" in srt_text(timeline)
