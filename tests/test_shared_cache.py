"""Two builds at once on one speech cache: both succeed and agree on every phrase."""

from __future__ import annotations

import os
import subprocess
import sys

from .conftest import write_routine

ROUTINE = """\
title: Shared cache
intro: Two builds are speaking these words at the same moment.
exercises:
  - name: Squeeze
    instructions: Squeeze and hold it.
    reps: 3
    hold: 3s
    rep_rest: 6s
  - name: Reach
    sides: true
    hold: 4s
    side_rest: 8s
"""


def test_two_builds_at_once_on_a_cold_cache(tmp_path):
    routine = write_routine(tmp_path, ROUTINE)
    env = {**os.environ, "VOICECOACH_CACHE_DIR": str(tmp_path / "cache")}
    builds = [subprocess.Popen([sys.executable, "-m", "voicecoach", "build", str(routine), "-o", str(tmp_path / name),
                                "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
              for name in ("a", "b")]
    for build in builds:
        stdout, stderr = build.communicate(timeout=120)
        assert build.returncode == 0, stderr
    timelines = [(tmp_path / name / "shared-cache.timeline.json").read_bytes() for name in ("a", "b")]
    assert timelines[0] == timelines[1]  # the same clip for every phrase, whoever synthesized it
    later = subprocess.run([sys.executable, "-m", "voicecoach", "build", str(routine), "-o", str(tmp_path / "c"),
                            "-q"], capture_output=True, text=True, env=env, timeout=300)
    assert later.returncode == 0
    assert (tmp_path / "c" / "shared-cache.timeline.json").read_bytes() == timelines[0]
    assert not [path for path in (tmp_path / "cache").rglob("*") if path.name.endswith(".part")]
