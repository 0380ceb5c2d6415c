"""Lyrics and subtitles: every spoken line at the time the timeline gives it, in each format's own spelling."""

from __future__ import annotations

from voicecoach._audio.timeline import Chapter, SpeechEvent, Timeline, ToneEvent
from voicecoach._publish.lyrics import lrc_text, srt_text, synced_lines, vtt_text


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
