"""batch --dask: sessions rendered as tasks on a real Dask cluster on loopback (the cluster extra)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from voicecoach._cli.app import app

from .audio_probe import decode_mp3
from .conftest import encoders_writing_into, write_routine
from .session_checks import check_timing

ROUTINE = ("title: Cluster\nexercises:\n  - {name: Plank, hold: 2s, reps: 2, rep_rest: 7s}\n"
           "variants:\n  quick: {time_scale: 0.5}\n")


def test_without_the_extra_dask_is_one_line_and_exit_3(tmp_path):
    # `distributed` made unimportable, as on a machine without the cluster extra.
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "distributed.py").write_text("raise ImportError('not installed')\n")
    routine = write_routine(tmp_path, ROUTINE)
    result = subprocess.run([sys.executable, "-m", "voicecoach", "batch", str(routine), "--dask", "local:1", "-q",
                             "-o", str(tmp_path / "out")], capture_output=True, text=True,
                            env={"PYTHONPATH": str(shadow), "PATH": "/usr/bin:/bin"}, timeout=120)
    assert result.returncode == 3
    assert result.stderr == "--dask needs the cluster extra; install it with `pip install 'voicecoach[cluster]'`\n"


if os.environ.get("CI"):  # CI installs the cluster extra (.ci/run): there a missing one fails loudly
    import distributed
else:
    distributed = pytest.importorskip("distributed", reason="the cluster extra is not installed")


def test_a_local_cluster_builds_every_session_exactly(tmp_path, cache_dir):
    routine = write_routine(tmp_path, ROUTINE)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["batch", str(routine), "--all-variants", "--dask", "local:2", "-o", str(out),
                                      "--cache-dir", str(cache_dir)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "2 built, 0 up to date, 0 failed"
    manifest = json.loads((out / "cluster" / "manifest.json").read_text(encoding="utf-8"))
    for session in manifest["sessions"]:
        timeline = json.loads((out / "cluster" / session["timeline"]).read_text(encoding="utf-8"))
        hold_ms = round((timeline["events"][[e["kind"] for e in timeline["events"]].index("hold")]["end"]
                         - timeline["events"][[e["kind"] for e in timeline["events"]].index("hold")]["start"]) * 1000)
        check_timing(decode_mp3(out / "cluster" / session["file"]), timeline, {"plank": hold_ms})


def test_an_unreachable_scheduler_is_one_line(tmp_path):
    routine = write_routine(tmp_path, ROUTINE)
    result = CliRunner().invoke(app, ["batch", str(routine), "--dask", "tcp://127.0.0.1:9", "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr == ("--dask: cannot reach the Dask scheduler at tcp://127.0.0.1:9 (OSError); start one with "
                             "`dask scheduler`, or use --dask local\n")


# ---------------------------------------------------------------- a real scheduler and workers on loopback


def _start(command: list[str]) -> subprocess.Popen:
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.fixture(scope="module")
def cluster(s3_endpoint):
    """`dask scheduler` and two `dask worker` processes on 127.0.0.1, as a cluster would run them (their
    environment says how to reach the S3 endpoint, as a real cluster's would)."""
    import shutil
    import time

    dask_cli = shutil.which("dask", path=str(Path(sys.executable).parent)) or "dask"
    scheduler = _start([dask_cli, "scheduler", "--host", "127.0.0.1", "--port", "0", "--dashboard-address", ":0"])
    address = None
    deadline = time.monotonic() + 60
    while address is None and time.monotonic() < deadline:
        line = scheduler.stdout.readline()
        if "Scheduler at:" in line:
            address = line.split("Scheduler at:")[1].strip()
    assert address, "the scheduler did not start"
    workers = [_start([dask_cli, "worker", address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard",
                       "--no-nanny", "--name", f"w{number}"]) for number in range(2)]
    client = distributed.Client(address, timeout="30s")
    client.wait_for_workers(2, timeout=60)
    client.close()
    yield address, workers
    for process in [*workers, scheduler]:
        process.terminate()
    for process in [*workers, scheduler]:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def test_a_catalog_on_a_scheduler_with_two_workers(cluster, tmp_path, cache_dir):
    address, _ = cluster
    routines = tmp_path / "routines"
    routines.mkdir()
    for name in ("knee", "hip", "ankle"):
        write_routine(routines, ROUTINE.replace("title: Cluster", f"title: {name.title()}"), f"{name}.yaml")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["batch", str(routines), "--all-variants", "--dask", address, "-o", str(out),
                                      "--cache-dir", str(cache_dir)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "6 built, 0 up to date, 0 failed"
    catalog = json.loads((out / "catalog.json").read_text(encoding="utf-8"))
    for session in catalog["sessions"]:
        mp3 = out / session["file"]
        timeline = json.loads(mp3.with_name(mp3.name[:-4] + ".timeline.json").read_text(encoding="utf-8"))
        hold = next(e for e in timeline["events"] if e["kind"] == "hold")
        check_timing(decode_mp3(mp3), timeline, {"plank": round((hold["end"] - hold["start"]) * 1000)})


def _catalog(folder: Path, hold: str = "2s") -> Path:
    folder.mkdir(exist_ok=True)
    for name in ("knee", "hip", "ankle"):
        text = ROUTINE.replace("title: Cluster", f"title: {name.title()}").replace("hold: 2s", f"hold: {hold}")
        write_routine(folder, text, f"{name}.yaml")
    return folder


def test_a_catalog_with_its_cache_and_outputs_on_s3(cluster, tmp_path):
    import s3fs

    address, _ = cluster
    routines = _catalog(tmp_path / "routines")
    build = ["batch", str(routines), "--all-variants", "--dask", address, "-o", "s3://voicecoach/studio",
             "--cache-dir", "s3://voicecoach/speech"]
    result = CliRunner().invoke(app, build)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-2:] == ["catalog  s3://voicecoach/studio/catalog.json",
                                               "6 built, 0 up to date, 0 failed"]
    fs = s3fs.S3FileSystem()
    catalog = json.loads(fs.cat_file("voicecoach/studio/catalog.json"))
    assert sorted(session["file"] for session in catalog["sessions"]) == [
        "ankle/ankle--quick.mp3", "ankle/ankle.mp3", "hip/hip--quick.mp3", "hip/hip.mp3", "knee/knee--quick.mp3",
        "knee/knee.mp3"]
    for session in catalog["sessions"]:  # read back from the store and measured
        mp3 = tmp_path / "back" / session["file"]
        mp3.parent.mkdir(parents=True, exist_ok=True)
        fs.get_file(f"voicecoach/studio/{session['file']}", str(mp3))
        timeline = json.loads(fs.cat_file(f"voicecoach/studio/{session['file'][:-4]}.timeline.json"))
        hold = next(e for e in timeline["events"] if e["kind"] == "hold")
        check_timing(decode_mp3(mp3), timeline, {"plank": round((hold["end"] - hold["start"]) * 1000)})
    objects = {path: info["ETag"] for path, info in fs.find("voicecoach/studio", detail=True).items()
               if path.endswith(".mp3")}
    entries = fs.find("voicecoach/speech")
    assert entries and all(path.endswith(".clip") for path in entries)

    # Unchanged: nothing synthesized or encoded again.
    again = CliRunner().invoke(app, build)
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines()[-1] == "0 built, 6 up to date, 0 failed"
    fs.invalidate_cache()
    assert fs.find("voicecoach/speech") == entries
    assert {path: info["ETag"] for path, info in fs.find("voicecoach/studio", detail=True).items()
            if path.endswith(".mp3")} == objects

    # One routine's hold changed: only its two sessions are built again.
    _catalog(routines)
    write_routine(routines, ROUTINE.replace("title: Cluster", "title: Knee").replace("hold: 2s", "hold: 3s"),
                  "knee.yaml")
    changed = CliRunner().invoke(app, build)
    assert changed.exit_code == 0, changed.output
    assert changed.stdout.splitlines()[-1] == "2 built, 4 up to date, 0 failed"
    fs.invalidate_cache()
    now = {path: info["ETag"] for path, info in fs.find("voicecoach/studio", detail=True).items()
           if path.endswith(".mp3")}
    assert sorted(path for path in now if now[path] != objects[path]) == [
        "voicecoach/studio/knee/knee--quick.mp3", "voicecoach/studio/knee/knee.mp3"]


def test_a_program_on_the_cluster_with_its_outputs_on_s3_encodes_each_distinct_day_once(cluster, tmp_path):
    import s3fs

    address, _ = cluster
    routine = write_routine(tmp_path, ROUTINE.replace("title: Cluster", "title: Plank weeks") + """\
program:
  weeks: 2
  days: [tue, thu]
  progression:
    exercises.plank.hold: [2s, 3s]
""", "plank.yaml")
    result = CliRunner().invoke(app, ["batch", str(routine), "--program", "--variant", "base", "--variant", "quick",
                                      "--dask", address, "-o", "s3://voicecoach/programs",
                                      "--cache-dir", "s3://voicecoach/speech"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "8 built, 0 up to date, 0 failed"
    fs = s3fs.S3FileSystem()
    manifest = json.loads(fs.cat_file("voicecoach/programs/plank-weeks/manifest.json"))
    assert [(entry["title"], entry["variant"], entry.get("audio_from")) for entry in manifest["sessions"]] == [
        ("Week 1 · Day 1", None, None), ("Week 1 · Day 2", None, "plank-weeks--week-1--day-1"),
        ("Week 2 · Day 1", None, None), ("Week 2 · Day 2", None, "plank-weeks--week-2--day-1"),
        ("Week 1 · Day 1", "quick", None), ("Week 1 · Day 2", "quick", "plank-weeks--quick--week-1--day-1"),
        ("Week 2 · Day 1", "quick", None), ("Week 2 · Day 2", "quick", "plank-weeks--quick--week-2--day-1")]
    for entry in manifest["sessions"]:  # each read back from the store and measured: the copies too
        mp3 = tmp_path / "back" / entry["file"]
        mp3.parent.mkdir(parents=True, exist_ok=True)
        fs.get_file(f"voicecoach/programs/plank-weeks/{entry['file']}", str(mp3))
        timeline = json.loads(fs.cat_file(f"voicecoach/programs/plank-weeks/{entry['timeline']}"))
        assert timeline["title"] == entry["title"]
        hold_s = {"2s": 2.0, "3s": 3.0}[entry["program"]["values"]["exercises.plank.hold"]]
        check_timing(decode_mp3(mp3), timeline, {"plank": round(hold_s * (0.5 if entry["variant"] else 1) * 1000)})


def test_a_bucket_that_does_not_exist_is_one_line(cluster, tmp_path):
    address, _ = cluster
    routine = write_routine(tmp_path, ROUTINE)
    result = CliRunner().invoke(app, ["batch", str(routine), "--dask", address, "-o", "s3://no-such-bucket/out"])
    assert result.exit_code == 2
    assert result.stderr == ("s3://no-such-bucket/out: the bucket no-such-bucket does not exist; create it (for S3: "
                             "aws s3 mb s3://no-such-bucket), or choose another with -o DIR\n")


def test_a_worker_killed_mid_catalog_does_not_stop_it(cluster, tmp_path, cache_dir):
    import signal
    import time

    address, workers = cluster
    long = ROUTINE.replace("hold: 2s, reps: 2", "hold: 15m, reps: 2")  # about 30 minutes: seconds to encode
    routines = tmp_path / "routines"
    routines.mkdir()
    for name in ("one", "two"):
        write_routine(routines, long.replace("title: Cluster", f"title: {name.title()}"), f"{name}.yaml")
    out = tmp_path / "out"
    build = subprocess.Popen([sys.executable, "-m", "voicecoach", "batch", str(routines), "--all-variants", "--dask",
                              address, "-o", str(out), "-q", "--cache-dir", str(cache_dir)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Kill a worker while it encodes (an ffmpeg of its writing an unnamed file into the output).
    deadline = time.monotonic() + 300
    while not any(encoders_writing_into(folder) for folder in (out / "one", out / "two")):
        assert build.poll() is None, build.communicate(timeout=60)
        assert time.monotonic() < deadline, "no session started encoding"
        time.sleep(0.05)
    victim = workers[0]
    os.kill(victim.pid, signal.SIGKILL)
    stdout, stderr = build.communicate(timeout=600)
    assert build.returncode == 0, stderr
    assert stdout.splitlines()[-1] == "4 built, 0 up to date, 0 failed"
    leftovers = [p for p in out.rglob("*") if p.is_file() and not p.name.endswith((".mp3", ".json", ".lrc", ".m3u8"))]
    assert leftovers == []


def test_ctrl_c_cancels_the_cluster_and_leaves_no_partial_file(tmp_path, cache_dir):
    import signal
    import time

    from .conftest import LONG

    routine = write_routine(tmp_path, LONG)
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "voicecoach", "batch", str(routine), "-o", str(out), "-q",
                                "--matrix", "voice.rate=150,170", "--dask", "local:2", "--cache-dir", str(cache_dir)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    folder = out / "long-enough-to-interrupt"
    deadline = time.monotonic() + 300
    while not (folder.is_dir() and encoders_writing_into(folder)):
        assert process.poll() is None, process.communicate(timeout=60)
        assert time.monotonic() < deadline, "no session started encoding"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C in a terminal: the client and the cluster's processes
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    dashboard, *rest = stderr.splitlines()
    assert dashboard.startswith("Dask dashboard: http://127.0.0.1:")
    assert rest == ["interrupted; no output file was left half-written"]
    while encoders_writing_into(folder):  # an encoder whose worker was stopped ends with its unnamed file
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert list(folder.iterdir()) == []
