"""A session's one path once its speech exists: layout -> gain -> mix -> encode -> publish.

``build`` and ``batch``, with any option, write every session through
``write_session``: ``build`` on a second thread while speech is still being
synthesized (the clips are a mapping that waits for a phrase not there yet),
``batch`` in a worker process (or a Dask task) with every clip in hand.
Nothing else writes a session.

- layout, gain, mix and encode: one ``Strategy`` (``strategies``) feeds the
  encoder and returns the timeline;
- the MP3's Info frame then gets the session's exact length
  (``mp3join.set_length``), whatever way it was encoded;
- publish: the timeline, lyrics and subtitles are written, the MP3 tagged,
  and the store publishes them together, the MP3 last (a folder: all or none).

A session whose audio is another's to the sample (the identical days of a
program: the same sound key) is not encoded again: ``copy_session`` copies the
other's MP3 audio and publishes it the same way, with its own title and tags.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from .._audio.mix import session_length_frames
from .._audio.mp3join import set_length
from .._audio.timeline import Timeline
from .._errors import OutputError
from .._publish.lyrics import lrc_text, subtitle_text
from .._publish.tags import write_tags
from .._stores.atomic import write_text
from .job import SessionJob
from .strategies import ChunkCallback, strategy_for


def write_session(job: SessionJob, on_chunk: ChunkCallback | None = None,
                  should_stop: Callable[[], None] | None = None) -> Timeline:
    """Lay out, mix, encode, tag and publish ``job``; its files appear in order, the MP3 last (in a folder: all
    together or none).

    ``should_stop()`` is called before each chunk and before publishing, and raises to abandon the files.
    """
    files, store = job.files, job.store
    strategy = strategy_for(job)
    # Published in order, the MP3 last: a reader that finds the MP3 finds its sidecars.
    with store.staging((files.timeline, files.lrc, *files.subtitles, files.mp3)) as staged:
        timeline_path, lrc_path, *subtitle_paths, mp3_path = staged.paths
        timeline = strategy.encode(mp3_path, staged.scratch, on_chunk, should_stop)
        set_length(mp3_path, session_length_frames(timeline, job.sample_rate_hz))
        timeline = _sidecars(job, timeline, staged.paths)
        if should_stop:
            should_stop()  # interrupted while tagging: publish nothing
    return timeline


def copy_session(job: SessionJob, source_mp3: Path, source: Timeline) -> Timeline:
    """Publish ``job`` with the audio of ``source_mp3`` (a session of the same sound key in the same store, whose
    timeline is ``source``): its MP3's audio copied, not encoded; its own title, tags and sidecars."""
    files, store = job.files, job.store
    with store.staging((files.timeline, files.lrc, *files.subtitles, files.mp3)) as staged:
        mp3_path = staged.paths[-1]
        try:
            with store.open(source_mp3) as reader, open(mp3_path, "wb") as writer:
                while block := reader.read(1 << 20):
                    writer.write(block)
        except OSError as error:
            raise OutputError(f"cannot be copied from {source_mp3.name} ({error.strerror or error}); free some "
                              "space or choose another folder with {@output_dir}", file=store.where(files.mp3)
                              ) from None
        # the tag that comes with the copy is replaced whole by the session's own
        timeline = _sidecars(job, dataclasses.replace(source, title=job.plan.title), staged.paths)
    return timeline


def _sidecars(job: SessionJob, timeline: Timeline, paths: tuple[Path, ...]) -> Timeline:
    """Write the timeline, lyrics and subtitles into their staged ``paths`` and tag the MP3 (the last path)."""
    files, store = job.files, job.store
    timeline_path, lrc_path, *subtitle_paths, mp3_path = paths
    timeline = dataclasses.replace(timeline, files=tuple(path.name for path in (files.lrc, *files.subtitles)))
    timeline_json = timeline.to_json()
    write_text(timeline_path, timeline_json, store.where(files.timeline))
    write_text(lrc_path, lrc_text(timeline, job.tags.album), store.where(files.lrc))
    for subtitle_path, subtitle in zip(subtitle_paths, files.subtitles):
        write_text(subtitle_path, subtitle_text(timeline, subtitle.suffix.lstrip(".")), store.where(subtitle))
    write_tags(mp3_path, timeline, job.tags, timeline_json, store.where(files.mp3))
    return timeline
