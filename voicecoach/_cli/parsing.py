"""Flags turned into what the library takes: a loudness, subtitle formats, and the overrides in order."""

from __future__ import annotations

from pathlib import Path

from .._errors import OutputError
from .._publish.lyrics import SUBTITLE_FORMATS
from .._routine.settings import Setting, engine_setting, music_settings, parse_setting, time_scale_setting


def loudness_target(text: str) -> float | None:
    """``"-16"`` -> -16.0; ``"off"`` -> None."""
    if text.strip().lower() == "off":
        return None
    try:
        lufs = float(text)
    except ValueError:
        lufs = None
    if lufs is None or not -40 <= lufs <= -5:
        raise OutputError(f'"{text}" is not a loudness; give LUFS from -40 to -5 (e.g. -19, or -16 for louder), '
                          "or off", field="{@loudness_lufs}")
    return lufs


def subtitle_formats(text: str | None) -> tuple[str, ...]:
    """``"srt,vtt"`` -> ``("srt", "vtt")``; anything else is a one-line usage error."""
    formats = tuple(dict.fromkeys(part.strip().lower().lstrip(".") for part in (text or "").split(",") if part.strip()))
    unknown = [name for name in formats if name not in SUBTITLE_FORMATS]
    if unknown:  # the command line's own words: srt,vtt
        raise OutputError(f'"{unknown[0]}" is not a subtitle format; use srt, vtt or srt,vtt',
                          field="{@subtitle_formats}")
    return formats


def overrides(set_: list[str] | None, time_scale: float | None, engine: str | None = None,
              music: Path | None = None, no_music: bool = False) -> tuple[Setting, ...]:
    """``--engine`` and ``--music``, then the ``--set`` flags in order, then ``--time-scale``, which therefore
    wins."""
    settings: tuple[Setting, ...] = (engine_setting(engine),) if engine is not None else ()
    settings += music_settings(music, no_music)
    settings += tuple(parse_setting(text) for text in set_ or ())
    return settings + ((time_scale_setting(time_scale),) if time_scale is not None else ())
