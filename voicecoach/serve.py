"""``voicecoach serve``: the output folder on the local network, with a page made for a phone.

The page lists each session with a player, its chapters (tap to jump) and the
line being spoken, highlighted as it plays (from the session's timeline), plus
a download link. The server is read-only: GET and HEAD only, only files
inside the folder with the suffixes a session has, no hidden files, no folder
listings, no way out of the folder. Audio answers byte ranges, so a phone's
player can seek to a chapter.
"""

from __future__ import annotations

import hmac
import html
import logging
import mimetypes
import re
import secrets
import socket
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from .errors import OutputError
from .feed import FEED_NAME, scan_sessions
from .files import SessionFiles
from .layout import SpeechEvent
from .phrases import prevailing_language, words_for

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


DEFAULT_TIMEOUT_S = 30
DEFAULT_MAX_CONNECTIONS = 64
MAX_PATH_CHARS = 2048
TOKEN_COOKIE = "voicecoach_token"
_LOG = logging.getLogger("voicecoach.serve")


def new_token() -> str:
    """A fresh random access token (128 bits), for one run of ``serve``."""
    return secrets.token_urlsafe(16)


class _Server(ThreadingHTTPServer):
    """One thread per connection, at most ``max_connections`` at once (past that, a client waits to be
    accepted); a client that goes away is at most a debug line, never a traceback."""

    daemon_threads = True
    max_connections = DEFAULT_MAX_CONNECTIONS

    def server_activate(self) -> None:
        super().server_activate()
        self.slots = threading.BoundedSemaphore(self.max_connections)

    def process_request(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        self.slots.acquire()
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


def make_server(folder: Path, host: str, port: int, token: str | None = None, quiet: bool = True,
                timeout_s: float = DEFAULT_TIMEOUT_S, max_connections: int = DEFAULT_MAX_CONNECTIONS,
                log: Callable[[str], None] | None = None) -> ThreadingHTTPServer:
    """A server for ``folder`` bound to ``host:port`` (port 0: any free port); start it with ``serve_forever``.

    With a ``token``, every request must carry it (``?token=`` once, then the cookie the page gets) or is
    answered 403. An idle connection is closed after ``timeout_s``. Unless ``quiet``, ``log`` gets one short
    line per request.
    """
    folder = Path(folder).resolve()
    if not folder.is_dir():
        raise OutputError("is not a folder; build some sessions first, e.g. `voicecoach build`", file=str(folder))

    class Handler(_Handler):
        root = folder
        access_token = token
        timeout = timeout_s
        sinks = () if quiet else (log or print,)

    class Server(_Server):
        pass

    Server.max_connections = max_connections
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


def served_files(folder: Path) -> set[Path]:
    """What builds wrote, and only that: each session's MP3 and the sidecars its name gives, the playlists,
    the manifests and the feed."""
    allowed: set[Path] = set()
    for mp3 in folder.rglob("*.mp3"):
        files = SessionFiles.of_mp3(mp3)
        if not files.timeline.is_file():
            continue
        allowed.update((mp3, files.timeline, files.lrc, files.chapters, files.cover,
                        mp3.with_name(files.name + ".srt"), mp3.with_name(files.name + ".vtt")))
    allowed.update(folder.rglob("*.m3u8"))
    allowed.update(folder.rglob("manifest.json"))
    allowed.add(folder / FEED_NAME)
    return {path for path in allowed if not path.is_symlink()}


class _Handler(BaseHTTPRequestHandler):
    root: Path
    access_token: str | None = None
    sinks: tuple[Callable[[str], None], ...] = ()  # where the one line per request goes (none: quiet)
    server_version = "voicecoach"
    sys_version = ""

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
                value is not None and hmac.compare_digest(value, self.access_token) for value in (given, held)):
            self._send(HTTPStatus.FORBIDDEN, "text/plain; charset=utf-8",
                       b"forbidden: open the address `voicecoach serve` printed (it carries the access token)\n",
                       head)
            return
        set_cookie = given is not None and held != given
        if path in ("/", "/index.html"):
            self._send(HTTPStatus.OK, "text/html; charset=utf-8", page(self.root).encode(), head, set_cookie)
            return
        target = self._file(path)
        if target is None:
            self._send(HTTPStatus.NOT_FOUND, "text/plain; charset=utf-8", b"not found\n", head)
            return
        self._send_file(target, head)

    def _file(self, path: str) -> Path | None:
        """The file ``path`` names, if it may be served: one a build wrote, inside the folder, not hidden."""
        parts = [part for part in path.split("/") if part]
        if not parts or any(part.startswith(".") or "\\" in part or "\x00" in part for part in parts):
            return None
        try:
            target = (self.root / Path(*parts)).resolve()
            if not target.is_relative_to(self.root) or not target.is_file():
                return None
            return target if target in served_files(self.root) else None
        except OSError:  # a name too long for the file system, say
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


