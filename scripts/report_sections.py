"""docs/benchmarks.md is written by four scripts: scripts/bench.py writes its top part, and each other script
owns one section at the end, in the order of SECTIONS. Each replaces its own part and keeps the others."""

from __future__ import annotations

from pathlib import Path

# bench_catalog.py's, bench_serve.py's and bench_program.py's
SECTIONS = ("## Catalogs: local pool and Dask", "## serve under abuse", "## Programs")


def write_section(path: Path, heading: str | None, text: str) -> None:
    """Put ``text`` in place of ``heading``'s section (None: the top part, above every section) in ``path``."""
    old = path.read_text(encoding="utf-8") if path.exists() else "# voicecoach benchmarks\n"
    starts = sorted((old.index(name), name) for name in SECTIONS if name in old)
    bounds = [0, *(start for start, _ in starts), len(old)]
    parts: dict[str | None, str] = {None: old[:bounds[1]]}
    for (start, name), end in zip(starts, bounds[2:]):
        parts[name] = old[start:end]
    parts[heading] = text
    ordered = [parts[name] for name in (None, *SECTIONS) if name in parts]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n\n".join(part.strip("\n") for part in ordered if part.strip()) + "\n", encoding="utf-8")
