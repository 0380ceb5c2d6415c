"""How a session's samples reach the encoder: one class per way, each ``(mp3, scratch, progress) -> Timeline``.

- ``Streamed``: one LAME process, fed as far as the layout is settled (with
  no loudness target, while speech is still being synthesized).
- ``InPieces``: the gain known first, a long session is cut where it is
  silent and its pieces are encoded at once, one LAME process each, then
  joined frame for frame (``mp3join``).
- ``WithMusic``: the whole layout first (the music's schedule follows the
  holds to the end); with a loudness target, the mix is made once at 0 dB,
  measured as it is made and kept in a scratch file, then read back with the
  gain applied. One encoder: a session with music has no silence to cut at.

``strategy_for(job)`` chooses; each strategy writes the MP3 and returns the
session's timeline, which is then as exact as the MP3 (``session.write_session``).
"""

from __future__ import annotations

import threading
from array import array
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Protocol

import numpy as np

from .._audio.encode import ENCODER_GAIN_DB, encode_mp3
from .._audio.gain import measure_loudness, normalized_levels
from .._audio.layout import LayoutStream, Timing, first_sound_ms, layout_session
from .._audio.mix import CHUNK_S, ChunkRenderer, Levels, ms_to_frame, pcm_bytes, session_length_frames
from .._audio.mp3join import PREROLL_FRAMES, Piece, frame_length, frames_of, join
from .._audio.music_bed import MusicBed
from .._audio.music_schedule import schedule_music
from .._audio.music_tracks import measure_tracks, music_lengths_ms
from .._audio.timeline import Timeline
from .._loudness import LoudnessMeter, normalizing_gain_db
from .._speech.engines.base import Clip
from .._stores.atomic import PendingFile
from .job import SessionJob

MIN_PIECE_S = 120  # a session is cut into pieces for several encoders only where each lasts this long
SOUND_COST = 3  # LAME's CPU for a second of sound over a second of silence (measured: 0.50 vs 0.17 CPU-s per 120 s)
CUT_GUARD_FRAMES = PREROLL_FRAMES + 4  # a cut has this much digital silence on both sides (mp3join says why)
MUSIC_CHUNK_S = 2.5  # with music, the mix goes in shorter chunks (its arrays stay small)
SCRATCH_SCALE = 0.5  # the 0 dB mix is kept at half scale: voice and music together may pass full scale

# on_chunk(done, total): a chunk of samples reached the encoder (total is an estimate until the layout ends).
ChunkCallback = Callable[[int, int], None]
StopCheck = Callable[[], None]  # raises to abandon the session


class Progress:
    """Chunks done out of a total that is an estimate until the layout ends; a measuring pass counts too."""

    def __init__(self, on_chunk: ChunkCallback | None, total: int, done: int = 0) -> None:
        self.on_chunk, self.total, self.done = on_chunk, total, done
        self._lock = threading.Lock()  # pieces encode on several threads

    def chunk(self) -> None:
        with self._lock:
            self.done += 1
            if self.on_chunk:
                self.on_chunk(self.done, max(self.done, self.total))

    def finished(self) -> None:
        if self.on_chunk:
            self.on_chunk(self.done, self.done)


class Strategy(Protocol):
    """One way of feeding the encoder."""

    def encode(self, mp3: Path, scratch: Path, on_chunk: ChunkCallback | None,
               should_stop: StopCheck | None) -> Timeline:
        """Write the session's MP3 at ``mp3`` (scratch files go in ``scratch``); return its timeline."""
        ...


class Lengths(Mapping):
    """Phrase lengths in ms, read from clips (waiting for those not synthesized yet)."""

    def __init__(self, clips: Mapping[str, Clip]) -> None:
        self._clips = clips

    def __getitem__(self, text: str) -> int:
        return self._clips[text].length_ms

    def __iter__(self) -> Iterator[str]:
        return iter(self._clips)

    def __len__(self) -> int:
        return len(self._clips)


def strategy_for(job: SessionJob) -> Strategy:
    """With music: ``WithMusic``. With a loudness target, the layout is taken to its end first (which waits for
    every phrase) for the gain; then ``InPieces`` when the session is long enough to cut for several encoders.
    Otherwise ``Streamed``."""
    levels = Levels().with_tones(job.plan.tone_gain_db)
    if job.plan.music is not None:
        return WithMusic(job, levels)
    if job.loudness_lufs is None:
        return Streamed(job, levels)
    known = layout_session(job.plan, Lengths(job.clips), Timing(), strict=job.strict)
    levels = normalized_levels(known, job.clips, job.loudness_lufs - ENCODER_GAIN_DB, job.sample_rate_hz, levels)
    cuts = split_frames(known, job.sample_rate_hz, job.encoders)
    return InPieces(job, levels, known, cuts) if cuts else Streamed(job, levels, known)


