"""batch --dask: sessions rendered as tasks on a real Dask cluster on loopback (the cluster extra)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from voicecoach.cli import app

from .audio_probe import decode_mp3
from .conftest import write_routine
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
