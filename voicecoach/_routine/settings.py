"""``--set PATH=VALUE`` and kin (``--engine``, ``--music``, ``--time-scale``, ``--matrix``) as ``Setting``s, and the
readable labels they add to a session's name."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .._errors import RoutineError
from .languages import SUPPORTED_LANGUAGES, phrases_for


@dataclass(frozen=True)
class Setting:
    """One ``--set PATH=VALUE``: a dotted path and its value, parsed as YAML."""

    path: str
    value: Any
    text: str
    flag: str = "{@set}"
    written_at: str | None = None  # a value a program made: where it wrote it (program.progression.PATH)

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(self.path.split("."))

    @property
    def origin(self) -> str:
        """How the setting is named in an error: ``--set voice.rate``, a flag that is short for one, or where a
        program wrote it."""
        if self.written_at:
            return self.written_at
        return self.flag if self.flag in SHORT_FLAGS else f"{self.flag} {self.path}"


def parse_setting(text: str, flag: str = "{@set}") -> Setting:
    """``"voice.rate=140"`` -> Setting("voice.rate", 140)."""
    path, equals, value_text = text.partition("=")
    path = path.strip()
    if not equals or not path or not value_text.strip():
        raise RoutineError(f'"{text}" is not PATH=VALUE; write e.g. `{flag} exercises.ankle-circles.hold=15s` '
                           f"or `{flag} voice.rate=140`", field=flag)
    if any(not part for part in path.split(".")):
        raise RoutineError(f'"{path}" is not a dotted path; write e.g. `defaults.rest=30s`', field=flag)
    return Setting(path, _yaml_value(value_text, f"{flag} {path}"), value_text.strip(), flag)


def parse_matrix(text: str) -> tuple[Setting, ...]:
    """``"voice.rate=140,180"`` -> one Setting per value (commas inside [..] or {..} do not split)."""
    path, equals, values_text = text.partition("=")
    if not equals or not path.strip() or not values_text.strip():
        raise RoutineError(f'"{text}" is not PATH=V1,V2,...; write e.g. '
                           "`{@matrix} exercises.calf-raises.hold=6s,10s`", field="{@matrix}")
    values = _split_values(values_text)
    if any(not value.strip() for value in values):
        raise RoutineError(f'"{text}" has an empty value; separate values with single commas', field="{@matrix}")
    return tuple(parse_setting(f"{path.strip()}={value}", flag="{@matrix}") for value in values)


def time_scale_setting(factor: float) -> Setting:
    return Setting("time_scale", factor, f"{factor:g}", flag="{@time_scale}")


def engine_setting(name: str) -> Setting:
    """``--engine piper``: short for ``--set voice.engine=piper``."""
    return Setting("voice.engine", name, name, flag="{@engine}")


def music_settings(music: Path | None, no_music: bool) -> tuple[Setting, ...]:
    """``--music PATH`` (a path from where the command runs, not from the routine) or ``--no-music``."""
    if music is not None and no_music:
        raise RoutineError("give either a music file or folder, or no music, not both", field="{@no_music}")
    if no_music:
        return (Setting("music", None, "none", flag="{@no_music}"), Setting("music_rest", None, "none",
                                                                             flag="{@no_music}"))
    if music is not None:  # instead of all the routine's music, the rests' too
        return (Setting("music", str(music.resolve()), music.stem or music.name, flag="{@music}"),
                Setting("music_rest", None, "none", flag="{@music}"))
    return ()


SHORT_FLAGS = ("{@time_scale}", "{@engine}", "{@music}", "{@no_music}")  # flags that each set one field


def _split_values(text: str) -> list[str]:
    values, depth, current = [], 0, ""
    for char in text:
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        if char == "," and depth == 0:
            values.append(current)
            current = ""
        else:
            current += char
    values.append(current)
    return values


def _yaml_value(text: str, origin: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        problem = getattr(error, "problem", None) or "is not a valid value"
        raise RoutineError(f'"{text}" cannot be read: {problem}; quote text, e.g. "\'Rest now\'"',
                           field=origin) from None


def labels_for(settings: Sequence[Setting]) -> tuple[str, ...]:
    """Readable name parts: ``rate 140``, ``hold 6s``; more of the path where two settings share a key.

    A language is named in itself (``Deutsch``), so a session's title is in its own language.
    """
    last_keys = [setting.parts[-1] for setting in settings]
    labels = []
    for setting, key in zip(settings, last_keys):
        if setting.flag == "{@music}" and setting.path == "music_rest":
            continue  # --music names itself once ("music calm")
        if setting.flag == "{@no_music}":
            if "no music" not in labels:
                labels.append("no music")
            continue
        code = setting.value.strip().lower() if isinstance(setting.value, str) else None
        if setting.parts == ("language",) and code in SUPPORTED_LANGUAGES:
            labels.append(phrases_for(code).name)
            continue
        words = setting.parts[-2:] if last_keys.count(key) > 1 and len(setting.parts) > 1 else setting.parts[-1:]
        labels.append(" ".join(word.replace("_", " ") for word in words) + f" {setting.text}")
    return tuple(labels)