def page(folder: Path) -> str:
    """The phone page: every session with a player, chapters, the spoken lines and a download link."""
    sections = []
    sessions, damaged = scan_sessions(folder)
    for number, session in enumerate(sessions):
        words = words_for(session.language)
        relative = session.mp3.relative_to(folder).as_posix()
        lines = [event for event in session.timeline.sounds if isinstance(event, SpeechEvent)] \
            if session.timeline else []
        chapters = "".join(f'<li><button data-at="{start}">{html.escape(title)}</button></li>'
                           for title, start in session.chapters)
        said = "".join(f'<li data-start="{line.start_ms / 1000}" data-end="{line.end_ms / 1000}">'
                       f"{html.escape(line.text)}</li>" for line in lines)
        minutes, seconds = divmod(round(session.duration_s), 60)
        sections.append(
            f'<section class="session" id="s{number}" lang="{html.escape(session.language)}">'
            f'<h2>{html.escape(session.title)}</h2>'
            f'<p class="facts">{minutes}:{seconds:02d}</p>'
            f'<audio controls preload="metadata" src="{quote(relative)}"></audio>'
            f'<ol class="chapters">{chapters}</ol><ol class="lines">{said}</ol>'
            f'<p><a download href="{quote(relative)}">{html.escape(words.label("download"))}</a></p></section>')
    for broken in damaged:  # listed, so that one bad session never hides the others
        name = broken.mp3.relative_to(folder).as_posix()
        sections.append(f'<section class="session damaged"><h2>{html.escape(name)}</h2>'
                        f'<p class="facts">damaged: {html.escape(broken.problem.split(": ", 1)[-1])}</p></section>')
    # The page's own words are in the language most of its sessions are in; each session says its own.
    languages = [session.language for session in sessions]
    words = words_for(prevailing_language(languages))
    empty = html.escape(words.label("no_sessions", command="\0")).replace("\0", "<code>voicecoach build</code>")
    body = "".join(sections) or f"<p>{empty}</p>"
    return (_PAGE.replace("{{lang}}", html.escape(words.language))
            .replace("{{sessions}}", html.escape(words.label("sessions"))).replace("{{body}}", body))


_PAGE = """<!doctype html>
<html lang="{{lang}}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{sessions}}</title>
<style>
body{font:17px/1.45 system-ui,sans-serif;margin:0 auto;max-width:40rem;padding:1rem;background:#fafaf7;color:#222}
h1{font-size:1.4rem}h2{font-size:1.15rem;margin:.2rem 0}.facts{color:#666;margin:0 0 .5rem}
.session{border-top:1px solid #ddd;padding:1rem 0}audio{width:100%}
.chapters{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.4rem}
.chapters button{font:inherit;padding:.45rem .7rem;border:1px solid #8a8;border-radius:1rem;background:#eef5ea}
.lines{max-height:12rem;overflow-y:auto;padding-left:1.2rem;color:#777}
.lines li.now{color:#000;font-weight:600;background:#fff3b0}
</style></head>
<body><h1>{{sessions}}</h1>{{body}}
<script>
for (const section of document.querySelectorAll('.session')) {
  const audio = section.querySelector('audio');
  const lines = [...section.querySelectorAll('.lines li')];
  for (const button of section.querySelectorAll('.chapters button')) {
    button.addEventListener('click', () => { audio.currentTime = parseFloat(button.dataset.at); audio.play(); });
  }
  audio.addEventListener('timeupdate', () => {
    const t = audio.currentTime;
    for (const line of lines) {
      const now = t >= parseFloat(line.dataset.start) && t < parseFloat(line.dataset.end);
      if (now && !line.classList.contains('now')) line.scrollIntoView({block: 'nearest'});
      line.classList.toggle('now', now);
    }
  });
}
</script></body></html>
"""
