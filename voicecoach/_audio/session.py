"""A session's one path once its speech exists: layout -> gain -> mix -> encode -> publish.

``build`` and ``batch``, with any option, write every session through
``write_session``: ``build`` on a second thread while speech is still being
synthesized (the clips are a mapping that waits for a phrase not there yet),
``batch`` in a worker process with every clip in hand. Nothing else writes a
session.

- layout: ``LayoutStream`` places the sounds step by step; each step says how
  far the session is settled, so the mix can go that far.
- gain: with a loudness target, the layout is first taken to its end (which
  waits for every phrase) and the one gain that brings the session to the
  target is computed from each sound's BS.1770 statistics; without one, the
  gain is 0 dB and nothing waits.
- mix: the mixer renders each chunk from the sounds laid out on the timeline.
- encode: ffmpeg (LAME) into an unnamed file; its Info frame then gets the
  session's exact length (``mp3join.set_length``); then the tags. When the gain
  was known before the encode and there are cores to spare, a long session is
  cut where it is silent and its pieces are encoded at once, one LAME process
  each, then joined frame for frame (``mp3join``).
- publish: the sidecars and the MP3 get their names together, or none does.
"""

from __future__ import annotations

import threading
from array import array
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .encode import DEFAULT_BITRATE_KBPS, ENCODER_GAIN_DB, encode_mp3
from .tags import Tags, write_tags
from .._publish.files import PendingFile, SessionFiles, published_together, write_text
from .layout import LayoutStream, Timing, layout_session
from .timeline import Timeline
from .loudness import MONO_TARGET_LUFS, LoudnessMeter, normalizing_gain_db
from .._publish.lyrics import lrc_text, subtitle_text
from .music_bed import MusicBed
from .music_tracks import TrackInfo, measure_tracks, music_lengths_ms
from .music_schedule import schedule_music
from .mp3join import PREROLL_FRAMES, Piece, frame_length, frames_of, join, set_length
from .._plan.steps import Plan
from .mix import CHUNK_S, SAMPLE_RATE_HZ, ChunkRenderer, Levels, ms_to_frame, pcm_bytes, session_length_frames
from .gain import measure_loudness, normalized_levels
from .._speech.engines.base import Clip

# on_chunk(done, total): a chunk of samples reached the encoder (total is an estimate until the layout ends).
ChunkCallback = Callable[[int, int], None]
MIN_PIECE_S = 120  # a session is cut into pieces for several encoders only where each lasts this long
SOUND_COST = 3  # LAME's CPU for a second of sound over a second of silence (measured: 0.50 vs 0.17 CPU-s per 120 s)
CUT_GUARD_FRAMES = PREROLL_FRAMES + 4  # a cut has this much digital silence on both sides (mp3join says why)
MUSIC_CHUNK_S = 25  # tenths of a second: with music, the mix goes in shorter chunks (its arrays stay small)
SCRATCH_SCALE = 0.5  # the 0 dB mix is kept at half scale: voice and music together may pass full scale


@dataclass(frozen=True)
class SessionJob:
    """Everything a session's path needs: the plan, its clips (by written text), where and how to write it."""

    plan: Plan
    clips: Mapping[str, Clip]
    files: SessionFiles
    tags: Tags
    sample_rate_hz: int = SAMPLE_RATE_HZ
    bitrate_kbps: int = DEFAULT_BITRATE_KBPS
    loudness_lufs: float | None = MONO_TARGET_LUFS  # None: no normalization (and the encode starts sooner)
    strict: bool = False  # a rest too short for its speech is an error, not a warning
    encoders: int = 1  # LAME processes that may encode this session at once (in pieces, joined: mp3join)
    tracks: Mapping[Path, TrackInfo] | None = None  # the music files measured (``music.measure_tracks``)


