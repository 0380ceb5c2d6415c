"""A routine file read within its limits (size, encoding, no binary), and YAML text parsed with the line of every
value."""

from __future__ import annotations

import codecs
import os
import stat
from pathlib import Path
from typing import Any

from .._errors import RoutineError
from .limits import MAX_FILE_BYTES
from .model import Routine
from .resolve import resolve_routine
from .yamlsource import SourceMap, load_yaml_text

# ---------------------------------------------------------------- loading


def read_routine_source(path: str | Path, display_name: str | None = None) -> tuple[Any, SourceMap]:
    """The file's YAML as plain data plus the line of every value; nothing validated yet."""
    path = Path(path)
    name = display_name or str(path)
    if not path.exists():
        raise RoutineError("no such file; check the path, or run `voicecoach init` to write a starter routine",
                           file=name)
    if path.is_dir():
        raise RoutineError("is a folder, not a routine file; give the path of a .yaml file", file=name)
    try:
        raw, size = read_regular_file(path, MAX_FILE_BYTES + 1)
    except Unreadable as problem:
        raise RoutineError(f"cannot be read ({problem.reason}); give the path of a routine file you may read",
                           file=name) from None
    if len(raw) > MAX_FILE_BYTES:
        raise RoutineError(f"is {size} bytes; a routine file is at most {MAX_FILE_BYTES} bytes", file=name)
    if raw.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) \
            or _looks_like_utf16(raw):
        raise RoutineError("is saved as UTF-16 (\"Unicode\") text; save it as UTF-8 in your editor "
                           "(in Notepad: File, Save as, Encoding: UTF-8)", file=name)
    if b"\x00" in raw:
        raise RoutineError("is a binary file, not a routine; give a YAML text file", file=name)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise RoutineError("is not UTF-8 text; save it as UTF-8 in your editor", file=name, line=line) from None
    return load_yaml_text(text, name)


class Unreadable(Exception):
    """A file that cannot be read: ``reason`` in words ("there is no such file", "Permission denied", or "it is
    not a regular file (a pipe, a device or a socket)")."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def read_regular_file(path: Path, at_most: int) -> tuple[bytes, int]:
    """At most ``at_most`` bytes of the regular file at ``path``, and its size: a pipe, a device or a socket is
    refused at once (opening or reading one could wait forever, or never end), and a file is never read past
    the limit. ``Unreadable`` says why not."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # opening a pipe would wait for a writer
    except OSError as error:
        raise Unreadable("there is no such file" if isinstance(error, FileNotFoundError) else
                         str(error.strerror)) from None
    with open(descriptor, "rb", buffering=0) as handle:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise Unreadable("it is not a regular file (a pipe, a device or a socket)")
        data = b""
        try:
            while len(data) < at_most:
                part = handle.read(at_most - len(data))
                if not part:
                    break
                data += part
        except OSError as error:
            raise Unreadable(str(error.strerror)) from None
        return data, status.st_size


def _looks_like_utf16(raw: bytes) -> bool:
    """Text saved as UTF-16 without a byte order mark: every other byte is zero."""
    sample = raw[:2000]
    return len(sample) >= 8 and any(sample[start::2].count(0) >= 0.9 * len(sample[start::2]) and
                                    sample[1 - start::2].count(0) == 0 for start in (0, 1))


def parse_routine(text: str, file: str = "<routine>") -> Routine:
    """A routine from YAML text, for tests and tools: files it names are not looked up. A routine file is
    read by ``load.load_routine_file``, the one loader, which also finds its cover and voice files."""
    data, source = load_yaml_text(text, file)
    return resolve_routine(data, source)
