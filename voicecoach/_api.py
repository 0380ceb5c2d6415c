"""The library's front door: the functions ``import voicecoach`` offers, each a thin call into the stages."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._audio.gain import normalized_levels
from ._audio.layout import Timing, first_sound_ms, layout_session
from ._audio.mix import CHUNK_S, SAMPLE_RATE_HZ, ChunkRenderer, Levels, session_length_frames
from ._audio.music_bed import MusicBed
from ._audio.music_schedule import schedule_music
from ._audio.music_tracks import measure_tracks, music_lengths_ms
from ._audio.timeline import Timeline
from ._catalog.catalog import build_catalog_of
from ._catalog.model import BatchOptions, CatalogProgress, CatalogResult
from ._loudness import MONO_TARGET_LUFS, LoudnessMeter, normalizing_gain_db
from ._pipeline.build import (
    BuildOptions,
    BuildResult,
    ProgressCallback,
    build_session,
    clips_for,
    voice_source,
    voices_for,
)
from ._pipeline.strategies import Lengths
from ._plan.planner import plan_session
from ._plan.script import format_script
from ._plan.steps import Plan
from ._routine.examples import open_routine
from ._routine.load import load_routine_text
from ._routine.model import Routine
from ._routine.settings import Setting, parse_matrix, parse_setting
from ._speech.cache import PhraseCache
from ._speech.engines.base import Clip, SpeechSettings
from ._speech.service import SpeechService
from ._speech.voices import describe_voice
from ._stores import Store

Settings = Mapping[str, Any] | Sequence[str]  # {"voice.rate": 140} or ["voice.rate=140"], as `--set` does
Location = str | Path | Store  # a folder, a URL (s3://bucket/prefix) or a store


def _settings(settings: Settings) -> tuple[Setting, ...]:
    if isinstance(settings, Mapping):
        return tuple(Setting(path, value, value if isinstance(value, str) else json.dumps(value))
                     for path, value in settings.items())
    return tuple(parse_setting(text) for text in settings)


def load_routine(path: str | Path | None = None, *, variant: str | None = None, settings: Settings = ()) -> Routine:
    """The routine in the file at ``path`` (None: the bundled example), with ``variant`` and then each of
    ``settings`` over it. The file and every variant in it are checked, and the files it names (cover, music,
    voice file) are found beside it. ``settings`` are ``--set`` overrides: ``{"exercises.plank.hold": "40s"}``
    (values as Python values; a string is read as written) or ``["exercises.plank.hold=40s"]`` (YAML values).
    Raises ``RoutineError`` (file, line, field, what is wrong) for a routine that cannot be used."""
    return open_routine(Path(path) if path is not None else None).session(variant, _settings(settings))


def parse_routine(text: str, *, source: str | None = None) -> Routine:
    """The routine written in ``text`` (YAML), as ``load_routine`` reads a file; the files it names are found in
    the current folder. ``source`` names it in errors (default ``<routine>``)."""
    return load_routine_text(text, source or "<routine>").base


@dataclass(frozen=True)
class Script:
    """The narrated plan: every line that will be said, when, in which language and by which voice."""

    plan: Plan
    voice: SpeechSettings

    @property
    def text(self) -> str:
        """The script as ``voicecoach script`` prints it."""
        return format_script(self.plan, describe_voice(self.voice))

    def to_dict(self) -> dict:
        return {**self.plan.to_dict(), "speech": {"engine": self.voice.engine,
                                                  "engine_version": self.voice.engine_version,
                                                  "voice": self.voice.voice_id}}

    def to_json(self) -> str:
        """The script as ``voicecoach script --json`` prints it."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"


def script(routine: Routine) -> Script:
    """What ``routine`` will say and when, and who says it; nothing is synthesized. Raises ``RoutineError`` for a
    voice the engine does not have, ``MissingPartError`` for an engine that is not installed."""
    speech = SpeechService(PhraseCache())
    return Script(plan_session(routine), speech.settings_for(routine.voice, routine.language, voice_source(routine)))


