"""Atomic file writing: a hidden temporary name beside the target, renamed over it when complete."""

from __future__ import annotations

import secrets
from pathlib import Path


def temporary_path(target: Path) -> Path:
    """A fresh hidden name next to ``target``, on the same file system so a rename is atomic.

    Only the name: the file is created by whoever writes it, inside the block that
    removes it on failure, so an interrupt can never strand an empty one.
    """
    return target.parent / f".{target.name}.{secrets.token_hex(4)}.part"
