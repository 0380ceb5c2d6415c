"""The whole path in one call: routine -> plan -> speech -> layout -> render -> export."""

from __future__ import annotations

import dataclasses
import datetime
import signal
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .export import DEFAULT_BITRATE_KBPS, Tags, check_mp3_format, check_writable, encode_mp3, write_tags
from .lyrics import lrc_text, subtitle_text
from .files import SessionFiles, published_together, write_text
from .layout import LayoutStream, Timeline, Timing, layout_session
from .parts import ffmpeg_path
from .plan import Plan, plan_session
from .loudness import MONO_TARGET_LUFS
from .render import (CHUNK_S, SAMPLE_RATE_HZ, ChunkRenderer, Levels, ms_to_frame, normalized_levels, render_chunks,
                     session_length_frames)
from .routine import Routine
from .speech import Clip, PhraseCache, SpeechService, VoiceSource
from .variants import RoutineFile, Setting, load_routine_file

EXAMPLE_NAME = "feet-for-a-happy-back.yaml"

# on_progress(stage, done, total): stage is "speech" or "encode".
ProgressCallback = Callable[[str, int, int], None]


def example_routine_path() -> Path:
    """The bundled example, shipped inside the package so it works after ``pip install``."""
    return Path(str(resources.files("voicecoach").joinpath("examples", EXAMPLE_NAME)))


def starter_text() -> str:
    """The commented starter routine that ``voicecoach init`` writes."""
    return resources.files("voicecoach").joinpath("templates", "starter.yaml").read_text(encoding="utf-8")


@dataclass(frozen=True)
class RoutineSummary:
    exercises: int
    holds: int
    asked_ms: int
    variants: tuple[str, ...] = ()


def check_routine(path: Path, speech: SpeechService, display_name: str | None = None) -> RoutineSummary:
    """Everything a build checks before synthesizing, for the base and every variant:
    the file, the plan, and that the voice exists. ``display_name`` names the file in errors."""
    routine_file = load_routine_file(path, display_name)
    for variant in (None, *routine_file.variant_names):
        routine = routine_file.session(variant)
        plan = plan_session(routine)
        speech.settings_for(routine.voice, routine.language, voice_source(routine))
        if variant is None:
            summary = RoutineSummary(len(routine.exercises), len(plan.holds), plan.asked_ms,
                                     routine_file.variant_names)
    return summary


@dataclass(frozen=True)
class BuildOptions:
    output_dir: Path = Path("output")
    voice_name: str | None = None
    rate_wpm: int | None = None
    strict: bool = False
    bitrate_kbps: int = DEFAULT_BITRATE_KBPS
    sample_rate_hz: int = SAMPLE_RATE_HZ
    cache_dir: Path | None = None
    subtitle_formats: tuple[str, ...] = ()  # "srt", "vtt": subtitle sidecars on request
    loudness_lufs: float | None = MONO_TARGET_LUFS  # None: no normalization (and encoding starts sooner)


@dataclass(frozen=True)
class BuildResult:
    files: SessionFiles
    timeline: Timeline
    notices: tuple[str, ...] = ()  # about the build rather than the session, e.g. a repaired cache entry

    @property
    def mp3_path(self) -> Path:
        return self.files.mp3

    @property
    def timeline_path(self) -> Path:
        return self.files.timeline

    @property
    def lrc_path(self) -> Path:
        return self.files.lrc

    @property
    def paths(self) -> tuple[Path, ...]:
        return (self.files.mp3, self.files.timeline, self.files.lrc, *self.files.subtitles)

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.notices + self.timeline.warnings


def with_voice(routine: Routine, voice_name: str | None, rate_wpm: int | None) -> Routine:
    """The routine with the command line's voice choices applied over the file's."""
    voice = routine.voice
    if voice_name is not None:
        voice = dataclasses.replace(voice, name=voice_name)
    if rate_wpm is not None:
        voice = dataclasses.replace(voice, rate_wpm=rate_wpm)
    return dataclasses.replace(routine, voice=voice)


