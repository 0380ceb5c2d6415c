"""The ``voicecoach`` command: each command declares its options, calls one library function, and prints.

A ``VoicecoachError`` is turned into its one line and exit code once, for every command, by ``_Commands``
(Ctrl-C too: exit 130); nothing here catches one.
"""

from __future__ import annotations

import datetime
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from .. import __version__
from .._audio.encode import DEFAULT_BITRATE_KBPS
from .._audio.mix import SAMPLE_RATE_HZ
from .._errors import OutputError, RoutineError, VoicecoachError
from .._pipeline.build import BuildOptions, BuildResult, build_file, check_routines
from .._program.load import EXAMPLE_PROGRAM
from .._routine.durations import format_clock
from .._routine.examples import bundled_example, example_routine_path, open_routine, starter_text
from .._routine.schema import program_schema_text, schema_text, with_modeline
from .._routine.settings import parse_matrix
from .._speech.cache import PhraseCache
from .._speech.voices import installed_voices
from .._stores.atomic import write_new_file
from .options import (
    BitrateOption,
    CacheDirOption,
    EngineOption,
    FolderArgument,
    ForceWriteOption,
    LoudnessOption,
    MusicOption,
    NoMusicOption,
    OutputOption,
    ProgramOption,
    QuietOption,
    RateOption,
    RoutineArgument,
    SampleRateOption,
    SetOption,
    StrictOption,
    SubtitlesOption,
    TimeScaleOption,
    VariantOption,
    VoiceOption,
)
from .parsing import loudness_target, overrides, subtitle_formats
from .show import counted, described, format_bytes, message, plain, progress_display

if TYPE_CHECKING:
    from .._catalog.model import CatalogResult

INTERRUPTED = "interrupted; no output file was left half-written"


class _Commands(TyperGroup):
    """Every command runs inside ``invoke``: the one place a library error becomes one line and an exit code."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except VoicecoachError as error:
            typer.echo(message(error), err=True)
            raise typer.Exit(error.exit_code) from None
        except KeyboardInterrupt:
            typer.echo(INTERRUPTED, err=True)
            raise typer.Exit(130) from None


app = typer.Typer(
    name="voicecoach",
    cls=_Commands,
    help="Turn a routine written in YAML into a narrated MP3 with exact timing.\n\n"
         "Start with `voicecoach build` (builds the bundled example into ./output), "
         "then `voicecoach init my-routine.yaml` to write your own.",
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


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
    routine: RoutineArgument = None,
    output_dir: OutputOption = "output",
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

      voicecoach build knee.yaml -o s3://my-bucket/sessions   # into a shared store
    """
    options = BuildOptions(output_dir=output_dir, voice_name=voice, rate_wpm=rate, strict=strict,
                           bitrate_kbps=bitrate, sample_rate_hz=sample_rate, cache_dir=cache_dir,
                           subtitle_formats=subtitle_formats(subtitles), loudness_lufs=loudness_target(loudness))
    settings = overrides(set_, time_scale, engine, music, no_music)
    with progress_display(22, quiet) as progress:
        tasks: dict[str, int] = {}

        def on_progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                label = {"music": "Measuring the music", "speech": "Synthesizing speech",
                         "encode": "Rendering and encoding"}[stage]
                tasks[stage] = progress.add_task(label, total=total)
            progress.update(tasks[stage], completed=done, total=total)

        result = build_file(routine, options, on_progress, variant, settings)
    _show_built(result)