def write_session(job: SessionJob, on_chunk: ChunkCallback | None = None,
                  should_stop: Callable[[], None] | None = None) -> Timeline:
    """Lay out, mix, encode, tag and publish ``job``; its files appear all together or not at all.

    ``should_stop()`` is called before each chunk and before publishing, and raises to abandon the files.
    """
    plan, rate_hz = job.plan, job.sample_rate_hz
    lengths = _Lengths(job.clips)
    levels = Levels().with_tones(plan.tone_gain_db)
    if plan.music is not None:
        return _write_with_music(job, levels, on_chunk, should_stop)
    known: Timeline | None = None
    if job.loudness_lufs is not None:
        known = layout_session(plan, lengths, Timing(), strict=job.strict)  # waits for every phrase
        levels = normalized_levels(known, job.clips, job.loudness_lufs - ENCODER_GAIN_DB, rate_hz, levels)
    splits = split_frames(known, rate_hz, job.encoders) if known else []
    if known and splits:
        def encode(path: Path, chunk_done: Callable[[], None]) -> None:
            _encode_in_pieces(job, known, levels, splits, path, chunk_done, should_stop)

        _encode_and_publish(job, encode, lambda: known, session_length_frames(known, rate_hz), on_chunk,
                            should_stop)
        return known

    # One encoder, fed as far as the layout is settled (with a gain, it is settled already: every phrase exists).
    stream = LayoutStream(plan, lengths, Timing(), strict=job.strict)
    mixer = ChunkRenderer(job.clips, rate_hz, levels)
    finished: list[Timeline] = []

    def chunks() -> Iterator[bytes]:
        for sounds, settled_ms in stream.steps():
            mixer.add(sounds)
            for chunk in mixer.chunks_until(ms_to_frame(settled_ms, rate_hz)):
                if should_stop:
                    should_stop()
                yield chunk
        finished.append(stream.timeline())
        yield from mixer.finish(session_length_frames(finished[0], rate_hz))

    def encode_stream(path: Path, chunk_done: Callable[[], None]) -> None:
        encode_mp3(chunks(), path, rate_hz, job.bitrate_kbps, on_chunk=chunk_done, target=job.files.mp3)

    # Until the layout ends the length is an estimate: the rests as asked, plus a guess for the speech.
    frames = session_length_frames(known, rate_hz) if known else \
        ms_to_frame(plan.asked_ms + 2_500 * len(plan.steps) // 2, rate_hz)
    _encode_and_publish(job, encode_stream, lambda: finished[0], frames, on_chunk, should_stop)
    return finished[0]


def _write_with_music(job: SessionJob, levels: Levels, on_chunk: ChunkCallback | None,
                      should_stop: Callable[[], None] | None) -> Timeline:
    """The path with a music bed: the whole layout first (the music's schedule follows the holds to the end),
    then the mix. The music plays under the voice, so the sounds cannot be measured one by one: with a
    loudness target, the mix is made once at 0 dB, measured as it is made and kept (at half scale, for
    headroom) in an unnamed scratch file beside the MP3; the encode then reads it back with the gain applied.
    One encoder: a session with music has no silence to cut it at."""
    plan, rate_hz = job.plan, job.sample_rate_hz
    music = plan.music
    assert music is not None
    tracks = job.tracks if job.tracks is not None else measure_tracks(music, rate_hz, None, plan.source)
    timeline = layout_session(plan, _Lengths(job.clips), Timing(), strict=job.strict)  # waits for every phrase
    timeline = timeline.with_music(schedule_music(timeline, music, music_lengths_ms(tracks, rate_hz)))
    voice_lufs = measure_loudness(timeline, job.clips, rate_hz, levels).integrated_lufs
    total = session_length_frames(timeline, rate_hz)
    chunk_frames = MUSIC_CHUNK_S * rate_hz // 10
    chunks_in_pass = -(-total // chunk_frames)
    measured = job.loudness_lufs is not None
    bed = MusicBed(timeline, music, tracks, voice_lufs, rate_hz)
    scratch = PendingFile(job.files.mp3) if measured else None

    def mixed() -> Iterator[np.ndarray]:
        mixer = ChunkRenderer(job.clips, rate_hz, levels, chunk_frames=chunk_frames, streams=[bed])
        mixer.add(timeline.sounds)
        for samples in mixer.mixed_until(total):
            if should_stop:
                should_stop()
            yield samples
        bed.close()

    try:
        if scratch is None:
            chunks: Iterator[bytes] = (pcm_bytes(samples) for samples in mixed())
        else:
            meter = LoudnessMeter(rate_hz)
            with open(scratch.path, "wb") as handle:
                for done, samples in enumerate(mixed(), start=1):
                    meter.add(samples / 32768)
                    handle.write(pcm_bytes(samples, SCRATCH_SCALE))
                    if on_chunk:
                        on_chunk(done, 2 * chunks_in_pass)
            assert job.loudness_lufs is not None
            gain = 10 ** (normalizing_gain_db(meter.result(), job.loudness_lufs - ENCODER_GAIN_DB) / 20)

            def read_back(path: Path) -> Iterator[bytes]:
                with open(path, "rb") as handle:
                    while data := handle.read(chunk_frames * 2):
                        if should_stop:
                            should_stop()
                        yield pcm_bytes(np.frombuffer(data, dtype="<i2"), gain / SCRATCH_SCALE)

            chunks = read_back(scratch.path)

        def encode_stream(path: Path, chunk_done: Callable[[], None]) -> None:
            encode_mp3(chunks, path, rate_hz, job.bitrate_kbps, on_chunk=chunk_done, target=job.files.mp3)

        _encode_and_publish(job, encode_stream, lambda: timeline, total, on_chunk, should_stop,
                            done_before=chunks_in_pass if measured else 0, chunk_frames=chunk_frames)
    finally:
        bed.close()  # whatever happened: a generator left mid-way does not close it
        if scratch is not None:
            scratch.discard()
    return timeline


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


def _encode_in_pieces(job: SessionJob, timeline: Timeline, levels: Levels, cuts: list[int], path: Path,
                      chunk_done: Callable[[], None], should_stop: Callable[[], None] | None) -> None:
    """Encode the session in pieces, one LAME process each at once, and join them into ``path`` (see mp3join)."""
    rate_hz = job.sample_rate_hz
    total = session_length_frames(timeline, rate_hz)
    margin = PREROLL_FRAMES * frame_length(rate_hz)
    bounds = list(zip([0, *cuts], [*cuts, total]))
    lock = threading.Lock()
    failed: list[BaseException] = []

    def chunks(start: int, end: int) -> Iterator[bytes]:
        mixer = ChunkRenderer(job.clips, rate_hz, levels, start_frame=start)
        mixer.add(event for event in timeline.sounds if start <= ms_to_frame(event.start_ms, rate_hz) < end)
        for chunk in mixer.finish(end):
            if failed:
                raise _PieceFailed
            if should_stop:
                should_stop()
            yield chunk

    def counted() -> None:
        with lock:
            chunk_done()

    outputs = [PendingFile(job.files.mp3) for _ in bounds]
    sizes: dict[int, array] = {}
    try:
        def encode(number: int) -> None:
            first, last = bounds[number]
            start, end = max(0, first - margin), min(total, last + margin)
            try:
                encode_mp3(chunks(start, end), outputs[number].path, rate_hz, job.bitrate_kbps, on_chunk=counted,
                           target=job.files.mp3)
                sizes[number] = frames_of(outputs[number].path)  # read here, while the other pieces encode
            except BaseException as error:  # handed to the caller below
                failed.append(error)

        threads = [threading.Thread(target=encode, args=(number,), name=f"voicecoach-piece-{number}", daemon=True)
                   for number in range(1, len(bounds))]
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
        with open(path, "wb") as handle:
            join(pieces, handle)
    finally:
        for output in outputs:
            output.discard()


class _PieceFailed(Exception):
    """Another piece of the session failed; this one stops too."""


class _Lengths(Mapping):
    """Phrase lengths in ms, read from clips (waiting for those not synthesized yet)."""

    def __init__(self, clips: Mapping[str, Clip]) -> None:
        self._clips = clips

    def __getitem__(self, text: str) -> int:
        return self._clips[text].length_ms

    def __iter__(self) -> Iterator[str]:
        return iter(self._clips)

    def __len__(self) -> int:
        return len(self._clips)


def _encode_and_publish(job: SessionJob, encode: Callable[[Path, Callable[[], None]], None],
                        timeline_of: Callable[[], Timeline], frames: int, on_chunk: ChunkCallback | None,
                        should_stop: Callable[[], None] | None, done_before: int = 0,
                        chunk_frames: int | None = None) -> None:
    """Encode the MP3 (``encode(path, chunk_done)``), then write the timeline (known once the encode is done) and
    the lyrics, tag the MP3, and publish them together."""
    files, tags = job.files, job.tags
    chunk_frames = chunk_frames or CHUNK_S * job.sample_rate_hz
    done = [done_before]  # a measuring pass before the encode counts as much work as the encode

    def chunk_done() -> None:
        done[0] += 1
        if on_chunk:
            on_chunk(done[0], max(done[0], done_before - (-frames // chunk_frames)))

    # Published in order, the MP3 last: a reader that finds the MP3 finds its sidecars.
    with published_together((files.timeline, files.lrc, *files.subtitles, files.mp3)) as pending:
        timeline_file, lrc_file, *subtitle_files, mp3_file = pending
        encode(mp3_file.path, chunk_done)
        timeline = timeline_of()
        # Every path (one encoder, pieces joined, music) ends here: the MP3 decodes to the timeline's length.
        set_length(mp3_file.path, session_length_frames(timeline, job.sample_rate_hz))
        if on_chunk:
            on_chunk(done[0], done[0])
        timeline_json = timeline.to_json()
        write_text(timeline_file.path, timeline_json, files.timeline)
        write_text(lrc_file.path, lrc_text(timeline, tags.album), files.lrc)
        for subtitle_file in subtitle_files:
            subtitle_format = subtitle_file.target.suffix.lstrip(".")
            write_text(subtitle_file.path, subtitle_text(timeline, subtitle_format), subtitle_file.target)
        write_tags(mp3_file.path, timeline, tags, timeline_json, files.mp3)
        if should_stop:
            should_stop()  # interrupted while tagging: publish nothing
