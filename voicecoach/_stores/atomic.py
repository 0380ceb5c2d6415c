"""Atomic file writing: a file gets its name only when it is complete.

A ``PendingFile`` is created without a name (Linux ``O_TMPFILE``) in the folder
of its target. Writers, including child processes such as ffmpeg, open it by
its ``/proc/<pid>/fd/<n>`` path. ``publish()`` links it into the folder and
renames it over the target; ``discard()`` closes it. If the process dies at any
moment before that, even by SIGKILL or a full disk, the kernel frees the
unnamed file: nothing half-written is ever left behind.

Where ``O_TMPFILE`` is missing (another OS, or a file system without it), a
hidden ``.NAME.<pid>.<hex>.part`` file is used instead; ``sweep_stale()``
removes such files once the process that wrote them is gone."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from .._errors import OutputError

_STALE_PART = re.compile(r"^\..+\.(?P<pid>\d+)\.[0-9a-f]{8}\.part$")
_NO_TMPFILE = (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOENT)


def temporary_path(target: Path) -> Path:
    """A fresh hidden name next to ``target`` (same file system, so renaming it is atomic).

    The writer's pid is part of the name, so a leftover can be told from a file
    another running process is still writing.
    """
    return target.parent / f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.part"


_FOLDER_OF = {"output_dir": "the output folder", "cache_dir": "the speech cache"}


def folder_error(error: OSError, folder: Path, option: str = "output_dir") -> OutputError:
    """A folder that cannot take files, in one line: which, why, and the option that would choose another."""
    return OutputError(f"{_FOLDER_OF.get(option, 'the folder')} cannot be written ({error.strerror}); choose "
                       f"another with {{@{option}}}", file=str(folder))


class PendingFile:
    """A file being written; it appears under ``target`` on ``publish()``, and never half-written."""

    def __init__(self, target: Path, option: str = "output_dir") -> None:
        """``option``: the library's option that chose the folder, which a message names (``{@output_dir}``)."""
        self.target = Path(target)
        self._fd: int | None = None
        try:
            self._fd = os.open(self.target.parent, os.O_TMPFILE | os.O_RDWR | os.O_CLOEXEC, 0o644)
        except AttributeError:  # no O_TMPFILE on this OS
            pass
        except OSError as error:
            if error.errno not in _NO_TMPFILE:
                raise folder_error(error, self.target.parent, option) from None
        if self._fd is not None:
            # A path any process of this user can open, as long as we keep the descriptor.
            self.path = Path(f"/proc/{os.getpid()}/fd/{self._fd}")
        else:
            self.path = temporary_path(self.target)

    def publish(self) -> None:
        """Give the finished file its name, replacing whatever had it."""
        if self._fd is None:
            os.chmod(self.path, 0o644)
            os.replace(self.path, self.target)
            return
        staging = temporary_path(self.target)
        self._link(staging)
        os.replace(staging, self.target)
        self.close()

    def publish_if_absent(self) -> bool:
        """Give the file its name only if nothing has it yet; False when another writer got there first."""
        try:
            if self._fd is None:
                os.link(self.path, self.target)
                self.path.unlink(missing_ok=True)
            else:
                self._link(self.target)
                self.close()
            return True
        except FileExistsError:
            self.discard()
            return False

    def discard(self) -> None:
        if self._fd is not None:
            self.close()
        else:
            self.path.unlink(missing_ok=True)

    def close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None

    def _link(self, name: Path) -> None:
        # linkat(AT_SYMLINK_FOLLOW) on the /proc/self/fd entry is how an O_TMPFILE file gets a name;
        # Python only uses linkat when a directory fd is given.
        proc_fds = os.open("/proc/self/fd", os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.link(str(self._fd), name, src_dir_fd=proc_fds, follow_symlinks=True)
        finally:
            os.close(proc_fds)

    def __enter__(self) -> PendingFile:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.discard()


@contextlib.contextmanager
def published_together(targets: Sequence[Path]) -> Iterator[list[PendingFile]]:
    """Pending files for ``targets``, written by the caller, then published in order, all or none.

    If the block raises (an error, Ctrl-C), every one is discarded and no target changes.
    """
    pending: list[PendingFile] = []
    try:
        for target in targets:
            pending.append(PendingFile(target))
        yield pending
        publish_all(pending)
    except BaseException:
        discard_all(pending)
        raise


def write_all(contents: Mapping[Path, str | bytes]) -> None:
    """Write several files (text as UTF-8) and publish them together, or none of them."""
    with published_together(list(contents)) as pending:
        for file, content in zip(pending, contents.values()):
            write_bytes(file.path, content.encode() if isinstance(content, str) else content, file.target)


def write_text(partial: Path, text: str, target: str | Path | None = None) -> None:
    """Write ``text`` as UTF-8 to ``partial`` and flush it to disk; ``target`` names it in an error."""
    write_bytes(partial, text.encode(), target)


def write_bytes(partial: Path, data: bytes, target: str | Path | None = None) -> None:
    """Write ``data`` to ``partial`` and flush it to disk; ``target`` names it in an error."""
    try:
        with open(partial, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as error:
        raise OutputError(f"cannot be written ({error.strerror}); free some space or choose another folder with "
                          "{@output_dir}",
                          file=str(target or partial)) from None


def publish_all(pending: list[PendingFile]) -> None:
    """Publish in order (sidecars first, the MP3 last), or discard them all if anything fails."""
    try:
        for file in pending:
            file.publish()
    finally:
        discard_all(pending)


def discard_all(pending: list[PendingFile]) -> None:
    for file in pending:
        file.discard()


def sweep_stale(folder: Path) -> int:
    """Remove ``.part`` files whose writing process is gone (left by a kill on a system without
    O_TMPFILE, or in the instant between naming a file and renaming it). Returns how many."""
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        match = _STALE_PART.match(entry.name)
        if match and not _alive(int(match["pid"])):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_new_file(path: Path, text: str, force: bool = False) -> None:
    """Write a small text file for the user to edit, refusing to overwrite one unless ``force``.

    Written whole or not at all, like every other file voicecoach writes.
    """
    if path.is_dir():
        raise OutputError("already exists; give a file name, not a folder", file=str(path))
    if path.exists() and not force:
        raise OutputError("already exists; choose another name or add {@force}", file=str(path))
    try:
        with PendingFile(path) as pending:
            with open(pending.path, "w", encoding="utf-8") as handle:
                handle.write(text)
            if force:
                pending.publish()
            elif not pending.publish_if_absent():
                raise OutputError("already exists; choose another name or add {@force}", file=str(path))
    except OSError as error:
        raise OutputError(f"cannot be written ({error.strerror}); check the folder exists and is yours",
                          file=str(path)) from None
