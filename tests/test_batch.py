"""Batch builds: which sessions a batch makes, and the sessions themselves measured in the decoded MP3s."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from mutagen.mp3 import MP3

from voicecoach._catalog.catalog import build_batch
from voicecoach._catalog.model import BatchOptions
from voicecoach._catalog.specs import SessionSpec, batch_specs
from voicecoach._cli.app import message as shown  # a library error as the command line shows it
from voicecoach._errors import RoutineError
from voicecoach._routine.load import load_routine_file
from voicecoach._routine.settings import parse_matrix, parse_setting
from voicecoach._speech.entry import decode_entry

from .audio_probe import RATE_HZ, decode_mp3, onset_s
from .conftest import LONG, encoders_writing_into, wait_for, write_routine
from .session_checks import check_length

ROUTINE = """\
title: Calf raises
prepare: 2s
exercises:
  - name: Calf raises
    hold: 2s
    reps: 2
    rep_rest: 6s
    countdown: 0
  - name: Toe spread
    hold: 3s
    countdown: 0
variants:
  quick:
    defaults: {rest: 8s}
  gentle:
    time_scale: 1.5
"""
HOLDS = parse_matrix("exercises.calf-raises.hold=1.5s,3s")
RATES = parse_matrix("voice.rate=140,220")
TOLERANCE_S = 0.010


@pytest.fixture(scope="module")
def routine_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("routine")
    return load_routine_file(write_routine(folder, ROUTINE, "calf.yaml"), display_name="calf.yaml")


@pytest.fixture(scope="module")
def matrix_batch(routine_file, tmp_path_factory, cache_dir):
    """A 2x2 matrix, rendered by two worker processes through the real engine and ffmpeg."""
    specs = batch_specs(routine_file, matrix=[HOLDS, RATES])
    output_dir = tmp_path_factory.mktemp("batch-output")
    return build_batch(routine_file, specs, BatchOptions(output_dir=output_dir, jobs=2, cache_dir=cache_dir))


# ---------------------------------------------------------------- which sessions


def test_a_matrix_is_the_cross_product_of_its_values(routine_file):
    specs = batch_specs(routine_file, matrix=[HOLDS, RATES])
    assert [spec.name_parts for spec in specs] == [("hold 1.5s", "rate 140"), ("hold 1.5s", "rate 220"),
                                                   ("hold 3s", "rate 140"), ("hold 3s", "rate 220")]


def test_variants_combine_with_the_matrix(routine_file):
    specs = batch_specs(routine_file, variants=["base", "quick"], matrix=[RATES])
    assert [(spec.variant, spec.overrides) for spec in specs] == [
        (None, {"voice.rate": 140}), (None, {"voice.rate": 220}),
        ("quick", {"voice.rate": 140}), ("quick", {"voice.rate": 220})]


def test_all_variants_means_the_base_and_every_variant(routine_file):
    assert [spec.variant for spec in batch_specs(routine_file, all_variants=True)] == [None, "quick", "gentle"]


def test_settings_apply_to_every_session_before_the_matrix(routine_file):
    specs = batch_specs(routine_file, settings=[parse_setting("prepare=3s")], matrix=[RATES])
    assert [spec.settings[0].path for spec in specs] == ["prepare", "prepare"]
    assert specs[0].name_parts == ("prepare 3s", "rate 140")


def test_a_repeated_variant_is_built_once(routine_file):
    assert batch_specs(routine_file, variants=["quick", "quick"]) == (SessionSpec("quick"),)


def test_the_same_matrix_path_twice_is_refused(routine_file):
    with pytest.raises(RoutineError) as caught:
        batch_specs(routine_file, matrix=[RATES, parse_matrix("voice.rate=160")])
    assert shown(caught.value) == ("calf.yaml: --matrix: voice.rate is given twice; put all its values in one "
                                 "--matrix voice.rate=V1,V2,...")


def test_an_unknown_variant_is_refused_before_anything_is_built(routine_file):
    with pytest.raises(RoutineError) as caught:
        batch_specs(routine_file, variants=["gentel"])
    assert shown(caught.value) == ('calf.yaml: --variant: there is no variant "gentel"; did you mean "gentle"? '
                                 "(variants: quick, gentle)")


# ---------------------------------------------------------------- the sessions, measured


def test_a_2x2_matrix_yields_four_sessions_in_the_routine_folder(matrix_batch):
    assert [session.name for session in matrix_batch.sessions] == [
        "calf-raises--hold-1-5s--rate-140", "calf-raises--hold-1-5s--rate-220",
        "calf-raises--hold-3s--rate-140", "calf-raises--hold-3s--rate-220"]
    assert matrix_batch.failed == ()
    assert matrix_batch.folder.name == "calf-raises"
    names = sorted(path.name for path in matrix_batch.folder.iterdir())
    assert len(names) == 4 * 3 + 2  # no leftover temporary files
    assert "calf-raises.m3u8" in names and "manifest.json" in names


def test_holds_in_the_decoded_mp3s_match_their_overrides(matrix_batch):
    for session, hold_s in zip(matrix_batch.sessions, [1.5, 1.5, 3.0, 3.0]):
        decoded = decode_mp3(session.result.mp3_path)
        timeline = json.loads(session.result.timeline_path.read_text(encoding="utf-8"))
        holds = [event for event in timeline["events"] if event["kind"] == "hold"]
        assert [hold["exercise"] for hold in holds] == ["calf-raises", "calf-raises", "toe-spread"]
        expected = {"calf-raises": hold_s, "toe-spread": 3.0}
        for hold in holds:
            start, stop = onset_s(decoded, hold["start"]), onset_s(decoded, hold["end"])
            assert abs(start - hold["start"]) <= TOLERANCE_S and abs(stop - hold["end"]) <= TOLERANCE_S
            assert abs((stop - start) - expected[hold["exercise"]]) <= TOLERANCE_S, (session.name, hold)
        check_length(decoded, timeline)


def test_the_faster_voice_makes_shorter_speech(matrix_batch):
    def speech_s(session):
        events = json.loads(session.result.timeline_path.read_text(encoding="utf-8"))["events"]
        return sum(event["end"] - event["start"] for event in events if event["kind"] == "speech")
    slow, fast = matrix_batch.sessions[0], matrix_batch.sessions[1]
    assert speech_s(fast) < 0.8 * speech_s(slow)


def test_tags_say_which_session_and_track_it_is(matrix_batch):
    tags = [MP3(session.result.mp3_path).tags for session in matrix_batch.sessions]
    assert [tag["TIT2"].text[0] for tag in tags] == [
        "Calf raises (hold 1.5s, rate 140)", "Calf raises (hold 1.5s, rate 220)",
        "Calf raises (hold 3s, rate 140)", "Calf raises (hold 3s, rate 220)"]
    assert [tag["TRCK"].text[0] for tag in tags] == ["1/4", "2/4", "3/4", "4/4"]
    assert {tag["TALB"].text[0] for tag in tags} == {"Calf raises"}


def test_the_playlist_lists_each_session_with_its_true_duration(matrix_batch):
    lines = matrix_batch.playlist_path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "#EXTM3U"
    entries = list(zip(lines[1::2], lines[2::2]))
    assert len(entries) == 4
    for (info, file_name), session in zip(entries, matrix_batch.sessions):
        decoded_s = len(decode_mp3(matrix_batch.folder / file_name)) / RATE_HZ
        assert info == f"#EXTINF:{round(decoded_s)},{session.title}"
        assert file_name == f"{session.name}.mp3"


def test_the_manifest_lists_names_files_durations_overrides_and_warnings(matrix_batch):
    manifest = json.loads(matrix_batch.manifest_path.read_text(encoding="utf-8"))
    assert manifest["routine"] == "Calf raises" and manifest["playlist"] == "calf-raises.m3u8"
    first = manifest["sessions"][0]
    timeline = json.loads(matrix_batch.sessions[0].result.timeline_path.read_text(encoding="utf-8"))
    assert first == {"track": 1, "name": "calf-raises--hold-1-5s--rate-140",
                     "title": "Calf raises (hold 1.5s, rate 140)", "variant": None,
                     "overrides": {"exercises.calf-raises.hold": "1.5s", "voice.rate": 140}, "status": "ok",
                     "file": "calf-raises--hold-1-5s--rate-140.mp3",
                     "timeline": "calf-raises--hold-1-5s--rate-140.timeline.json",
                     "lyrics": "calf-raises--hold-1-5s--rate-140.lrc",
                     "duration": timeline["duration"], "warnings": timeline["warnings"],
                     "build_key": matrix_batch.sessions[0].build_key}
    assert len(first["build_key"]) == 32


def test_one_failing_session_does_not_stop_the_others(routine_file, tmp_path, cache_dir):
    specs = batch_specs(routine_file, variants=["base", "gentle"],
                        matrix=[parse_matrix("exercises.toe-spread.hold=2s,0.2s")])
    result = build_batch(routine_file, specs, BatchOptions(output_dir=tmp_path, jobs=1, cache_dir=cache_dir))
    assert [session.ok for session in result.sessions] == [True, False, True, False]
    assert shown(result.sessions[1].failure) == (
        "calf.yaml: --matrix exercises.toe-spread.hold: 0.2 s is too short; a hold lasts at least 0.5 s (its start "
        "tone must fit), e.g. 5s")
    assert result.exit_code == 2
    manifest = json.loads(result.manifest_path.read_text(encoding="utf-8"))
    assert [entry["status"] for entry in manifest["sessions"]] == ["ok", "failed", "ok", "failed"]
    assert len(result.playlist_path.read_text(encoding="utf-8").splitlines()) == 1 + 2 * 2
    # Pins a bug: track numbers counted only the sessions that got as far as rendering ("3/2").
    assert MP3(result.sessions[2].result.mp3_path).tags["TRCK"].text == ["3/4"]


def test_two_sessions_that_would_share_a_file_name_do_not_overwrite_each_other(routine_file, tmp_path, cache_dir):
    specs = batch_specs(routine_file, matrix=[parse_matrix("intro=Hi!,Hi?")])
    result = build_batch(routine_file, specs, BatchOptions(output_dir=tmp_path, jobs=1, cache_dir=cache_dir))
    assert [session.name for session in result.sessions] == ["calf-raises--intro-hi"] * 2
    assert result.sessions[0].ok
    assert shown(result.sessions[1].failure) == ("has the same file name as session 1; give the variants or values "
                                        "different names")


# ---------------------------------------------------------------- two batches at once


def _batch_command(routine: Path, output_dir: Path) -> list[str]:
    return [sys.executable, "-m", "voicecoach", "batch", str(routine), "--all-variants",
            "--matrix", "voice.rate=150,190", "-j", "2", "-q", "-o", str(output_dir)]


def test_two_batches_at_once_on_a_cold_cache_agree_with_a_sequential_run(tmp_path):
    # espeak-ng's output varies by a few ms from run to run, so two batches racing to fill one cold
    # cache would disagree unless the cache lets the first writer of each phrase win.
    routine = write_routine(tmp_path, ROUTINE, "calf.yaml")
    env = dict(os.environ, VOICECOACH_CACHE_DIR=str(tmp_path / "cache"))
    racing = [subprocess.Popen(_batch_command(routine, tmp_path / name), env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE) for name in ("first", "second")]
    for process in racing:
        out, err = process.communicate(timeout=240)
        assert process.returncode == 0, err.decode()
    subprocess.run(_batch_command(routine, tmp_path / "after"), env=env, check=True, capture_output=True, timeout=240)
    timelines = {name: {path.name: path.read_bytes()
                        for path in sorted((tmp_path / name / "calf-raises").glob("*.timeline.json"))}
                 for name in ("first", "second", "after")}
    assert len(timelines["first"]) == 6
    assert timelines["first"] == timelines["second"] == timelines["after"]
    manifests = {(tmp_path / name / "calf-raises" / "manifest.json").read_bytes() for name in timelines}
    assert len(manifests) == 1
    entries = list((tmp_path / "cache").rglob("*.clip"))
    assert entries and not list((tmp_path / "cache").rglob("*.part"))
    for entry in entries:
        assert decode_entry(entry.read_bytes()) is not None, entry  # whole: a damaged one raises


def test_ctrl_c_during_a_batch_exits_130_and_leaves_no_partial_file(tmp_path, cache_dir):
    # Ctrl-C in a terminal reaches the whole process group: the parent and both workers (and not
    # ffmpeg, which runs in its own group). Workers ignore it; the parent stops them with SIGTERM,
    # and each removes its temporary files and stops its ffmpeg.
    routine = write_routine(tmp_path, LONG)
    out = tmp_path / "out"
    env = {**os.environ, "VOICECOACH_CACHE_DIR": str(cache_dir)}
    process = subprocess.Popen([sys.executable, "-m", "voicecoach", "batch", str(routine), "-o", str(out), "-q",
                                "--matrix", "voice.rate=150,170", "-j", "2"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                               start_new_session=True)
    folder = out / "long-enough-to-interrupt"
    wait_for(lambda: folder.is_dir() and encoders_writing_into(folder) == 2, process)
    os.killpg(process.pid, signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert stderr == "interrupted; no output file was left half-written\n"
    assert list(folder.iterdir()) == []
    # No ffmpeg is left writing into the folder (it writes through /proc/<pid>/fd/<n>, which its command line
    # does not name: look at what each ffmpeg has open). They may take a moment to go.
    wait_for(lambda: encoders_writing_into(folder) == 0)


def test_lyrics_carry_the_session_title_and_the_routine_as_album(matrix_batch):
    # Pins a bug: the album line repeated the session's title instead of naming the routine.
    lines = matrix_batch.sessions[0].result.lrc_path.read_text(encoding="utf-8").splitlines()
    assert lines[:3] == ["[ti:Calf raises (hold 1.5s, rate 140)]", "[ar:voicecoach]", "[al:Calf raises]"]


def test_an_unchanged_batch_is_up_to_date_and_a_changed_session_alone_is_built_again(tmp_path, cache_dir):

    from mutagen.id3 import ID3

    from voicecoach._publish.tags import BUILD_KEY_TAG, tag_values

    text = ("title: Incremental\nexercises:\n  - {name: Plank, hold: 2s}\n  - {name: Bridge, hold: 2s}\n"
            "variants:\n  quick: {time_scale: 0.5}\n")
    path = write_routine(tmp_path, text, "inc.yaml")
    options = BatchOptions(output_dir=tmp_path / "out", jobs=1, cache_dir=cache_dir)

    def run(force: bool = False):
        routine_file = load_routine_file(path)
        specs = batch_specs(routine_file, all_variants=True)
        return build_batch(routine_file, specs, dataclasses.replace(options, force=force))

    first = run()
    assert first.counts == (2, 0, 0)
    mp3 = first.sessions[0].result.mp3_path
    assert tag_values(ID3(mp3), BUILD_KEY_TAG) == [first.sessions[0].build_key]
    stamps = {s.name: s.result.mp3_path.stat().st_mtime_ns for s in first.sessions}
    entries = sorted(cache_dir.rglob("*.clip"))
    again = run()
    assert again.counts == (0, 2, 0)
    assert {s.name: s.result.mp3_path.stat().st_mtime_ns for s in again.sessions} == stamps  # nothing re-encoded
    assert sorted(cache_dir.rglob("*.clip")) == entries  # nothing synthesized
    manifest = json.loads(again.manifest_path.read_text(encoding="utf-8"))
    assert [s["status"] for s in manifest["sessions"]] == ["up to date", "up to date"]
    # Change only the quick variant: only its session is built again.
    path.write_text(text.replace("time_scale: 0.5", "time_scale: 0.75"), encoding="utf-8")
    changed = run()
    assert [(s.name, s.up_to_date) for s in changed.sessions] == [("incremental", True), ("incremental--quick", False)]
    assert changed.counts == (1, 1, 0)
    assert run().counts == (0, 2, 0)
    assert run(force=True).counts == (2, 0, 0)


def test_a_catalog_builds_every_routine_in_a_folder_with_one_catalog_file(tmp_path, cache_dir):
    from typer.testing import CliRunner

    from voicecoach._cli.app import app

    routines = tmp_path / "routines"
    (routines / "more").mkdir(parents=True)
    write_routine(routines, "title: Knee\nexercises: [{name: Squeeze, hold: 2s}]\n"
                            "variants: {quick: {time_scale: 0.5}}\n", "knee.yaml")
    write_routine(routines / "more", "title: Hip\nexercises: [{name: Squeeze, hold: 2s}, {name: Lift, hold: 2s}]\n"
                                     "variants: {quick: {time_scale: 0.5}}\n", "hip.yaml")
    broken = write_routine(routines, "title: Broken\nexercises: [{name: Squeeze, hold: soon}]\n", "broken.yaml")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["batch", str(routines), "--all-variants", "-o", str(out), "-j", "1",
                                      "--cache-dir", str(cache_dir)])
    assert result.exit_code == 2  # one routine could not be read; the others were built
    assert result.stderr.splitlines()[0] == (f'{broken}:2: exercises[0].hold: "soon" is not a duration; write 5s, '
                                             "1m30s or 90")
    lines = result.stdout.splitlines()
    assert lines[-2:] == [f"catalog  {out / 'catalog.json'}",
                          "4 built, 0 up to date, 0 failed; 1 routine could not be read"]
    catalog = json.loads((out / "catalog.json").read_text(encoding="utf-8"))
    assert [(s["routine"], s["name"], s["status"]) for s in catalog["sessions"]] == [
        ("knee", "knee", "ok"), ("knee", "knee--quick", "ok"), ("hip", "hip", "ok"), ("hip", "hip--quick", "ok")]
    assert [r["manifest"] for r in catalog["routines"]] == ["knee/manifest.json", "hip/manifest.json"]
    for session in catalog["sessions"]:
        assert (out / session["file"]).is_file()
    # The same catalog again: everything is up to date.
    again = CliRunner().invoke(app, ["batch", str(routines / "knee.yaml"), str(routines / "more" / "*.yaml"), "-o",
                                     str(out), "-j", "1", "--all-variants", "--cache-dir", str(cache_dir)])
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines()[-1] == "0 built, 4 up to date, 0 failed"
    # Each routine's header counts what was built apart from what was up to date, and each session says so.
    header = next(line for line in again.stdout.splitlines() if line.startswith("Knee "))
    assert header.endswith("/: 0 built, 2 up to date, 0 failed")
    assert again.stdout.count("  (up to date)") == 4


def test_a_glob_that_matches_nothing_is_one_line(tmp_path):
    from typer.testing import CliRunner

    from voicecoach._cli.app import app

    result = CliRunner().invoke(app, ["batch", str(tmp_path / "*.yaml")])
    assert result.exit_code == 2
    assert result.stderr == f"{tmp_path / '*.yaml'}: matches no routine file; check the pattern\n"
