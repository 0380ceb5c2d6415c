"""voicecoach watch: a saved routine is rebuilt within seconds; Ctrl-C stops with nothing half-written."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from mutagen import MutagenError
from mutagen.mp3 import MP3

from .conftest import wait_for, write_routine


def mp3_s(path) -> float:
    """The MP3's length as a player reads it (0 until it is there)."""
    try:
        return MP3(path).info.length
    except (OSError, MutagenError):
        return 0.0


ROUTINE = "title: Watch me\nexercises:\n  - {name: Plank, hold: 5s}\n"


def test_a_save_rebuilds_a_bad_save_keeps_the_last_good_mp3_and_ctrl_c_exits_130(tmp_path, cache_dir):
    path = write_routine(tmp_path, ROUTINE)
    out = tmp_path / "out"
    timeline = out / "watch-me.timeline.json"
    env = {**os.environ, "VOICECOACH_CACHE_DIR": str(cache_dir)}
    errors = tmp_path / "stderr.txt"
    with open(errors, "w") as stderr_file:
        process = subprocess.Popen([sys.executable, "-m", "voicecoach", "watch", str(path), "-o", str(out)],
                                   stdout=subprocess.PIPE, stderr=stderr_file, text=True, env=env)
    try:
        wait_for(lambda: timeline.exists(), process, timeout_s=60)

        def hold_s() -> float | None:
            try:
                hold = next(e for e in json.loads(timeline.read_text())["events"] if e["kind"] == "hold")
            except (OSError, ValueError, StopIteration):
                return None
            return round(hold["end"] - hold["start"], 3)

        assert hold_s() == 5.0
        mp3 = out / "watch-me.mp3"
        wait_for(lambda: mp3_s(mp3) > 0, process, timeout_s=30)
        first_s = mp3_s(mp3)

        path.write_text(ROUTINE.replace("hold: 5s", "hold: 8s"), encoding="utf-8")
        # The MP3 is published right after its timeline (the sidecars first): wait for both, the MP3 by its
        # length (3 s longer than the first build's).
        wait_for(lambda: hold_s() == 8.0 and mp3_s(mp3) >= first_s + 2.9, process, timeout_s=120)
        mp3_before = mp3.read_bytes()
        path.write_text(ROUTINE.replace("hold: 5s", "hold: fast"), encoding="utf-8")  # a mistake: reported, kept
        wait_for(lambda: "is not a duration" in errors.read_text(), process, timeout_s=120)
        assert mp3.read_bytes() == mp3_before
        assert process.poll() is None
    finally:
        process.send_signal(signal.SIGINT)
        stdout, _ = process.communicate(timeout=60)
    stderr = errors.read_text()
    assert process.returncode == 130
    lines = stdout.splitlines()
    assert len(lines) == 2 and all(" built Watch me (" in line for line in lines)
    assert lines[1].endswith("watch-me.mp3") and "(0:" in lines[1]
    assert f'{path}:3: exercises[0].hold: "fast" is not a duration; write 5s, 1m30s or 90' in stderr
    assert stderr.splitlines()[-1] == "stopped; the last good build is in place, and nothing was left half-written"
    assert sorted(p.name for p in out.iterdir()) == ["watch-me.lrc", "watch-me.mp3", "watch-me.timeline.json"]


def test_watching_a_missing_file_is_one_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "voicecoach", "watch", str(tmp_path / "nothing.yaml")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr == (f"{tmp_path / 'nothing.yaml'}: no such file; check the path, or run `voicecoach init` "
                             "to write a starter routine\n")
