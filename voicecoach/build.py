"""The whole path in one call: routine -> plan -> speech -> layout -> render -> export."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .export import (DEFAULT_BITRATE_KBPS, Tags, check_writable, discard, encode_mp3, lrc_text, publish,
                     write_tags, write_text)
from .files import temporary_path
from .layout import Timeline, Timing, layout_session
from .plan import Plan, plan_session
from .render import SAMPLE_RATE_HZ, CHUNK_S, render_chunks, session_length_frames
from .routine import Routine, load_routine
from .speech import PhraseCache, SpeechService, VoiceSource

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


def check_routine(path: Path, speech: SpeechService) -> RoutineSummary:
    """Everything a build checks before synthesizing: the file, the plan, and that the voice exists."""
    routine = load_routine(path)
    plan = plan_session(routine)
    speech.settings_for(routine.voice, routine.language, voice_source(routine))
    return RoutineSummary(len(routine.exercises), len(plan.holds), plan.asked_ms)


@dataclass(frozen=True)
class BuildOptions:
    output_dir: Path = Path("output")
    voice_name: str | None = None
    rate_wpm: int | None = None
    strict: bool = False
    bitrate_kbps: int = DEFAULT_BITRATE_KBPS
    sample_rate_hz: int = SAMPLE_RATE_HZ
    cache_dir: Path | None = None


@dataclass(frozen=True)
class BuildResult:
    mp3_path: Path
    timeline_path: Path
    lrc_path: Path
    timeline: Timeline

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.timeline.warnings


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
    """Build ``routine`` into ``options.output_dir``; return where the files went."""
    routine = with_voice(routine, options.voice_name, options.rate_wpm)
    plan = plan_session(routine)
    output_dir = Path(options.output_dir)
    check_writable(output_dir)
    speech = speech or SpeechService(PhraseCache(options.cache_dir))
    settings = speech.settings_for(routine.voice, routine.language,
                                   (None, None, "--voice") if options.voice_name is not None
                                   else voice_source(routine))
    clips = speech.clips(plan.phrases(), settings,
                         on_progress=(lambda done, total: on_progress("speech", done, total)) if on_progress else None)
    timeline = layout_session(plan, {text: clip.length_ms for text, clip in clips.items()}, Timing(),
                              strict=options.strict)
    return _write_files(plan, timeline, clips, output_dir, options, on_progress)


def voice_source(routine: Routine) -> VoiceSource:
    """Where the routine's voice was written (file, line, field), for an error about it."""
    path = ("voice", "name") if routine.voice.name else ("language",)
    return routine.source.file, routine.source.line_of(path), "voice.name" if routine.voice.name else "language"


def _write_files(plan: Plan, timeline: Timeline, clips, output_dir: Path, options: BuildOptions,
                 on_progress: ProgressCallback | None) -> BuildResult:
    mp3_path = output_dir / f"{plan.slug}.mp3"
    timeline_path = output_dir / f"{plan.slug}.timeline.json"
    lrc_path = output_dir / f"{plan.slug}.lrc"
    frames = session_length_frames(timeline, options.sample_rate_hz)
    chunks_total = max(1, -(-frames // (CHUNK_S * options.sample_rate_hz)))
    done = [0]

    def chunk_done() -> None:
        done[0] += 1
        if on_progress:
            on_progress("encode", done[0], chunks_total)

    # Every temporary name is known before anything is written, so whatever is
    # interrupted, the except below removes all of them.
    partials = {path: temporary_path(path) for path in (timeline_path, lrc_path, mp3_path)}
    try:
        write_text(partials[timeline_path], timeline.to_json())
        write_text(partials[lrc_path], lrc_text(timeline, plan.title))
        encode_mp3(render_chunks(timeline, clips, options.sample_rate_hz), partials[mp3_path],
                   options.sample_rate_hz, options.bitrate_kbps, on_chunk=chunk_done, target=mp3_path)
        write_tags(partials[mp3_path], timeline, Tags(title=plan.title, album=plan.title, comment=plan.description))
        publish(partials)
    except BaseException:
        discard(partials.values())
        raise
    return BuildResult(mp3_path, timeline_path, lrc_path, timeline)


def build_file(path: Path | None, options: BuildOptions = BuildOptions(),
               on_progress: ProgressCallback | None = None) -> BuildResult:
    """Load and build the routine at ``path`` (the bundled example when None)."""
    if path is None:
        routine = load_routine(example_routine_path(), display_name=EXAMPLE_NAME)
    else:
        routine = load_routine(path)
    return build_session(routine, options, on_progress)