def build(routine: Routine | str | Path, output: Location = "output", *,
          on_progress: ProgressCallback | None = None, **options: Any) -> BuildResult:
    """Build ``routine`` (or the routine file at that path) into ``output``: NAME.mp3, NAME.timeline.json and
    NAME.lrc (and subtitles on request), all published together, or none.

    ``output`` is a folder, a URL (``s3://bucket/prefix``, the cluster extra) or a store. ``options`` are the
    command line's, with its defaults: ``voice_name``, ``rate_wpm``, ``strict`` (False), ``bitrate_kbps`` (64),
    ``sample_rate_hz`` (22050), ``cache_dir`` (the user cache folder), ``subtitle_formats`` (none; ``("srt",
    "vtt")`` for both), ``loudness_lufs`` (-19; None leaves the levels), ``encoders`` (every core).
    ``on_progress(stage, done, total)`` hears of "music", "speech" and "encode".
    Raises a ``VoicecoachError``: ``RoutineError``, ``LayoutError``, ``OutputError``, ``MissingPartError``...
    """
    if not isinstance(routine, Routine):
        routine = load_routine(routine)
    return build_session(routine, BuildOptions(output_dir=output, **options), on_progress)


def build_catalog(routines: Sequence[str | Path] | str | Path | None = None, output: Location = "output", *,
                  variants: Sequence[str] = (), all_variants: bool = False, settings: Settings = (),
                  matrix: Mapping[str, Sequence[Any]] | Sequence[str] = (), workers: int | None = None,
                  dask: str | None = None, force: bool = False, program: bool = False,
                  on_progress: CatalogProgress | None = None, **options: Any) -> CatalogResult:
    """Build every session of many routines at once: each routine into ``output/<routine-name>/`` with a
    playlist and a manifest, and ``catalog.json`` at the top for more than one routine.

    ``routines``: files, folders (every ``*.yaml`` below) or globs (None: the bundled example). Each routine's
    sessions are each of ``variants`` (``"base"`` is the routine itself; ``all_variants``: the base and every
    variant) times every point of ``matrix`` (``{"voice.rate": [140, 180]}`` or ``["voice.rate=140,180"]``),
    with ``settings`` over all. ``workers``: sessions rendered at once (every core); ``dask``: a scheduler's
    ``tcp://HOST:8786`` or ``local:N`` (the cluster extra); ``force``: build sessions that are up to date too.
    ``options`` are ``build``'s. Each distinct phrase of a voice is synthesized once for the whole catalog.

    ``program``: build each routine's program instead (a routine with a ``program:`` section, or a program file
    that names its routine; None: the bundled ``run-walk``): one session a day, titled "Week 2 · Day 3", in
    program order, the variants and matrix over the whole program. Every day is checked first, and laid out with
    its real speech: a day that fails is raised (naming its week, day and field) and nothing is built. Identical
    days are encoded once (``SessionOutcome.shared_from``).

    Failures are data, not exceptions: a session that fails is a ``SessionOutcome`` with its ``failure``, a
    routine that cannot be read is in ``CatalogResult.broken``, and ``CatalogResult.exit_code`` is what the
    command line exits with. With one routine, a routine that cannot be read is raised.
    """
    paths: list[Path | None] = [None] if routines is None else \
        [Path(routines)] if isinstance(routines, (str, Path)) else [Path(path) for path in routines]
    points = [tuple(Setting(path, value, value if isinstance(value, str) else json.dumps(value)) for value in values)
              for path, values in matrix.items()] if isinstance(matrix, Mapping) else \
        [parse_matrix(text) for text in matrix]
    batch_options = BatchOptions(output_dir=output, jobs=workers, dask=dask, force=force, **options)
    if program:
        from ._program.build import build_programs

        return build_programs(paths, batch_options, variants, all_variants, _settings(settings), points, on_progress)
    return build_catalog_of(paths, batch_options, variants, all_variants, _settings(settings), points, on_progress)


