"""The espeak-ng speaker: a small process that speaks every phrase in a fresh copy of espeak-ng.

libespeak-ng keeps state from one utterance to the next inside a process: the
phase of its pitch flutter (``Flutter_ix``, a static in wavegen.c that nothing
resets) goes on where the last phrase left it, so the same phrase comes out
with other pitch periods and a few ms longer or shorter each time it is said
again. What a phrase sounded like then depended on what the same process had
said before, and in a pool on which worker said it: cold builds differed.

So no voicecoach process ever starts espeak-ng itself. This speaker imports
pyttsx3 (which loads the library) but never initializes it; for each request
it forks a child that initializes espeak-ng through pyttsx3, speaks the one
phrase and exits. Every phrase is spoken from the same state, that of a fresh
process, which is what the ``espeak-ng`` command gives. A fork costs about 5 ms;
it also means a crash of espeak-ng on some input ends one child, never a build.

Protocol, on the speaker's stdin and stdout: length-prefixed pickles, one
request, then one reply. ``("about",)`` answers ``("ok", version, voices)``;
``("speak", text, voice_id, rate_wpm, volume)`` answers ``("ok", rate_hz,
samples)`` (mono 16-bit) or ``("error", message)``. The speaker ends when its
stdin closes, and stops a child at once if that happens while it speaks.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import select
import signal
import struct
import sys
import tempfile
import threading
import wave
from pathlib import Path
from typing import IO, Any

_LENGTH = struct.Struct(">I")
_PR_SET_PDEATHSIG = 1


def send(stream: IO[bytes], message: Any) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_LENGTH.pack(len(data)) + data)
    stream.flush()


def receive(stream: IO[bytes]) -> Any:
    """The next message, or None at the end of the stream."""
    head = _read_exactly(stream, _LENGTH.size)
    if head is None:
        return None
    data = _read_exactly(stream, _LENGTH.unpack(head)[0])
    if data is None:
        return None
    return pickle.loads(data)


def _read_exactly(stream: IO[bytes], size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        part = stream.read(size - len(data))
        if not part:
            return None
        data += part
    return data


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the client's to handle; it then closes our stdin
    requests = os.fdopen(os.dup(0), "rb", buffering=0)
    replies = os.fdopen(os.dup(1), "wb")
    # Whatever pyttsx3 ("Audio saved to ...") or espeak-ng print must not reach the protocol.
    quiet = os.open(os.devnull, os.O_RDWR)
    os.dup2(quiet, 0)
    os.dup2(quiet, 1)
    from ..._parts import prepare_espeak

    prepare_espeak()
    # Loaded once here (the library too, but it is not initialized), so that each child starts at once.
    import pyttsx3.drivers.espeak  # noqa: F401

    from ..._stores.atomic import PendingFile  # noqa: F401

    while (request := receive(requests)) is not None:
        send(replies, _in_a_fresh_child(request, requests))


def _in_a_fresh_child(request: tuple, requests: IO[bytes]) -> tuple:
    """``request`` answered by a child forked for it (espeak-ng initialized there, and only there)."""
    readable, writable = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(readable)
        code = 0
        try:
            _die_with_parent()
            with os.fdopen(writable, "wb") as out:
                try:
                    reply = _answer(request)
                except Exception as error:  # noqa: BLE001 - reported to the client, which raises SpeechError
                    reply, code = ("error", f"{type(error).__name__}: {error}"), 1
                send(out, reply)
        finally:
            os._exit(code)
    os.close(writable)
    data = bytearray()
    try:
        while True:
            ready, _, _ = select.select([readable, requests.fileno()], [], [])
            if requests.fileno() in ready:  # the client went away (it sends nothing while it waits): stop now
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                sys.exit(0)
            part = os.read(readable, 1 << 20)
            if not part:
                break
            data += part
    finally:
        os.close(readable)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return "error", f"espeak-ng crashed (signal {os.WTERMSIG(status)})"
    try:
        return receive(io.BytesIO(bytes(data))) or ("error", "espeak-ng ended without an answer")
    except (pickle.UnpicklingError, EOFError, ValueError):
        return "error", "espeak-ng ended with half an answer"


def _die_with_parent() -> None:
    """Ask the kernel to end this child if the speaker ends (Linux; elsewhere the closed pipe ends it)."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _answer(request: tuple) -> tuple:
    import pyttsx3
    from pyttsx3.drivers import _espeak
    from pyttsx3.drivers.espeak import EspeakDriver

    from ..._stores.atomic import PendingFile

    engine = pyttsx3.init("espeak")  # espeak-ng starts here, in this child, from the library's first state
    if request[0] == "about":
        try:
            version = "espeak-ng " + (_espeak.Info(None) or b"?").decode()
        except Exception:  # noqa: BLE001 - the version only feeds the cache key
            version = "espeak-ng"
        voices = [(voice.id, voice.name, tuple(voice.languages or ()), voice.gender)
                  for voice in engine.getProperty("voices")]
        return "ok", version, voices
    _, text, voice_id, rate_wpm, volume = request
    # Properties are set on the driver directly: the engine's own setProperty is queued and only applied
    # inside the next runAndWait. Synchronize() returns once espeak-ng has worked through what is queued.
    for name, value in (("voice", voice_id), ("rate", rate_wpm), ("volume", volume)):
        EspeakDriver.setProperty(name, value)
    _espeak.Synchronize()
    taken = (EspeakDriver.getProperty("voice"), EspeakDriver.getProperty("rate"))
    if taken != (voice_id, rate_wpm):
        return "error", f'espeak-ng did not take voice "{voice_id}" at {rate_wpm} wpm (it has "{taken[0]}" at ' \
                        f'{taken[1]} wpm)'
    finished = threading.Event()
    engine.connect("finished-utterance", lambda name, completed: finished.set())
    with PendingFile(Path(tempfile.gettempdir()) / "voicecoach-phrase.wav") as scratch:  # unnamed: never left
        engine.save_to_file(text, str(scratch.path))
        engine.runAndWait()
        finished.wait(timeout=10)
        _espeak.Synchronize()
        with wave.open(str(scratch.path), "rb") as wav:
            if wav.getnchannels() != 1 or wav.getsampwidth() != 2:
                return "error", "espeak-ng wrote audio that is not mono 16-bit"
            return "ok", wav.getframerate(), wav.readframes(wav.getnframes())


if __name__ == "__main__":
    main()
