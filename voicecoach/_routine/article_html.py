"""An HTML article as lines for ``voicecoach import``.

Its text without head, navigation, asides and footer; headings become ``#``
lines and list items bullets. A table of exercises (a header row with an
exercise column and a sets, reps, hold or rest column) becomes one placeholder
line, ``TABLE_LINE`` and its number, and its body rows are kept cell by cell,
named by their column, so that values are read by column and never from a
caption, a footer row or a neighbouring cell.
"""

from __future__ import annotations

import html.parser
import re
from dataclasses import dataclass, field

TABLE_LINE = "\x00table "
_SKIPPED_TAGS = {"head", "script", "style", "nav", "header", "footer", "aside", "form", "noscript", "svg", "button"}
_BLOCK_TAGS = {"p", "div", "li", "ul", "ol", "br", "tr", "table", "section", "article", "main", "blockquote", "hr",
               "dd", "dt", "h1", "h2", "h3", "h4", "h5", "h6", "caption"}
# A header cell's kind of column; the first that matches names it ("How to do it" is the instructions).
_COLUMNS = (("how", r"how|instructions?|description|what to do|technique|cues?|notes?"),
            ("name", r"exercises?|name|movements?|stretch(?:es)?|moves?"),
            ("sets", r"sets?|rounds?"),
            ("reps", r"reps?|repetitions?|times|count"),
            ("hold", r"hold|duration|time|seconds"),
            ("rest", r"rest|break|recovery|pause"))
_VALUE_COLUMNS = {"sets", "reps", "hold", "rest"}

TableRow = dict[str, str]  # column kind ("name", "how", "sets", "reps", "hold", "rest") -> the cell's text


@dataclass
class _Table:
    start: int  # the line the table began on
    part: str = "body"  # thead, tbody or tfoot
    rows: list[tuple[str, bool, list[str]]] = field(default_factory=list)  # (part, all header cells, cells)


class _TextOfHtml(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]
        self.skipping = 0
        self.open_tables: list[_Table] = []
        self.tables: list[list[TableRow]] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _SKIPPED_TAGS:
            self.skipping += 1
        if tag in _BLOCK_TAGS:
            self.lines.append("")
        if self.skipping:
            return
        if tag == "li":
            self.lines[-1] = "- "
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self.lines[-1] = "#" * int(tag[1]) + " "
        if tag == "table":
            self.open_tables.append(_Table(len(self.lines) - 1))
        table = self.open_tables[-1] if self.open_tables else None
        if table is None:
            return
        if tag in ("thead", "tbody", "tfoot"):
            table.part = tag
        elif tag == "tr":
            table.rows.append((table.part, True, []))
        elif tag in ("td", "th") and table.rows:
            part, all_header, cells = table.rows[-1]
            cells.append("")
            table.rows[-1] = (part, all_header and tag == "th", cells)
            self.lines[-1] += " "

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self.skipping = max(0, self.skipping - 1)
        if tag in _BLOCK_TAGS:
            self.lines.append("")
        if tag == "table" and self.open_tables and not self.skipping:
            table = self.open_tables.pop()
            rows = _exercise_rows(table)
            if rows is not None:  # its text is read by column, not as lines
                del self.lines[table.start:]
                self.lines += [f"{TABLE_LINE}{len(self.tables)}", ""]
                self.tables.append(rows)

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        self.lines[-1] += " ".join(data.split()) if data.strip() else (" " if data else "")
        if self.open_tables and self.open_tables[-1].rows and self.open_tables[-1].rows[-1][2]:
            self.open_tables[-1].rows[-1][2][-1] += data


def _exercise_rows(table: _Table) -> list[TableRow] | None:
    """The body rows of a table of exercises, by column; None for any other table (a weekly plan, prices)."""
    header = next((cells for part, all_header, cells in table.rows if part == "thead" or all_header), None)
    if not header:
        return None
    kinds: list[str | None] = []
    for cell in header:
        text = " ".join(cell.split())
        kinds.append(next((kind for kind, pattern in _COLUMNS if re.search(rf"\b(?:{pattern})\b", text, re.I)
                           and kind not in kinds), None))
    if "name" not in kinds or not _VALUE_COLUMNS & set(kinds):
        return None
    rows = []
    for part, all_header, cells in table.rows:
        if part in ("thead", "tfoot") or all_header or len(cells) != len(header):
            continue
        row = {kind: " ".join(cell.split()) for kind, cell in zip(kinds, cells) if kind}
        if row.get("name"):
            rows.append(row)
    return rows


def html_lines(text: str) -> tuple[list[str], list[list[TableRow]]]:
    """An HTML page's text as lines (headings as Markdown headings, list items as bullets), and its tables of
    exercises, each standing in the lines as ``TABLE_LINE`` and its number."""
    parser = _TextOfHtml()
    parser.feed(text)
    parser.close()
    return [" ".join(line.split()).replace(" ,", ",") for line in parser.lines], parser.tables
