"""One exception family for everything a user can fix.

Every error carries the whole message a person needs: where (file and line,
when known), which field, what is wrong and what would be right. The CLI
prints ``str(error)`` as one line and exits with ``error.exit_code``.
"""

from __future__ import annotations


class VoicecoachError(Exception):
    """Base of all errors meant for the user, never for a traceback."""

    exit_code = 2

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 field: str | None = None) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.field = field
        super().__init__(self.format())

    def about(self, field: str) -> VoicecoachError:
        """The same error, naming ``field`` (the CLI names the flag a library error is about)."""
        return type(self)(self.message, file=self.file, line=self.line, field=field)

    def format(self) -> str:
        prefix = ""
        if self.file is not None:
            prefix = f"{self.file}:{self.line}: " if self.line is not None else f"{self.file}: "
        if self.field:
            prefix += f"{self.field}: "
        return prefix + self.message


class RoutineError(VoicecoachError):
    """The routine file cannot be read or does not follow the format."""


class LayoutError(VoicecoachError):
    """The routine is valid but its sounds cannot be placed by the timing rules."""


class OutputError(VoicecoachError):
    """The output folder or a file in it cannot be written."""


class MissingPartError(VoicecoachError):
    """A required program or library (espeak-ng, ffmpeg) is not usable."""

    exit_code = 3


class SpeechError(VoicecoachError):
    """The speech engine failed to produce audio for a phrase."""

    exit_code = 3
