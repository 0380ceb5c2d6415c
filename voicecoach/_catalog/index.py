"""A catalog's indexes: each routine's playlist and manifest, and ``catalog.json`` over all of them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._routine.load import RoutineFile
from .._stores import Relative, Store
from .model import CATALOG_NAME, BatchResult, CatalogResult, SessionOutcome


def _json(data: Any) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n").encode()


def playlist_text(outcomes: Sequence[SessionOutcome]) -> str:
    """An extended M3U playlist (UTF-8, so .m3u8) of the built sessions, with their real durations."""
    lines = ["#EXTM3U"]
    for session in outcomes:
        if session.result is None:
            continue
        seconds = round(session.result.timeline.duration_ms / 1000)
        lines += [f"#EXTINF:{seconds},{session.title}", session.result.files.mp3.name]
    return "\n".join(lines) + "\n"


def manifest_data(routine_file: RoutineFile, outcomes: Sequence[SessionOutcome], playlist: str | None) -> dict:
    sessions = []
    for session in outcomes:
        entry: dict[str, Any] = {"track": session.track, "name": session.name, "title": session.title,
                                 "variant": session.spec.variant, "overrides": session.spec.overrides,
                                 "build_key": session.build_key}
        if session.spec.day is not None:  # a program's session: its day, and the values the program made
            entry["program"] = {**session.spec.day.to_dict(),
                                "values": {setting.path: setting.value for setting in session.spec.made}}
        if session.shared_from is not None:
            entry["audio_from"] = session.shared_from  # a copy of that session's audio: it was not encoded again
        if session.result is not None:
            timeline, files = session.result.timeline, session.result.files
            entry.update(status="up to date" if session.up_to_date else "ok", file=files.mp3.name,
                         timeline=files.timeline.name, lyrics=files.lrc.name,
                         duration=round(timeline.duration_ms / 1000, 3), warnings=list(timeline.warnings))
        else:
            entry.update(status="failed", error=session.error)
        sessions.append(entry)
    return {"routine": routine_file.base.title, "source": routine_file.source.file, "playlist": playlist,
            "sessions": sessions}


def write_index(routine_file: RoutineFile, folder: Path, outcomes: tuple[SessionOutcome, ...],
                notices: tuple[str, ...], store: Store) -> BatchResult:
    """The routine's manifest, and its playlist when a session was built: each file whole (in a folder, both
    together)."""
    playlist = folder / f"{routine_file.base.slug}.m3u8" if any(o.ok for o in outcomes) else None
    manifest = folder / "manifest.json"
    listed = playlist.name if playlist else None
    files: dict[Relative, bytes] = {manifest: _json(manifest_data(routine_file, outcomes, listed))}
    if playlist is not None:
        files[playlist] = playlist_text(outcomes).encode()
    store.write_all(files)
    return BatchResult(folder, outcomes, playlist, manifest, notices, store, routine_file.base.title)


def catalog_data(results: Sequence[BatchResult]) -> dict:
    """``catalog.json``: every routine's folder and manifest, and every session with its status."""
    built, current, failed = CatalogResult(tuple(results)).counts
    return {
        "built": built, "up_to_date": current, "failed": failed,
        "routines": [{"folder": batch.folder_in_store.as_posix(), "manifest": batch.manifest_in_store.as_posix()}
                     for batch in results],
        "sessions": [{"routine": batch.folder_in_store.as_posix(), "name": session.name, "title": session.title,
                      "status": "failed" if not session.ok else "up to date" if session.up_to_date else "ok",
                      **({"file": session.result.files.mp3.as_posix()} if session.result else
                         {"error": session.error})}
                     for batch in results for session in batch.sessions],
    }


def write_catalog(results: Sequence[BatchResult], store: Store) -> Path:
    path = Path(CATALOG_NAME)
    store.write(path, _json(catalog_data(results)))
    return path
