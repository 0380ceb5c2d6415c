"""What the command line shows: one-line errors naming its flags, progress bars, lengths and sizes."""

from __future__ import annotations

import sys

from .._audio.timeline import Timeline
from .._errors import VoicecoachError
from .._routine.durations import format_clock
from .options import FLAGS


def message(error: VoicecoachError) -> str:
    """A library error's one line, naming this command line's flags."""
    return error.format(FLAGS)


def plain(text: str) -> str:
    """``text`` without control characters (a title's terminal escapes stay out of the terminal)."""
    return "".join(char if char.isprintable() or char == "\t" else "\ufffd" for char in text)


class _NoProgress:
    """Stands in for rich's Progress when nothing is shown (not a terminal, or -q)."""

    def __enter__(self) -> _NoProgress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass

    def add_task(self, description: str, total: float | None = None) -> int:
        return 0

    def update(self, task: int, **fields: object) -> None:
        pass

    def remove_task(self, task: int) -> None:
        pass


def progress_display(width: int, quiet: bool):  # type: ignore[no-untyped-def]
    """Progress bars on stderr when it is a terminal; otherwise nothing (and rich is never imported)."""
    if quiet or not sys.stderr.isatty():
        return _NoProgress()
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn(f"{{task.description:<{width}}}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=Console(stderr=True), transient=True)


def described(timeline: Timeline) -> str:
    """``Knee (14:38, 7 chapters)``: what a build made."""
    return f"{plain(timeline.title)} ({format_clock(timeline.duration_ms)}, {len(timeline.chapters)} chapters)"


def counted(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def format_bytes(size_bytes: int) -> str:
    size = float(size_bytes)
    for unit in ("bytes", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size_bytes} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"
