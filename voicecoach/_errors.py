"""One exception family for everything a user can fix.

Every error carries the whole message a person needs: where (file and line,
when known), which field, what is wrong and what would be right. The CLI
prints it as one line and exits with ``error.exit_code``.

The library never names a command-line flag. Where a message is about one of
its options it writes ``{@name}`` (the option's name in the library, e.g.
``{@cache_dir}``); ``format(options)`` shows each as the caller calls it: the
CLI passes its flags (``--cache-dir``), and ``str(error)`` shows `` `cache_dir` ``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

_OPTION = re.compile(r"\{@(\w+)\}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _one_line(text: str) -> str:
    """``text`` as one line a terminal shows as it is: a newline, a tab or an escape sequence written in a key or
    a value (``\\n``, ``\\x1b``) is shown escaped, never carried out."""
    return _CONTROL.sub(lambda match: repr(match[0])[1:-1], text)


class VoicecoachError(Exception):
    """Base of all errors meant for the user, never for a traceback."""

    exit_code = 2

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 field: str | None = None, more: Sequence[VoicecoachError] = ()) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.field = field
        self.more = tuple(more)  # further mistakes found in the same pass (``validate`` shows them all)
        super().__init__(self.format())

    def __reduce__(self):  # pickled whole (a batch worker's error reaches the parent with its parts)
        return _rebuild, (type(self), self.message, self.file, self.line, self.field, self.more)

    def format(self, options: Mapping[str, str] | None = None) -> str:
        """The one line; ``options`` names the options the message refers to (``{@cache_dir}``)."""
        prefix = ""
        if self.file is not None:
            prefix = f"{self.file}:{self.line}: " if self.line is not None else f"{self.file}: "
        if self.field:
            prefix += f"{self.field}: "
        names = options or {}
        return _one_line(_OPTION.sub(lambda match: names.get(match[1], f"`{match[1]}`"), prefix + self.message))


class RoutineError(VoicecoachError):
    """The routine file cannot be read or does not follow the format."""


class LayoutError(VoicecoachError):
    """The routine is valid but its sounds cannot be placed by the timing rules."""


class OutputError(VoicecoachError):
    """The output folder or a file in it cannot be written."""


class MissingPartError(VoicecoachError):
    """A required program or library (espeak-ng, ffmpeg) is not usable."""

    exit_code = 3


class ClusterError(VoicecoachError):
    """The Dask cluster a batch was asked to use cannot be reached or used."""


class SpeechError(VoicecoachError):
    """The speech engine failed to produce audio for a phrase."""

    exit_code = 3


def _rebuild(cls: type[VoicecoachError], message: str, file: str | None, line: int | None,
             field: str | None, more: Sequence[VoicecoachError] = ()) -> VoicecoachError:
    return cls(message, file=file, line=line, field=field, more=more)
