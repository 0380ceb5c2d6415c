"""Read YAML safely and remember the line of every value.

PyYAML's safe loader builds no Python objects from tags, but it forgets where
each value came from. We compose the node tree ourselves so that every error
can say ``file:line``, and we count nodes so that an alias bomb ("billion
laughs") is refused long before it eats memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from .errors import RoutineError

Path = tuple[str | int, ...]
MAX_NODES = 100_000
_PLAIN_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}


def format_path(path: Path) -> str:
    """``("exercises", 2, "hold")`` -> ``"exercises[2].hold"``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def parse_path(dotted: str) -> Path:
    """``"exercises[2].hold"`` -> ``("exercises", 2, "hold")``."""
    parts: list[str | int] = []
    for piece in dotted.replace("]", "").split("."):
        name, *indexes = piece.split("[")
        if name:
            parts.append(name)
        parts.extend(int(index) for index in indexes)
    return tuple(parts)


@dataclass
class SourceMap:
    """Where each value of a YAML document was written.

    After a variant or a ``--set`` is merged in, a path may come from elsewhere:
    ``origins`` maps a merged path to the path a person wrote (for a variant,
    ``variants.quick.exercises.ankle-circles.hold``; for a flag, ``--set ...``),
    and a line of ``None`` means the value has no line (it came from a flag).
    """

    file: str
    lines: dict[Path, int | None] = field(default_factory=dict)
    origins: dict[Path, Path] = field(default_factory=dict)

    def line_of(self, path: Path) -> int | None:
        """The line of ``path``, or of its nearest written parent."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), None)

    def written_as(self, path: Path) -> str:
        """``path`` as the person wrote it: through a variant or a flag when it came from one."""
        path = tuple(path)
        for cut in range(len(path), 0, -1):
            origin = self.origins.get(path[:cut])
            if origin is not None:
                return format_path(origin + path[cut:])
        return format_path(path)

    def locate(self, path: Path) -> tuple[int | None, str | None]:
        """(line, field) for an error about ``path``."""
        return self.line_of(path), self.written_as(path) or None

    def error(self, path: Path, message: str) -> RoutineError:
        line, field_text = self.locate(path)
        return RoutineError(message, file=self.file, line=line, field=field_text)


def load_yaml_text(text: str, file: str) -> tuple[Any, SourceMap]:
    """Parse ``text`` into plain Python values plus a map of their lines."""
    source = SourceMap(file)
    if "\t" in text:
        for number, line in enumerate(text.splitlines(), start=1):
            indent = line[: len(line) - len(line.lstrip(" \t"))]
            if "\t" in indent:
                raise RoutineError("a tab is used for indenting; YAML needs spaces (replace each tab with two spaces)",
                                   file=file, line=number)
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise RoutineError("the file is empty; start with a title and exercises (see `voicecoach init`)",
                               file=file, line=1)
        budget = [MAX_NODES]
        return _build(loader, node, (), source, budget), source
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        problem = error.problem or error.context or "is not valid YAML"
        if "could not determine a constructor" in str(problem):
            problem = f"{problem}; YAML tags are not allowed in a routine, write plain values"
        raise RoutineError(f"YAML syntax error: {problem}", file=file, line=line) from None
    except yaml.YAMLError as error:
        raise RoutineError(f"YAML syntax error: {error}", file=file) from None
    finally:
        loader.dispose()


def _build(loader: yaml.SafeLoader, node: yaml.Node, path: Path, source: SourceMap, budget: list[int]) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise RoutineError(f"the document is too large or expands too many aliases (over {MAX_NODES} values)",
                           file=source.file, line=node.start_mark.line + 1)
    source.lines.setdefault(path, node.start_mark.line + 1)
    if not isinstance(node, yaml.ScalarNode) and node.tag not in _PLAIN_TAGS:
        raise RoutineError(f"the YAML tag {node.tag} is not allowed in a routine; write plain values",
                           file=source.file, line=node.start_mark.line + 1, field=format_path(path) or None)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                key = str(key)
            if key in result:
                raise RoutineError(f'"{key}" is written twice in the same mapping; keep one',
                                   file=source.file, line=line, field=format_path(path + (key,)))
            source.lines[path + (key,)] = line
            result[key] = _build(loader, value_node, path + (key,), source, budget)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(loader, item, path + (index,), source, budget) for index, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)
