"""The music bed: the scheduled tracks decoded as the mix needs them, ducked under every word and tone."""

from __future__ import annotations

import bisect
import math
import queue
import threading
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .._errors import RoutineError
from .._routine.model import Music
from .mix import ms_to_frame
from .music_tracks import MAX_TRACK_GAIN_DB, MusicFileError, TrackInfo, decoder
from .timeline import MusicEvent, Timeline

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
        # The bed fades in from where its music starts: the end of the lead-in, which stays silent.
        self.fade_in_from = self.starts[0] if self.starts else 0
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
        """The duck under every sound, and the fades at the music's start (the lead-in's end) and the session's
        end: worked out only where they are (most of a chunk is neither)."""
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
        if start < self.fade_in_from + self.fade_in:
            gain = np.ones(end - start, dtype=np.float32) if gain is None else gain
            first, stop = max(start, self.fade_in_from), min(end, self.fade_in_from + self.fade_in)
            gain[:first - start] = 0.0
            if first < stop:
                gain[first - start:stop - start] *= np.sin(
                    0.5 * np.pi * (np.arange(first, stop) - self.fade_in_from) / self.fade_in)
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
        self.blocks: queue.Queue[bytes | MusicFileError] = queue.Queue(maxsize=self.AHEAD_BLOCKS)
        self.buffer = bytearray()
        self.done = False
        self.closed = threading.Event()
        self.thread = threading.Thread(target=self._pump, name=f"voicecoach-music-{file}", daemon=True)
        self.thread.start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        data: bytes | MusicFileError = b"x"
        while data and not isinstance(data, MusicFileError) and not self.closed.is_set():
            try:
                data = self.process.stdout.read(self.BLOCK_FRAMES * 2)
            except (OSError, ValueError):  # closed under it
                data = b""
            except MusicFileError as error:  # ffmpeg stalled, and was stopped: the mix fails with it
                data = error
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
            if isinstance(data, MusicFileError):
                self.done = True
                raise RoutineError(f"cannot be played ({data.reason}); give a music file: mp3, m4a, ogg, flac or wav",
                                   file=str(data.path))
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
