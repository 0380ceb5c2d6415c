"""Faults: however a build or a batch dies, no process of it is left behind."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from voicecoach._speech.entry import decode_entry

from .conftest import LONG, encoders_writing_into, wait_for, write_routine


def _children(pid: int) -> set[int]:
    """The processes whose parent is ``pid``, and theirs, and so on."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


WORDY = ("title: Many words\nintro: Many phrases, so that a pool of engines speaks them.\noutro: That is all.\n"
         "exercises:\n" + "".join(f"  - {{name: Move {n}, cue: Now the move called {n}, hold: 2s}}\n"
                                   for n in ("one", "two", "three", "four", "five", "six")))


def _left_intact(out: Path, cache: Path) -> None:
    """After a kill: nothing published, nothing half-written or hidden, and every cache entry whole."""
    assert [path for path in out.rglob("*") if path.is_file()] == [] if out.exists() else True
    entries = list(cache.rglob("*.clip"))
    for entry in entries:
        decode_entry(entry.read_bytes())  # raises on a torn or damaged entry
    assert not [path for path in cache.rglob("*") if path.is_file() and path.suffix != ".clip"
                and path.parent.name != "music" and path.name != "CACHEDIR.TAG"]


@pytest.mark.parametrize("moment", ["synthesis", "encode"])
def test_a_build_killed_with_sigkill_leaves_no_process_behind(tmp_path, moment):
    routine = write_routine(tmp_path, WORDY if moment == "synthesis" else LONG)
    out, cache = tmp_path / "out", tmp_path / "cache"
    build = subprocess.Popen([sys.executable, "-m", "voicecoach", "build", str(routine), "-q", "-o", str(out),
                              "--cache-dir", str(cache)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if moment == "synthesis":  # the pool's workers are speaking: the first entries are in the cache
        wait_for(lambda: bool(list(cache.rglob("*.clip"))) and len(_children(build.pid)) >= 3, build)
    else:
        wait_for(lambda: out.is_dir() and encoders_writing_into(out) >= 1, build)
    helpers = _children(build.pid)
    assert helpers
    build.kill()
    build.wait(timeout=60)
    wait_for(lambda: not [pid for pid in helpers if _alive(pid)], timeout_s=60)
    _left_intact(out, cache)


@pytest.mark.parametrize("moment", ["synthesis", "encode"])
def test_a_batch_killed_with_sigkill_leaves_no_process_behind(tmp_path, moment):
    routine = write_routine(tmp_path, WORDY if moment == "synthesis" else LONG)
    out, cache = tmp_path / "out", tmp_path / "cache"
    batch = subprocess.Popen([sys.executable, "-m", "voicecoach", "batch", str(routine), "-o", str(out), "-q",
                              "--matrix", "voice.rate=150,170", "-j", "2", "--cache-dir", str(cache)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if moment == "synthesis":
        wait_for(lambda: bool(list(cache.rglob("*.clip"))) and len(_children(batch.pid)) >= 3, batch)
    else:
        folder = out / "long-enough-to-interrupt"
        wait_for(lambda: folder.is_dir() and encoders_writing_into(folder) == 2, batch)
    helpers = _children(batch.pid)
    batch.send_signal(signal.SIGKILL)
    batch.wait(timeout=60)
    wait_for(lambda: not [pid for pid in helpers if _alive(pid)], timeout_s=60)
    wait_for(lambda: encoders_writing_into(out) == 0 and all(encoders_writing_into(sub) == 0
                                                             for sub in out.glob("*")) if out.exists() else True)
    _left_intact(out, cache)
