"""Export: atomic files, tags and chapters, lyrics; an interrupted or failed build leaves no partial file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from mutagen.id3 import ID3

from voicecoach._audio.encode import encode_mp3
from voicecoach._audio.timeline import Chapter, SpeechEvent, Timeline
from voicecoach._cli.app import message as shown  # a library error as the command line shows it
from voicecoach._errors import OutputError
from voicecoach._publish.lyrics import lrc_text
from voicecoach._publish.tags import Tags, write_tags
from voicecoach._stores.atomic import PendingFile, sweep_stale, write_text

from .audio_probe import RATE_HZ, decode_mp3
from .conftest import LONG, encoders_writing_into, tiny_file_system, wait_for, write_routine

SILENCE_CHUNK = bytes(2 * RATE_HZ)  # one second


def small_timeline() -> Timeline:
    events = (SpeechEvent(0, 900, "Hello there", "Intro"), SpeechEvent(1250, 2000, "Exercise 1 of 1: Plank", "Plank"),
              SpeechEvent(61_000, 62_500, "Session complete"))
    return Timeline("Plank test", 63_500, events,
                    (Chapter("Intro", 0, 1250), Chapter("Plank", 1250, 63_500)))


def test_an_encode_interrupted_midway_leaves_nothing(tmp_path):
    def chunks():
        yield SILENCE_CHUNK
        yield SILENCE_CHUNK
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt), PendingFile(tmp_path / "a.mp3") as pending:
        encode_mp3(chunks(), pending.path, RATE_HZ, 96)
    assert list(tmp_path.iterdir()) == []


def test_an_encoder_failure_is_one_line_and_leaves_nothing(tmp_path):
    with pytest.raises(OutputError, match=r"^[^\n]*a\.mp3: ffmpeg could not encode the MP3: [^\n]*$"), \
            PendingFile(tmp_path / "a.mp3") as pending:
        # MP3 has no such sample rate
        encode_mp3(iter([SILENCE_CHUNK]), pending.path, 12_345, 96, target=tmp_path / "a.mp3")
    assert list(tmp_path.iterdir()) == []


def test_the_encoded_length_is_exact(tmp_path):
    partial = tmp_path / "a.mp3"
    encode_mp3(iter([SILENCE_CHUNK] * 3 + [bytes(2 * 441)]), partial, RATE_HZ, 96)
    assert len(decode_mp3(partial)) == 3 * RATE_HZ + 441  # gapless: no encoder delay or padding left


def test_chapters_and_tags_read_back(tmp_path):
    partial = tmp_path / "a.mp3"
    encode_mp3(iter([SILENCE_CHUNK] * 2), partial, RATE_HZ, 64)
    write_tags(partial, small_timeline(), Tags(title="Plank test (quick)", album="Plank test", comment="Core"))
    tags = ID3(partial)
    assert tags["TIT2"].text == ["Plank test (quick)"] and tags["TALB"].text == ["Plank test"]
    toc = tags.getall("CTOC")[0]
    chapters = {frame.element_id: frame for frame in tags.getall("CHAP")}
    assert [(chapters[c].sub_frames["TIT2"].text[0], chapters[c].start_time, chapters[c].end_time)
            for c in toc.child_element_ids] == [("Intro", 0, 1250), ("Plank", 1250, 63_500)]


def test_lyrics_lines():
    assert lrc_text(small_timeline(), "Plank test").splitlines() == [
        "[ti:Plank test]", "[ar:voicecoach]", "[al:Plank test]", "[length:1:03]",  # 63.5 s: whole seconds rounded down
        "[00:00.00]Hello there", "[00:01.25]Exercise 1 of 1: Plank", "[01:01.00]Session complete"]


def start_a_long_build_and_wait_for_its_encoder(tmp_path, cache_dir):
    """A build over a previous MP3, caught while ffmpeg is encoding: (process, output folder, previous MP3)."""
    routine = write_routine(tmp_path, LONG)
    out = tmp_path / "out"
    out.mkdir()
    previous = out / "long-enough-to-interrupt.mp3"
    previous.write_bytes(b"the previous build")
    env = {**os.environ, "VOICECOACH_CACHE_DIR": str(cache_dir)}
    process = subprocess.Popen([sys.executable, "-m", "voicecoach", "build", str(routine), "-o", str(out), "-q"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    # one LAME process, or two for a session this long cut in pieces: caught once any of them writes
    wait_for(lambda: encoders_writing_into(out) >= 1, process)
    return process, out, previous


def test_ctrl_c_during_the_encode_exits_130_and_keeps_the_previous_files(tmp_path, cache_dir):
    process, out, previous = start_a_long_build_and_wait_for_its_encoder(tmp_path, cache_dir)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert stderr == "interrupted; no output file was left half-written\n"
    assert sorted(p.name for p in out.iterdir()) == ["long-enough-to-interrupt.mp3"]
    assert previous.read_bytes() == b"the previous build"


def test_a_build_killed_with_sigkill_mid_encode_leaves_no_partial_file(tmp_path, cache_dir):
    # Nothing can clean up after SIGKILL, so nothing may need cleaning: the MP3 being encoded has no
    # name yet (O_TMPFILE) and vanishes when ffmpeg, left alone, finishes and closes it.
    process, out, previous = start_a_long_build_and_wait_for_its_encoder(tmp_path, cache_dir)
    process.kill()
    process.communicate(timeout=60)
    wait_for(lambda: encoders_writing_into(out) == 0)
    assert sorted(p.name for p in out.iterdir()) == ["long-enough-to-interrupt.mp3"]
    assert previous.read_bytes() == b"the previous build"


def test_a_pending_file_has_no_name_until_published(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old")
    pending = PendingFile(target)
    write_text(pending.path, "new")
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"] and target.read_text() == "old"
    pending.publish()
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"] and target.read_text() == "new"
    assert oct(target.stat().st_mode & 0o777) == oct(0o644 & ~current_umask())


def test_stale_part_files_of_dead_processes_are_swept(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, timeout=300).stdout.strip()
    stale = tmp_path / f".a.mp3.{dead}.0123abcd.part"
    live = tmp_path / f".b.mp3.{os.getpid()}.0123abcd.part"
    other = tmp_path / ".hidden"
    for path in (stale, live, other):
        path.write_text("x")
    assert sweep_stale(tmp_path) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, other.name])


def test_a_full_disk_is_one_line_and_leaves_nothing(tmp_path):
    with tiny_file_system(tmp_path / "disk", "") as disk:
        pending = PendingFile(disk / "a.mp3")
        with pytest.raises(OutputError) as caught:
            encode_mp3(iter([SILENCE_CHUNK] * 60), pending.path, RATE_HZ, 96, target=disk / "a.mp3")
        pending.discard()
        assert shown(caught.value).startswith(f"{disk / 'a.mp3'}: ffmpeg could not encode the MP3: ")
        assert "No space left on device" in shown(caught.value) and "\n" not in shown(caught.value)
        with pytest.raises(OutputError) as caught:
            with PendingFile(disk / "a.timeline.json") as pending:
                write_text(pending.path, "x" * 200_000, disk / "a.timeline.json")
        assert shown(caught.value) == (f"{disk / 'a.timeline.json'}: cannot be written (No space left on device); "
                                     "free some space or choose another folder with -o DIR")
        assert list(disk.iterdir()) == []


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
