"""Music files measured (length, loudness) through ffmpeg, each once, the measurement kept in the cache's store."""

from __future__ import annotations

import hashlib
import io
import json
import os
import select
import subprocess
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._errors import OutputError
from .._loudness import LoudnessMeter
from .._parts import ffmpeg_path
from .._routine.model import Music
from .._routine.yamlsource import SourceMap
from .._stores import Store

MIN_TRACK_MS = 1000
MAX_TRACK_GAIN_DB = 20.0  # a very quiet track is raised at most this much (its noise would come up with it)
READ_FRAMES = 1 << 16
_FORMAT = 3  # the cache's format: a new one measures again (3: each measurement carries its checksum)
# ffmpeg reading a music file that gives no output for this long while it is being read (a file on a stalled
# network drive, a demuxer waiting for more) is stopped, and the file refused in one line. Generous: ffmpeg
# decodes minutes of music per second, and a busy machine is still far from 30 s without a byte.
STALL_TIMEOUT_S = 30.0
# What ffmpeg may open for a music file: one local file (given as ``file:PATH``, so that a name like
# ``concat:a|b`` or ``http:...`` is only a name), read by the demuxer of a plain audio file. Never a playlist (hls:
# a live .m3u8 waits for new segments forever; concat; dash), a network stream, an image sequence or a device:
# ffmpeg refuses other formats before reading anything. ``mov`` is m4a/mp4 (its references to other files are off
# by default), ``matroska`` is mka/webm, ``asf`` is wma.
MUSIC_FORMATS = ("mp3", "mov", "ogg", "flac", "wav", "w64", "aiff", "aac", "matroska", "caf", "wv", "ape", "asf")
_PLAYLIST_MAGIC = (b"#EXTM3U", b"#EXTINF", b"[playlist]")  # m3u, m3u8 and pls: named in the message


@dataclass(frozen=True)
class TrackInfo:
    """A music file as the session plays it: mono, at the session's rate."""

    frames: int
    loudness_lufs: float  # -inf for a silent file

    def length_ms(self, sample_rate_hz: int) -> int:
        return self.frames * 1000 // sample_rate_hz


