"""A podcast feed of built sessions, so that a podcast app can subscribe to them.

``write_feed(location, base_url)`` finds every session in a store (an MP3 with
its ``.timeline.json``, also in batch sub-folders; a folder or ``s3://...``),
writes each one's chapters as Podcasting 2.0 JSON chapters
(``NAME.chapters.json``) and its cover as ``NAME.cover.png``, then ``feed.xml``:
RSS 2.0 with the iTunes and Podcasting 2.0 namespaces, an enclosure and a
duration per session. All files are written whole or not at all. Serve the
store at ``base_url``.
"""

from __future__ import annotations

import email.utils
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from mutagen import MutagenError
from mutagen.id3 import ID3, ID3NoHeaderError

from .._audio.timeline import Timeline
from .._errors import OutputError
from .._routine.languages import DEFAULT_LANGUAGE, prevailing_language, words_for
from .._routine.model import ProgramDay
from .._stores import Relative, Store, open_store
from .names import SessionFiles
from .tags import TIMELINE_HASH_TAG, program_day, tag_values, timeline_sha256

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
FEED_NAME = "feed.xml"


@dataclass(frozen=True)
class FeedSession:
    mp3: Path  # its place in the store
    title: str
    album: str
    duration_s: float
    track: int
    description: str | None
    chapters: tuple[tuple[str, float], ...]  # (title, start in seconds)
    cover: bytes | None
    language: str = DEFAULT_LANGUAGE  # the session's, from its timeline
    timeline: Timeline | None = field(default=None, compare=False, repr=False)
    size_bytes: int = 0
    modified_s: float = 0.0
    day: ProgramDay | None = None  # a program's session: its week and day, weekday and date (from its tags)


@dataclass(frozen=True)
class FeedResult:
    path: str  # where feed.xml is: a path, or a URL
    sessions: tuple[FeedSession, ...]
    warnings: tuple[str, ...] = ()  # one per damaged session left out


@dataclass(frozen=True)
class DamagedSession:
    """A session that cannot be listed: its MP3 (its place in the store), and why (one line)."""

    mp3: Path
    problem: str


def scan_sessions(store: Store, refuse: Callable[[Path], str | None] = lambda mp3: None,
                  ) -> tuple[list[FeedSession], list[DamagedSession]]:
    """Every built session in ``store`` (an MP3 with its ``.timeline.json``), and those that are damaged.

    A session is its build, not its file: the same build found twice (``build`` and then ``batch`` into one
    folder) is listed once, by the timeline hash in its tags. A damaged one never hides the others.
    ``refuse(mp3)`` may say why a session found is not to be listed (``serve``: one no build wrote).
    """
    sessions: list[FeedSession] = []
    damaged: list[DamagedSession] = []
    seen: set[str] = set()
    found = {info.name: info for info in store.walk("")}
    for name in sorted((name for name in found if name.endswith(".mp3")), key=lambda name: (name.count("/"), name)):
        mp3 = Path(name)
        files = SessionFiles.of_mp3(mp3)
        if any(part.startswith(".") for part in mp3.parts) or files.timeline.as_posix() not in found:
            continue
        problem = refuse(mp3)
        if problem is not None:
            damaged.append(DamagedSession(mp3, f"{store.where(mp3)}: {problem}"))
            continue
        try:
            text = (store.read(files.timeline) or b"").decode("utf-8")
            timeline = Timeline.from_json(text)
        except (ValueError, UnicodeDecodeError, OutputError) as error:
            damaged.append(DamagedSession(mp3, f"{store.where(files.timeline)}: is damaged ({error}); build the "
                                               "session again"))
            continue
        try:
            with store.open(mp3) as handle:
                tags = ID3(handle)
        except ID3NoHeaderError:
            tags = ID3()
        except (MutagenError, OSError) as error:
            damaged.append(DamagedSession(mp3, f"{store.where(mp3)}: is damaged ({error}); build the session again"))
            continue
        build = tag_values(tags, TIMELINE_HASH_TAG)
        if build and build[0] != timeline_sha256(text):
            damaged.append(DamagedSession(mp3, f"{store.where(mp3)}: does not match its timeline (the timeline hash "
                                               "in its tags differs); build the session again"))
            continue
        if build and build[0] in seen:
            continue
        seen.update(build)
        album = str(tags["TALB"].text[0]) if "TALB" in tags else timeline.title
        try:
            track = int(str(tags["TRCK"].text[0]).split("/")[0]) if "TRCK" in tags else 0
        except ValueError:
            track = 0
        comments = tags.getall("COMM")
        covers = tags.getall("APIC")
        sessions.append(FeedSession(
            mp3, timeline.title, album, timeline.duration_ms / 1000, track,
            str(comments[0].text[0]) if comments else None,
            tuple((chapter.title, chapter.start_ms / 1000) for chapter in timeline.chapters),
            covers[0].data if covers else None, timeline.language, timeline, found[name].size_bytes,
            found[name].modified_s, program_day(tags)))
    return sorted(sessions, key=lambda s: (s.album, s.track, s.mp3.name)), damaged


