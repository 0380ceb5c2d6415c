"""TODO"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


from .._publish.files import write_all
from .._stores.remote import RemoteStore
from .._routine.load import RoutineFile
from .model import BatchResult, CatalogResult, SessionOutcome


def write_files(contents: Mapping[Path, str | bytes], store: RemoteStore | None = None) -> None:
    """The client's files (manifests, playlists, the catalog): here all together or none, or in a shared store
    each one whole (one object each)."""
    if store is None:
        write_all(contents)
        return
    for path, content in contents.items():
        store.write_bytes(path, content.encode() if isinstance(content, str) else content)


def catalog_data(results: Sequence[BatchResult], top: Path) -> dict:
    """``catalog.json``: every routine's folder and manifest, and every session with its status."""
    built, current, failed = CatalogResult(tuple(results)).counts
    return {
        "built": built, "up_to_date": current, "failed": failed,
        "routines": [{"folder": batch.folder.relative_to(top).as_posix(),
                      "manifest": batch.manifest_path.relative_to(top).as_posix()} for batch in results],
        "sessions": [{"routine": batch.folder.relative_to(top).as_posix(), "name": session.name,
                      "title": session.title,
                      "status": "failed" if not session.ok else "up to date" if session.up_to_date else "ok",
                      **({"file": session.result.mp3_path.relative_to(top).as_posix()} if session.result else
                         {"error": session.error})}
                     for batch in results for session in batch.sessions],
    }


# ---------------------------------------------------------------- playlist and manifest


def playlist_text(outcomes: Sequence[SessionOutcome]) -> str:
    """An extended M3U playlist (UTF-8, so .m3u8) of the built sessions, with their real durations."""
    lines = ["#EXTM3U"]
    for session in outcomes:
        if session.result is None:
            continue
        seconds = round(session.result.timeline.duration_ms / 1000)
        lines += [f"#EXTINF:{seconds},{session.title}", session.result.mp3_path.name]
    return "\n".join(lines) + "\n"


def manifest_data(routine_file: RoutineFile, outcomes: Sequence[SessionOutcome], playlist: str | None) -> dict:
    sessions = []
    for session in outcomes:
        entry: dict[str, Any] = {"track": session.track, "name": session.name, "title": session.title,
                                 "variant": session.spec.variant, "overrides": session.spec.overrides,
                                 "build_key": session.build_key}
        if session.result is not None:
            timeline = session.result.timeline
            entry.update(status="up to date" if session.up_to_date else "ok", file=session.result.mp3_path.name,
                         timeline=session.result.timeline_path.name, lyrics=session.result.lrc_path.name,
                         duration=round(timeline.duration_ms / 1000, 3), warnings=list(timeline.warnings))
        else:
            entry.update(status="failed", error=session.error)
        sessions.append(entry)
    return {"routine": routine_file.base.title, "source": routine_file.source.file, "playlist": playlist,
            "sessions": sessions}


def _write_index(routine_file: RoutineFile, folder: Path, outcomes: tuple[SessionOutcome, ...],
                 notices: tuple[str, ...], store: RemoteStore | None = None) -> BatchResult:
    playlist_path = folder / f"{routine_file.base.slug}.m3u8" if any(o.ok for o in outcomes) else None
    manifest_path = folder / "manifest.json"
    texts: dict[Path, str | bytes] = {
        manifest_path: json.dumps(manifest_data(routine_file, outcomes, playlist_path.name if playlist_path else None),
                                  indent=2, ensure_ascii=False, default=str) + "\n"}
    if playlist_path is not None:
        texts[playlist_path] = playlist_text(outcomes)
    write_files(texts, store)
    return BatchResult(folder, outcomes, playlist_path, manifest_path, notices, store)
