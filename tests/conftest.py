from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from voicecoach._pipeline.build import BuildOptions, BuildResult, build_file
from voicecoach._speech.cache import PhraseCache
from voicecoach._speech.service import SpeechService

from .audio_probe import decode_mp3

# A test run started in the background by a shell without job control inherits Ctrl-C ignored, and so would
# every build the tests start and then interrupt. The tests' own processes get it back: a handler is reset to
# the default when a child starts a new program, an ignored signal is not.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    """One speech cache for the whole run, empty at its start (so the first build is cold)."""
    return tmp_path_factory.mktemp("speech-cache")


@pytest.fixture(scope="session")
def speech(cache_dir) -> SpeechService:
    """The real engine (espeak-ng through pyttsx3), one per test process as espeak requires."""
    return SpeechService(PhraseCache(cache_dir))


@pytest.fixture(scope="session")
def example_build(tmp_path_factory, cache_dir):
    """The bundled example, built once through the real engine and the real ffmpeg."""
    output_dir = tmp_path_factory.mktemp("example-output")
    return build_file(None, BuildOptions(output_dir=output_dir, cache_dir=cache_dir))


# A routine whose encode takes long enough to interrupt: a 4 hour hold. Silence encodes fast (20
# minutes took 1.3 s, and a faster CI machine finished it before the test saw its encoder); 4 hours
# take about 9 s here. The tests interrupt it, so the length costs nothing when they pass.
LONG = """\
title: Long enough to interrupt
exercises:
  - name: Stand
    hold: 4h
    countdown: 0
    announce: []
"""


def wait_for(condition, process=None, timeout_s: float = 120) -> None:
    """Poll until ``condition()`` holds; fail if ``process`` (when given) ends first, or time runs out (a bound
    for a hang, far above what the event takes)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert process is None or process.poll() is None, process.communicate(timeout=60)
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def encoders_writing_into(folder: Path) -> int:
    """How many ffmpeg processes are writing an unnamed (not yet published) file in ``folder``."""
    count = 0
    for process in Path("/proc").iterdir():
        if not process.name.isdigit():
            continue
        try:
            if (process / "comm").read_text().strip() != "ffmpeg":
                continue
            if any(os.readlink(fd).startswith(f"{folder}/#") for fd in (process / "fd").iterdir()):
                count += 1
        except OSError:
            continue
    return count


def writes_unnamed_file_into(pid: int, folder: Path) -> bool:
    """Whether process ``pid`` has an unnamed (not yet published) file open in ``folder``."""
    try:
        return any(os.readlink(fd).startswith(f"{folder}/#") for fd in Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False


@contextlib.contextmanager
def tiny_file_system(folder: Path, options: str) -> Iterator[Path]:
    """A 64 kB tmpfs mounted at ``folder`` (``options`` e.g. "ro") for the test; skipped where it cannot be."""
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a file system")
    folder.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"{options},size=64k".lstrip(","), "tmpfs", str(folder)]
                      , timeout=300).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], timeout=300)


def build_and_decode(routine: Path, output_dir: Path, cache_dir: Path) -> tuple[BuildResult, dict, np.ndarray]:
    """``routine`` built through the real engine and ffmpeg: the result, its timeline file's data and the MP3
    decoded again."""
    result = build_file(routine, BuildOptions(output_dir=output_dir, cache_dir=cache_dir))
    return result, json.loads(result.timeline_path.read_text(encoding="utf-8")), decode_mp3(result.mp3_path)


def write_routine(folder: Path, text: str, name: str = "routine.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture()
def fake_speech() -> Iterator[type]:
    """Every build in this test speaks through the fake engine (exact lengths, milliseconds of work), registered
    in the default engine's place as a plug-in would be."""
    from voicecoach import register_engine

    from .fake_engine import FakeEngine

    previous = register_engine("pyttsx3", FakeEngine)
    try:
        yield FakeEngine
    finally:
        register_engine("pyttsx3", previous)


def entry_path(cache: PhraseCache, settings, text: str) -> Path:
    """Where a speech cache in a folder keeps the entry of ``text``."""
    path = cache.store.local(cache.relative_for(settings, text))
    assert path is not None, "the cache is not a folder"
    return path


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[dict[str, str]]:
    """A real S3 endpoint on loopback: `moto_server` (moto[server], in the cluster extra's tests), with the bucket
    ``voicecoach`` made. Yields the environment a client or a worker needs to reach it."""
    import shutil
    import socket
    import sys

    # CI installs the cluster and test extras (.ci/run): there a missing part fails loudly instead of skipping.
    if not os.environ.get("CI"):
        pytest.importorskip("s3fs", reason="the cluster extra is not installed")
    server = shutil.which("moto_server", path=str(Path(sys.executable).parent))
    if server is None and not os.environ.get("CI"):
        pytest.skip("moto[server] is not installed")
    assert server is not None, "moto_server (moto[server], the test extra) is not installed"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([server, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"}
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            assert process.poll() is None and time.monotonic() < deadline, "moto_server did not start"
            time.sleep(0.1)
        import s3fs

        s3fs.S3FileSystem.clear_instance_cache()
        s3fs.S3FileSystem().mkdir("voicecoach")
        yield env
    finally:
        process.terminate()
        process.wait(timeout=20)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
