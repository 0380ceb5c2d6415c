"""``voicecoach serve``: the output folder on the local network, with a page made for a phone.

The page lists each session with a player, its chapters (tap to jump) and the
line being spoken, highlighted as it plays (from the session's timeline), plus
a download link. A program's days are shown under their weeks, today's (else the
first not played) marked and open; the browser remembers which it played to the
end, and counts them for each week. The server is read-only: GET and HEAD only,
only the files a build wrote (``served.py`` decides), no hidden files, no folder
listings, no way out of the folder. Audio answers byte ranges, so a phone's
player can seek to a chapter. Every request head has a deadline and every answer
a status line.
"""

from __future__ import annotations

import contextlib
import datetime
import hmac
import html
import itertools
import json
import logging
import mimetypes
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from mutagen import MutagenError
from mutagen.id3 import ID3

from .._audio.timeline import GapEvent, HoldEvent, SpeechEvent, Timeline
from .._errors import OutputError
from .._routine.durations import format_clock
from .._routine.languages import CuePhrases, prevailing_language, words_for
from .._routine.model import ProgramDay
from .._stores import FolderStore, open_store
from .cover import image_mime
from .feed import FeedSession, chapters_json, scan_sessions
from .names import SessionFiles
from .served import ServedFiles
from .tags import timeline_sha256

SERVED_SUFFIXES = {".mp3": "audio/mpeg", ".json": "application/json", ".lrc": "text/plain; charset=utf-8",
                   ".png": "image/png", ".jpg": "image/jpeg", ".m3u8": "audio/x-mpegurl", ".xml": "application/rss+xml",
                   ".srt": "text/plain; charset=utf-8", ".vtt": "text/vtt; charset=utf-8"}
DEFAULT_PORT = 8000
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def lan_address() -> str:
    """This machine's address on the local network (the one a phone on the same Wi-Fi reaches), else 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # a documentation address: nothing is sent, only a route is chosen
            return probe.getsockname()[0]
        except OSError:
            return "127.0.0.1"


DEFAULT_TIMEOUT_S = 30  # a client that stops reading a response is dropped after this long
DEFAULT_HEAD_TIMEOUT_S = 10  # the whole request head must arrive within this (an idle connection is closed then)
DEFAULT_MAX_CONNECTIONS = 512  # at once; past that, a new client is answered 503 at once
LISTEN_BACKLOG = 1024  # connections the kernel holds until they are accepted
MAX_PATH_CHARS = 2048
_TLS_HANDSHAKE = 0x16  # the first byte of a TLS client hello: someone opened https:// on a plain HTTP server
_VERSION = re.compile(r"HTTP/(\d{1,3})\.(\d{1,3})")
TOKEN_COOKIE = "voicecoach_token"
_LOG = logging.getLogger("voicecoach.serve")


def new_token() -> str:
    """A fresh random access token (128 bits), for one run of ``serve``."""
    return secrets.token_urlsafe(16)


class _HeadDeadlines:
    """One thread that holds every connection to its deadline for the request head.

    A connection whose head has not arrived in time has its reading side shut down: the handler's read
    returns at once, and the handler (the only one that writes) answers 408, or closes an idle connection.
    However slowly a client sends, it holds its thread for at most the deadline.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._pending: dict[int, tuple[float, socket.socket]] = {}
        self._expired: set[int] = set()
        self._tickets = itertools.count()
        self._changed = threading.Condition()
        self._closed = False
        threading.Thread(target=self._watch, name="voicecoach-serve-deadlines", daemon=True).start()

    def start(self, connection: socket.socket) -> int:
        with self._changed:
            ticket = next(self._tickets)
            self._pending[ticket] = (time.monotonic() + self.seconds, connection)
            self._changed.notify()
            return ticket

    def finish(self, ticket: int) -> bool:
        """The head is in (or no more of it will be read): whether it came in time. Asked again, the same answer."""
        with self._changed:
            self._pending.pop(ticket, None)
            return ticket not in self._expired

    def release(self, ticket: int) -> None:
        with self._changed:
            self._pending.pop(ticket, None)
            self._expired.discard(ticket)

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify()

    def _watch(self) -> None:
        with self._changed:
            while not self._closed:
                now = time.monotonic()
                for ticket, (deadline, connection) in list(self._pending.items()):
                    if deadline <= now:
                        del self._pending[ticket]
                        self._expired.add(ticket)
                        with contextlib.suppress(OSError):
                            connection.shutdown(socket.SHUT_RD)
                soonest = min((deadline for deadline, _ in self._pending.values()), default=now + 3600)
                self._changed.wait(max(0.0, soonest - now))


