"""Building programs: every day of every program checked first, then built as one catalog.

A program is all or nothing: each day's routine is checked as a routine is
(``expand``), and then, with the real speech (synthesized into the cache, where
the build finds it), each distinct day is laid out; the first day that fails
stops the build with one line naming its week, day and field, and nothing is
written. Then the days are built through the one catalog path: each distinct
day encoded once, identical days copied (``catalog.build_catalog``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .._audio.layout import layout_session
from .._catalog.catalog import build_catalog
from .._catalog.model import (
    BatchOptions,
    CatalogProgress,
    CatalogResult,
    Speaker,
    phrases_by_speaker,
    speech_groups,
    unused,
)
from .._catalog.specs import SessionSpec, batch_specs, find_routines
from .._errors import RoutineError, VoicecoachError
from .._pipeline.build import voices_for, with_voice
from .._plan.planner import plan_session
from .._plan.steps import Plan
from .._routine.load import RoutineFile, is_program_file
from .._routine.read import read_routine_source
from .._routine.settings import Setting
from .._speech.cache import PhraseCache
from .._speech.service import SpeechService
from .expand import day_error, program_specs
from .load import open_program
from .model import Program

ProgramBatch = tuple[RoutineFile, Program, tuple[SessionSpec, ...]]


def open_programs(paths: Sequence[Path | None], variants: Sequence[str] = (), all_variants: bool = False,
                  settings: Sequence[Setting] = (), matrix: Sequence[Sequence[Setting]] = ()) -> list[ProgramBatch]:
    """The programs ``paths`` name (None: the bundled example), each with every day's session for each variant and
    point of the matrix, all checked as routines (the first that fails is raised)."""
    found = []
    for path in _program_paths(paths):
        routine_file, program = open_program(path)
        bases = batch_specs(routine_file, variants, all_variants, settings, matrix)
        found.append((routine_file, program, program_specs(routine_file, program, bases)))
    return found


def _program_paths(paths: Sequence[Path | None]) -> list[Path | None]:
    """The files ``paths`` name, as ``batch`` finds routines: a file named is taken as it is (one without a program
    is refused), and of a folder or a glob only the files that hold a program (a ``program:`` section, or a
    program file), so that a folder with a program file and the routine it names builds the program once."""
    named = [path for path in paths if path is not None]
    if not named:
        return [None]
    chosen: list[Path | None] = []
    for path in named:
        found = find_routines([path])
        if found == [path] and not path.is_dir():
            chosen.append(path)
            continue
        programs = [item for item in found if _holds_a_program(item)]
        if not programs:
            raise RoutineError("holds no program (a routine with a `program:` section, or a program file); add one, "
                               "or build its routines without --program", file=str(path))
        chosen += programs
    return list(dict.fromkeys(chosen))


def _holds_a_program(path: Path) -> bool:
    try:
        data, _ = read_routine_source(path)
    except VoicecoachError:
        return True  # its error is for open_program to say
    return is_program_file(data) or isinstance(data, dict) and data.get("program") is not None


def check_layouts(batch: ProgramBatch, options: BatchOptions, speech: SpeechService,
                  on_progress: CatalogProgress = unused) -> None:
    """Lay out each distinct day of the program with its real speech (synthesized into the cache): the first that
    cannot be laid out (a cue longer than its hold) is raised, naming its week, day and field."""
    routine_file, program, specs = batch
    days: dict[tuple, tuple[SessionSpec, Plan, dict[Speaker, tuple[str, ...]]]] = {}
    for spec in specs:
        identity = (spec.variant, spec.made, spec.settings)
        if identity in days:
            continue
        try:
            routine = with_voice(spec.routine(routine_file), options.voice_name, options.rate_wpm)
            plan = plan_session(routine)
            voices = voices_for(speech, routine, plan, options)
        except VoicecoachError as error:
            raise day_error(program, routine_file, spec, error) from None
        days[identity] = (spec, plan, speech_groups(plan, voices, voices[routine.language]))
    wanted = phrases_by_speaker(groups for _, _, groups in days.values())
    total = sum(len(texts) for texts in wanted.values())
    lengths: dict[Speaker, dict[str, int]] = {}
    before = 0
    for voice, texts in wanted.items():
        def progress(done: int, _total: int, start: int = before) -> None:
            on_progress("speech", start + done, total, None)
        clips = speech.clips(tuple(texts), voice[0], on_progress=progress, spoken=voice[1].apply)
        lengths[voice] = {text: clip.length_ms for text, clip in clips.items()}
        before += len(texts)
    for spec, plan, groups in days.values():
        said = {text: lengths[voice][text] for voice, group_texts in groups.items() for text in group_texts}
        try:
            layout_session(plan, said, strict=options.strict)
        except VoicecoachError as error:
            raise day_error(program, routine_file, spec, error) from None


def build_programs(paths: Sequence[Path | None], options: BatchOptions = BatchOptions(),
                   variants: Sequence[str] = (), all_variants: bool = False, settings: Sequence[Setting] = (),
                   matrix: Sequence[Sequence[Setting]] = (), on_progress: CatalogProgress | None = None
                   ) -> CatalogResult:
    """Build every day of the programs ``paths`` name, after checking them all: one session per day, titled by its
    week and day, in program order (tracks, playlist, manifest), each distinct day encoded once."""
    report = on_progress or unused
    batches = open_programs(paths, variants, all_variants, settings, matrix)
    speech = SpeechService(PhraseCache(options.cache_dir))
    for batch in batches:
        check_layouts(batch, options, speech, report)
    return build_catalog([(routine_file, specs) for routine_file, _, specs in batches], options, on_progress,
                         speech)