def _show_built(result: BuildResult) -> None:
    for warning in result.warnings:
        typer.echo(f"warning: {plain(warning)}", err=True)
    typer.echo(f"Built {described(result.timeline)}")
    for location in result.locations:
        typer.echo(f"  {location}")


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
    output_dir: OutputOption = "output",
    bitrate: BitrateOption = DEFAULT_BITRATE_KBPS,
    sample_rate: SampleRateOption = SAMPLE_RATE_HZ,
    subtitles: SubtitlesOption = None,
    loudness: LoudnessOption = "-19",
    strict: StrictOption = False,
    quiet: QuietOption = False,
    cache_dir: CacheDirOption = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Build every session again, even those whose files are up to date.")] = False,
    dask: Annotated[str | None, typer.Option(
        "--dask", metavar="ADDRESS", show_default=False,
        help="Synthesize, render and encode on a Dask cluster: a scheduler's tcp://HOST:8786, or local:N for N "
             "worker processes here (pip install 'voicecoach\\[cluster]'). The output folder and the cache must be "
             "ones the workers see: a shared folder, or s3://BUCKET/PREFIX.")] = None,
    program: ProgramOption = False,
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

      voicecoach batch --program run-walk        (the bundled example program: 8 weeks, 3 days each)

      voicecoach batch knee.yaml --program --variant gentle
    """
    from .._catalog.catalog import build_catalog_of  # not loaded by `build`
    from .._catalog.model import BatchOptions

    options = BatchOptions(output_dir=output_dir, cache_dir=cache_dir, strict=strict, bitrate_kbps=bitrate,
                           sample_rate_hz=sample_rate, jobs=jobs, subtitle_formats=subtitle_formats(subtitles),
                           loudness_lufs=loudness_target(loudness), force=force, dask=dask)
    settings = overrides(set_, time_scale, engine, music, no_music)
    points = [parse_matrix(text) for text in matrix or ()]
    with progress_display(40, quiet) as progress:
        speech_task = progress.add_task("Synthesizing speech", total=None)
        sessions_task = progress.add_task("Sessions", total=None)
        encoding: dict[str, int] = {}
        encoded: set[str] = set()

        def on_progress(stage: str, done: int, total: int, name: str | None = None) -> None:
            if stage == "speech":
                progress.update(speech_task, completed=done, total=total)
            elif stage == "sessions":
                progress.update(sessions_task, completed=done, total=total)
            elif stage == "dask":
                typer.echo(f"Dask dashboard: {name}", err=True)
            elif name is not None and name not in encoded:
                if name not in encoding:
                    encoding[name] = progress.add_task(f"  {name[:38]}", total=total)
                progress.update(encoding[name], completed=done, total=total)
                if done >= total:
                    progress.remove_task(encoding.pop(name))
                    encoded.add(name)

        paths: list[Path | None] = list(routines) if routines else [None]
        if program:
            from .._program.build import build_programs

            catalog = build_programs(paths, options, variant or (), all_variants, settings, points, on_progress)
        else:
            catalog = build_catalog_of(paths, options, variant or (), all_variants, settings, points, on_progress)
    _show_catalog(catalog)
    if catalog.exit_code:
        raise typer.Exit(catalog.exit_code)


def _show_catalog(catalog: CatalogResult) -> None:
    for broken in catalog.broken:
        typer.echo(message(broken), err=True)
    for notice in catalog.notices:
        typer.echo(f"warning: {plain(notice)}", err=True)
    for result in catalog.batches:
        built = [(session, session.result) for session in result.sessions if session.result is not None]
        for session, built_result in built:
            if session.shared_from:
                continue  # its audio's warnings were shown with the session it is a copy of
            warnings = built_result.warnings
            for warning in warnings[:2]:
                typer.echo(f"warning: {session.name}: {plain(warning)}", err=True)
            if len(warnings) > 2:
                typer.echo(f"warning: {session.name}: and {len(warnings) - 2} more; all are in "
                           f"{result.where(result.manifest_in_store)}", err=True)
        current = sum(1 for session, _ in built if session.up_to_date)
        shared = f" ({result.shared} of them copies of an identical session's audio)" if result.shared else ""
        typer.echo(f"{plain(result.title)} into {result.where(result.folder_in_store)}/: "
                   f"{len(built) - current} built{shared}, {current} up to date, "
                   f"{len(result.sessions) - len(built)} failed")
        for session, built_result in built:
            note = "  (up to date)" if session.up_to_date else \
                f"  (audio of {session.shared_from})" if session.shared_from else ""
            typer.echo(f"  {session.track:>3}  {format_clock(built_result.timeline.duration_ms):>8}  "
                       f"{built_result.files.mp3.name}{note}")
        if result.playlist_in_store:
            typer.echo(f"  playlist  {result.where(result.playlist_in_store)}")
        typer.echo(f"  manifest  {result.where(result.manifest_in_store)}")
    if catalog.where:
        typer.echo(f"catalog  {catalog.where}")
    built_now, current, failed_now = catalog.counts
    unread = len(catalog.broken)
    typer.echo(f"{built_now} built, {current} up to date, {failed_now} failed"
               + (f"; {unread} routine{'s' if unread != 1 else ''} could not be read" if unread else ""))
    for session in catalog.failed:
        typer.echo(f"failed: {session.name}: {message(session.failure) if session.failure else ''}", err=True)
    if failed_now:
        typer.echo(f"{failed_now} of {len(catalog.sessions)} sessions failed", err=True)


@app.command()
def script(
    routine: RoutineArgument = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON data.")] = False,
    variant: VariantOption = None,
    set_: SetOption = None,
    time_scale: TimeScaleOption = None,
    engine: EngineOption = None,
    music: MusicOption = None,
    no_music: NoMusicOption = False,
    program: Annotated[bool, typer.Option(
        "--program", help="Print the routine's program instead: a row per day with the values that change.")
    ] = False,
) -> None:
    """Print what will be said and when, in which language and by which voice, without synthesizing anything.

    A line whose words the lexicon (or the language) says differently shows
    what is spoken: `say "Kegel squeeze"   \\[spoken: "KAY-gull squeeze"]`.

    Examples:

      voicecoach script knee.yaml --variant gentle | less

      voicecoach script knee.yaml --set language=de --engine piper

      voicecoach script --program run-walk
    """
    if program:
        from .._program.build import open_programs
        from .._program.table import program_table

        if routine is not None and routine.is_dir():
            raise RoutineError("is a folder; give one routine with a program, or a program file, to show its program",
                               file=str(routine))
        settings = overrides(set_, time_scale, engine, music, no_music)
        programs = open_programs([routine], [variant] if variant else (), settings=settings)
        if len(programs) != 1:
            raise RoutineError(f"names {len(programs)} programs; give one file to show its program",
                               file=str(routine))
        ((routine_file, plan, specs),) = programs
        table = program_table(routine_file.base.title, plan, specs)
        sys.stdout.write("".join(plain(line) + "\n" for line in table.splitlines()))
        return
    from .._api import script as narrated

    said = narrated(open_routine(routine).session(variant, overrides(set_, time_scale, engine, music, no_music)))
    sys.stdout.write(said.to_json() if as_json else "\n".join(map(plain, said.text.split("\n"))))


@app.command()
def validate(
    routines: Annotated[list[Path], typer.Argument(help="One or more routine files (or program files).",
                                                   show_default=False)],
    cache_dir: CacheDirOption = None,
) -> None:
    """Check routine files, including that their voice exists; print one line per file, or one per mistake
    (up to 20 a file).

    Example: voicecoach validate routines/*.yaml
    """
    failed = 0
    for path, summary in check_routines(routines, cache_dir):
        if isinstance(summary, VoicecoachError):
            for mistake in (summary, *summary.more):  # every mistake found in the file, each on its line
                typer.echo(message(mistake), err=True)
            failed += 1
            continue
        variants = f", variants: {', '.join(summary.variants)}" if summary.variants else ""
        program = f", a program of {counted(summary.program[0], 'session')} ({summary.program[1]} distinct)" \
            if summary.program else ""
        typer.echo(f"{plain(str(path))}: ok, {counted(summary.exercises, 'exercise')}, "
                   f"{counted(summary.holds, 'hold')}, at least {format_clock(summary.asked_ms)}{variants}{program}")
    if failed:
        raise typer.Exit(2)


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
    engines = installed_voices(language)
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
    force: ForceWriteOption = False,
) -> None:
    """Write a commented starter routine to edit.

    Example: voicecoach init knee.yaml && voicecoach build knee.yaml
    """
    write_new_file(path, with_modeline(starter_text()), force=force)
    typer.echo(f"Wrote {path}. Edit it, then run: voicecoach build {path}")


@app.command()
def example(
    path: Annotated[Path | None, typer.Argument(help="Copy the bundled example routine here.",
                                                show_default=False)] = None,
    force: ForceWriteOption = False,
    program: Annotated[bool, typer.Option(
        "--program", help="The bundled example program instead (run-walk: 8 weeks, 3 days each).")] = False,
) -> None:
    """Print the bundled example routine, or copy it to PATH to start from.

    Examples:

      voicecoach example feet.yaml

      voicecoach example --program run-walk.yaml
    """
    source = bundled_example(Path(EXAMPLE_PROGRAM)) if program else example_routine_path()
    assert source is not None
    text = source.read_text(encoding="utf-8")
    if path is None:
        sys.stdout.write(text)
        return
    write_new_file(path, with_modeline(text), force=force)
    typer.echo(f"Wrote {path}")


@app.command()
def watch(
    routine: Annotated[Path, typer.Argument(help="The routine file (YAML) to rebuild on every save.",
                                            show_default=False)],
    output_dir: OutputOption = "output",
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
    from .._pipeline.build import watch_routine

    options = BuildOptions(output_dir=output_dir, voice_name=voice, rate_wpm=rate, cache_dir=cache_dir,
                           loudness_lufs=loudness_target(loudness))
    settings = overrides(set_, time_scale, engine, music, no_music)
    if not routine.is_file():
        open_routine(routine)  # the one line that says why

    def report(result: BuildResult | VoicecoachError) -> None:
        now = datetime.datetime.now().strftime("%H:%M:%S")
        if isinstance(result, VoicecoachError):
            typer.echo(f"{now} {message(result)}", err=True)
            return
        typer.echo(f"{now} built {described(result.timeline)}: {result.where(result.files.mp3)}")
        for warning in result.warnings:
            typer.echo(f"{now} warning: {plain(warning)}", err=True)

    typer.echo(f"Watching {routine}; Ctrl-C stops.", err=True)
    try:
        watch_routine(routine, options, report, variant, settings)
    except KeyboardInterrupt:  # how a watch ends, not an error
        typer.echo("stopped; the last good build is in place, and nothing was left half-written", err=True)
        raise typer.Exit(130) from None


@app.command("import")
def import_(
    article: Annotated[Path, typer.Argument(help="The article or handout: .txt, .md or .html.", show_default=False)],
    output: Annotated[Path | None, typer.Option("-o", "--output", show_default=False,
                                                help="Write the routine here instead of printing it.")] = None,
    force: ForceWriteOption = False,
) -> None:
    """Make a draft routine from an exercise article or handout, offline.

    Each exercise is a numbered or bulleted heading ("1. Calf raises", "## Calf
    raises", "- Calf raises:", "- Bridge: Lie on your back...") or a table row,
    with its numbers in the text: "hold for 5 seconds", "repeat 10 times", "3
    sets", "3x10", "each leg", "then change legs", "rest for 15 seconds".
    Background prose is left out, and "2 times a day" is not a rep count. A
    value the article does not give is assumed, with a comment on its line;
    sentences that only give values are not kept as instructions.

    The last line sums the draft up: how long it lasts at least, and what looks
    implausible (a session over 30 minutes, a hold over 2 minutes, more than 5
    sets), each with the sentence it came from.

    Example: voicecoach import handout.txt -o knee.yaml && voicecoach script knee.yaml
    """
    from .._routine.article import import_article

    imported = import_article(article)
    if output is None:
        sys.stdout.write(imported.text)
    else:
        write_new_file(output, with_modeline(imported.text), force=force)
    typer.echo(f"Imported {counted(imported.exercises, 'exercise')} from {article}: {imported.found} values from the "
               f"text, {imported.assumed} assumed (each says so on its line); check them, then run: voicecoach build "
               f"{output if output is not None else 'ROUTINE.yaml'}", err=True)
    typer.echo(plain(imported.summary), err=True)  # it quotes the article, which may hold control characters


@app.command()
def schema(
    output: Annotated[Path | None, typer.Option("-o", "--output", show_default=False,
                                                help="Write the schema to this file instead of printing it.")] = None,
    program: Annotated[bool, typer.Option(
        "--program", help="The schema of program files (a program that names its routine) instead.")] = False,
) -> None:
    """Print the JSON Schema of routine files, for editors: completion, hover help and red squiggles.

    Files from `voicecoach init` and `voicecoach example PATH` already point to it on
    their first line (`# yaml-language-server: $schema=...`); add that line to your own.

    Example: voicecoach schema -o routine.schema.json
    """
    text = program_schema_text() if program else schema_text()
    if output is None:
        sys.stdout.write(text)
        return
    write_new_file(output, text, force=True)
    typer.echo(f"Wrote {output}")


@app.command()
def feed(
    folder: FolderArgument = "output",
    base_url: Annotated[str, typer.Option("--base-url", show_default=False,
                                          help="The web address the folder is served at. Default: the address "
                                               "`voicecoach serve` prints (this machine, port 8000).")] = "",
) -> None:
    """Write feed.xml, a podcast feed of the sessions in FOLDER, with chapters and covers.

    Serve FOLDER at the address (`voicecoach serve FOLDER` serves it where the feed says by default), then
    subscribe to BASE_URL/feed.xml in a podcast app. FOLDER may be a shared store (s3://BUCKET/PREFIX) that a
    web server serves; give its address with --base-url.

    Example: voicecoach feed output --base-url http://192.168.1.20:8000/
    """
    from .._publish.feed import FEED_NAME, write_feed
    from .._publish.serve import DEFAULT_PORT, lan_address

    if not base_url:
        base_url = f"http://{lan_address()}:{DEFAULT_PORT}/"
        typer.echo(f"for {base_url} (where `voicecoach serve {folder}` serves it; --base-url gives another)",
                   err=True)
    result = write_feed(folder, base_url)
    for warning in result.warnings:
        typer.echo(f"warning: {warning} (left out of the feed)", err=True)
    typer.echo(f"Wrote {result.path} with {counted(len(result.sessions), 'session')}; "
               f"subscribe to {base_url.rstrip('/')}/{FEED_NAME}")


@app.command()
def serve(
    folder: FolderArgument = "output",
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
    served (the MP3s and their sidecars, playlists, manifests, the feed). Read-only; Ctrl-C stops it. FOLDER is
    a folder on this machine.

    Example: voicecoach serve output --port 8000
    """
    import segno

    from .._publish.serve import lan_address, make_server, new_token

    if token is not None and no_token:
        raise OutputError("give either --token or --no-token, not both", field="--no-token")
    access = None if no_token else (token or new_token())
    host = host or lan_address()
    server = make_server(folder, host, port, token=access, quiet=quiet, log=lambda line: typer.echo(line, err=True))
    address = f"http://{host}:{server.server_address[1]}/" + (f"?token={access}" if access else "")
    if access is None:
        typer.echo("warning: no access token: anyone on this network can open the page and every session",
                   err=True)
    typer.echo(f"Serving {folder} at {address}  (open it on a phone on the same network; Ctrl-C stops)")
    if not quiet:
        segno.make(address, error="m").terminal(compact=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:  # how serving ends, not an error
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
    info = PhraseCache(cache_dir).info()
    typer.echo(f"Speech cache: {info.root}")
    typer.echo(f"  {counted(info.entries, 'phrase')} in {counted(info.voices, 'voice')} (voice, rate and volume), "
               f"{format_bytes(info.size_bytes)}")
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
    cleared = PhraseCache(cache_dir).clear()
    typer.echo(f"Removed {counted(cleared.entries, 'phrase')} ({format_bytes(cleared.size_bytes)}) from {cleared.root}")


def main() -> None:
    """The console script: like ``app()``, but a usage mistake is one line too, with exit code 2."""
    try:
        code = app(prog_name="voicecoach", standalone_mode=False)
    except typer.TyperException as error:
        if type(error).__name__ != "NoArgsIsHelpError":  # that one has printed the help already
            context = getattr(error, "ctx", None)
            command = context.command_path if context is not None else "voicecoach"
            text = error.format_message() if hasattr(error, "format_message") else str(error)
            typer.echo(f"{command}: {text} (see `{command} --help`)", err=True)
        sys.exit(getattr(error, "exit_code", 2))
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(1)
    sys.exit(code or 0)
