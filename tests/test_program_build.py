"""Programs built end to end: the real engine, the real ffmpeg, every MP3 decoded and measured against the
program's table; identical days encoded once; a change to one week rebuilds that week alone; a day that cannot
be laid out stops the build before anything is written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from mutagen.id3 import ID3

from voicecoach._catalog.model import BatchOptions
from voicecoach._cli.app import message as shown
from voicecoach._errors import LayoutError
from voicecoach._program.build import build_programs

from .audio_probe import decode_mp3
from .session_checks import check_holds, check_length, check_timing, events

ROUTINE = """\
title: Knee home programme
prepare: 2s
exercises:
  - name: Quad squeeze
    id: quads
    hold: 1s
    sets: 2
    set_rest: 2s
    countdown: 0
    rest: 2s
  - name: Heel slide
    id: slides
    hold: 1.5s
    countdown: 0
program:
  weeks: 4
  days: [mon, wed, fri]
  start: 2027-01-04
  progression:
    exercises.quads.hold: {HOLDS}
    exercises.quads.sets: {from: 1, to: 3}
"""
HOLDS = "[1s, 1.5s, 2s, 2.5s]"
# What the table says: week -> (quads hold in ms, quads sets); {from: 1, to: 3} over 4 weeks is 1, 1.67, 2.33, 3,
# rounded half up: 1, 2, 2, 3.
TABLE = {1: (1000, 1), 2: (1500, 2), 3: (2000, 2), 4: (2500, 3)}


def write(folder: Path, holds: str = HOLDS) -> Path:
    path = folder / "knee.yaml"
    path.write_text(ROUTINE.replace("{HOLDS}", holds), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def program(tmp_path_factory, cache_dir):
    folder = tmp_path_factory.mktemp("program")
    options = BatchOptions(output_dir=folder / "out", cache_dir=cache_dir, jobs=2)
    result = build_programs([write(folder)], options)
    return folder, options, result.batches[0]


def timeline_of(session) -> dict:
    return json.loads(session.result.timeline_path.read_text(encoding="utf-8"))


def test_a_4_week_3_day_program_builds_12_sessions_in_program_order(program):
    _, _, batch = program
    assert batch.failed == ()
    assert [session.title for session in batch.sessions] == [
        f"Week {week} · Day {day}" for week in range(1, 5) for day in range(1, 4)]
    assert [session.track for session in batch.sessions] == list(range(1, 13))
    assert batch.sessions[4].name == "knee-home-programme--week-2--day-2"
    tags = ID3(batch.sessions[4].result.mp3_path)
    assert str(tags["TIT2"]) == "Week 2 · Day 2" and str(tags["TALB"]) == "Knee home programme"
    assert str(tags["TRCK"]) == "5/12" and str(tags["TPOS"]) == "2/4"
    playlist = batch.playlist_path.read_text(encoding="utf-8").splitlines()
    assert [line for line in playlist if line.endswith(".mp3")] == [
        session.result.mp3_path.name for session in batch.sessions]
    manifest = json.loads(batch.manifest_path.read_text(encoding="utf-8"))
    assert manifest["sessions"][4]["program"] == {
        "week": 2, "day": 2, "weeks": 4, "days": 3, "weekday": "wed", "date": "2027-01-13",
        "values": {"exercises.quads.hold": "1.5s", "exercises.quads.sets": 2}}


def test_each_decoded_session_has_the_holds_and_sets_the_table_says(program):
    _, _, batch = program
    for session in batch.sessions:
        week = int(session.name.split("--week-")[1].split("--")[0])
        hold_ms, sets = TABLE[week]
        timeline = timeline_of(session)
        decoded = decode_mp3(session.result.mp3_path)
        check_length(decoded, timeline)
        assert [hold["set"] for hold in events(timeline, "hold") if hold["exercise"] == "quads"] == \
            list(range(1, sets + 1)), session.name
        assert check_holds(decoded, timeline, {"quads": hold_ms, "slides": 1500}) == sets + 1


def test_the_first_and_last_sessions_pass_every_timing_check(program):
    _, _, batch = program
    for session, week in ((batch.sessions[0], 1), (batch.sessions[-1], 4)):
        tones, holds, gaps = check_timing(decode_mp3(session.result.mp3_path), timeline_of(session),
                                          {"quads": TABLE[week][0], "slides": 1500})
        assert holds == TABLE[week][1] + 1 and tones == 2 * holds and gaps > 0


def test_identical_days_are_encoded_once_and_share_their_audio(program):
    _, _, batch = program
    assert batch.counts == (12, 0, 0)
    assert batch.shared == 8  # 4 distinct weeks encoded; the other 2 days of each week are copies
    assert [session.shared_from for session in batch.sessions[:3]] == [
        None, "knee-home-programme--week-1--day-1", "knee-home-programme--week-1--day-1"]

    def audio(session) -> bytes:
        data = session.result.mp3_path.read_bytes()
        return data[ID3(session.result.mp3_path).size:]  # the MP3 frames after the tag

    assert audio(batch.sessions[0]) == audio(batch.sessions[1]) == audio(batch.sessions[2])
    assert audio(batch.sessions[0]) != audio(batch.sessions[3])
    assert timeline_of(batch.sessions[1])["title"] == "Week 1 · Day 2"


def test_a_change_to_week_3_rebuilds_week_3_alone(program, cache_dir):
    folder, options, _ = program
    before = build_programs([write(folder)], options).batches[0]
    assert before.counts == (0, 12, 0)
    changed = build_programs([write(folder, "[1s, 1.5s, 3s, 2.5s]")], options).batches[0]
    assert changed.counts == (3, 9, 0)
    assert [session.track for session in changed.sessions if not session.up_to_date] == [7, 8, 9]
    assert changed.shared == 2
    rebuilt = timeline_of(changed.sessions[7])
    assert {round((h["end"] - h["start"]) * 1000) for h in events(rebuilt, "hold") if h["exercise"] == "quads"} \
        == {3000}
    build_programs([write(folder)], options)  # back as it was, for the tests after this one


def test_a_hold_shorter_than_its_cue_in_week_1_stops_the_build_before_anything_is_written(tmp_path, cache_dir):
    path = write(tmp_path, "[1s, 4s, 4s, 4s]")
    path.write_text(path.read_text(encoding="utf-8").replace(
        "    countdown: 0\n    rest: 2s", "    countdown: 0\n    rest: 2s\n    cue: Squeeze the muscle now", 1),
        encoding="utf-8")
    with pytest.raises(LayoutError) as caught:
        build_programs([path], BatchOptions(output_dir=tmp_path / "out", cache_dir=cache_dir))
    assert shown(caught.value) == (
        f"{path}:21: program.progression.exercises.quads.hold: week 1, day 1 (mon, 2027-01-04), where it makes "
        '1s: exercises[0].cue: Quad squeeze: the cue call "Squeeze the muscle now" does not fit in its 1 s hold '
        "(it would run into the stop tone at 1 s); shorten it, lengthen the hold, or lower countdown")
    assert not (tmp_path / "out").exists()


def test_the_command_line_builds_a_program_and_says_what_was_shared(tmp_path, cache_dir):
    path = write(tmp_path)
    done = subprocess.run([sys.executable, "-m", "voicecoach", "batch", "--program", str(path), "-o",
                           str(tmp_path / "out"), "--cache-dir", str(cache_dir), "-q"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == (f"Knee home programme into {tmp_path}/out/knee-home-programme/: 12 built (8 of them copies "
                        "of an identical session's audio), 0 up to date, 0 failed")
    assert lines[2].endswith("knee-home-programme--week-1--day-2.mp3  (audio of knee-home-programme--week-1--day-1)")


def test_the_library_builds_a_program_in_one_call(tmp_path, cache_dir):
    import voicecoach as vc

    catalog = vc.build_catalog(write(tmp_path), tmp_path / "out", program=True, cache_dir=cache_dir)
    assert [(session.track, session.title, str(session.spec.day.date)) for session in catalog.sessions[:4]] == [
        (1, "Week 1 · Day 1", "2027-01-04"), (2, "Week 1 · Day 2", "2027-01-06"),
        (3, "Week 1 · Day 3", "2027-01-08"), (4, "Week 2 · Day 1", "2027-01-11")]
    assert catalog.batches[0].shared == 8 and catalog.exit_code == 0
