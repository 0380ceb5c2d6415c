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
- encode: ffmpeg (LAME) into an unnamed file; then the tags.
- publish: the sidecars and the MP3 get their names together, or none does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from .export import DEFAULT_BITRATE_KBPS, Tags, encode_mp3, write_tags
from .files import SessionFiles, published_together, write_text
from .layout import LayoutStream, Timeline, Timing, layout_session
from .loudness import MONO_TARGET_LUFS
from .lyrics import lrc_text, subtitle_text
from .plan import Plan
from .render import CHUNK_S, SAMPLE_RATE_HZ, ChunkRenderer, Levels, ms_to_frame, normalized_levels, \
    session_length_frames
from .speech import Clip

# on_chunk(done, total): a chunk of samples reached the encoder (total is an estimate until the layout ends).
ChunkCallback = Callable[[int, int], None]


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


def write_session(job: SessionJob, on_chunk: ChunkCallback | None = None,
                  should_stop: Callable[[], None] | None = None) -> Timeline:
    """Lay out, mix, encode, tag and publish ``job``; its files appear all together or not at all.

    ``should_stop()`` is called before each chunk and before publishing, and raises to abandon the files.
    """
    plan, rate_hz = job.plan, job.sample_rate_hz
    lengths = _Lengths(job.clips)
    levels = Levels().with_tones(plan.tone_gain_db)
    known: Timeline | None = None
    if job.loudness_lufs is not None:
        known = layout_session(plan, lengths, Timing(), strict=job.strict)  # waits for every phrase
        levels = normalized_levels(known, job.clips, job.loudness_lufs, rate_hz, levels)
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

    # Until the layout ends the length is an estimate: the rests as asked, plus a guess for the speech.
    frames = session_length_frames(known, rate_hz) if known else \
        ms_to_frame(plan.asked_ms + 2_500 * len(plan.steps) // 2, rate_hz)
    _encode_and_publish(job, chunks(), lambda: finished[0], frames, on_chunk, should_stop)
    return finished[0]


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


def _encode_and_publish(job: SessionJob, chunks: Iterator[bytes], timeline_of: Callable[[], Timeline], frames: int,
                        on_chunk: ChunkCallback | None, should_stop: Callable[[], None] | None) -> None:
    """Encode ``chunks`` into the MP3, then write the timeline (known once the chunks are) and the lyrics,
    tag the MP3, and publish them together."""
    files, tags = job.files, job.tags
    chunk_frames = CHUNK_S * job.sample_rate_hz
    done = [0]

    def chunk_done() -> None:
        done[0] += 1
        if on_chunk:
            on_chunk(done[0], max(done[0], -(-frames // chunk_frames)))

    # Published in order, the MP3 last: a reader that finds the MP3 finds its sidecars.
    with published_together((files.timeline, files.lrc, *files.subtitles, files.mp3)) as pending:
        timeline_file, lrc_file, *subtitle_files, mp3_file = pending
        encode_mp3(chunks, mp3_file.path, job.sample_rate_hz, job.bitrate_kbps, on_chunk=chunk_done,
                   target=files.mp3)
        timeline = timeline_of()
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
