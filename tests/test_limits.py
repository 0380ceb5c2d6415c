"""Input that used to escape: huge numbers, huge texts, special files. Each is one line, exit 2, at once."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import voicecoach as vc

from .conftest import write_routine


def _validated(path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "voicecoach", "validate", str(path)], capture_output=True,
                          text=True, timeout=60)


def _refused(text: str) -> str:
    with pytest.raises(vc.RoutineError) as caught:
        vc.script(vc.parse_routine(text, source="r.yaml"))
    return str(caught.value)


@pytest.mark.parametrize("field", ["hold", "rep_rest", "rest"])
def test_a_huge_integer_duration_is_one_line(field):
    huge = "9" * 400
    other = "" if field == "hold" else ", hold: 5s"
    assert _refused(f"title: T\nexercises:\n  - {{name: P{other}, {field}: {huge}}}\n").startswith(
        f"r.yaml:3: exercises[0].{field}: {'9' * 57}... is far too long; write 5s, 1m30s or 90")


def test_a_huge_integer_from_set_is_one_line(tmp_path):
    routine = write_routine(tmp_path, "title: T\nexercises:\n  - {name: P, hold: 5s}\n")
    run = subprocess.run([sys.executable, "-m", "voicecoach", "script", str(routine), "--set",
                          "exercises.p.hold=" + "9" * 400], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and run.stderr.count("\n") == 1 and "far too long" in run.stderr


def test_texts_have_limits_checked_when_loaded():
    assert _refused("title: " + "x" * 201 + "\nexercises:\n  - {name: P, hold: 5s}\n") == (
        "r.yaml:1: title: is 201 characters long; the limit is 200, so shorten it")
    long = "word " * 500
    assert _refused(f"title: T\nexercises:\n  - {{name: P, hold: 5s, instructions: {long}}}\n") == (
        "r.yaml:3: exercises[0].instructions: is 2,499 characters long; the limit is 2,000, so shorten it")
    assert _refused('title: T\nexercises:\n  - {name: "   ", hold: 5s}\n') == (
        "r.yaml:3: exercises[0].name: is only spaces; write a name, e.g. `Ankle circles`")


def test_a_lexicon_that_blows_a_phrase_up_is_refused_before_any_synthesis():
    text = ("title: T\nlexicon: {ab: " + "y" * 150 + "}\nexercises:\n  - {name: P, hold: 5s, instructions: "
            + "ab " * 300 + "}\n")
    assert _refused(text).startswith('r.yaml:2: lexicon: "ab ab ab ab ab ab ab ab ab ab ab ab ab a..." is 45,299 '
                                     "characters as it is spoken; a phrase is at most 3,000")


def test_a_routine_of_thousands_of_exercises_is_refused_when_loaded():
    exercises = "".join(f"  - {{name: E{number}, hold: 1s}}\n" for number in range(10_000))
    assert _refused("title: T\nexercises:\n" + exercises) == (
        "r.yaml:2: exercises: has 10,000 exercises; a routine has at most 500, so split it into several routines "
        "(`voicecoach batch` builds them all at once)")


@pytest.mark.parametrize("special", ["fifo", "/dev/zero"])
def test_a_routine_that_is_a_pipe_or_a_device_is_one_line(tmp_path, special):
    path = tmp_path / "routine.yaml"
    if special == "fifo":
        os.mkfifo(path)
    run = _validated(path if special == "fifo" else special)
    assert run.returncode == 2
    assert run.stderr.endswith("cannot be read (it is not a regular file (a pipe, a device or a socket)); give the "
                               "path of a routine file you may read\n")


def test_a_cover_that_is_a_pipe_is_one_line(tmp_path):
    os.mkfifo(tmp_path / "cover.png")
    routine = write_routine(tmp_path, "title: T\ncover: cover.png\nexercises:\n  - {name: P, hold: 5s}\n")
    run = _validated(routine)
    assert run.returncode == 2
    assert run.stderr == (f'{routine}:2: cover: "cover.png" cannot be read (it is not a regular file (a pipe, a '
                          "device or a socket)); give the path of a PNG or JPEG image, relative to the routine file\n")


def test_a_newline_or_an_escape_in_a_key_stays_inside_the_one_line():
    text = 'title: T\nexercises:\n  - {name: P, hold: 5s, "bad\\nkey\\u001b]0;x\\u0007": 1}\n'
    message = _refused(text)
    assert "\n" not in message and "\x1b" not in message and "\\n" in message and "\\x1b" in message


def test_a_file_name_too_long_for_its_staging_file_is_refused_before_any_synthesis(tmp_path):
    routine = write_routine(tmp_path, "title: " + "Long title " * 7 + "\nexercises:\n  - {name: P, hold: 5s}\n"
                            "variants:\n  " + "v" * 79 + ": {prepare: 2s}\n  " + "w" * 70 + ": {prepare: 3s}\n")
    run = subprocess.run([sys.executable, "-m", "voicecoach", "build", str(routine), "--variant", "v" * 79, "--set",
                          "intro=" + "i" * 60, "-o", str(tmp_path / "out")], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 2
    assert "the session's file name would be" in run.stderr and run.stderr.count("\n") == 1
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_music_that_is_a_pipe_is_one_line(tmp_path):
    os.mkfifo(tmp_path / "beat.mp3")
    routine = write_routine(tmp_path, "title: T\nmusic: beat.mp3\nexercises:\n  - {name: P, hold: 5s}\n")
    run = _validated(routine)
    assert run.returncode == 2
    assert run.stderr == (f'{routine}:2: music: "beat.mp3" is not a regular file (a pipe, a device or a socket); '
                          "give the path of a music file or folder\n")