@dataclass(frozen=True)
class Chunk:
    """A block of a session's samples: mono 16-bit PCM as numpy ``int16``, from ``start_frame`` on."""

    samples: np.ndarray
    sample_rate_hz: int
    start_frame: int


@dataclass(frozen=True)
class Session:
    """A session laid out and its speech synthesized, in memory: its ``timeline``, and ``chunks()`` of samples
    to play live or hand to an encoder of one's own. No file is written."""

    timeline: Timeline
    sample_rate_hz: int
    _clips: Mapping[str, Clip] = field(repr=False)
    _levels: Levels = field(repr=False)
    _music: tuple[Any, Any, float, float] | None = field(default=None, repr=False)  # (music, tracks, voice, gain)

    @property
    def duration_s(self) -> float:
        return self.timeline.duration_ms / 1000

    def chunks(self, chunk_s: float = CHUNK_S) -> Iterator[Chunk]:
        """The session's samples, ``chunk_s`` seconds at a time, exactly ``duration × rate`` of them in all."""
        frames = max(1, int(chunk_s * self.sample_rate_hz))
        total = session_length_frames(self.timeline, self.sample_rate_hz)
        gain = 1.0
        streams = []
        if self._music is not None:
            music, tracks, voice_lufs, gain_db = self._music
            streams = [MusicBed(self.timeline, music, tracks, voice_lufs, self.sample_rate_hz)]
            gain = 10 ** (gain_db / 20)
        mixer = ChunkRenderer(self._clips, self.sample_rate_hz, self._levels, chunk_frames=frames, streams=streams)
        mixer.add(self.timeline.sounds)
        start = 0
        try:
            for samples in mixer.mixed_until(total):
                pcm = np.clip(np.rint(samples * gain), -32768, 32767).astype(np.int16)
                yield Chunk(pcm, self.sample_rate_hz, start)
                start += len(pcm)
        finally:
            for stream in streams:
                stream.close()


def render(routine: Routine, *, cache_dir: Location | None = None, sample_rate_hz: int = SAMPLE_RATE_HZ,
           loudness_lufs: float | None = MONO_TARGET_LUFS, strict: bool = False) -> Session:
    """``routine`` as a ``Session`` in memory: speech synthesized (or taken from the cache at ``cache_dir``),
    every sound laid out on its timeline, levels brought to ``loudness_lufs`` (None: as they are). The samples
    are those a build encodes, at the target itself (a build aims 0.45 dB higher, for what LAME takes away)."""
    plan = plan_session(routine)
    speech = SpeechService(PhraseCache(cache_dir))
    clips = clips_for(speech, plan, voices_for(speech, routine, plan))
    timeline = layout_session(plan, Lengths(clips), Timing(), strict=strict)
    levels = Levels().with_tones(plan.tone_gain_db)
    if plan.music is None:
        if loudness_lufs is not None:
            levels = normalized_levels(timeline, clips, loudness_lufs, sample_rate_hz, levels)
        return Session(timeline, sample_rate_hz, clips, levels)
    from ._audio.gain import measure_loudness

    tracks = measure_tracks(plan.music, sample_rate_hz, speech.cache.store, plan.source)
    timeline = timeline.with_music(schedule_music(timeline, plan.music, music_lengths_ms(tracks, sample_rate_hz),
                                                     start_ms=first_sound_ms(plan)))
    voice_lufs = measure_loudness(timeline, clips, sample_rate_hz, levels).integrated_lufs
    session = Session(timeline, sample_rate_hz, clips, levels, (plan.music, tracks, voice_lufs, 0.0))
    if loudness_lufs is None:
        return session
    meter = LoudnessMeter(sample_rate_hz)  # the music plays under the voice: the mix is measured as a whole
    for chunk in session.chunks():
        meter.add(chunk.samples / 32768)
    gain_db = normalizing_gain_db(meter.result(), loudness_lufs)
    return Session(timeline, sample_rate_hz, clips, levels, (plan.music, tracks, voice_lufs, gain_db))