class Streamed:
    """One encoder, fed as far as the layout is settled (with a gain, it is settled already)."""

    def __init__(self, job: SessionJob, levels: Levels, known: Timeline | None = None) -> None:
        self.job, self.levels, self.known = job, levels, known

    def encode(self, mp3: Path, scratch: Path, on_chunk: ChunkCallback | None,
               should_stop: StopCheck | None) -> Timeline:
        job, rate_hz = self.job, self.job.sample_rate_hz
        stream = LayoutStream(job.plan, Lengths(job.clips), Timing(), strict=job.strict)
        mixer = ChunkRenderer(job.clips, rate_hz, self.levels)
        finished: list[Timeline] = []
        # Until the layout ends the length is an estimate: the rests as asked, plus a guess for the speech.
        frames = session_length_frames(self.known, rate_hz) if self.known else \
            ms_to_frame(job.plan.asked_ms + 2_500 * len(job.plan.steps) // 2, rate_hz)
        progress = Progress(on_chunk, -(-frames // (CHUNK_S * rate_hz)))

        def chunks() -> Iterator[bytes]:
            for sounds, settled_ms in stream.steps():
                mixer.add(sounds)
                for chunk in mixer.chunks_until(ms_to_frame(settled_ms, rate_hz)):
                    if should_stop:
                        should_stop()
                    yield chunk
            finished.append(stream.timeline())
            yield from mixer.finish(session_length_frames(finished[0], rate_hz))

        encode_mp3(chunks(), mp3, rate_hz, job.bitrate_kbps, on_chunk=progress.chunk,
                   target=job.store.where(job.files.mp3))
        progress.finished()
        return finished[0]


def split_frames(timeline: Timeline, sample_rate_hz: int, encoders: int) -> list[int]:
    """Where to cut a session into pieces for ``encoders`` LAME processes: [] for one piece.

    Each cut is a multiple of the frame length in a silence that lasts at least
    ``CUT_GUARD_FRAMES`` frames on both sides, as near as there is one to an even
    share of LAME's work: measured, LAME spends about ``SOUND_COST`` times as much
    on a second of sound as on a second of silence, so an even share of samples
    made the build wait for the piece with more speech. A piece lasts at least
    ``MIN_PIECE_S``, so a short session is one piece (starting ffmpeg costs more
    than it would save).
    """
    total = session_length_frames(timeline, sample_rate_hz)
    pieces = min(encoders, total // (MIN_PIECE_S * sample_rate_hz))
    if pieces < 2:
        return []
    length = frame_length(sample_rate_hz)
    guard = CUT_GUARD_FRAMES * length
    sounds = sorted((ms_to_frame(e.start_ms, sample_rate_hz), ms_to_frame(e.end_ms, sample_rate_hz) + 1)
                    for e in timeline.sounds)
    silences = [(end + guard, start - guard) for (_, end), (start, _) in zip(sounds, sounds[1:])
                if start - end > 2 * guard + length]
    # LAME's work up to each MP3 frame: a silent frame costs 1, one with sound SOUND_COST.
    frames = total // length + 1
    heard = np.zeros(frames + 1, dtype=np.int64)
    for start, end in sounds:
        heard[min(start // length, frames)] += 1
        heard[min(end // length + 1, frames)] -= 1
    work = np.cumsum(np.where(np.cumsum(heard)[:frames] > 0, SOUND_COST, 1))
    cuts: list[int] = []
    for number in range(1, pieces):
        wanted = int(np.searchsorted(work, work[-1] * number / pieces)) * length
        best = None
        for first, last in silences:
            cut = min(max(wanted, first), last)
            cut = -(-cut // length) * length  # up to the next frame boundary
            if cut <= last and (best is None or abs(cut - wanted) < abs(best - wanted)):
                best = cut
        if best is not None and (not cuts or best > cuts[-1]):
            cuts.append(best)
    return cuts


class _PieceFailed(Exception):
    """Another piece of the session failed; this one stops too."""


class InPieces:
    """The session in pieces, one LAME process each at once, joined into one MP3 (see mp3join)."""

    def __init__(self, job: SessionJob, levels: Levels, timeline: Timeline, cuts: list[int]) -> None:
        self.job, self.levels, self.timeline, self.cuts = job, levels, timeline, cuts

    def encode(self, mp3: Path, scratch: Path, on_chunk: ChunkCallback | None,
               should_stop: StopCheck | None) -> Timeline:
        job, timeline, rate_hz = self.job, self.timeline, self.job.sample_rate_hz
        total = session_length_frames(timeline, rate_hz)
        progress = Progress(on_chunk, -(-total // (CHUNK_S * rate_hz)))
        margin = PREROLL_FRAMES * frame_length(rate_hz)
        bounds = list(zip([0, *self.cuts], [*self.cuts, total]))
        failed: list[BaseException] = []

        def chunks(start: int, end: int) -> Iterator[bytes]:
            mixer = ChunkRenderer(job.clips, rate_hz, self.levels, start_frame=start)
            mixer.add(event for event in timeline.sounds if start <= ms_to_frame(event.start_ms, rate_hz) < end)
            for chunk in mixer.finish(end):
                if failed:
                    raise _PieceFailed
                if should_stop:
                    should_stop()
                yield chunk

        outputs = [PendingFile(scratch / mp3.name) for _ in bounds]
        sizes: dict[int, array] = {}
        try:
            def encode(number: int) -> None:
                first, last = bounds[number]
                start, end = max(0, first - margin), min(total, last + margin)
                try:
                    encode_mp3(chunks(start, end), outputs[number].path, rate_hz, job.bitrate_kbps,
                               on_chunk=progress.chunk, target=job.store.where(job.files.mp3))
                    sizes[number] = frames_of(outputs[number].path)  # read here, while the other pieces encode
                except BaseException as error:  # handed to the caller below
                    failed.append(error)

            threads = [threading.Thread(target=encode, args=(number,), name=f"voicecoach-piece-{number}",
                                        daemon=True) for number in range(1, len(bounds))]
            for thread in threads:
                thread.start()
            encode(0)
            for thread in threads:
                thread.join()
            errors = [error for error in failed if not isinstance(error, _PieceFailed)]
            if errors:
                raise errors[0]
            pieces = []
            for number, ((first, last), output) in enumerate(zip(bounds, outputs)):
                keep_from = 0 if number == 0 else margin // frame_length(rate_hz)
                pieces.append(Piece(output.path, keep_from,
                                    None if number == len(bounds) - 1 else (last - first) // frame_length(rate_hz),
                                    sizes[number]))
            with open(mp3, "wb") as handle:
                join(pieces, handle)
        finally:
            for output in outputs:
                output.discard()
        progress.finished()
        return timeline


class WithMusic:
    """The whole layout first, then the music's schedule, then the mix: measured in a first pass and kept in a
    scratch file when there is a loudness target (the music plays under the voice, so the sounds cannot be
    measured one by one), read back with the gain applied."""

    def __init__(self, job: SessionJob, levels: Levels) -> None:
        self.job, self.levels = job, levels

    def encode(self, mp3: Path, scratch: Path, on_chunk: ChunkCallback | None,
               should_stop: StopCheck | None) -> Timeline:
        job, rate_hz = self.job, self.job.sample_rate_hz
        plan, music = job.plan, job.plan.music
        assert music is not None
        tracks = job.tracks if job.tracks is not None else measure_tracks(music, rate_hz, None, plan.source)
        timeline = layout_session(plan, Lengths(job.clips), Timing(), strict=job.strict)  # waits for every phrase
        timeline = timeline.with_music(schedule_music(timeline, music, music_lengths_ms(tracks, rate_hz),
                                                         start_ms=first_sound_ms(plan)))
        voice_lufs = measure_loudness(timeline, job.clips, rate_hz, self.levels).integrated_lufs
        total = session_length_frames(timeline, rate_hz)
        chunk_frames = int(MUSIC_CHUNK_S * rate_hz)
        chunks_in_pass = -(-total // chunk_frames)
        measured = job.loudness_lufs is not None
        progress = Progress(on_chunk, 2 * chunks_in_pass if measured else chunks_in_pass)
        bed = MusicBed(timeline, music, tracks, voice_lufs, rate_hz)
        mix = PendingFile(scratch / mp3.name) if measured else None

        def mixed() -> Iterator[np.ndarray]:
            mixer = ChunkRenderer(job.clips, rate_hz, self.levels, chunk_frames=chunk_frames, streams=[bed])
            mixer.add(timeline.sounds)
            for samples in mixer.mixed_until(total):
                if should_stop:
                    should_stop()
                yield samples
            bed.close()

        try:
            if mix is None:
                chunks: Iterator[bytes] = (pcm_bytes(samples) for samples in mixed())
            else:
                meter = LoudnessMeter(rate_hz)
                with open(mix.path, "wb") as handle:
                    for samples in mixed():
                        meter.add(samples / 32768)
                        handle.write(pcm_bytes(samples, SCRATCH_SCALE))
                        progress.chunk()
                assert job.loudness_lufs is not None
                gain = 10 ** (normalizing_gain_db(meter.result(), job.loudness_lufs - ENCODER_GAIN_DB) / 20)

                def read_back(path: Path) -> Iterator[bytes]:
                    with open(path, "rb") as handle:
                        while data := handle.read(chunk_frames * 2):
                            if should_stop:
                                should_stop()
                            yield pcm_bytes(np.frombuffer(data, dtype="<i2"), gain / SCRATCH_SCALE)

                chunks = read_back(mix.path)
            encode_mp3(chunks, mp3, rate_hz, job.bitrate_kbps, on_chunk=progress.chunk,
                       target=job.store.where(job.files.mp3))
        finally:
            bed.close()  # whatever happened: a generator left mid-way does not close it
            if mix is not None:
                mix.discard()
        progress.finished()
        return timeline
