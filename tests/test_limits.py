"""Input that used to escape: huge numbers, huge texts, special files. Each is one line, exit 2, at once."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

import voicecoach as vc
from voicecoach._pipeline.build import BuildOptions, build_session
from voicecoach._speech.cache import PhraseCache
from voicecoach._speech.service import SpeechService

from .conftest import tiny_file_system, write_routine


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


def test_an_integer_of_more_digits_than_python_reads_is_one_line_without_its_digits():
    line = _refused("title: T\nexercises:\n  - {name: P, hold: 5s, sets: " + "9" * 5000 + "}\n")
    assert line == ("r.yaml:3: exercises[0].sets: 99999999999999999999... is a number of 5,000 digits, far too "
                    "large; write a number of a few digits")


@pytest.mark.parametrize("text", ["title: T\nexercises:\n  - {name: P, hold: 5s}\n" + "k" * 1100 + ": 1\n",
                                  "title: T\nexercises:\n  - {name: P, hold: 5s, " + "k" * 1100 + ": 1}\n"])
def test_a_key_longer_than_yaml_allows_is_named_as_such(text):
    assert _refused(text) == (f"r.yaml:{text.count(chr(10))}: YAML syntax error: a key is longer than 1,024 "
                              "characters, the most YAML allows; a routine's keys are short words, e.g. `hold:` "
                              "(a long text goes after the `:`)")


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


def _run(*arguments: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "voicecoach", *map(str, arguments)], capture_output=True,
                          text=True, timeout=300)


def _refused_before_any_synthesis(tmp_path: Path, routine: Path, line: str) -> None:
    """``validate`` and ``build`` both print ``line`` alone, exit 2, and synthesize and write nothing."""
    cache, out = tmp_path / "cache", tmp_path / "out"
    for command in (("validate", routine, "--cache-dir", cache), ("build", routine, "-o", out, "--cache-dir", cache)):
        run = _run(*command)
        assert (run.returncode, run.stdout, run.stderr) == (2, "", line + "\n"), command[0]
        assert not cache.exists() and not out.exists()


def test_a_session_of_too_many_holds_is_refused_before_any_synthesis(tmp_path):
    exercises = "".join(f"  - {{name: E{number}, hold: 1s, sets: 10, reps: 50}}\n" for number in range(400))
    routine = write_routine(tmp_path, "title: T\nexercises:\n" + exercises, "r.yaml")
    _refused_before_any_synthesis(tmp_path, routine, f"{routine}:3: exercises[0]: 10 sets x 50 reps make 500 holds "
                                  "here, 200000 in the whole session; a session has at most 20000 holds, so use "
                                  "fewer sides, sets or reps")


class _Mute:
    """An engine that fails the test if it is asked to say anything."""

    name, label, version, processes = "pyttsx3", "mute", "mute 1", False

    def settings_for(self, voice, language, where):
        return vc.SpeechSettings(self.name, self.version, "mute", voice.rate_wpm, voice.volume)

    def synthesize(self, text, settings):
        raise AssertionError(f"synthesized {text!r}")


def test_a_routine_made_in_code_is_held_to_the_hold_limit_before_any_synthesis(tmp_path):
    routine = vc.parse_routine("title: T\nexercises:\n  - {name: P, hold: 1s}\n", source="r.yaml")
    many = tuple(dataclasses.replace(routine.exercises[0], index=number, id=f"e{number}", name=f"E{number}", sets=10,
                                     reps=50) for number in range(400))
    speech = SpeechService(PhraseCache(tmp_path / "cache"), engines={"pyttsx3": _Mute()})
    with pytest.raises(vc.RoutineError) as caught:
        build_session(dataclasses.replace(routine, exercises=many), BuildOptions(output_dir=tmp_path / "out"),
                      speech=speech)
    assert str(caught.value) == ("r.yaml:3: exercises[0]: 10 sets x 50 reps make 500 holds here, 200000 in the whole "
                                 "session; a session has at most 20000 holds, so use fewer sides, sets or reps")


def test_a_session_that_its_speech_makes_longer_than_12_hours_is_refused_before_any_synthesis(tmp_path):
    # 20,000 holds of 1 s with no rest asked (5.6 hours), and a release of 200 characters said after each: at the
    # least a voice can take (5 ms a letter), with the tones around it, the session lasts over 14 hours.
    release = ("Let go of the stretch slowly, breathe out through your mouth, and let your shoulders drop before "
               "the next one. ") * 2
    routine = write_routine(tmp_path, "title: T\nexercises:\n  - name: Squeeze\n    hold: 1s\n    sets: 20\n"
                            "    reps: 1000\n    rep_rest: 0\n    set_rest: 0\n    count_reps: false\n"
                            f"    release: {release.strip()}\n", "r.yaml")
    _refused_before_any_synthesis(
        tmp_path, routine, f"{routine}:3: exercises[0]: its holds and rests last 5 h 33 min 20 s, and with what is "
        "said and sounded between them (speech counted at its fastest) at least 14 h 3 min 29.125 s, which makes the "
        "session at least 14 h 3 min 38.38 s; a session is at most 12 hours, so say less between its reps (a shorter "
        "release), use fewer sets or reps, or split the routine")


def test_a_short_release_keeps_the_same_session_within_the_limit():
    routine = vc.parse_routine("title: T\nexercises:\n  - {name: Squeeze, hold: 1s, sets: 20, reps: 1000, rep_rest: 0, "
                               "set_rest: 0, count_reps: false}\n", source="r.yaml")
    assert len(vc.script(routine).plan.holds) == 20_000


@pytest.mark.parametrize("written, message", [
    ('title: "   "', "title: is only spaces; write a title, e.g. `Knee mobility`"),
    ('title: "Knee \\e]0;pwned\\a"', "title: has the control character \\x1b in it, which a terminal would act on; "
                                       "a name is one line of plain text, so remove it"),
    ('title: "Knee\\nwork"', "title: has the control character \\n in it, which a terminal would act on; a name is "
                             "one line of plain text, so remove it"),
    ('exercises:\n  - {name: "Sq\\e[31mueeze", hold: 5s}', "exercises[0].name: has the control character \\x1b in "
     "it, which a terminal would act on; a name is one line of plain text, so remove it"),
    ('exercises:\n  - {name: P, hold: 5s, id: "  "}', "exercises[0].id: is only spaces; write an id, e.g. "
                                                     "`ankle-circles`"),
    ('exercises:\n  - {name: P, hold: 5s, sides: ["  ", right]}', "exercises[0].sides: is only spaces; write a "
                                                                 "side's label, e.g. `left`"),
    ('exercises:\n  - {name: P, hold: 5s, sides: ["le\\eft", right]}', "exercises[0].sides: has the control "
     "character \\x1b in it, which a terminal would act on; a name is one line of plain text, so remove it"),
    ('intro: "  "', "intro: is only spaces; write the intro, or leave `intro:` out"),
    ('exercises:\n  - {name: P, hold: 5s, cue: " \\t "}', "exercises[0].cue: is only spaces; write the cue, or leave "
                                                         "`cue:` out"),
    ('exercises:\n  - {name: P, hold: 5s, instructions: "Slowly\\e[2J"}', "exercises[0].instructions: has the "
     "control character \\x1b in it, which a terminal would act on; a text is plain text (line breaks and tabs are "
     "fine), so remove it"),
])
def test_a_blank_name_or_text_or_a_control_character_is_one_line_when_loaded(written, message):
    key = written.split(":")[0]
    text = "\n".join([*(["title: T"] if key != "title" else []), written,
                      *(["exercises:\n  - {name: P, hold: 5s}"] if key != "exercises" else [])]) + "\n"
    assert _refused(text).split(": ", 1)[1] == message


def test_a_text_may_break_lines_and_have_tabs():
    routine = vc.parse_routine('title: T\nexercises:\n  - {name: P, hold: 5s, instructions: "Slowly.\\n\\tThen '
                               'rest."}\n', source="r.yaml")
    assert routine.exercises[0].instructions == "Slowly.\n\tThen rest."


@pytest.mark.parametrize("written, message", [
    ('cue: "   "', "cue: is only spaces; write the cue, or leave `cue:` out"),
    ('release: "..."', 'release: "..." has no word in it, so nothing would be said; write words, or leave '
                       "`release:` out"),
    ('sides: ["—", right]', 'sides: "—" has no word in it, so nothing would be said; write words, or leave `sides:` '
                            "out"),
    ('instructions: "\\u200b"', 'instructions: "\\u200b" has no word in it, so nothing would be said; write words, '
                                "or leave `instructions:` out"),
    ('name: "\\u200b\\u2060"', 'name: "\\u200b\\u2060" is only invisible characters; write a name, e.g. '
                              "`Ankle circles`"),
])
def test_a_text_with_nothing_to_say_is_refused_before_any_synthesis(tmp_path, written, message):
    # Each was synthesized, and espeak-ng's silence was exit 3: "check that espeak-ng works".
    fields = written if written.startswith("name") else f"name: P, {written}"
    routine = write_routine(tmp_path, f"title: T\nexercises:\n  - {{{fields}, hold: 5s}}\n", "r.yaml")
    _refused_before_any_synthesis(tmp_path, routine, f"{routine}:3: exercises[0].{message}")


def test_terminal_escapes_in_a_routine_never_reach_the_terminal(tmp_path):
    routine = write_routine(tmp_path, 'title: "Knee \\e]0;pwned\\a"\nexercises:\n  - {name: "Sq\\e[31mueeze", '
                                      'hold: 2s, reps: 2, sides: ["le\\eft", right]}\n', "r.yaml")
    line = (f"{routine}:1: title: has the control character \\x1b in it, which a terminal would act on; a name is "
            "one line of plain text, so remove it\n")
    cache, out = tmp_path / "cache", tmp_path / "out"
    for command in (["validate"], ["script"], ["build", "-o", out], ["batch", "-o", out]):
        run = subprocess.run([sys.executable, "-m", "voicecoach", command[0], str(routine), *map(str, command[1:]),
                              "--cache-dir", str(cache)] if command[0] != "script" else
                             [sys.executable, "-m", "voicecoach", "script", str(routine)],
                             capture_output=True, timeout=300)
        said = run.stdout + run.stderr
        assert b"\x1b" not in said and b"\x07" not in said, command[0]
        assert (run.returncode, run.stderr.decode()) == (2, line), command[0]
    assert not cache.exists() and not out.exists()


def _cache_dir_refused(tmp_path: Path, cache: Path, line: str) -> None:
    """``validate`` and ``build`` with ``--cache-dir cache``: ``line`` alone, exit 2, nothing synthesized."""
    routine = write_routine(tmp_path, "title: T\nexercises:\n  - {name: P, hold: 5s}\n", "r.yaml")
    out = tmp_path / "out"
    for command in (("validate", routine), ("build", routine, "-o", out)):
        run = _run(*command, "--cache-dir", cache)
        assert (run.returncode, run.stdout, run.stderr) == (2, "", line + "\n"), command[0]
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize("kind", ["file", "device"])
def test_a_cache_dir_that_is_a_file_or_a_device_is_one_line_before_any_synthesis(tmp_path, kind):
    cache = tmp_path / "cache" if kind == "file" else Path("/dev/null")
    if kind == "file":
        cache.write_bytes(b"")
    _cache_dir_refused(tmp_path, cache, f"{cache}: the speech cache is a {kind}, not a folder; give the path of a "
                                        "folder (one not there yet is made) with --cache-dir")
    if kind == "file":
        assert cache.read_bytes() == b""


def test_a_cache_dir_inside_a_file_is_one_line(tmp_path):
    (tmp_path / "blocker").write_bytes(b"")
    cache = tmp_path / "blocker" / "cache"
    _cache_dir_refused(tmp_path, cache, f"{cache}: the speech cache would be inside {tmp_path / 'blocker'}, which is "
                                        "a file, not a folder; give the path of a folder (one not there yet is made) "
                                        "with --cache-dir")


def test_a_read_only_cache_dir_is_one_line_before_any_synthesis(tmp_path):
    if os.geteuid() == 0:  # root writes into a folder of mode 0o555: a read-only file system instead
        with tiny_file_system(tmp_path / "read-only", "ro") as cache:
            _cache_dir_refused(tmp_path, cache, f"{cache}: the speech cache cannot be written (Read-only file "
                                                "system); choose another with --cache-dir")
        return
    cache = tmp_path / "read-only"
    cache.mkdir(mode=0o555)
    try:
        _cache_dir_refused(tmp_path, cache, f"{cache}: the speech cache cannot be written (Permission denied); "
                                            "choose another with --cache-dir")
    finally:
        cache.chmod(0o755)
