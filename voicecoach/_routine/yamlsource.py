"""Read YAML safely and remember the line of every value.

PyYAML's safe loader builds no Python objects from tags, but it forgets where
each value came from. We compose the node tree ourselves so that every error
can say ``file:line``, and we count nodes so that an alias bomb ("billion
laughs") is refused long before it eats memory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from .._errors import RoutineError
from .durations import show_value

Path = tuple[str | int, ...]
MAX_NODES = 100_000
MAX_DEPTH = 64
_STANDARD = "tag:yaml.org,2002:"
_COLLECTION_TAGS = {_STANDARD + "map", _STANDARD + "seq"}
# Plain values only: no !!binary (bytes), no !!python/..., no tag voicecoach does not know.
_SCALAR_TAGS = {_STANDARD + name for name in ("str", "int", "float", "bool", "null", "timestamp")}
_MERGE_TAG = _STANDARD + "merge"
_VALUE_TAG = _STANDARD + "value"


def format_path(path: Path) -> str:
    """``("exercises", 2, "hold")`` -> ``"exercises[2].hold"``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


@dataclass
class SourceMap:
    """Where each value of a YAML document was written.

    After a variant or a ``--set`` is merged in, a path may come from elsewhere:
    ``origins`` maps a merged path to the path a person wrote (for a variant,
    ``variants.quick.exercises.ankle-circles.hold``; for a flag, ``--set ...``),
    and a line of ``None`` means the value has no line (it came from a flag).
    ``written`` keeps the text of every value YAML read as something other than
    text (``no`` read as false, ``2024-01-01`` as a date), so that a message can
    suggest quoting exactly what was written.
    """

    file: str
    lines: dict[Path, int | None] = field(default_factory=dict)
    origins: dict[Path, Path] = field(default_factory=dict)
    written: dict[Path, str] = field(default_factory=dict)

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
        return RoutineError(message.replace("\n", " "), file=self.file, line=line, field=field_text)


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
        return _Builder(loader, source).build(node, ()), source
    except yaml.MarkedYAMLError as error:
        raise _syntax_error(error, file) from None
    except yaml.YAMLError as error:
        raise RoutineError(f"YAML syntax error: {error}; check the quotes, brackets, colons and indentation",
                           file=file) from None
    except RecursionError:
        mark = loader.get_mark()
        raise RoutineError(f"the values are nested too deeply (more than {MAX_DEPTH} lists or mappings inside each "
                           "other); a routine needs only a few levels, so remove the extra [ or {",
                           file=file, line=mark.line + 1 if mark else None) from None
    finally:
        loader.dispose()


def show_tag(tag: str) -> str:
    """``tag:yaml.org,2002:python/name:os.system`` -> ``!!python/name:os.system``, as it was written."""
    return "!!" + tag[len(_STANDARD):] if tag.startswith(_STANDARD) else tag


MAX_KEY_CHARS = 1024  # YAML's longest implicit key


def _long_key(mark: yaml.Mark | None) -> yaml.Mark | None:
    """``mark`` when its line has a key longer than YAML allows (PyYAML then reports a missing `:` or an
    unclosed bracket, which would mislead), else None."""
    if mark is None or not isinstance(mark.buffer, str):
        return None
    start = mark.buffer.rfind("\n", 0, mark.pointer) + 1
    end = mark.buffer.find("\n", mark.pointer)
    line = mark.buffer[start:end if end >= 0 else len(mark.buffer)]
    return mark if re.search(rf"[^\s:{{}}\[\],]{{{MAX_KEY_CHARS + 1},}}\s*:", line) else None