class MusicFileError(Exception):
    """A music file ffmpeg cannot play; ``reason`` says why, in a few words."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = path, reason


def decoder(path: Path, sample_rate_hz: int, offset_frames: int = 0) -> subprocess.Popen:
    """ffmpeg decoding ``path`` to mono 16-bit samples at ``sample_rate_hz`` on its stdout, from a frame on.

    Only a local file in one of MUSIC_FORMATS is read. Its stdout is watched: a read that waits STALL_TIMEOUT_S
    for a byte stops ffmpeg and raises MusicFileError (a paused reader is no stall: only waiting reads count)."""
    seek = ["-ss", f"{offset_frames / sample_rate_hz:.6f}"] if offset_frames else []
    process = subprocess.Popen([ffmpeg_path(), "-nostdin", "-hide_banner", "-loglevel", "quiet",
                                "-protocol_whitelist", "file", "-format_whitelist", ",".join(MUSIC_FORMATS),
                                *seek, "-i", f"file:{path}",
                                "-vn", "-sn", "-f", "s16le", "-ac", "1", "-ar", str(sample_rate_hz), "-"],
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0)
    assert isinstance(process.stdout, io.FileIO)  # bufsize=0: the pipe itself, read through the watch
    process.stdout = io.BufferedReader(_Watched(process, process.stdout, path), READ_FRAMES * 2)
    return process


class _Watched(io.RawIOBase):
    """ffmpeg's stdout, each read waiting at most STALL_TIMEOUT_S for its first byte; then ffmpeg is killed
    (SIGKILL: ffmpeg waiting on a live playlist ignored a first SIGTERM) and the read raises MusicFileError."""

    def __init__(self, process: subprocess.Popen, pipe: io.FileIO, path: Path) -> None:
        super().__init__()
        self.process, self.pipe, self.path = process, pipe, path
        self.poll = select.poll()  # not select.select: it fails on a descriptor above 1023
        self.poll.register(pipe.fileno(), select.POLLIN)

    def readable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self.pipe.fileno()

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        if not self.poll.poll(STALL_TIMEOUT_S * 1000):
            if self.process.poll() is None:
                self.process.kill()
            raise MusicFileError(self.path, f"ffmpeg read nothing of it for {STALL_TIMEOUT_S:g} s, so it was "
                                            "stopped")
        return self.pipe.readinto(buffer) or 0

    def close(self) -> None:
        if not self.closed:
            self.pipe.close()
        super().close()


def measure_track(path: Path, sample_rate_hz: int) -> TrackInfo:
    """Decode ``path`` once, as the session will: its length in frames and its integrated loudness."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError as error:
        raise MusicFileError(path, (error.strerror or "it cannot be opened").lower()) from None
    if not head:
        raise MusicFileError(path, "the file is empty")
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(_PLAYLIST_MAGIC):
        raise MusicFileError(path, "it is a playlist, not a music file")
    process = decoder(path, sample_rate_hz)
    meter = LoudnessMeter(sample_rate_hz, with_true_peak=False)
    assert process.stdout is not None
    try:
        while True:
            data = process.stdout.read(READ_FRAMES * 2)
            if not data:
                break
            meter.add(np.frombuffer(data[:len(data) // 2 * 2], dtype="<i2") / 32768)
    finally:
        process.stdout.close()
        code = process.wait()
    if code != 0 or meter.frames == 0:
        # ffmpeg's own words differ with each format ("Invalid argument", "Invalid data found", "Format not on
        # whitelist"): not repeated.
        raise MusicFileError(path, "it is not audio ffmpeg can read")
    if meter.frames * 1000 < MIN_TRACK_MS * sample_rate_hz:
        raise MusicFileError(path, f"it lasts {meter.frames * 1000 // sample_rate_hz} ms, and a music track lasts at "
                                   f"least {MIN_TRACK_MS // 1000} s")
    return TrackInfo(meter.frames, meter.result().integrated_lufs)


def measure_tracks(music: Music, sample_rate_hz: int, cache: Store | None, source: SourceMap,
                   on_progress: Callable[[int, int], None] | None = None) -> dict[Path, TrackInfo]:
    """Every file of the bed and the rests' music measured (each once, on every core; from ``cache``, the
    speech cache's store, when it was measured before). A file ffmpeg cannot play is a RoutineError on the
    line of ``music:`` or ``music_rest:``."""
    paths = dict.fromkeys((*music.bed_tracks, *music.rest_tracks))
    found: dict[Path, TrackInfo] = {}
    to_measure = []
    for path in paths:
        cached = _cached(cache, path, sample_rate_hz)
        if cached is None:
            to_measure.append(path)
        else:
            found[path] = cached
    if to_measure:
        with ThreadPoolExecutor(max_workers=min(len(to_measure), os.cpu_count() or 1)) as pool:
            futures = {path: pool.submit(measure_track, path, sample_rate_hz) for path in to_measure}
            for path, future in futures.items():
                try:
                    found[path] = future.result()
                except MusicFileError as error:
                    for other in futures.values():
                        other.cancel()
                    field = "music" if path in music.bed_tracks else "music_rest"
                    raise source.error((field,), f'"{music.name_of(path)}" cannot be played ({error.reason}); '
                                                 "give a music file: mp3, m4a, ogg, flac or wav") \
                        from None
                _remember(cache, path, sample_rate_hz, found[path])
                if on_progress:
                    on_progress(len(found), len(paths))
    return found


def _cache_entry(path: Path, sample_rate_hz: int) -> str | None:
    """Where a track's measurement is kept in the cache: named by the file, its size and time, and the rate."""
    try:
        status = path.stat()
    except OSError:
        return None
    key = f"{_FORMAT}|{path.resolve()}|{status.st_size}|{status.st_mtime_ns}|{sample_rate_hz}"
    return f"music/{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"


def _cached(cache: Store | None, path: Path, sample_rate_hz: int) -> TrackInfo | None:
    entry = _cache_entry(path, sample_rate_hz) if cache is not None else None
    if cache is None or entry is None:
        return None
    try:
        data = json.loads(cache.read(entry) or b"")
        info = TrackInfo(int(data["frames"]), float(data["loudness_lufs"]))
        if data["check"] != _check(info):
            return None
        return info
    except (OutputError, ValueError, KeyError, TypeError, OverflowError):
        return None  # not measured yet, or damaged: measured again


def _remember(cache: Store | None, path: Path, sample_rate_hz: int, info: TrackInfo) -> None:
    entry = _cache_entry(path, sample_rate_hz) if cache is not None else None
    if cache is None or entry is None:
        return
    try:
        cache.write(entry, json.dumps({"frames": info.frames, "loudness_lufs": info.loudness_lufs,
                                       "check": _check(info)}).encode())
    except (OutputError, OSError):
        pass  # a cache that cannot be written only costs a measurement next time


def _check(info: TrackInfo) -> str:
    """A checksum of a measurement, so that a damaged one (a flipped digit) is measured again."""
    return hashlib.sha256(f"{info.frames}|{info.loudness_lufs!r}".encode()).hexdigest()[:16]


def music_lengths_ms(tracks: Mapping[Path, TrackInfo], sample_rate_hz: int) -> dict[Path, int]:
    return {path: info.length_ms(sample_rate_hz) for path, info in tracks.items()}
