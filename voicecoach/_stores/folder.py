"""A folder on this machine as a store: every file written unnamed and named only when complete."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO

from .._errors import OutputError
from .atomic import PendingFile, folder_error, published_together, sweep_stale, write_all
from .base import FileInfo, Relative, Staging, posix


class FolderStore:
    """Files under a local folder. Whole or not at all by ``PendingFile`` (an unnamed file, linked in when
    complete); write once by linking without replacing; in order, all or none, by ``published_together``."""

    def __init__(self, root: str | Path, option: str = "output_dir") -> None:
        self.root = Path(root)
        self.location = str(root)
        self.option = option

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return FolderStore, (self.root, self.option)

    def __repr__(self) -> str:
        return f"FolderStore({self.location!r})"

    def path(self, relative: Relative) -> Path:
        text = posix(relative)
        return self.root / text if text else self.root

    def where(self, relative: Relative = "") -> str:
        return str(self.path(relative))

    def local(self, relative: Relative) -> Path:
        return self.path(relative)

    def check(self, folder_in_store: Relative = "") -> None:
        """The folder can take files (made if need be); leftovers of killed writers are cleared out."""
        folder = self.path(folder_in_store)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe = PendingFile(folder / ".voicecoach-write-test", self.option)
            if probe.path.name.endswith(".part"):  # a named file: make sure it can really be created
                probe.path.touch()
            probe.discard()
        except OSError as error:
            raise folder_error(error, folder, self.option) from None
        sweep_stale(folder)

    def names(self, folder: Relative) -> set[str]:
        try:
            return {entry.name for entry in os.scandir(self.path(folder)) if entry.is_file()}
        except (FileNotFoundError, NotADirectoryError):
            return set()
        except OSError as error:
            raise self._error(error, "cannot be listed", folder) from None

    def exists(self, relative: Relative) -> bool:
        return self.path(relative).is_file()

    def read(self, relative: Relative) -> bytes | None:
        try:
            return self.path(relative).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as error:
            raise self._error(error, "cannot be read", relative) from None

    def open(self, relative: Relative) -> IO[bytes]:
        return open(self.path(relative), "rb")

    def write(self, relative: Relative, data: bytes) -> None:
        self.write_all({relative: data})

    def write_all(self, files: Mapping[Relative, bytes]) -> None:
        targets = {self.path(relative): data for relative, data in files.items()}
        for target in targets:
            target.parent.mkdir(parents=True, exist_ok=True)
        write_all(targets)

    def create(self, relative: Relative, data: bytes) -> bool:
        target = self.path(relative)
        for _ in range(3):
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                entry = PendingFile(target, self.option)
            except OSError as error:
                raise self._error(error, "cannot be written", relative) from None
            try:
                with open(entry.path, "wb") as handle:
                    handle.write(data)
                return entry.publish_if_absent()
            except FileNotFoundError:  # the folder was removed meanwhile (`voicecoach cache clear`): again
                entry.discard()
                continue
            except OSError as error:
                entry.discard()
                raise self._error(error, "cannot be written", relative) from None
        raise OutputError(f"keeps vanishing while it is written; choose another folder with {{@{self.option}}}",
                          file=self.where(relative))

    def remove(self, relative: Relative) -> None:
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            self.path(relative).unlink()

    def walk(self, folder: Relative) -> Iterator[FileInfo]:
        top = self.path(folder)
        if not top.is_dir():
            return
        for path in sorted(top.rglob("*"), key=lambda found: found.relative_to(top).as_posix()):
            with contextlib.suppress(OSError):
                if path.is_file():
                    status = path.stat()
                    yield FileInfo(path.relative_to(self.root).as_posix(), status.st_size, status.st_mtime)

    def remove_tree(self, folder: Relative) -> None:
        shutil.rmtree(self.path(folder), ignore_errors=True)

    @contextlib.contextmanager
    def staging(self, relatives: Sequence[Relative]) -> Iterator[Staging]:
        targets = [self.path(relative) for relative in relatives]
        for target in targets:
            target.parent.mkdir(parents=True, exist_ok=True)
        with published_together(targets) as pending:
            yield Staging(tuple(file.path for file in pending), targets[-1].parent if targets else self.root)

    def _error(self, error: OSError, what: str, relative: Relative) -> OutputError:
        return OutputError(f"{what} ({error.strerror}); choose another with {{@{self.option}}}",
                           file=self.where(relative))