def _syntax_error(error: yaml.MarkedYAMLError, file: str) -> RoutineError:
    """PyYAML's complaint in plain words, on the line where the mistake most likely is, with a fix."""
    problem = error.problem or error.context or "this is not valid YAML"
    context = error.context or ""
    mark = error.problem_mark or error.context_mark
    message = None
    long_key = _long_key(error.problem_mark) or _long_key(error.context_mark)
    if long_key is not None:
        mark = long_key
        message = (f"a key is longer than {MAX_KEY_CHARS:,} characters, the most YAML allows; a routine's keys are "
                   "short words, e.g. `hold:` (a long text goes after the `:`)")
    elif "cannot start any token" in problem and "'" in problem:
        char = problem.split("'")[1]
        message = f'a value cannot start with {char}; put the whole text in double quotes: "{char}..."'
    elif context.startswith("while parsing a flow") and error.context_mark is not None:
        opened, closed = ("[", "]") if "sequence" in context else ("{", "}")
        mark = error.context_mark
        example = "sides: [left, right]" if opened == "[" else "voice: {name: en-gb, rate: 150}"
        message = (f"the {opened} here is not closed where it should be; end it with {closed} on the same line, "
                   f"e.g. `{example}`")
    elif context.startswith("while scanning a quoted scalar") and error.context_mark is not None:
        mark = error.context_mark
        message = "the quote that starts here is never closed; end the text with the same quote mark"
    elif context.startswith("while scanning a simple key") and error.context_mark is not None:
        mark = error.context_mark
        message = "this line has no `:` after its key; write `key: value`, e.g. `hold: 10s`"
    elif context.startswith("while scanning an alias") or context.startswith("while scanning an anchor"):
        char = "*" if "alias" in context else "&"
        message = f"a value cannot start with {char}; put the text in quotes, e.g. `cue: \"{char}slowly{char}\"`"
    elif problem.startswith("found undefined alias"):
        message = ("a value starts with * but is not an alias defined with & above; put the text in quotes, "
                   "e.g. `cue: \"*slowly*\"`")
    elif problem == "mapping values are not allowed here":
        message = ("unexpected `:` here; put text that contains `: ` in quotes (e.g. "
                   "`instructions: \"Lift your hips: hold them there\"`), or line this key up with the keys above it")
    elif problem == "but found another document":
        message = ("a second YAML document starts here (`---`); a routine file holds one routine, so remove the "
                   "`---` and what follows, or move it to a file of its own")
    elif problem.startswith("expected <block end>, but found '<scalar>'"):
        message = ("more text follows a closing quote or bracket; put the whole text in double quotes, "
                   "e.g. `cue: \"Don't lock your knee\"`")
    elif context.startswith("while scanning a block scalar"):
        message = "a value cannot start with | or >; put the whole text in double quotes, e.g. `cue: \"> 90 degrees\"`"
    elif problem == "sequence entries are not allowed here":
        message = ("a list item (`- `) cannot start here; put text that starts with `- ` in quotes, or start the "
                   "list on the line below its key")
    elif problem.startswith("expected <block"):
        message = ("the indentation does not match the lines above; line up the keys of one exercise under each "
                   "other, and each `- ` of a list under the one before")
    if message is None:
        message = f"{problem}; check the quotes, brackets, colons and indentation on this line and the one above"
    line = mark.line + 1 if mark else None
    return RoutineError(f"YAML syntax error: {message}", file=file, line=line)


