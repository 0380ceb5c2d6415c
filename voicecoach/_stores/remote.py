"""Shared stores: a batch's outputs and its speech cache at an fsspec URL (``s3://bucket/prefix``).

A local folder stays a ``Path`` and keeps its own atomic writing (``files``);
``file:///shared/path`` is that local folder too. Anything else with ``://`` is
a ``RemoteStore``, reached through fsspec (s3fs for S3, the cluster extra).

What a remote store promises, and how:

- **Whole or not at all.** Every file is one object, stored by one request
  (a PUT, or a multipart upload that S3 only makes visible when it completes).
  A writer that dies midway leaves no object, never a partial one.
- **Write-once entries.** A speech cache entry is created with a conditional
  PUT (``If-None-Match: *``): when two workers make the same phrase, the first
  one stored wins and the second reads it back, as the local cache's
  link-if-absent does.
- Credentials and the endpoint come from the usual places for the protocol
  (for S3: ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_ENDPOINT_URL``
  or ``~/.aws``), on the client and on every worker alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .._errors import MissingPartError, OutputError

CLUSTER_INSTALL = "pip install 'voicecoach[cluster]'"


def is_remote(location: str | Path | None) -> bool:
    """True for a URL fsspec reaches (``s3://...``); a local path or ``file://`` URL is not remote."""
    text = str(location) if isinstance(location, str) else ""
    return "://" in text and not text.startswith("file://")


def local_path(location: str | Path) -> Path:
    """A local location as a path: ``file:///data/out`` is ``/data/out``."""
    text = str(location)
    return Path(text[len("file://"):]) if text.startswith("file://") else Path(location)


@dataclass(frozen=True)
class RemoteStore:
    """Files under ``url``, addressed by relative POSIX paths (``knee/knee--quick.mp3``).

    ``option`` is the library's name of the option that chose it (``output_dir``,
    ``cache_dir``), for error messages. Pickled as its URL: a Dask worker opens
    its own connection.
    """

    url: str
    option: str = "output_dir"

    def __post_init__(self) -> None:
        object.__setattr__(self, "url", self.url.rstrip("/"))

    @property
    def fs(self) -> Any:
        try:
            import fsspec
            filesystem = fsspec.filesystem(self.url.split("://", 1)[0])  # fsspec keeps one per protocol
        except ImportError:
            raise MissingPartError(f"{self.url} needs the cluster extra (fsspec, s3fs); install it with "
                                   f"`{CLUSTER_INSTALL}`", field=f"{{@{self.option}}}") from None
        except ValueError as error:  # an unknown protocol
            raise OutputError(f"{self.url}: {error}; use s3://BUCKET/PREFIX or a local folder",
                              field=f"{{@{self.option}}}") from None
        return filesystem

    @property
    def _root(self) -> str:
        return self.url.split("://", 1)[1]

    def where(self, relative: str | Path) -> str:
        """The URL of a file in the store."""
        text = Path(relative).as_posix()
        return self.url if text in ("", ".") else f"{self.url}/{text}"

    def _key(self, relative: str | Path) -> str:
        text = Path(relative).as_posix()
        return self._root if text in ("", ".") else f"{self._root}/{text}"

    def check(self) -> None:
        """That the store can be reached and its bucket exists: one line saying how to fix it if not."""
        fs = self.fs
        try:
            exists = fs.exists(self._root.split("/", 1)[0])
        except Exception as error:  # OSError, and botocore's NoCredentialsError and kin, which are not OSErrors
            raise self._error(error, "cannot be reached") from None
        if not exists:
            raise self._no_bucket()

    def names(self, folder: str | Path) -> set[str]:
        """The names of the files in ``folder`` (none when it does not exist)."""
        try:
            listing = self.fs.ls(self._key(folder), detail=False, refresh=True)
        except FileNotFoundError:
            return set()
        except OSError as error:
            raise self._error(error, "cannot be listed", folder) from None
        return {str(name).rstrip("/").rsplit("/", 1)[-1] for name in listing}

    def exists(self, relative: str | Path) -> bool:
        try:
            return bool(self.fs.exists(self._key(relative)))
        except OSError as error:
            raise self._error(error, "cannot be read", relative) from None

    def read_bytes(self, relative: str | Path) -> bytes | None:
        """A file's contents; None when there is no such file."""
        try:
            return self.fs.cat_file(self._key(relative))
        except FileNotFoundError:
            return None
        except OSError as error:
            raise self._error(error, "cannot be read", relative) from None

    def open(self, relative: str | Path) -> IO[bytes]:
        """A file to read in parts (an MP3's tags, without the audio)."""
        return self.fs.open(self._key(relative), "rb", block_size=1 << 16)

    def write_bytes(self, relative: str | Path, data: bytes) -> None:
        """Store ``data`` as one object, replacing any before it."""
        try:
            self.fs.pipe_file(self._key(relative), data)
        except OSError as error:
            raise self._error(error, "cannot be written", relative) from None

    def create(self, relative: str | Path, data: bytes) -> bool:
        """Store ``data`` only if nothing is there yet (a conditional PUT); False when another writer was first."""
        try:
            self.fs.pipe_file(self._key(relative), data, mode="create")
        except FileExistsError:
            return False
        except OSError as error:
            raise self._error(error, "cannot be written", relative) from None
        return True

    def put_file(self, local: Path, relative: str | Path) -> None:
        """Upload a finished local file as one object."""
        try:
            self.fs.put_file(str(local), self._key(relative))
        except OSError as error:
            raise self._error(error, "cannot be written", relative) from None

    def remove(self, relative: str | Path) -> None:
        try:
            self.fs.rm_file(self._key(relative))
        except FileNotFoundError:
            pass
        except OSError as error:
            raise self._error(error, "cannot be removed", relative) from None

    def _error(self, error: BaseException, what: str, relative: str | Path = "") -> OutputError:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        if isinstance(error, FileNotFoundError) and "bucket" in reason.lower():
            return self._no_bucket()
        return OutputError(f"{what} ({reason}); check the address and the credentials, or choose another with "
                           f"{{@{self.option}}}", file=self.where(relative))

    def _no_bucket(self) -> OutputError:
        bucket = self._root.split("/", 1)[0]
        return OutputError(f"the bucket {bucket} does not exist; create it (for S3: aws s3 mb s3://{bucket}), "
                           f"or choose another with {{@{self.option}}}", file=self.url)
