"""The music bed: one more sound source for the mixer, under the coach.

Three parts, in the order a build uses them:

- ``measure_tracks``: each music file decoded once, to its exact length at the
  session's rate and its loudness (BS.1770). Kept in the cache folder by the
  file's path, size and modification time, so a file is measured once.
- ``schedule_music`` (pure): which stretch of which file plays when, as
  ``MusicEvent``s for the timeline. The holds' music and the rests' music are
  two players, each paused while the other plays, with a crossfade at each
  switch; a player's tracks crossfade into one another and loop.
- ``MusicBed``: the samples, chunk by chunk. Each file is decoded by ffmpeg as
  a stream (never whole), each track at its gain (so that every track sits
  ``gain_db`` under the voice), ducked under every sound of the timeline:
  fully down ``duck_attack`` before a sound, back up over ``duck_release``
  after it. The bed fades in at the start and out over the closing words.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import math
import os
import queue
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .layout import HoldEvent, MusicEvent, Timeline
from .loudness import LoudnessMeter
from .parts import ffmpeg_path
from .render import ms_to_frame
from .routine import Music
from .yamlsource import SourceMap

MIN_TRACK_MS = 1000
MAX_TRACK_GAIN_DB = 20.0  # a very quiet track is raised at most this much (its noise would come up with it)
READ_FRAMES = 1 << 16
_FORMAT = 2  # the cache's format: a new one measures again


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
    """ffmpeg decoding ``path`` to mono 16-bit samples at ``sample_rate_hz`` on its stdout, from a frame on."""
    seek = ["-ss", f"{offset_frames / sample_rate_hz:.6f}"] if offset_frames else []
    return subprocess.Popen([ffmpeg_path(), "-nostdin", "-hide_banner", "-loglevel", "quiet", *seek, "-i", str(path),
                             "-vn", "-sn", "-f", "s16le", "-ac", "1", "-ar", str(sample_rate_hz), "-"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


def measure_track(path: Path, sample_rate_hz: int) -> TrackInfo:
    """Decode ``path`` once, as the session will: its length in frames and its integrated loudness."""
    try:
        with open(path, "rb") as handle:
            if not handle.read(1):
                raise MusicFileError(path, "the file is empty")
    except OSError as error:
        raise MusicFileError(path, (error.strerror or "it cannot be opened").lower()) from None
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
        # ffmpeg's own words differ with each format ("Invalid argument", "Invalid data found..."): not repeated.
        raise MusicFileError(path, "it is not audio ffmpeg can read")
    if meter.frames * 1000 < MIN_TRACK_MS * sample_rate_hz:
        raise MusicFileError(path, f"it lasts {meter.frames * 1000 // sample_rate_hz} ms, and a music track lasts at "
                                   f"least {MIN_TRACK_MS // 1000} s")
    return TrackInfo(meter.frames, meter.result().integrated_lufs)


def measure_tracks(music: Music, sample_rate_hz: int, cache_dir: Path | None, source: SourceMap,
                   on_progress: Callable[[int, int], None] | None = None) -> dict[Path, TrackInfo]:
    """Every file of the bed and the rests' music measured (each once, on every core; from the cache when it
    was measured before). A file ffmpeg cannot play is a RoutineError on the line of ``music:`` or
    ``music_rest:``."""
    paths = dict.fromkeys((*music.bed_tracks, *music.rest_tracks))
    found: dict[Path, TrackInfo] = {}
    to_measure = []
    for path in paths:
        cached = _cached(cache_dir, path, sample_rate_hz)
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
                _store(cache_dir, path, sample_rate_hz, found[path])
                if on_progress:
                    on_progress(len(found), len(paths))
    return found


def _cache_file(cache_dir: Path, path: Path, sample_rate_hz: int) -> Path | None:
    try:
        status = path.stat()
    except OSError:
        return None
    key = f"{_FORMAT}|{path.resolve()}|{status.st_size}|{status.st_mtime_ns}|{sample_rate_hz}"
    return cache_dir / "music" / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"


def _cached(cache_dir: Path | None, path: Path, sample_rate_hz: int) -> TrackInfo | None:
    entry = _cache_file(cache_dir, path, sample_rate_hz) if cache_dir else None
    if entry is None:
        return None
    try:
        data = json.loads(entry.read_text())
        return TrackInfo(int(data["frames"]), float(data["loudness_lufs"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None  # not measured yet, or damaged: measured again


def _store(cache_dir: Path | None, path: Path, sample_rate_hz: int, info: TrackInfo) -> None:
    entry = _cache_file(cache_dir, path, sample_rate_hz) if cache_dir else None
    if entry is None:
        return
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        temporary = entry.with_name(f".{entry.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps({"frames": info.frames, "loudness_lufs": info.loudness_lufs}))
        os.replace(temporary, entry)  # whole or not at all
    except OSError:
        pass  # a cache that cannot be written only costs a measurement next time


# ---------------------------------------------------------------- the schedule (pure)


class _Player:
    """One playlist, looping, paused while the other plays: where it is, and what it plays next."""

    def __init__(self, tracks: Sequence[str], lengths_ms: Mapping[str, int], crossfade_ms: int) -> None:
        self.tracks, self.lengths_ms, self.crossfade_ms = tracks, lengths_ms, crossfade_ms
        self.index, self.offset_ms = 0, 0

    def play(self, start_ms: int, end_ms: int, fade_in_ms: int, fade_out_ms: int) -> list[MusicEvent]:
        events = []
        at_ms, fade_ms = start_ms, fade_in_ms
        while True:
            track = self.tracks[self.index % len(self.tracks)]
            left_ms = self.lengths_ms[track] - self.offset_ms
            if at_ms + left_ms >= end_ms:
                events.append(MusicEvent(at_ms, end_ms, track, self.offset_ms, fade_ms, fade_out_ms))
                self.offset_ms += end_ms - at_ms
                if self.offset_ms >= self.lengths_ms[track]:
                    self.index, self.offset_ms = self.index + 1, 0
                return events
            following = self.tracks[(self.index + 1) % len(self.tracks)]
            cross_ms = min(self.crossfade_ms, left_ms // 2, self.lengths_ms[following] // 2)
            events.append(MusicEvent(at_ms, at_ms + left_ms, track, self.offset_ms, fade_ms, cross_ms))
            at_ms += left_ms - cross_ms
            fade_ms = cross_ms
            self.index, self.offset_ms = self.index + 1, 0


def schedule_music(timeline: Timeline, music: Music, lengths_ms: Mapping[Path, int]) -> tuple[MusicEvent, ...]:
    """What plays when: the holds' music under the holds and the rests' music elsewhere (or the bed throughout).

    Each switch between them is a crossfade of ``crossfade_ms`` centred on the start or stop tone (shorter when
    a hold or rest is shorter); a track that ends crossfades into the next one.
    """
    names = {path: music.name_of(path) for path in (*music.bed_tracks, *music.rest_tracks)}
    lengths = {names[path]: length for path, length in lengths_ms.items() if path in names}
    players = {"bed": _Player([names[path] for path in music.bed_tracks], lengths, music.crossfade_ms)}
    duration_ms = timeline.duration_ms
    sections: list[tuple[int, int, str]] = []
    if music.rest_tracks:
        players["rest"] = _Player([names[path] for path in music.rest_tracks], lengths, music.crossfade_ms)
        at_ms = 0
        for hold in (event for event in timeline.events if isinstance(event, HoldEvent)):
            sections += [(at_ms, hold.start_ms, "rest"), (hold.start_ms, hold.end_ms, "bed")]
            at_ms = hold.end_ms
        sections.append((at_ms, duration_ms, "rest"))
        sections = _merged([section for section in sections if section[1] > section[0]])
    else:
        sections = [(0, duration_ms, "bed")]
    events: list[MusicEvent] = []
    for position, (start_ms, end_ms, player) in enumerate(sections):
        fade_in_ms = _switch_ms(music, sections, position - 1) if position else 0
        fade_out_ms = _switch_ms(music, sections, position) if position + 1 < len(sections) else 0
        events += players[player].play(start_ms - fade_in_ms // 2, end_ms + fade_out_ms - fade_out_ms // 2,
                                       fade_in_ms, fade_out_ms)
    return tuple(events)


def _merged(sections: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    merged: list[tuple[int, int, str]] = []
    for start_ms, end_ms, player in sections:
        if merged and merged[-1][2] == player:
            merged[-1] = (merged[-1][0], end_ms, player)
        else:
            merged.append((start_ms, end_ms, player))
    return merged


def _switch_ms(music: Music, sections: list[tuple[int, int, str]], before: int) -> int:
    """The crossfade between section ``before`` and the next: no longer than either."""
    first, second = sections[before], sections[before + 1]
    return min(music.crossfade_ms, first[1] - first[0], second[1] - second[0])


# ---------------------------------------------------------------- the samples


class MusicBed:
    """The music's samples for any stretch of the session, in order: a stream source for the mixer.

    ``gain_db`` is the whole session's gain (loudness normalization); each track
    also has its own (``track_gain_db``), which sets it against the voice.
    """

    def __init__(self, timeline: Timeline, music: Music, tracks: Mapping[Path, TrackInfo], voice_lufs: float,
                 sample_rate_hz: int, gain_db: float = 0.0) -> None:
        self.sample_rate_hz = rate = sample_rate_hz
        self.music = music
        self.paths = {music.name_of(path): path for path in (*music.bed_tracks, *music.rest_tracks)}
        self.gains = {music.name_of(path): 10 ** ((track_gain_db(info, voice_lufs, music) + gain_db) / 20)
                      for path, info in tracks.items()}
        self.events = sorted(timeline.music, key=lambda event: event.start_ms)
        self.starts = [ms_to_frame(event.start_ms, rate) for event in self.events]
        sounds = sorted((ms_to_frame(e.start_ms, rate), ms_to_frame(e.end_ms, rate)) for e in timeline.sounds)
        self.sound_starts = np.array([start for start, _ in sounds], dtype=np.int64)
        self.sound_ends = np.array([end for _, end in sounds], dtype=np.int64)
        self.longest_sound = int(max((end - start for start, end in sounds), default=0))
        self.attack = max(1, ms_to_frame(music.duck_attack_ms, rate))
        self.release = max(1, ms_to_frame(music.duck_release_ms, rate))
        self.total = ms_to_frame(timeline.duration_ms, rate)
        self.fade_in = max(1, ms_to_frame(max(music.crossfade_ms, 1000), rate))
        # The bed fades out over the closing words: from the last tone's end to the end of the session.
        tone_ends = [e.end_ms for e in timeline.sounds if e.kind == "tone"]
        self.fade_out_from = ms_to_frame(max(tone_ends, default=0), rate)
        self.decoders: list[_Decoder] = []
        # Where in each file a stretch starts: a decoder is kept after its stretch only if one resumes there.
        self.resumes: dict[str, list[int]] = {}
        for event in self.events[1:]:
            self.resumes.setdefault(event.file, []).append(ms_to_frame(event.offset_ms, rate))
        for offsets in self.resumes.values():
            offsets.sort()

    def render(self, start: int, end: int) -> np.ndarray | None:
        """The bed from frame ``start`` to ``end``, in 16-bit units (floats, not rounded); None when silent."""
        first = bisect.bisect_right(self.starts, end)
        mixed = None
        for event in self.events[:first]:
            begin, finish = max(start, ms_to_frame(event.start_ms, self.sample_rate_hz)), \
                min(end, ms_to_frame(event.end_ms, self.sample_rate_hz))
            if begin >= finish:
                continue
            samples = self._read(event, begin, finish)
            samples *= np.float32(self.gains.get(event.file, 1.0))
            fades = self._fades(event, begin, finish)
            if not isinstance(fades, float):
                samples *= fades
            if mixed is None:
                mixed = np.zeros(end - start, dtype=np.float32)
            mixed[begin - start:finish - start] += samples
        self._close_finished(start)
        self._open_ahead(end, 2 * end - start)
        if mixed is None:
            return None
        return mixed * self._envelope(start, end)

    def _open_ahead(self, start: int, end: int) -> None:
        """Start the decoders of the stretches that begin in the next chunk now, so ffmpeg starts up meanwhile."""
        rate = self.sample_rate_hz
        for event in self.events[bisect.bisect_left(self.starts, start):bisect.bisect_left(self.starts, end)]:
            position = ms_to_frame(event.offset_ms, rate)
            if not any(found.file == event.file and abs(found.position - position) <= 2
                       and found.owner in (None, event) for found in self.decoders):
                self.decoders.append(_Decoder(event.file, self.paths[event.file], rate, position, owner=event))

    def close(self) -> None:
        """Stop every decoder (and wait for it). Safe to call again."""
        for decoder_ in self.decoders:
            decoder_.close()
        self.decoders.clear()

    def _read(self, event: MusicEvent, begin: int, finish: int) -> np.ndarray:
        rate = self.sample_rate_hz
        position = ms_to_frame(event.offset_ms, rate) + begin - ms_to_frame(event.start_ms, rate)
        for found in self.decoders:
            # A player resumes where it paused: the same decoder reads on (a frame of rounding either way is kept).
            if found.file == event.file and abs(found.position - position) <= 2 and found.owner in (None, event):
                found.owner = event
                return found.read(finish - begin)
        opened = _Decoder(event.file, self.paths[event.file], rate, position, owner=event)
        self.decoders.append(opened)
        return opened.read(finish - begin)

    def _close_finished(self, frame: int) -> None:
        """Hand back each decoder whose stretch has ended: kept (paused) where a later stretch resumes the file,
        closed otherwise."""
        for found in list(self.decoders):
            if found.owner is not None and ms_to_frame(found.owner.end_ms, self.sample_rate_hz) <= frame:
                found.owner = None
                if found.done or not self._resumed_at(found.file, found.position):
                    found.close()
                    self.decoders.remove(found)

    def _resumed_at(self, file: str, position: int) -> bool:
        offsets = self.resumes.get(file, [])
        at = bisect.bisect_left(offsets, position - 2)
        return at < len(offsets) and offsets[at] <= position + 2

    def _fades(self, event: MusicEvent, begin: int, finish: int) -> np.ndarray | float:
        """The stretch's fade in and fade out (equal power), computed only where they are."""
        rate = self.sample_rate_hz
        start, end = ms_to_frame(event.start_ms, rate), ms_to_frame(event.end_ms, rate)
        fade_in, fade_out = ms_to_frame(event.fade_in_ms, rate), ms_to_frame(event.fade_out_ms, rate)
        if begin >= start + fade_in and finish <= end - fade_out:
            return 1.0
        gain = np.ones(finish - begin, dtype=np.float32)
        if fade_in and begin < start + fade_in:
            stop = min(finish, start + fade_in)
            gain[:stop - begin] *= np.sin(0.5 * np.pi * (np.arange(begin, stop) - start) / fade_in)
        if fade_out and finish > end - fade_out:
            first = max(begin, end - fade_out)
            gain[first - begin:] *= np.sin(0.5 * np.pi * (end - np.arange(first, finish)) / fade_out)
        return gain

    def _envelope(self, start: int, end: int) -> np.ndarray | float:
        """The duck under every sound, and the fades at the session's start and end: worked out only where they
        are (most of a chunk is neither)."""
        gain: np.ndarray | None = None
        low = int(np.searchsorted(self.sound_starts, start - self.longest_sound - self.release))
        high = int(np.searchsorted(self.sound_starts, end + 2 * self.attack))
        for sound_start, sound_end in zip(self.sound_starts[low:high], self.sound_ends[low:high]):
            first, last = max(start, sound_start - 2 * self.attack), min(end, sound_end + self.release)
            if first >= last:
                continue
            points = [sound_start - 2 * self.attack, sound_start - self.attack, sound_end, sound_end + self.release]
            ducked = 10 ** (self.music.duck_db / 20 * np.interp(np.arange(first, last), points, [0.0, 1.0, 1.0, 0.0]))
            if gain is None:
                gain = np.ones(end - start, dtype=np.float32)
            part = gain[first - start:last - start]
            np.minimum(part, ducked, out=part)
        if start < self.fade_in:
            gain = np.ones(end - start, dtype=np.float32) if gain is None else gain
            stop = min(end, self.fade_in)
            gain[:stop - start] *= np.sin(0.5 * np.pi * np.arange(start, stop) / self.fade_in)
        if end > self.fade_out_from:
            gain = np.ones(end - start, dtype=np.float32) if gain is None else gain
            first = max(start, self.fade_out_from)
            left = (self.total - np.arange(first, end)) / max(1, self.total - self.fade_out_from)
            gain[first - start:] *= np.sin(0.5 * np.pi * np.clip(left, 0.0, 1.0))
        return 1.0 if gain is None else gain


