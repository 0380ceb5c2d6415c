"""A missing espeak-ng or ffmpeg: one line that says what is missing and how to install it, exit code 3."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import write_routine

ROOT = Path(__file__).resolve().parent.parent
SMALL = "title: Tiny\nexercises:\n  - name: Hold\n    hold: 2s\n"


def test_a_missing_ffmpeg_is_reported_before_any_work(tmp_path):
    routine = write_routine(tmp_path, SMALL)
    env = {**os.environ, "VOICECOACH_FFMPEG": "/nowhere/ffmpeg", "VOICECOACH_CACHE_DIR": str(tmp_path / "cache")}
    result = subprocess.run([sys.executable, "-m", "voicecoach", "build", str(routine), "-o", str(tmp_path / "out")],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 3
    assert result.stderr == ("ffmpeg is missing: VOICECOACH_FFMPEG=/nowhere/ffmpeg is not a program; fix or unset "
                             "it, or install it with `sudo apt-get install ffmpeg` (or `pip install imageio-ffmpeg`)\n")
    assert not (tmp_path / "out").exists() and not (tmp_path / "cache").exists()


def test_a_missing_espeak_ng_is_one_line_with_the_install_command(tmp_path):
    # The system library is hidden in a private mount namespace, and the espeakng-loader wheel
    # is shadowed by a module that fails to import, as if neither were installed.
    stub = tmp_path / "stub"
    stub.mkdir()
    (stub / "espeakng_loader.py").write_text('raise ImportError("hidden for this test")\n')
    routine = write_routine(tmp_path, SMALL)
    env = {**os.environ, "PYTHONPATH": str(stub), "VOICECOACH_CACHE_DIR": str(tmp_path / "cache")}
    result = subprocess.run(["sh", str(ROOT / "scripts" / "without-system-parts.sh"), sys.executable, "-m",
                             "voicecoach", "build", str(routine), "-o", str(tmp_path / "out")],
                            capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    if result.returncode == 77:
        pytest.skip("cannot hide the system espeak-ng here (no mount namespace)")
    assert result.returncode == 3, result.stderr
    assert result.stderr == ("espeak-ng is missing; install it with `sudo apt-get install espeak-ng` "
                             "(or `pip install espeakng-loader`)\n")
    assert not (tmp_path / "out").exists()
