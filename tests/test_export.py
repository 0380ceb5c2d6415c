"""Export: atomic files, tags and chapters, lyrics; an interrupted or failed build leaves no partial file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from mutagen.id3 import ID3

from voicecoach.errors import OutputError
from voicecoach.export import Tags, encode_mp3, lrc_text, write_tags
from voicecoach.layout import Chapter, SpeechEvent, Timeline

from .audio_probe import RATE_HZ, decode_mp3
from .conftest import LONG, wait_for, write_routine

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

    with pytest.raises(KeyboardInterrupt):
        encode_mp3(chunks(), tmp_path / ".a.mp3.part", RATE_HZ, 96)
    assert list(tmp_path.iterdir()) == []


def test_an_encoder_failure_is_one_line_and_leaves_nothing(tmp_path):
    with pytest.raises(OutputError, match=r"a\.mp3\.part: ffmpeg could not encode the MP3: "):
        encode_mp3(iter([SILENCE_CHUNK]), tmp_path / ".a.mp3.part", 12_345, 96)  # MP3 has no such sample rate
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
        "[ti:Plank test]", "[ar:voicecoach]", "[al:Plank test]", "[length:1:04]",
        "[00:00.00]Hello there", "[00:01.25]Exercise 1 of 1: Plank", "[01:01.00]Session complete"]


def test_ctrl_c_during_the_encode_exits_130_and_keeps_the_previous_files(tmp_path, cache_dir):
    routine = write_routine(tmp_path, LONG)
    out = tmp_path / "out"
    out.mkdir()
    previous = out / "long-enough-to-interrupt.mp3"
    previous.write_bytes(b"the previous build")
    env = {**os.environ, "VOICECOACH_CACHE_DIR": str(cache_dir)}
    process = subprocess.Popen([sys.executable, "-m", "voicecoach", "build", str(routine), "-o", str(out), "-q"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    wait_for(lambda: any(p.name.endswith(".part") and ".mp3." in p.name for p in out.iterdir()), process)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert stderr == "interrupted; no output file was left half-written\n"
    assert sorted(p.name for p in out.iterdir()) == ["long-enough-to-interrupt.mp3"]
    assert previous.read_bytes() == b"the previous build"
