"""Music files that would make ffmpeg wait forever (a live playlist, a stalled read) or read other files (a concat
list): each is one line, exit 2, nothing written, and ffmpeg is never left waiting."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from voicecoach._audio import music_tracks
from voicecoach._audio.music_bed import _Decoder
from voicecoach._audio.music_tracks import MusicFileError, decoder, measure_track
from voicecoach._errors import RoutineError
from voicecoach._parts import ffmpeg_path

from .conftest import write_routine

RATE_HZ = 22_050


def _run(*args: str) -> subprocess.CompletedProcess:
    """``voicecoach ARGS``, in a session of its own: if it hangs (the bug), the backstop kills it with every ffmpeg
    it started, so that none is left waiting."""
    process = subprocess.Popen([sys.executable, "-m", "voicecoach", *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate(timeout=60)
        raise
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def _wav(path: Path, seconds: float) -> Path:
    t = np.arange(int(seconds * RATE_HZ)) / RATE_HZ
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(RATE_HZ)
        handle.writeframes((0.3 * np.sin(2 * np.pi * 220 * t) * 32767).astype("<i2").tobytes())
    return path


def _live_playlist(folder: Path) -> Path:
    """A live HLS playlist: one segment of MPEG-TS audio and no #EXT-X-ENDLIST, so a player waits for more."""
    subprocess.run([ffmpeg_path(), "-nostdin", "-loglevel", "error", "-y", "-i", str(_wav(folder / "seg.wav", 3)),
                    "-c:a", "mp2", "-f", "mpegts", str(folder / "seg0.ts")], check=True, timeout=60)
    playlist = folder / "live.m3u8"
    playlist.write_text("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:3\n#EXT-X-MEDIA-SEQUENCE:0\n"
                        "#EXTINF:3.0,\nseg0.ts\n", encoding="utf-8")
    return playlist


def test_a_live_hls_playlist_as_music_is_one_line_in_validate_and_build(tmp_path):
    _live_playlist(tmp_path)
    routine = write_routine(tmp_path, "title: T\nmusic: live.m3u8\nexercises:\n  - {name: P, hold: 5s}\n")
    expected = (f'{routine}:2: music: "live.m3u8" cannot be played (it is a playlist, not a music file); give a '
                "music file: mp3, m4a, ogg, flac or wav\n")
    validated = _run("validate", str(routine))
    assert (validated.returncode, validated.stderr) == (2, expected)
    out = tmp_path / "out"
    built = _run("build", str(routine), "-o", str(out), "--cache-dir", str(tmp_path / "cache"))
    assert (built.returncode, built.stderr) == (2, expected)
    assert not out.exists() or not any(out.iterdir())


def test_ffmpeg_itself_refuses_a_live_playlist_at_once(tmp_path):
    """Whatever the name or the first bytes, ffmpeg reads no playlist: it ends at once, with nothing decoded."""
    process = decoder(_live_playlist(tmp_path), RATE_HZ)
    try:
        assert process.wait(timeout=60) != 0  # the bug: ffmpeg waits for the playlist's next segment forever
        assert process.stdout.read() == b""
    finally:
        process.kill()
        process.wait()
        process.stdout.close()


def test_a_concat_list_as_music_is_one_line(tmp_path):
    """An ffconcat list (here named .mp3) would make ffmpeg read other files, as many times as it lists them."""
    _wav(tmp_path / "a.wav", 2)
    (tmp_path / "beat.mp3").write_text("ffconcat version 1.0\n" + "file a.wav\n" * 50, encoding="utf-8")
    routine = write_routine(tmp_path, "title: T\nmusic: beat.mp3\nexercises:\n  - {name: P, hold: 5s}\n")
    run = _run("validate", str(routine))
    assert run.returncode == 2
    assert run.stderr == (f'{routine}:2: music: "beat.mp3" cannot be played (it is not audio ffmpeg can read); '
                          "give a music file: mp3, m4a, ogg, flac or wav\n")


@pytest.mark.parametrize("suffix, codec", [
    ("mp3", "libmp3lame"), ("m4a", "aac"), ("ogg", "libvorbis"), ("opus", "libopus"), ("flac", "flac"),
    ("wav", "pcm_s16le"), ("aiff", "pcm_s16be"), ("aac", "aac"), ("mka", "flac"), ("webm", "libopus"),
    ("wma", "wmav2"), ("wv", "wavpack"), ("caf", "pcm_s16le"),
])
def test_every_music_format_the_docs_name_still_plays(tmp_path, suffix, codec):
    """A guard on the list of formats ffmpeg may read: each one the docs name is measured whole."""
    track = tmp_path / f"track.{suffix}"
    source = _wav(tmp_path / "a.wav", 2)
    made = subprocess.run([ffmpeg_path(), "-nostdin", "-loglevel", "error", "-y", "-i", str(source), "-c:a", codec,
                           str(track)], capture_output=True, timeout=60)
    if made.returncode != 0:
        pytest.skip(f"this ffmpeg cannot write {suffix} ({codec})")
    assert abs(measure_track(track, RATE_HZ).frames - 2 * RATE_HZ) < RATE_HZ // 10


@pytest.fixture()
def stalling_ffmpeg(tmp_path, monkeypatch) -> Path:
    """An "ffmpeg" that writes 4 bytes, then nothing, for longer than the watchdog waits (shortened here); the
    file beside it gets its process id."""
    fake = tmp_path / "ffmpeg"
    fake.write_text(f"#!/bin/sh\necho $$ > {tmp_path / 'pid'}\nprintf abcd\nexec sleep 30\n", encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setattr(music_tracks, "ffmpeg_path", lambda: str(fake))
    monkeypatch.setattr(music_tracks, "STALL_TIMEOUT_S", 0.5, raising=False)
    return tmp_path / "pid"


def test_ffmpeg_that_stalls_while_a_track_is_measured_is_stopped_and_named(tmp_path, stalling_ffmpeg):
    track = _wav(tmp_path / "beat.wav", 2)
    with pytest.raises(MusicFileError) as caught:
        measure_track(track, RATE_HZ)
    assert caught.value.reason == "ffmpeg read nothing of it for 0.5 s, so it was stopped"
    assert not Path(f"/proc/{stalling_ffmpeg.read_text().strip()}").exists()  # killed and reaped


def test_ffmpeg_that_stalls_in_the_mix_fails_the_build_in_one_line(tmp_path, stalling_ffmpeg):
    track = _wav(tmp_path / "beat.wav", 2)
    opened = _Decoder("beat.wav", track, RATE_HZ, 0, owner=None)
    try:
        with pytest.raises(RoutineError) as caught:
            opened.read(RATE_HZ)
    finally:
        opened.close()
    assert str(caught.value) == (f"{track}: cannot be played (ffmpeg read nothing of it for 0.5 s, so it was "
                                 "stopped); give a music file: mp3, m4a, ogg, flac or wav")
    assert not Path(f"/proc/{stalling_ffmpeg.read_text().strip()}").exists()
