"""Atomic file writing: a hidden temporary name beside the target, renamed over it when complete."""

from __future__ import annotations

import secrets
from pathlib import Path

from .errors import OutputError


def temporary_path(target: Path) -> Path:
    """A fresh hidden name next to ``target``, on the same file system so a rename is atomic.

    Only the name: the file is created by whoever writes it, inside the block that
    removes it on failure, so an interrupt can never strand an empty one.
    """
    return target.parent / f".{target.name}.{secrets.token_hex(4)}.part"


def write_new_file(path: Path, text: str, force: bool = False) -> None:
    """Write a small text file for the user to edit, refusing to overwrite one unless ``force``."""
    if path.exists() and not force:
        hint = "choose another name or add --force" if not path.is_dir() else "give a file name, not a folder"
        raise OutputError(f"already exists; {hint}", file=str(path))
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise OutputError(f"cannot be written ({error.strerror}); check the folder exists and is yours",
                          file=str(path)) from None
