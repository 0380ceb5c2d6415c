"""The one protocol every store keeps, and what it promises."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import IO, Protocol, runtime_checkable

Relative = str | PurePath  # a file's place in a store: a relative POSIX path ("knee/knee--quick.mp3")


@dataclass(frozen=True)
class FileInfo:
    """A file found in a store: its place, its size, and when it was last written (seconds since the epoch)."""

    name: str
    size_bytes: int
    modified_s: float


@dataclass(frozen=True)
class Staging:
    """Local files to write, which a store publishes together when the block ends without an error.

    ``paths`` are where to write each file, in the order given; ``scratch`` is a local folder for scratch
    files on the same file system (an unnamed ``PendingFile`` there is freed whatever happens).
    """

    paths: tuple[Path, ...]
    scratch: Path


@runtime_checkable
class Store(Protocol):
    """Files under one location, named by relative POSIX paths. What every store promises:

    - **Whole or not at all.** A reader finds a file complete or not at all, and a writer that dies at any
      moment (even by SIGKILL) leaves no part of one.
    - **Write once.** ``create`` stores a file only when none is there and says whether it did: of two
      writers, the first wins and the second reads the winner's (the speech cache's entries).
    - **In order.** ``staging`` publishes its files in the order given, the last one last (a session's MP3),
      so a reader that finds the last one finds the others; a folder publishes them all or none.

    ``location`` is where it is, as given; ``option`` is the library's name of the option that chose it
    (``output_dir``, ``cache_dir``), which its messages name as ``{@output_dir}``. A store is pickled as its
    location, so that a worker process opens its own.
    """

    location: str
    option: str

    def where(self, relative: Relative = "") -> str:
        """Where a file is, as a person would look for it: a local path, or a URL."""
        ...

    def local(self, relative: Relative) -> Path | None:
        """The file's path on this machine, when the store is a local folder; else None."""
        ...

    def check(self, folder: Relative = "") -> None:
        """That files can be written here (in ``folder``): one line saying how to fix it if not (before any
        work is done)."""
        ...

    def names(self, folder: Relative) -> set[str]:
        """The names of the files in ``folder`` (none when it does not exist)."""
        ...

    def exists(self, relative: Relative) -> bool: ...

    def read(self, relative: Relative) -> bytes | None:
        """A file's contents; None when there is no such file."""
        ...

    def open(self, relative: Relative) -> IO[bytes]:
        """A file to read in parts (an MP3's tags, without its audio)."""
        ...

    def write(self, relative: Relative, data: bytes) -> None:
        """Store ``data`` whole, replacing any file before it."""
        ...

    def write_all(self, files: Mapping[Relative, bytes]) -> None:
        """Store several files, each whole, in the order given (a folder: all together or none)."""
        ...

    def create(self, relative: Relative, data: bytes) -> bool:
        """Store ``data`` only if no file is there yet; False when another writer was first."""
        ...

    def remove(self, relative: Relative) -> None:
        """Remove a file (nothing happens when there is none)."""
        ...

    def walk(self, folder: Relative) -> Iterator[FileInfo]:
        """Every file below ``folder``, hidden ones too, in the order of their places."""
        ...

    def remove_tree(self, folder: Relative) -> None:
        """Remove ``folder`` and everything in it."""
        ...

    def staging(self, relatives: Sequence[Relative]) -> AbstractContextManager[Staging]:
        """Local files to write for ``relatives``, published in that order when the block ends cleanly, and
        dropped (none published) when it raises."""
        ...


def posix(relative: Relative) -> str:
    """A relative place as POSIX text: "" for the top."""
    text = PurePath(relative).as_posix()
    return "" if text in ("", ".") else text