class _Server(ThreadingHTTPServer):
    """One thread per connection, at most ``max_connections`` at once: past that, a client is answered 503 at
    once, never left waiting. A client that goes away is at most a debug line, never a traceback."""

    daemon_threads = True
    request_queue_size = LISTEN_BACKLOG
    max_connections = DEFAULT_MAX_CONNECTIONS
    head_timeout_s: float = DEFAULT_HEAD_TIMEOUT_S

    def server_activate(self) -> None:
        super().server_activate()
        self.slots = threading.BoundedSemaphore(self.max_connections)
        self.deadlines = _HeadDeadlines(self.head_timeout_s)

    def server_close(self) -> None:
        super().server_close()
        if hasattr(self, "deadlines"):
            self.deadlines.close()

    def process_request(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        if not self.slots.acquire(blocking=False):
            with contextlib.suppress(OSError):  # never waits on a client: the acceptor serves everyone else
                request.send(_BUSY, socket.MSG_DONTWAIT)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def handle_error(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        _LOG.debug("connection from %s ended with an error", client_address, exc_info=True)


def make_server(folder: str | Path, host: str, port: int, token: str | None = None, quiet: bool = True,
                timeout_s: float = DEFAULT_TIMEOUT_S, max_connections: int = DEFAULT_MAX_CONNECTIONS,
                log: Callable[[str], None] | None = None,
                head_timeout_s: float = DEFAULT_HEAD_TIMEOUT_S) -> ThreadingHTTPServer:
    """A server for ``folder`` bound to ``host:port`` (port 0: any free port); start it with ``serve_forever``.

    With a ``token``, every request must carry it (``?token=`` once, then the cookie the page gets) or is
    answered 403. A request's head must arrive within ``head_timeout_s`` (408 if not; an idle connection is
    closed); a client that stops reading a response is dropped after ``timeout_s``. At most
    ``max_connections`` at once; past that, 503. Unless ``quiet``, ``log`` gets one short line per request.
    """
    if token is not None and not re.fullmatch(r"[A-Za-z0-9._~-]{1,200}", token):
        raise OutputError("is not a token a phone's address can carry; use letters, digits, and . _ ~ - only",
                          field="{@token}")
    local = open_store(folder, "folder").local("")
    if local is None:
        raise OutputError("is not a folder on this machine; serve works on a local folder: copy the sessions "
                          "here first (for S3: aws s3 sync URL DIR), then serve DIR", file=str(folder))
    served = local.resolve()
    if not served.is_dir():
        raise OutputError("is not a folder; build some sessions first, e.g. `voicecoach build`", file=str(served))

    class Handler(_Handler):
        root = served
        files = ServedFiles(served)
        access_token = token
        timeout = timeout_s
        sinks = () if quiet else (log or print,)

    class Server(_Server):
        pass

    Server.max_connections = max_connections
    Server.head_timeout_s = head_timeout_s
    try:
        return Server((host, port), Handler)
    except OSError as error:
        raise OutputError(f"cannot listen on {host}:{port} ({error.strerror}); choose another with {{@host}} or "
                          "{@port}", field="{@port}") from None


def serve_in_background(folder: Path, host: str = "127.0.0.1", port: int = 0,
                        **options: Any) -> tuple[ThreadingHTTPServer, str]:
    """Start a server on a thread; return it and its address (for tests and scripts)."""
    server = make_server(folder, host, port, **options)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://{host}:{server.server_address[1]}/"


_BUSY = (b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nRetry-After: 1\r\n"
         b"Content-Length: 31\r\nConnection: close\r\n\r\nbusy: too many clients; retry\r\n")


class _Handler(BaseHTTPRequestHandler):
    root: Path
    files: ServedFiles  # what may be sent (served.py)
    access_token: str | None = None
    sinks: tuple[Callable[[str], None], ...] = ()  # where the one line per request goes (none: quiet)
    server_version = "voicecoach"
    sys_version = ""
    server: _Server
    default_request_version = "HTTP/1.0"  # every answer has a status line, even to a request that has none

    def handle_one_request(self) -> None:
        """http.server's, with a deadline for the whole head, and plain refusals of what is not HTTP/1.x."""
        ticket = self.server.deadlines.start(self.connection)
        self._ticket = ticket
        self.connection.settimeout(None)  # the deadline bounds the head, whatever the socket's own timeout
        try:
            first = self.rfile.peek(1)[:1]  # type: ignore[attr-defined]  # a BufferedReader
            if first and first[0] == _TLS_HANDSHAKE:
                self._refuse(HTTPStatus.BAD_REQUEST, "this server speaks plain HTTP: open its http:// address")
                return
            self.raw_requestline = self.rfile.readline(65537)
            if len(self.raw_requestline) > 65536:
                self._refuse(HTTPStatus.REQUEST_URI_TOO_LONG, "request line too long")
                return
            if not self.raw_requestline:  # closed, or idle past the deadline
                self.close_connection = True
                return
            if not self.raw_requestline.endswith(b"\n") and not self.server.deadlines.finish(ticket):
                self._refuse(HTTPStatus.REQUEST_TIMEOUT, "the request took too long to arrive")
                return
            if not self.parse_request():
                return
            self.connection.settimeout(self.timeout)  # a client that stops reading the answer
            method = getattr(self, "do_" + self.command, None)
            if method is None:
                self.send_error(HTTPStatus.NOT_IMPLEMENTED, "only GET and HEAD")
                return
            method()
            self.wfile.flush()
        except TimeoutError:
            self.close_connection = True
        finally:
            self.server.deadlines.release(ticket)

    def parse_request(self) -> bool:
        """Only ``METHOD PATH HTTP/1.x``: HTTP/0.9 (two words) would wait for headers it never sends, and
        anything else is answered with a status line, never a bare body."""
        words = self.raw_requestline.decode("iso-8859-1").rstrip("\r\n").split()
        if len(words) != 3 or not _VERSION.fullmatch(words[2]):
            self._refuse(HTTPStatus.BAD_REQUEST, "not an HTTP/1.0 or HTTP/1.1 request")
            return False
        if words[2] not in ("HTTP/1.0", "HTTP/1.1"):
            self._refuse(HTTPStatus.HTTP_VERSION_NOT_SUPPORTED, "only HTTP/1.0 and HTTP/1.1")
            return False
        parsed = super().parse_request()
        if not self.server.deadlines.finish(self._ticket):  # the headers came too slowly
            if parsed:
                self._refuse(HTTPStatus.REQUEST_TIMEOUT, "the request took too long to arrive")
            return False
        return parsed

    def _refuse(self, status: HTTPStatus, why: str) -> None:
        self.command, self.request_version, self.requestline = "", "HTTP/1.0", ""
        self.close_connection = True
        self.send_error(status, explain=why)

    def version_string(self) -> str:
        return self.server_version  # no Python version in the Server header

    def handle(self) -> None:
        try:
            super().handle()
        except (ConnectionError, TimeoutError, OSError) as error:  # the client went away, or took too long
            _LOG.debug("%s: %s", self.client_address, error)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the name http.server uses
        pass

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = urlsplit(self.path).path if hasattr(self, "path") else "-"
        for sink in self.sinks:
            sink(f"{self.client_address[0]} {getattr(self, 'command', '-')} {path[:120]} {code}")

    def do_HEAD(self) -> None:  # noqa: N802 - http.server's naming
        self.do_GET(head=True)

    def do_GET(self, head: bool = False) -> None:  # noqa: N802
        if len(self.path) > MAX_PATH_CHARS:
            self._send(HTTPStatus.REQUEST_URI_TOO_LONG, "text/plain; charset=utf-8", b"address too long\n", head)
            return
        split = urlsplit(self.path)
        path = unquote(split.path)
        given = parse_qs(split.query).get("token", [None])[0]
        cookie = SimpleCookie()
        try:
            cookie.load(self.headers.get("Cookie", ""))
        except CookieError:
            pass
        held = cookie[TOKEN_COOKIE].value if TOKEN_COOKIE in cookie else None
        if self.access_token is not None and not any(
                value is not None and hmac.compare_digest(value.encode(), self.access_token.encode())
                for value in (given, held)):
            self._send(HTTPStatus.FORBIDDEN, "text/plain; charset=utf-8",
                       b"forbidden: open the address `voicecoach serve` printed (it carries the access token)\n",
                       head)
            return
        set_cookie = given is not None and held != given
        if path in ("/", "/index.html"):
            # The page is made again only when a file of the folder changed (its name, size or time).
            state = tuple(FolderStore(self.root).walk(""))
            html_page = self.files.remembered("page", state, lambda: page(self.root, self.files).encode())
            self._send(HTTPStatus.OK, "text/html; charset=utf-8", html_page, head, set_cookie)
            return
        made = self._made(path)  # the feed's chapters and cover, made from the checked session
        if made is not None:
            self._send(HTTPStatus.OK, *made, head)
            return
        target = self._file(path)
        if target is None:
            self._send(HTTPStatus.NOT_FOUND, "text/plain; charset=utf-8", b"not found\n", head)
            return
        self._send_file(target, head)

    def _file(self, path: str) -> Path | None:
        """The file ``path`` names, if it may be served: inside the folder, not hidden, one a build wrote."""
        parts = [part for part in path.split("/") if part]
        if not parts or any(part.startswith(".") or "\\" in part or "\x00" in part for part in parts):
            return None
        target = self.root / Path(*parts)
        try:
            return target if self.files.allows(target) else None
        except OSError:  # a name too long for the file system, say
            return None

    def _made(self, path: str) -> tuple[str, bytes] | None:
        for suffix in (".chapters.json", ".cover.png"):
            if path.endswith(suffix) and len(path) > len(suffix) + 1:
                mp3 = self._file(path[: -len(suffix)] + ".mp3")
                session = self.files.session(mp3) if mp3 is not None else None
                if session is None:
                    return None
                if suffix == ".chapters.json":
                    return "application/json", chapters_json(session.timeline).encode()
                picture = _embedded_cover(mp3)  # type: ignore[arg-type]  # mp3 is a checked session's
                return (image_mime(picture) or "image/png", picture) if picture is not None else None
        return None

    def _send_file(self, target: Path, head: bool) -> None:
        size = target.stat().st_size
        content_type = SERVED_SUFFIXES.get(target.suffix.lower()) or mimetypes.guess_type(target.name)[0]
        start, end, status = 0, size - 1, HTTPStatus.OK
        wanted = _byte_range(self.headers.get("Range"), size)
        if isinstance(wanted, str):  # "unsatisfiable"
            self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if wanted is not None:
            start, end = wanted
            status = HTTPStatus.PARTIAL_CONTENT
        self.send_response(status)
        self.send_header("Content-Type", content_type or "application/octet-stream")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(end - start + 1))
        if status == HTTPStatus.PARTIAL_CONTENT:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        if head:
            return
        with open(target, "rb") as handle:
            handle.seek(start)
            left = end - start + 1
            while left > 0:
                block = handle.read(min(left, 1 << 16))
                if not block:
                    break
                self.wfile.write(block)
                left -= len(block)

    def _send(self, status: HTTPStatus, content_type: str, body: bytes, head: bool, set_cookie: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if set_cookie and self.access_token is not None:
            self.send_header("Set-Cookie", f"{TOKEN_COOKIE}={self.access_token}; Path=/; HttpOnly; SameSite=Strict")
        self.end_headers()
        if not head:
            self.wfile.write(body)


def _embedded_cover(mp3: Path) -> bytes | None:
    try:
        pictures = ID3(mp3).getall("APIC")
    except (MutagenError, OSError):
        return None
    return pictures[0].data if pictures else None


def _byte_range(header: str | None, size: int) -> tuple[int, int] | str | None:
    """RFC 9110: one range of bytes, "unsatisfiable" (416), or None to send the whole file (no header, one that is
    not understood, or an invalid one such as 5-2: all ignored). Numbers of any length get an answer."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if not match or not (match[1] or match[2]):
        return None
    first, last = match[1], match[2]
    if first:
        if len(first) > 18:
            return "unsatisfiable"  # far past the end of any file
        start = int(first)
        end = size - 1
        if last and len(last) <= 18:
            if int(last) < start:
                return None
            end = min(int(last), size - 1)
        return "unsatisfiable" if start >= size else (start, end)
    length = int(last) if len(last) <= 18 else size
    if length == 0 or size == 0:
        return "unsatisfiable"
    return max(0, size - length), size - 1


def coach_steps(timeline: Timeline, words: CuePhrases) -> list[dict]:
    """What the coach panel shows at each moment: every hold (its exercise, side, set and rep of how many) and
    every rest, with its start and end in seconds, and what comes next."""
    chapters = list(timeline.chapters)

    def chapter_at(ms: int) -> str:
        return next((c.title for c in reversed(chapters) if c.start_ms <= ms), "")

    holds = [e for e in timeline.events if isinstance(e, HoldEvent)]
    most: dict[tuple, int] = {}
    for hold in holds:
        most[("set", hold.exercise, hold.side)] = max(most.get(("set", hold.exercise, hold.side), 0), hold.set)
        key = ("rep", hold.exercise, hold.side, hold.set)
        most[key] = max(most.get(key, 0), hold.rep)
    steps = []
    for event in timeline.events:
        if isinstance(event, HoldEvent):
            parts = [chapter_at(event.start_ms)]
            if event.side:
                parts.append(words.side(event.side))
            sets = most[("set", event.exercise, event.side)]
            reps = most[("rep", event.exercise, event.side, event.set)]
            if sets > 1:
                parts.append(words.set(event.set, sets))
            if reps > 1:
                parts.append(words.rep(event.rep, reps))
            steps.append({"start": event.start_ms / 1000, "end": event.end_ms / 1000, "kind": "hold",
                          "label": " · ".join(part for part in parts if part)})
        elif isinstance(event, GapEvent):
            steps.append({"start": event.start_ms / 1000, "end": event.end_ms / 1000, "kind": "rest",
                          "label": words.rest()})
    for position, step in enumerate(steps):
        following = next((later for later in steps[position + 1:] if later["kind"] == "hold"), None)
        step["next"] = following["label"] if following else words.session_complete()
    return steps


def page(folder: Path, files: ServedFiles | None = None, today: datetime.date | None = None) -> str:
    """The phone page: every session as a card with its cover, a coach panel (where you are, the seconds
    left, what is next, the whole session's progress), a player, its chapters, the spoken lines and a
    download link. Several versions of one routine are grouped under its title, and a program's days under
    its weeks (``program_weeks``). Only sessions ``files`` allows are listed; any other is listed as damaged.
    ``today`` (default: this machine's date) marks a program's day until the page's script marks it with the
    browser's date and what the browser played."""
    served = files or ServedFiles(folder)
    sessions, damaged = scan_sessions(FolderStore(folder), lambda mp3: None if served.session(folder / mp3) else (
        "is not the MP3 and timeline a build wrote together (a link, or one of them replaced); build the session "
        "again"))
    marks = program_marks(sessions, today or datetime.date.today())
    groups: dict[str, list[str]] = {}
    programs: dict[str, list[tuple[ProgramDay, str]]] = {}  # by album: a program's days, each with its card
    for number, session in enumerate(sessions):
        words = words_for(session.language)
        relative = session.mp3.as_posix()
        cover = SessionFiles.of_mp3(session.mp3).cover.as_posix()
        lines = [event for event in session.timeline.sounds if isinstance(event, SpeechEvent)] \
            if session.timeline else []
        chapters = "".join(f'<li><button data-at="{start}">{html.escape(title)}</button></li>'
                           for title, start in session.chapters)
        said = "".join(f'<li data-start="{line.start_ms / 1000}" data-end="{line.end_ms / 1000}">'
                       f"{html.escape(line.text)}</li>" for line in lines)
        data = {"title": session.title, "album": session.album, "duration": session.duration_s,
                "cover": quote(cover) if session.cover else None,
                "chapters": [{"title": title, "start": start} for title, start in session.chapters],
                "steps": coach_steps(session.timeline, words) if session.timeline else []}
        ticks = "".join(f'<i style="left:{100 * start / max(session.duration_s, 0.001):.3f}%"></i>'
                        for _, start in session.chapters[1:])
        version = session.title[len(session.album):].strip(" ()") if session.title.startswith(session.album) \
            else session.title
        label = version or session.title  # the routine's heading names the base; a card always has a label
        heading = f'<span class="label">{html.escape(label)}</span>'
        remembered = ""
        if session.day is not None:  # a program's day: when it is, its mark, and whether this browser played it
            heading = f'<span class="text">{heading}{_day_line(session.day, words, marks.get(session.mp3))}</span>'
            remembered = f' data-key="{html.escape(played_key(session))}"' + (
                f' data-date="{session.day.date.isoformat()}"' if session.day.date else "")
        card = (
            f'<section class="session" id="s{number}" lang="{html.escape(session.language)}"{remembered}>'
            '<button class="summary" type="button" aria-expanded="false">'
            + (f'<img class="cover" alt="" src="{quote(cover)}">' if session.cover else "")
            + heading
            + f'<span class="length">{format_clock(round(session.duration_s * 1000))}</span></button>'
            '<div class="body">'
            + (f'<p class="facts">{html.escape(session.description)}</p>' if session.description else "")
            + f'<div class="coach"><p class="where"></p><p class="left"></p><p class="next"></p>'
            f'<div class="bar"><div class="fill"></div>{ticks}</div></div>'
            f'<audio controls preload="metadata" src="{quote(relative)}"></audio>'
            f'<ol class="chapters">{chapters}</ol><ol class="lines">{said}</ol>'
            f'<p><a download href="{quote(relative)}">{html.escape(words.label("download"))}</a></p>'
            f'<script type="application/json">{_json_for_html(data)}</script></div></section>')
        cards = groups.setdefault(session.album, [])
        if session.day is not None:
            programs.setdefault(session.album, []).append((session.day, card))
        else:
            cards.append(card)
    sections = [f'<h2 class="routine">{html.escape(album)}</h2>' + "".join(cards)
                + (program_weeks(programs[album], words_for(_album_language(sessions, album)))
                   if album in programs else "")
                for album, cards in groups.items()]
    # The page's own words are in the language most of its sessions are in; each session says its own.
    languages = [session.language for session in sessions]
    words = words_for(prevailing_language(languages))
    for broken in damaged:  # listed, so that one bad session never hides the others
        name = broken.mp3.as_posix()
        sections.append(f'<section class="session damaged"><h3>{html.escape(name)}</h3>'
                        f'<p class="facts">{html.escape(words.label("damaged"))}: '
                        f'{html.escape(broken.problem.split(": ", 1)[-1])}</p></section>')
    empty = html.escape(words.label("no_sessions", command="\0")).replace("\0", "<code>voicecoach build</code>")
    body = "".join(sections) or f"<p>{empty}</p>"
    return (_PAGE.replace("{{lang}}", html.escape(words.language))
            .replace("{{sessions}}", html.escape(words.label("sessions"))).replace("{{body}}", body)
            .replace("{{keep_screen_on}}", html.escape(words.label("keep_screen_on"))))


def played_key(session: FeedSession) -> str:
    """What this browser remembers a played session by: its MP3's path and its timeline's hash (the one in its
    tags), so that a session built again differently is not played, nor one moved elsewhere."""
    made = timeline_sha256(session.timeline.to_json()) if session.timeline else f"{session.duration_s:.3f}"
    return f"{session.mp3.as_posix()}#{made[:16]}"


def program_marks(sessions: list[FeedSession], today: datetime.date) -> dict[Path, str]:
    """Each program's marked day, by its MP3: "today" for the day of ``today``'s date, else "next" for its first
    day (the page's script marks them again with the browser's date, and "next" past the days it played).
    ``sessions`` are in ``scan_sessions``' order, which lists a program's days in program order."""
    marks: dict[Path, str] = {}
    for album in dict.fromkeys(session.album for session in sessions if session.day is not None):
        days = [session for session in sessions if session.album == album and session.day is not None]
        todays = next((session for session in days if session.day and session.day.date == today), None)
        marks[(todays or days[0]).mp3] = "today" if todays else "next"
    return marks


def _album_language(sessions: list[FeedSession], album: str) -> str:
    return prevailing_language([session.language for session in sessions if session.album == album])


def _day_line(day: ProgramDay, words: CuePhrases, mark: str | None) -> str:
    """The line under a program day's label: its date or weekday (the page writes it in the session's language),
    its mark ("Today", "Next") and whether it was played (the page shows that)."""
    if day.date:
        when = f'<span class="when" data-date="{day.date.isoformat()}">{day.date.isoformat()}</span>'
    elif day.weekday:
        when = f'<span class="when" data-weekday="{html.escape(day.weekday)}">{html.escape(day.weekday)}</span>'
    else:
        when = ""
    word = {"today": words.label("today"), "next": words.label("up_next")}.get(mark or "", "")
    return (f'<span class="sub">{when}<span class="mark{" " + mark if mark else ""}">{html.escape(word)}</span>'
            f'<span class="done" hidden><span aria-hidden="true">✓</span> {html.escape(words.label("played"))}'
            "</span></span>")


def program_weeks(days: list[tuple[ProgramDay, str]], words: CuePhrases) -> str:
    """A program's days (each with its card, in program order, as ``scan_sessions`` lists them) under their weeks;
    each week's heading says how many of its days were played (none, until the page's script counts what this
    browser played)."""
    weeks: dict[int, list[str]] = {}
    for day, card in days:
        weeks.setdefault(day.week, []).append(card)
    progress = words.label("week_progress", done="{done}", total="{total}")  # the page's script fills it in
    return (f'<div class="program" lang="{html.escape(words.language)}" '
            f'data-today="{html.escape(words.label("today"))}" data-next="{html.escape(words.label("up_next"))}" '
            f'data-progress="{html.escape(progress)}">'
            + "".join(f'<div class="week"><h3 class="week-heading"><span>{html.escape(words.label("week", week=week))}'
                      f'</span> <span class="progress">{html.escape(progress.format(done=0, total=len(cards)))}'
                      "</span></h3>" + "".join(cards) + "</div>" for week, cards in weeks.items())
            + "</div>")


def _json_for_html(data: object) -> str:
    """JSON safe inside a <script> element."""
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")


_PAGE = """<!doctype html>
<html lang="{{lang}}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{sessions}}</title>
<style>
body{overflow-anchor:none;font:17px/1.45 system-ui,sans-serif;margin:0 auto;max-width:40rem;padding:1rem;
background:#fafaf7;color:#222}
h1{font-size:1.4rem}h2.routine{font-size:1.25rem;margin:1.4rem 0 .2rem}h3{font-size:1.1rem;margin:.2rem 0}
.facts{color:#666;margin:0 0 .5rem}.session{border-top:1px solid #ddd;padding:.6rem 0;overflow:hidden}
.summary{display:flex;align-items:center;gap:.7rem;width:100%;font:inherit;color:inherit;text-align:left;
background:none;border:0;padding:.2rem 0;cursor:pointer}
.summary .label{flex:1;font-weight:600;min-height:1.45em}.summary .length{color:#666;font-variant-numeric:tabular-nums}
.cover{width:2.6rem;height:2.6rem;border-radius:.3rem;flex:none}
.session.open .cover{width:4.5rem;height:4.5rem}
.session:not(.open) .body{display:none}
audio{width:100%;clear:both}
.coach{background:#1f2a3a;color:#fff;border-radius:.8rem;padding:.8rem 1rem;margin:.5rem 0;clear:both}
.coach p{margin:0}.where{font-weight:600;height:2.9em;overflow:hidden}
.left{font-size:3.2rem;line-height:1.1;height:1.1em;font-variant-numeric:tabular-nums}
.next{color:#b8c4d6;font-size:.95rem;height:1.45em;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}.bar{position:relative;height:.5rem;background:#3b4a60;border-radius:.25rem;
margin-top:.6rem}.fill{height:100%;width:0;background:#8fd19e;border-radius:.25rem}
.bar i{position:absolute;top:-.15rem;width:2px;height:.8rem;background:#fff}
.chapters{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.4rem}
.chapters button{font:inherit;padding:.45rem .7rem;border:1px solid #8a8;border-radius:1rem;background:#eef5ea}
.lines{max-height:12rem;overflow-y:auto;padding-left:2.8rem;margin:.5rem 0;color:#777;position:relative}
.lines li{padding:.1rem 0}.lines li.now{color:#000;font-weight:600;background:#fff3b0}
.hint{color:#666;font-size:.9rem}
.week-heading{display:flex;flex-wrap:wrap;justify-content:space-between;align-items:baseline;gap:0 .8rem;
font-size:1.05rem;margin:1.1rem 0 .1rem}.week-heading .progress{color:#666;font-size:.9rem;font-weight:400}
.summary .text{flex:1;min-width:0;display:flex;flex-direction:column;overflow-wrap:anywhere}
.sub{display:flex;flex-wrap:wrap;align-items:center;gap:.15rem .5rem;font-size:.85rem;color:#666}
.sub [hidden],.mark:empty{display:none}.mark{font-weight:600;color:#fff;background:#3d6ea8;border-radius:.7rem;
padding:0 .5rem}.mark.today{background:#2e7d46}.done{color:#2e7d46;font-weight:600}
</style></head>
<body><h1>{{sessions}}</h1>{{body}}
<p class="hint" hidden>{{keep_screen_on}}</p>
<script>
const cards = [...document.querySelectorAll('.session:not(.damaged)')];
const players = cards.map(card => card.querySelector('audio'));
let wakeLock = null;
const clock = s => {
  s = Math.max(0, Math.ceil(s));
  return s >= 60 ? Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0') : String(s);
};
// A length in whole seconds, as the player shows it (rounded down), so that the card and the player agree.
const length = s => {
  s = Math.floor(s);
  const mm = String(Math.floor(s / 60) % 60), ss = String(s % 60).padStart(2, '0');
  return s >= 3600 ? Math.floor(s / 3600) + ':' + mm.padStart(2, '0') + ':' + ss : mm + ':' + ss;
};
// One card open at a time: the one chosen, or the one playing; the others are one line each.
const open = chosen => {
  for (const card of cards) {
    card.classList.toggle('open', card === chosen);
    card.querySelector('.summary').setAttribute('aria-expanded', String(card === chosen));
  }
};
// A program's days: this browser remembers those played to the end (by MP3 and timeline hash: data-key), marks
// the day of its own date "Today", else the first day not played "Next", and counts each week's played days.
const playedHere = new Set();  // where the browser keeps nothing (a private window), what this visit played
const wasPlayed = card => {
  if (playedHere.has(card.dataset.key)) return true;
  try { return localStorage.getItem('voicecoach-played:' + card.dataset.key) !== null; } catch (e) { return false; }
};
const localDate = () => {
  const now = new Date();
  return now.getFullYear() + '-' + String(now.getMonth() + 1).padStart(2, '0') + '-' +
    String(now.getDate()).padStart(2, '0');
};
const mark = () => {
  const today = localDate();
  for (const program of document.querySelectorAll('.program')) {
    const days = [...program.querySelectorAll('.session')];
    const done = new Set(days.filter(wasPlayed));
    const todays = days.find(card => card.dataset.date === today);
    const next = todays ? null : days.find(card => !done.has(card));
    for (const card of days) {
      const kind = card === todays ? 'today' : card === next ? 'next' : '';
      const badge = card.querySelector('.mark');
      badge.className = kind ? 'mark ' + kind : 'mark';
      badge.textContent = kind ? program.dataset[kind] : '';
      card.classList.toggle('played', done.has(card));
      card.querySelector('.done').hidden = !done.has(card);
    }
    for (const week of program.querySelectorAll('.week')) {
      const its = [...week.querySelectorAll('.session')];
      week.querySelector('.progress').textContent = program.dataset.progress
        .split('{done}').join(its.filter(card => done.has(card)).length).split('{total}').join(its.length);
    }
  }
};
const played = card => {
  if (!card.dataset.key || wasPlayed(card)) return;
  playedHere.add(card.dataset.key);
  try { localStorage.setItem('voicecoach-played:' + card.dataset.key, new Date().toISOString()); } catch (e) {}
  mark();
};
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
for (const when of document.querySelectorAll('.program .when')) {  // the date in the session's language
  try {
    const lang = when.closest('[lang]').lang;
    if (when.dataset.date) {
      const [y, m, d] = when.dataset.date.split('-').map(Number);
      const shown = {weekday: 'short', day: 'numeric', month: 'short'};
      if (y !== new Date().getFullYear()) shown.year = 'numeric';
      when.textContent = new Date(y, m - 1, d).toLocaleDateString(lang, shown);
    } else if (WEEKDAYS.includes(when.dataset.weekday)) {
      when.textContent = new Date(2024, 0, 7 + WEEKDAYS.indexOf(when.dataset.weekday))
        .toLocaleDateString(lang, {weekday: 'long'});
    }
  } catch (e) {}  // a language the browser cannot write: the date as the program gives it
}
mark();
// The marked day is the card open (today's, else the first program's next); else the first card.
const marked = document.querySelector('.program .mark.today') || document.querySelector('.program .mark.next');
if (cards.length) open(marked ? marked.closest('.session') : cards[0]);
if (marked && marked.closest('.session').querySelector('audio').getBoundingClientRect().bottom > innerHeight) {
  marked.closest('.week').scrollIntoView();  // its week at the top, so that its player is on the screen
}
setInterval(mark, 60000);  // past midnight, the next day is today's
document.addEventListener('visibilitychange', () => { if (!document.hidden) mark(); });
window.addEventListener('storage', mark);  // played in another tab
for (const card of cards) {
  const audio = card.querySelector('audio');
  card.querySelector('.summary').addEventListener('click', () => open(card));
  audio.addEventListener('loadedmetadata', () => {
    if (isFinite(audio.duration)) card.querySelector('.summary .length').textContent = length(audio.duration);
  });
  const data = JSON.parse(card.querySelector('script[type="application/json"]').textContent);
  const lines = [...card.querySelectorAll('.lines li')];
  const box = card.querySelector('.lines');
  const coach = card.querySelector('.coach');
  let chapterShown = null;
  for (const button of card.querySelectorAll('.chapters button')) {
    button.addEventListener('click', () => { audio.currentTime = parseFloat(button.dataset.at); audio.play(); });
  }
  const chapterAt = t => {
    let found = 0;
    data.chapters.forEach((c, i) => { if (c.start <= t) found = i; });
    return found;
  };
  const jump = offset => {
    const now = chapterAt(audio.currentTime);
    let target = now + offset;
    if (offset < 0 && audio.currentTime - data.chapters[now].start > 3) target = now;  // back to this chapter's start
    target = Math.max(0, Math.min(data.chapters.length - 1, target));
    audio.currentTime = data.chapters[target].start;
  };
  const media = () => {
    if (!('mediaSession' in navigator) || !data.chapters.length) return;
    const chapter = data.chapters[chapterAt(audio.currentTime)].title;
    if (chapter !== chapterShown) {
      chapterShown = chapter;
      navigator.mediaSession.metadata = new MediaMetadata({title: chapter, artist: data.title, album: data.album,
        artwork: data.cover ? [{src: data.cover, sizes: '1400x1400', type: 'image/png'}] : []});
    }
    if (navigator.mediaSession.setPositionState && isFinite(audio.duration)) {
      navigator.mediaSession.setPositionState({duration: audio.duration, playbackRate: audio.playbackRate,
                                               position: Math.min(audio.currentTime, audio.duration)});
    }
  };
  const update = () => {
    const t = audio.currentTime;
    let current = null;
    for (const line of lines) {
      const now = t >= parseFloat(line.dataset.start) && t < parseFloat(line.dataset.end);
      line.classList.toggle('now', now);
      if (now) current = line;
    }
    if (current && current !== box.followed) {  // follow inside the box only: the window never scrolls
      box.followed = current;
      box.scrollTop = current.offsetTop - box.clientHeight / 3;
    }
    const step = data.steps.find(s => t >= s.start && t < s.end);
    const chapter = data.chapters.length ? data.chapters[chapterAt(t)].title : data.title;
    coach.querySelector('.where').textContent = step ? step.label : chapter;
    coach.querySelector('.left').textContent = step ? clock(step.end - t) : '';
    // Before the first step (the intro), what comes next is the first exercise, not the rest before it.
    const following = step ? step.next : (data.steps.find(s => s.start > t && s.kind === 'hold') || {}).label;
    coach.querySelector('.next').textContent = following ? '→ ' + following : '';
    coach.querySelector('.fill').style.width = (100 * t / (data.duration || 1)) + '%';
    if (!audio.paused) media();
    if (!audio.paused && (isFinite(audio.duration) ? audio.duration : data.duration) - t <= 1) played(card);
  };
  audio.addEventListener('timeupdate', update);
  audio.addEventListener('seeked', update);
  audio.addEventListener('play', async () => {
    for (const other of players) if (other !== audio && !other.paused) other.pause();  // one player at a time
    open(card);
    if ('mediaSession' in navigator) {
      chapterShown = null;
      navigator.mediaSession.setActionHandler('nexttrack', () => jump(1));
      navigator.mediaSession.setActionHandler('previoustrack', () => jump(-1));
      navigator.mediaSession.setActionHandler('play', () => audio.play());
      navigator.mediaSession.setActionHandler('pause', () => audio.pause());
    }
    update();
    if ('wakeLock' in navigator && window.isSecureContext) {
      try { wakeLock = await navigator.wakeLock.request('screen'); } catch (e) { wakeLock = null; }
    } else {
      const hint = document.querySelector('.hint');
      if (!sessionStorage.getItem('voicecoach-hint')) {
        hint.hidden = false;
        sessionStorage.setItem('voicecoach-hint', '1');
      }
    }
  });
  audio.addEventListener('pause', () => { if (wakeLock) { wakeLock.release(); wakeLock = null; } });
  audio.addEventListener('ended', () => played(card));  // played to the end: the program's day is done
  update();  // the panel is filled from the start, so it never changes the page's height
  // A smooth countdown while playing: the audio's own clock, read every frame, so nothing can drift.
  const tick = () => { if (!audio.paused) update(); requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
}
</script></body></html>
"""