def track_gain_db(info: TrackInfo, voice_lufs: float, music: Music) -> float:
    """The gain that puts a track ``music.gain_db`` under the voice (raised by at most MAX_TRACK_GAIN_DB)."""
    if math.isinf(info.loudness_lufs) or math.isinf(voice_lufs):
        return music.gain_db
    return min(MAX_TRACK_GAIN_DB, voice_lufs + music.gain_db - info.loudness_lufs)


class _Decoder:
    """One file being decoded, read in order. A thread keeps a few blocks decoded ahead, so that ffmpeg works
    while the mixer does; while its player is paused it stops (its queue full, then its pipe)."""

    BLOCK_FRAMES = 1 << 14  # 0.75 s at 22.05 kHz
    AHEAD_BLOCKS = 4

    def __init__(self, file: str, path: Path, sample_rate_hz: int, position: int, owner: MusicEvent | None) -> None:
        self.file, self.position, self.owner = file, position, owner
        self.process = decoder(path, sample_rate_hz, position)
        self.blocks: queue.Queue[bytes] = queue.Queue(maxsize=self.AHEAD_BLOCKS)
        self.buffer = bytearray()
        self.done = False
        self.closed = threading.Event()
        self.thread = threading.Thread(target=self._pump, name=f"voicecoach-music-{file}", daemon=True)
        self.thread.start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        data = b"x"
        while data and not self.closed.is_set():
            try:
                data = self.process.stdout.read(self.BLOCK_FRAMES * 2)
            except (OSError, ValueError):  # closed under it
                data = b""
            while not self.closed.is_set():
                try:
                    self.blocks.put(data, timeout=0.2)
                    break
                except queue.Full:
                    continue

    def read(self, frames: int) -> np.ndarray:
        wanted = frames * 2
        while len(self.buffer) < wanted and not self.done:
            data = self.blocks.get()
            if not data:
                self.done = True  # the file ended (a frame or two early, at most, after its measured length)
            self.buffer += data
        got = np.frombuffer(bytes(self.buffer[:wanted // 2 * 2]), dtype="<i2")
        del self.buffer[:wanted]
        samples = np.zeros(frames, dtype=np.float32)
        samples[:len(got)] = got
        self.position += frames
        return samples

    def close(self) -> None:
        self.closed.set()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.thread.join()
        if self.process.stdout is not None:
            self.process.stdout.close()


def music_lengths_ms(tracks: Mapping[Path, TrackInfo], sample_rate_hz: int) -> dict[Path, int]:
    return {path: info.length_ms(sample_rate_hz) for path, info in tracks.items()}
