"""A store at an fsspec URL (``s3://bucket/prefix``; the cluster extra brings fsspec and s3fs).

How it keeps the promises of ``Store``:

- **Whole or not at all.** Every file is one object, stored by one request
  (a PUT, or a multipart upload that S3 only makes visible when it completes).
  A writer that dies midway leaves no object, never a partial one.
- **Write once.** ``create`` is a conditional PUT (``If-None-Match: *``; s3fs
  turns a refusal into ``FileExistsError``): when two workers make the same
  speech cache entry, the first one stored wins and the second reads it back.
- **In order.** ``staging`` writes into a scratch folder here, then uploads one
  object per file in the order given, the last one last. (The set is not one
  transaction: each file is whole, but a reader may see the first ones before
  the last.)

Credentials and the endpoint come from the usual places for the protocol (for
S3: ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_ENDPOINT_URL`` or
``~/.aws``), on the client and on every worker alike.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from .._errors import MissingPartError, OutputError
from .base import FileInfo, Relative, Staging, posix

CLUSTER_INSTALL = "pip install 'voicecoach[cluster]'"


class FsspecStore:
    """Files under ``url``, reached through fsspec. Pickled as its URL: a worker opens its own connection."""

    def __init__(self, url: str, option: str = "output_dir") -> None:
        self.location = url.rstrip("/")
        self.option = option

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return FsspecStore, (self.location, self.option)

    def __repr__(self) -> str:
        return f"FsspecStore({self.location!r})"

    @property
    def fs(self) -> Any:
        try:
            import fsspec
            filesystem = fsspec.filesystem(self.location.split("://", 1)[0])  # fsspec keeps one per protocol
        except ImportError:
            raise MissingPartError(f"{self.location} needs the cluster extra (fsspec, s3fs); install it with "
                                   f"`{CLUSTER_INSTALL}`", field=f"{{@{self.option}}}") from None
        except ValueError as error:  # an unknown protocol
            raise OutputError(f"{self.location}: {error}; use s3://BUCKET/PREFIX or a local folder",
                              field=f"{{@{self.option}}}") from None
        return filesystem

    @property
    def _root(self) -> str:
        return self.location.split("://", 1)[1]

    def where(self, relative: Relative = "") -> str:
        text = posix(relative)
        return f"{self.location}/{text}" if text else self.location

    def local(self, relative: Relative) -> Path | None:
        return None

    def _key(self, relative: Relative) -> str:
        text = posix(relative)
        return f"{self._root}/{text}" if text else self._root

    def check(self, folder: Relative = "") -> None:
        """That the store can be reached and its bucket exists: one line saying how to fix it if not."""
        fs = self.fs
        try:
            exists = fs.exists(self._root.split("/", 1)[0])
        except Exception as error:  # OSError, and botocore's NoCredentialsError and kin, which are not OSErrors
            raise self._error(error, "cannot be reached") from None
        if not exists:
            raise self._no_bucket()

    def names(self, folder: Relative) -> set[str]:
        try:
            listing = self.fs.ls(self._key(folder), detail=False, refresh=True)
        except FileNotFoundError:
            return set()
        except OSError as error:
            raise self._error(error, "cannot be listed", folder) from None
        return {str(name).rstrip("/").rsplit("/", 1)[-1] for name in listing}

    def exists(self, relative: Relative) -> bool:
        try:
            return bool(self.fs.exists(self._key(relative)))
        except OSError as error:
            raise self._error(error, "cannot be read", relative) from None

    def read(self, relative: Relative) -> bytes | None:
        try:
            return self.fs.cat_file(self._key(relative))
        except FileNotFoundError:
            return None
        except OSError as error:
            raise self._error(error, "cannot be read", relative) from None

    def open(self, relative: Relative) -> IO[bytes]:
        return self.fs.open(self._key(relative), "rb", block_size=1 << 16)

    def write(self, relative: Relative, data: bytes) -> None:
        try:
            self.fs.pipe_file(self._key(relative), data)
        except OSError as error:
            raise self._error(error, "cannot be written", relative) from None

    def write_all(self, files: Mapping[Relative, bytes]) -> None:
        for relative, data in files.items():
            self.write(relative, data)

    def create(self, relative: Relative, data: bytes) -> bool:
        try:
            self.fs.pipe_file(self._key(relative), data, mode="create")
        except FileExistsError:
            return False
        except OSError as error:
            raise self._error(error, "cannot be written", relative) from None
        return True

    def remove(self, relative: Relative) -> None:
        try:
            self.fs.rm_file(self._key(relative))
        except FileNotFoundError:
            pass
        except OSError as error:
            raise self._error(error, "cannot be removed", relative) from None

    def walk(self, folder: Relative) -> Iterator[FileInfo]:
        try:
            found = self.fs.find(self._key(folder), detail=True)
        except FileNotFoundError:
            return
        except OSError as error:
            raise self._error(error, "cannot be listed", folder) from None
        for key, info in sorted(found.items()):
            modified = info.get("LastModified") or info.get("mtime") or info.get("created")
            yield FileInfo(key[len(self._root) + 1:], int(info.get("size") or 0),
                           modified.timestamp() if hasattr(modified, "timestamp") else float(modified or 0))

    def remove_tree(self, folder: Relative) -> None:
        try:
            self.fs.rm(self._key(folder), recursive=True)
        except FileNotFoundError:
            pass
        except OSError as error:
            raise self._error(error, "cannot be removed", folder) from None

    @contextlib.contextmanager
    def staging(self, relatives: Sequence[Relative]) -> Iterator[Staging]:
        with tempfile.TemporaryDirectory(prefix="voicecoach-") as scratch:
            paths = tuple(Path(scratch, str(number), Path(posix(relative)).name)
                          for number, relative in enumerate(relatives))
            for path in paths:
                path.parent.mkdir()
            yield Staging(paths, Path(scratch))
            for path, relative in zip(paths, relatives):
                try:
                    self.fs.put_file(str(path), self._key(relative))
                except OSError as error:
                    raise self._error(error, "cannot be written", relative) from None

    def _error(self, error: BaseException, what: str, relative: Relative = "") -> OutputError:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        if isinstance(error, FileNotFoundError) and "bucket" in reason.lower():
            return self._no_bucket()
        return OutputError(f"{what} ({reason}); check the address and the credentials, or choose another with "
                           f"{{@{self.option}}}", file=self.where(relative))

    def _no_bucket(self) -> OutputError:
        bucket = self._root.split("/", 1)[0]
        return OutputError(f"the bucket {bucket} does not exist; create it (for S3: aws s3 mb s3://{bucket}), "
                           f"or choose another with {{@{self.option}}}", file=self.location)
