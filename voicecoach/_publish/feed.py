"""A podcast feed of built sessions, so that a podcast app can subscribe to them.

``write_feed(location, base_url)`` finds every session in a store (an MP3 with
its ``.timeline.json``, also in batch sub-folders; a folder or ``s3://...``),
writes each one's chapters as Podcasting 2.0 JSON chapters
(``NAME.chapters.json``) and its cover as ``NAME.cover.png``, then ``feed.xml``:
RSS 2.0 with the iTunes and Podcasting 2.0 namespaces, an enclosure and a
duration per session. All files are written whole or not at all. Serve the
store at ``base_url``.

A program's sessions (``batch --program``) are listed in program order, each
a season (its week) and an episode (its day) in the iTunes and Podcasting 2.0
tags, and published on its own day (noon UTC) when the program has a start
date, else a minute apart in program order; a feed of one program is
``serial``. Other sessions are published when their MP3 was written.
"""

from __future__ import annotations

import datetime
import email.utils
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
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
# A program day is published at noon UTC: that instant is on the same calendar date everywhere from UTC-11 to
# UTC+11, so a podcast app shows the day the program means in (almost) every time zone.
PROGRAM_DAY_TIME = datetime.time(12, tzinfo=datetime.UTC)
PROGRAM_STEP_S = 60  # a program without a start date: one minute between days, enough for apps to keep the order


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
    return sorted(sessions, key=listing_order), damaged


def listing_order(session: FeedSession) -> tuple[str, bool, int, int, int, str]:
    """Album by album, by track; a program's sessions by week and day, so it reads in program order whatever
    its tracks say (a feed, a page and a podcast app all list them in the order they are meant to be done)."""
    day = session.day
    return (session.album, day is None, day.week if day else 0, day.day if day else 0, session.track,
            session.mp3.name)


def published_s(sessions: Sequence[FeedSession]) -> list[float]:
    """Each session's publication time (seconds since the epoch): a program's day on its date, or a minute per
    place in program order after the program's oldest file, so that podcast apps, which sort by date, keep a
    program's order; any other session when its file was written."""
    first_s: dict[str, float] = {}  # a program without dates: its oldest file, by album (one program's version)
    for session in sessions:
        if session.day is not None and session.day.date is None:
            first_s[session.album] = min(first_s.get(session.album, session.modified_s), session.modified_s)
    times_s = []
    for session in sessions:
        day = session.day
        if day is None:
            times_s.append(session.modified_s)
        elif day.date is not None:
            times_s.append(datetime.datetime.combine(day.date, PROGRAM_DAY_TIME).timestamp())
        else:
            place = (day.week - 1) * day.days + (day.day - 1)
            times_s.append(first_s[session.album] + PROGRAM_STEP_S * place)
    return times_s


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
    """The RSS text of ``sessions`` (in the order given), for a store served at ``base_url``."""
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
    if len(albums) == 1 and all(session.day is not None for session in sessions):
        # One program: Apple's type for episodes meant to be heard in order (apps list them oldest first).
        ET.SubElement(channel, f"{{{ITUNES}}}type").text = "serial"
    first_cover = next((session for session in sessions if session.cover), None)
    if first_cover:
        image = ET.SubElement(channel, "image")
        ET.SubElement(image, "url").text = url(SessionFiles.of_mp3(first_cover.mp3).cover)
        ET.SubElement(image, "title").text = title
        ET.SubElement(image, "link").text = base_url
        ET.SubElement(channel, f"{{{ITUNES}}}image", {"href": url(SessionFiles.of_mp3(first_cover.mp3).cover)})
    for number, (session, when_s) in enumerate(zip(sessions, published_s(sessions)), start=1):
        item = ET.SubElement(channel, "item")
        ET.SubElement(item, "title").text = session.title
        ET.SubElement(item, "description").text = session.description or session.title
        ET.SubElement(item, "enclosure", {"url": url(session.mp3), "length": str(session.size_bytes),
                                          "type": "audio/mpeg"})
        ET.SubElement(item, "guid", {"isPermaLink": "false"}).text = session.mp3.as_posix()
        ET.SubElement(item, "pubDate").text = email.utils.formatdate(when_s, usegmt=True)
        ET.SubElement(item, f"{{{ITUNES}}}duration").text = str(round(session.duration_s))
        day = session.day
        if day is None:
            ET.SubElement(item, f"{{{ITUNES}}}episode").text = str(session.track or number)
        else:  # a program's week is a season, its day an episode (iTunes, and podcastindex.org/namespace/1.0)
            ET.SubElement(item, f"{{{ITUNES}}}season").text = str(day.week)
            ET.SubElement(item, f"{{{ITUNES}}}episode").text = str(day.day)
            ET.SubElement(item, f"{{{ITUNES}}}episodeType").text = "full"
            ET.SubElement(item, f"{{{PODCAST}}}season").text = str(day.week)
            ET.SubElement(item, f"{{{PODCAST}}}episode").text = str(day.day)
        if session.cover:
            ET.SubElement(item, f"{{{ITUNES}}}image", {"href": url(SessionFiles.of_mp3(session.mp3).cover)})
        ET.SubElement(item, f"{{{PODCAST}}}chapters", {"url": url(SessionFiles.of_mp3(session.mp3).chapters),
                                                        "type": "application/json+chapters"})
    ET.indent(rss)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(rss, encoding="unicode") + "\n"
