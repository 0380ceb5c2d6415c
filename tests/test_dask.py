"""batch --dask: sessions rendered as tasks on a real Dask cluster on loopback (the cluster extra)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from voicecoach.cli import app

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
def cluster():
    """`dask scheduler` and two `dask worker` processes on 127.0.0.1, as a cluster would run them."""
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
        assert build.poll() is None, build.communicate()
        assert time.monotonic() < deadline, "no session started encoding"
        time.sleep(0.05)
    victim = workers[0]
    os.kill(victim.pid, signal.SIGKILL)
    stdout, stderr = build.communicate(timeout=600)
    assert build.returncode == 0, stderr
    assert stdout.splitlines()[-1] == "4 built, 0 up to date, 0 failed"
    leftovers = [p for p in out.rglob("*") if p.is_file() and not p.name.endswith((".mp3", ".json", ".lrc", ".m3u8"))]
    assert leftovers == []