def chapters_json(timeline: Timeline) -> str:
    """Podcasting 2.0 JSON chapters (https://github.com/Podcastindex-org/podcast-namespace)."""
    return json.dumps({"version": "1.2.0", "chapters": [{"startTime": chapter.start_ms / 1000, "title": chapter.title}
                                                        for chapter in timeline.chapters]},
                      indent=2, ensure_ascii=False) + "\n"


def write_feed(location: str | Path | Store, base_url: str) -> FeedResult:
    """Write ``feed.xml`` (and each session's chapters and cover) into the store at ``location``."""
    if not base_url.startswith(("http://", "https://")):
        raise OutputError(f'"{base_url}" is not a web address; give the address the folder is served at, '
                          "e.g. {@base_url} http://192.168.1.20:8000/", field="{@base_url}")
    store = open_store(location, "folder")
    base_url = base_url.rstrip("/") + "/"
    sessions, damaged = scan_sessions(store)
    if not sessions:
        raise OutputError("has no built sessions (an .mp3 with its .timeline.json); build some first, "
                          "e.g. `voicecoach build`", file=store.where())
    files: dict[Relative, bytes] = {}
    for session in sessions:
        session_files = SessionFiles.of_mp3(session.mp3)
        if session.timeline is not None:
            files[session_files.chapters] = chapters_json(session.timeline).encode()
        if session.cover:
            files[session_files.cover] = session.cover
    feed_path = Path(FEED_NAME)
    files[feed_path] = feed_xml(sessions, base_url).encode()
    store.write_all(files)
    return FeedResult(store.where(feed_path), tuple(sessions), tuple(session.problem for session in damaged))


def feed_xml(sessions: list[FeedSession], base_url: str) -> str:
    ET.register_namespace("itunes", ITUNES)
    ET.register_namespace("podcast", PODCAST)
    albums = list(dict.fromkeys(session.album for session in sessions))
    # RSS has one language per feed: the sessions', or the one most of them are in.
    languages = [session.language for session in sessions]
    language = prevailing_language(languages)
    words = words_for(language)
    title = albums[0] if len(albums) == 1 else words.label("sessions")

    def url(path: Path) -> str:
        return base_url + "/".join(quote(part) for part in path.parts)


    rss = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(rss, "channel")
    ET.SubElement(channel, "title").text = title
    ET.SubElement(channel, "link").text = base_url
    ET.SubElement(channel, "description").text = (
        sessions[0].description if len(albums) == 1 and sessions[0].description
        else f"{words.label('sessions')}: {', '.join(albums)}")
    ET.SubElement(channel, "language").text = language
    ET.SubElement(channel, "generator").text = "voicecoach"
    ET.SubElement(channel, f"{{{ITUNES}}}author").text = "voicecoach"
    ET.SubElement(channel, f"{{{ITUNES}}}explicit").text = "false"
    ET.SubElement(channel, f"{{{ITUNES}}}category", {"text": "Health & Fitness"})
    first_cover = next((session for session in sessions if session.cover), None)
    if first_cover:
        image = ET.SubElement(channel, "image")
        ET.SubElement(image, "url").text = url(SessionFiles.of_mp3(first_cover.mp3).cover)
        ET.SubElement(image, "title").text = title
        ET.SubElement(image, "link").text = base_url
        ET.SubElement(channel, f"{{{ITUNES}}}image", {"href": url(SessionFiles.of_mp3(first_cover.mp3).cover)})
    for number, session in enumerate(sessions, start=1):
        item = ET.SubElement(channel, "item")
        ET.SubElement(item, "title").text = session.title
        ET.SubElement(item, "description").text = session.description or session.title
        ET.SubElement(item, "enclosure", {"url": url(session.mp3), "length": str(session.size_bytes),
                                          "type": "audio/mpeg"})
        ET.SubElement(item, "guid", {"isPermaLink": "false"}).text = session.mp3.as_posix()
        ET.SubElement(item, "pubDate").text = email.utils.formatdate(session.modified_s, usegmt=True)
        ET.SubElement(item, f"{{{ITUNES}}}duration").text = str(round(session.duration_s))
        ET.SubElement(item, f"{{{ITUNES}}}episode").text = str(session.track or number)
        if session.cover:
            ET.SubElement(item, f"{{{ITUNES}}}image", {"href": url(SessionFiles.of_mp3(session.mp3).cover)})
        ET.SubElement(item, f"{{{PODCAST}}}chapters", {"url": url(SessionFiles.of_mp3(session.mp3).chapters),
                                                        "type": "application/json+chapters"})
    ET.indent(rss)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(rss, encoding="unicode") + "\n"