class _Builder:
    """Turns the composed node tree into plain values, recording lines and refusing what a routine never needs.

    Every value built and every pair a ``<<`` merge copies is counted against
    ``MAX_NODES``, so neither an alias bomb nor a merge bomb can grow without
    bound; an alias inside the very collection it names is refused, not
    followed forever.
    """

    def __init__(self, loader: yaml.SafeLoader, source: SourceMap) -> None:
        self.loader = loader
        self.source = source
        self.budget = MAX_NODES
        self.active: set[int] = set()  # collections being built: an alias to one of them is a loop
        self.pair_counts: dict[int, int | None] = {}

    def error(self, node: yaml.Node, path: Path, message: str) -> RoutineError:
        return RoutineError(message, file=self.source.file, line=node.start_mark.line + 1,
                            field=format_path(path) or None)

    def spend(self, count: int, node: yaml.Node) -> None:
        self.budget -= count
        if self.budget < 0:
            raise RoutineError(f"the document is too large or expands too many aliases (over {MAX_NODES} values); "
                               "a routine needs far fewer, so write the values out instead of repeating aliases",
                               file=self.source.file, line=node.start_mark.line + 1)

    def check_tag(self, node: yaml.Node, path: Path) -> None:
        allowed = _SCALAR_TAGS if isinstance(node, yaml.ScalarNode) else _COLLECTION_TAGS
        if node.tag not in allowed:
            raise self.error(node, path, f"the YAML tag {show_tag(node.tag)} is not allowed in a routine; "
                                         "write plain values, without a tag")

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.spend(1, node)
        self.source.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.ScalarNode) and node.tag in (_MERGE_TAG, _VALUE_TAG):
            return node.value  # a plain `<<` or `=` where a value goes is just text
        self.check_tag(node, path)
        if isinstance(node, yaml.ScalarNode):
            value = self.scalar(node, path)
            if not isinstance(value, str):
                self.source.written[path] = node.value
            return value
        if id(node) in self.active:
            raise self.error(node, path, "an alias (*name) is used inside the list or mapping it names, which "
                                         "would repeat forever; write the values out instead")
        if len(path) > MAX_DEPTH:
            raise self.error(node, (), f"the values are nested more than {MAX_DEPTH} levels deep; a routine "
                                         "needs only a few levels, so remove the extra lists or mappings")
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self.mapping(node, path)
            return [self.build(item, path + (index,)) for index, item in enumerate(node.value)]
        finally:
            self.active.discard(id(node))

    def scalar(self, node: yaml.ScalarNode, path: Path) -> Any:
        try:
            return self.loader.construct_object(node, deep=True)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError):
            buffer, pointer = node.start_mark.buffer, node.start_mark.pointer
            tagged = isinstance(buffer, str) and buffer[pointer:pointer + 1] == "!"
            if node.tag == _STANDARD + "int" and not tagged:  # more digits than Python reads (4,300)
                raise self.error(node, path, f"{node.value[:20]}... is a number of {len(node.value):,} digits, "
                                             "far too large; write a number of a few digits") from None
            if node.tag != _STANDARD + "timestamp":
                raise self.error(node, path, f'{show_value(node.value)} cannot be read as {show_tag(node.tag)}; '
                                             "remove the tag and write a plain value") from None
            return node.value  # looks like a date but is none (2024-02-30): it is text

    def key(self, node: yaml.Node, path: Path) -> str:
        if not isinstance(node, yaml.ScalarNode):
            raise self.error(node, path, "this key is a list or mapping; write a key as a plain word followed "
                                         "by `:`, e.g. `hold:`")
        if node.tag == _VALUE_TAG:
            return node.value
        self.check_tag(node, path)
        key = self.scalar(node, path)
        return key if isinstance(key, str) else node.value

    def mapping(self, node: yaml.MappingNode, path: Path) -> dict[str, Any]:
        # A `<<: *other` merge copies the other mapping's pairs; keys written here win over merged ones,
        # and an earlier merged mapping over a later one (as YAML's merge key says).
        entries = [(self.key(key_node, path), key_node, value_node, merged)
                   for key_node, value_node, merged in self.pairs(node, path)]
        written: set[str] = set()
        for key, key_node, _, merged in entries:
            if merged:
                continue
            if key in written:
                raise self.error(key_node, path + (key,), f'"{key}" is written twice in the same mapping; keep one')
            written.add(key)
        result: dict[str, Any] = {}
        for key, key_node, value_node, merged in entries:
            if key in result or (merged and key in written):
                continue
            self.source.lines[path + (key,)] = key_node.start_mark.line + 1
            result[key] = self.build(value_node, path + (key,))
        return result

    def pairs(self, node: yaml.MappingNode, path: Path) -> list[tuple[yaml.Node, yaml.Node, bool]]:
        """The mapping's pairs, merged ones (flagged True) first, in the order YAML gives them priority."""
        merged: list[tuple[yaml.Node, yaml.Node, bool]] = []
        written: list[tuple[yaml.Node, yaml.Node, bool]] = []
        for key_node, value_node in node.value:
            if key_node.tag != _MERGE_TAG:
                written.append((key_node, value_node, False))
                continue
            sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            for source in sources:
                if not isinstance(source, yaml.MappingNode):
                    raise self.error(source, path, "`<<:` merges a mapping (an alias like `*base`) or a list of "
                                                   "them; write the keys out instead")
                self.spend(self.pair_count(source, path), source)
                merged.extend((key, value, True) for key, value, _ in self.pairs(source, path))
        return merged + written

    def pair_count(self, node: yaml.MappingNode, path: Path) -> int:
        """How many pairs the mapping has once its merges are copied in, counted without copying (capped)."""
        known = id(node)
        if known in self.pair_counts:
            count = self.pair_counts[known]
            if count is None:
                raise self.error(node, path, "a `<<:` merge includes the mapping it is written in, which would "
                                             "repeat forever; write the keys out instead")
            return count
        self.pair_counts[known] = None
        count = 0
        for key_node, value_node in node.value:
            if key_node.tag != _MERGE_TAG:
                count += 1
                continue
            sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            for source in sources:
                if isinstance(source, yaml.MappingNode):
                    count = min(MAX_NODES + 1, count + self.pair_count(source, path))
        self.pair_counts[known] = count
        return count