def build_session(routine: Routine, options: BuildOptions = BuildOptions(),
                  on_progress: ProgressCallback | None = None, speech: SpeechService | None = None) -> BuildResult:
    """Build ``routine`` into ``options.output_dir``; return where the files went.

    Speech is synthesized here, on the thread that owns the engine, in the order
    it is heard, while a second thread lays the session out, renders it and feeds
    the encoder. Without loudness normalization it goes as far as the phrases
    known so far allow, so on a cold cache the encoder (the one unavoidable cost)
    works while espeak-ng is still speaking; with it, the encode starts once the
    whole session is known and measured. Ctrl-C here abandons the encoder, which
    stops at its next chunk and publishes nothing.
    """
    routine = with_voice(routine, options.voice_name, options.rate_wpm)
    plan = plan_session(routine)
    output_dir = Path(options.output_dir)
    check_mp3_format(options.sample_rate_hz, options.bitrate_kbps)
    speech = speech or SpeechService(PhraseCache(options.cache_dir))
    settings = speech.settings_for(routine.voice, routine.language, voice_source(routine, options))
    ffmpeg_path()  # a missing part is reported before any synthesis, too
    check_writable(output_dir)  # before any synthesis; after every check of the routine
    files = SessionFiles.named(output_dir, plan.slug, options.subtitle_formats)
    clips = _LiveClips()
    outcome: dict[str, object] = {}

    def encode() -> None:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})  # Ctrl-C is the main thread's to handle
        try:
            outcome["timeline"] = _write_while_speaking(
                plan, clips, files, session_tags(plan), options,
                on_chunk=(lambda done, total: on_progress("encode", done, total)) if on_progress else None)
        except BaseException as error:  # handed to the main thread below
            outcome["error"] = error
            clips.abandon()

    encoder = threading.Thread(target=encode, name="voicecoach-encode", daemon=True)
    encoder.start()
    try:
        speech.clips(plan.phrases(), settings, on_clip=clips.put, spoken=plan.spoken,
                     on_progress=(lambda done, total: on_progress("speech", done, total)) if on_progress else None)
        encoder.join()
    except _Abandoned:
        encoder.join()  # the encoder failed; its error is raised below
    except BaseException:
        clips.abandon()  # stops the encoder, which removes what it had begun
        encoder.join()
        raise
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    timeline: Timeline = outcome["timeline"]  # type: ignore[assignment]
    return BuildResult(files, timeline, speech.cache.take_notices())


class _Abandoned(Exception):
    """The other side of a build stopped; this side stops too."""


class _LiveClips(Mapping):
    """The clips of one build as they are synthesized; asking for one not there yet waits for it."""

    def __init__(self) -> None:
        self._clips: dict[str, Clip] = {}
        self._changed = threading.Condition()
        self._abandoned = False

    def put(self, text: str, clip: Clip) -> None:
        with self._changed:
            if self._abandoned:
                raise _Abandoned
            self._clips[text] = clip
            self._changed.notify_all()

    def abandon(self) -> None:
        with self._changed:
            self._abandoned = True
            self._changed.notify_all()

    def check(self) -> None:
        if self._abandoned:
            raise _Abandoned

    def __getitem__(self, text: str) -> Clip:
        with self._changed:
            while text not in self._clips:
                if self._abandoned:
                    raise _Abandoned
                self._changed.wait()
            return self._clips[text]

    def __iter__(self) -> Iterator[str]:
        return iter(dict(self._clips))

    def __len__(self) -> int:
        return len(self._clips)


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


