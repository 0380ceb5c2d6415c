"""Storage: where sessions, indexes and the speech cache are kept, behind one ``Store`` protocol.

``open_store(location)`` turns what a user gives (``output``, ``file:///srv/out``,
``s3://bucket/prefix``, any fsspec URL) into a store: a ``FolderStore`` for a
folder here, an ``FsspecStore`` for a URL, or a store a plug-in registered for
its scheme (``register_store``, or the entry-point group ``voicecoach.stores``).
Everything else in voicecoach writes and reads through the protocol, and never
asks which kind of store it has.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from .._errors import OutputError
from .base import FileInfo, Relative, Staging, Store, posix
from .folder import FolderStore
from .fsspec_store import CLUSTER_INSTALL, FsspecStore

__all__ = ["Store", "Staging", "FileInfo", "Relative", "FolderStore", "FsspecStore", "open_store", "register_store",
           "CLUSTER_INSTALL", "posix"]

StoreFactory = Callable[[str, str], Store]  # (location, option) -> a store
ENTRY_POINTS = "voicecoach.stores"
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_factories: dict[str, StoreFactory] = {}
_looked_up: set[str] = set()  # schemes already looked for among installed packages (a fifth of a second each)


def register_store(scheme: str, factory: StoreFactory) -> None:
    """Make ``open_store`` give ``factory(location, option)`` for locations ``scheme://...``."""
    _factories[scheme.lower()] = factory


def _plugged(scheme: str) -> StoreFactory | None:
    if scheme not in _factories and scheme not in _looked_up:
        _looked_up.add(scheme)
        for entry in metadata.entry_points(group=ENTRY_POINTS, name=scheme):
            register_store(scheme, entry.load())
    return _factories.get(scheme)


def open_store(location: str | Path | Store, option: str = "output_dir") -> Store:
    """The store at ``location``: a folder path or ``file://`` URL is a folder here; ``scheme://...`` is the
    store registered for that scheme, else fsspec's (s3://, gs://, ...; the cluster extra). ``option`` is the
    library's name of the option that chose it, which its messages name (``{@output_dir}``)."""
    if isinstance(location, Path):
        return FolderStore(location, option)
    if not isinstance(location, str):
        return location
    scheme = _SCHEME.match(location)
    if scheme is None:
        if not location.strip():
            raise OutputError("is empty; give a folder or a URL such as s3://BUCKET/PREFIX",
                              field=f"{{@{option}}}")
        return FolderStore(Path(location), option)
    name = scheme[1].lower()
    if name == "file":
        return FolderStore(Path("/" + location[scheme.end():].lstrip("/")), option)
    factory = _plugged(name)
    if factory is not None:
        return factory(location, option)
    return FsspecStore(location, option)
