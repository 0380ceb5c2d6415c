"""The one path every session takes, with the fake engine: exact lengths, so exact times, in milliseconds."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from voicecoach._audio.layout import Timing
from voicecoach._cli.app import app
from voicecoach._routine.model import LEAD_IN_MS

from .conftest import write_routine
from .fake_engine import fake_ms

ROUTINE = "title: Plank\nprepare: 5s\nexercises:\n  - {name: Plank, hold: 4s, reps: 2, rep_rest: 6s, countdown: 2}\n"


def test_a_build_places_every_sound_where_the_timing_rules_say(fake_speech, tmp_path):
    result = CliRunner().invoke(app, ["build", str(write_routine(tmp_path, ROUTINE)), "-q", "-o", str(tmp_path / "out"),
                                      "--cache-dir", str(tmp_path / "cache")])
    assert result.exit_code == 0, result.stderr
    timeline = json.loads((tmp_path / "out" / "plank.timeline.json").read_text(encoding="utf-8"))
    said = [(event["text"], round(event["start"] * 1000), round(event["end"] * 1000))
            for event in timeline["events"] if event["kind"] == "speech"]
    t = Timing()
    lead_in = LEAD_IN_MS + t.after_lead_in_ms  # the lead-in, and MP3's reach back after it
    first = lead_in + fake_ms("Exercise 1 of 1: Plank")
    # The opening line after the lead-in; "Rep 1 of 2" ends 250 ms before the first tick of the 5 s prepare.
    assert said[0] == ("Exercise 1 of 1: Plank", lead_in, first)
    prepare_end = first + 5000
    assert said[1] == ("Rep 1 of 2", prepare_end - 2000 - t.speech_before_tone_ms - fake_ms("Rep 1 of 2"),
                       prepare_end - 2000 - t.speech_before_tone_ms)
    # "Release" 100 ms after the stop tone ends; the hold is exact.
    hold_end = prepare_end + 4000
    assert said[2] == ("Release", hold_end + t.stop_tone_ms + t.speech_after_tone_ms,
                       hold_end + t.stop_tone_ms + t.speech_after_tone_ms + fake_ms("Release"))
    holds = [(round(e["start"] * 1000), round(e["end"] * 1000)) for e in timeline["events"] if e["kind"] == "hold"]
    assert holds == [(prepare_end, hold_end), (hold_end + 6000, hold_end + 10_000)]


def test_loudness_off_and_on_lay_the_session_out_alike(fake_speech, tmp_path):
    path = write_routine(tmp_path, ROUTINE)
    timelines = []
    for loudness in ("off", "-19"):
        out = tmp_path / loudness
        result = CliRunner().invoke(app, ["build", str(path), "-q", "-o", str(out), "--loudness", loudness,
                                          "--cache-dir", str(tmp_path / "cache")])
        assert result.exit_code == 0, result.stderr
        timelines.append((out / "plank.timeline.json").read_text(encoding="utf-8"))
    assert timelines[0] == timelines[1]