def _write_while_speaking(plan: Plan, clips: _LiveClips, files: SessionFiles, tags: Tags, options: BuildOptions,
                          on_chunk: Callable[[int, int], None] | None) -> Timeline:
    """Lay out, render and encode ``plan`` step by step, as far as the clips known so far allow."""
    rate_hz = options.sample_rate_hz
    if options.loudness_lufs is not None:
        # The gain that brings the session to the norm is measured on the whole session, so here
        # the layout waits for every phrase before the first chunk is encoded.
        timeline = layout_session(plan, _Lengths(clips), Timing(), strict=options.strict)
        job = RenderJob(timeline, clips, files, tags, rate_hz, options.bitrate_kbps, options.loudness_lufs,
                        plan.tone_gain_db)
        write_session(job, on_chunk, should_stop=clips.check)
        return timeline
    stream = LayoutStream(plan, _Lengths(clips), Timing(), strict=options.strict)
    renderer = ChunkRenderer(clips, rate_hz, Levels().with_tones(plan.tone_gain_db))
    finished: list[Timeline] = []

    def chunks() -> Iterator[bytes]:
        for sounds, settled_ms in stream.steps():
            renderer.add(sounds)
            for chunk in renderer.chunks_until(ms_to_frame(settled_ms, rate_hz)):
                clips.check()
                yield chunk
        finished.append(stream.timeline())
        yield from renderer.finish(session_length_frames(finished[0], rate_hz))

    # Until the layout ends the length is an estimate: the rests as asked, plus a guess for the speech.
    estimated_frames = ms_to_frame(plan.asked_ms + 2_500 * len(plan.steps) // 2, rate_hz)
    _write_files(files, tags, rate_hz, options.bitrate_kbps, chunks(), lambda: finished[0],
                 estimated_frames, on_chunk, clips.check)
    return finished[0]


def voice_source(routine: Routine, options: BuildOptions | None = None) -> VoiceSource:
    """Where the routine's voice was chosen (file, line, field, or the flag), for an error about it."""
    if options is not None and options.voice_name is not None:
        return None, None, "--voice"
    path = ("voice", "name") if routine.voice.name else ("language",)
    line, written_as = routine.source.locate(path)
    return routine.source.file, line, written_as


def session_tags(plan: Plan, track: tuple[int, int] | None = None) -> Tags:
    """The ID3 tags: title "Title (quick)", album the routine, track within a batch, this year, the cover."""
    cover = plan.cover.read_bytes() if plan.cover else None
    return Tags(title=plan.title, album=plan.album or plan.title, comment=plan.description, track=track,
                version=plan.version, exercises=plan.exercise_count, cover=cover, year=datetime.date.today().year)


@dataclass(frozen=True)
class RenderJob:
    """A laid-out session and the clips it needs: everything a worker process needs to write it."""

    timeline: Timeline
    clips: dict[str, Clip]
    files: SessionFiles
    tags: Tags
    sample_rate_hz: int = SAMPLE_RATE_HZ
    bitrate_kbps: int = DEFAULT_BITRATE_KBPS
    loudness_lufs: float | None = MONO_TARGET_LUFS
    tone_gain_db: float = 0.0

    def levels(self) -> Levels:
        """The mix's levels: tones as the routine sets them against speech, all moved to the loudness target."""
        levels = Levels().with_tones(self.tone_gain_db)
        if self.loudness_lufs is None:
            return levels
        return normalized_levels(self.timeline, self.clips, self.loudness_lufs, self.sample_rate_hz, levels)


def write_session(job: RenderJob, on_chunk: Callable[[int, int], None] | None = None,
                  should_stop: Callable[[], None] | None = None) -> None:
    """Render, encode and tag ``job``; its files appear all together or not at all.

    ``on_chunk(done, total)`` is called as each chunk of samples reaches the encoder;
    ``should_stop()`` before each chunk and before publishing, and raises to abandon the files.
    """
    chunks = render_chunks(job.timeline, job.clips, job.sample_rate_hz, job.levels())
    _write_files(job.files, job.tags, job.sample_rate_hz, job.bitrate_kbps,
                 _stoppable(chunks, should_stop) if should_stop else chunks, lambda: job.timeline,
                 session_length_frames(job.timeline, job.sample_rate_hz), on_chunk, should_stop)


def _stoppable(chunks: Iterator[bytes], should_stop: Callable[[], None]) -> Iterator[bytes]:
    for chunk in chunks:
        should_stop()
        yield chunk


def _write_files(files: SessionFiles, tags: Tags, sample_rate_hz: int, bitrate_kbps: int, chunks: Iterator[bytes],
                 timeline_of: Callable[[], Timeline], frames: int,
                 on_chunk: Callable[[int, int], None] | None,
                 should_stop: Callable[[], None] | None = None) -> None:
    """Encode ``chunks`` into the MP3, then write the timeline (known once the chunks are) and the lyrics,
    tag the MP3, and publish the three together."""
    chunk_frames = CHUNK_S * sample_rate_hz
    done = [0]

    def chunk_done() -> None:
        done[0] += 1
        if on_chunk:
            on_chunk(done[0], max(done[0], -(-frames // chunk_frames)))

    # Published in order, the MP3 last: a reader that finds the MP3 finds its sidecars.
    with published_together((files.timeline, files.lrc, *files.subtitles, files.mp3)) as pending:
        timeline_file, lrc_file, *subtitle_files, mp3_file = pending
        encode_mp3(chunks, mp3_file.path, sample_rate_hz, bitrate_kbps, on_chunk=chunk_done, target=files.mp3)
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


def build_file(path: Path | None, options: BuildOptions = BuildOptions(),
               on_progress: ProgressCallback | None = None, variant: str | None = None,
               settings: Sequence[Setting] = ()) -> BuildResult:
    """Load and build the routine at ``path`` (the bundled example when None), with a variant and overrides."""
    routine_file = open_routine(path)
    return build_session(routine_file.session(variant, settings), options, on_progress)


def open_routine(path: Path | None) -> RoutineFile:
    """The routine file at ``path``, or the bundled example when None."""
    if path is None:
        return load_routine_file(example_routine_path(), display_name=EXAMPLE_NAME)
    return load_routine_file(path)
