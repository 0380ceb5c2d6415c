"""``voicecoach serve``: the output folder on the local network, with a page made for a phone.

The page lists each session with a player, its chapters (tap to jump) and the
line being spoken, highlighted as it plays (from the session's timeline), plus
a download link. The server is read-only: GET and HEAD only, only files
inside the folder with the suffixes a session has, no hidden files, no folder
listings, no way out of the folder. Audio answers byte ranges, so a phone's
player can seek to a chapter.
"""

from __future__ import annotations

import html
import mimetypes
import re
import socket
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from .errors import OutputError
from .feed import find_sessions
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


def make_server(folder: Path, host: str, port: int) -> ThreadingHTTPServer:
    """A server for ``folder`` bound to ``host:port`` (port 0: any free port); start it with ``serve_forever``."""
    folder = Path(folder).resolve()
    if not folder.is_dir():
        raise OutputError("is not a folder; build some sessions first, e.g. `voicecoach build`", file=str(folder))

    class Handler(_Handler):
        root = folder

    try:
        return ThreadingHTTPServer((host, port), Handler)
    except OSError as error:
        raise OutputError(f"cannot listen on {host}:{port} ({error.strerror}); choose another with {{@host}} or "
                          "{@port}", field="{@port}") from None


def serve_in_background(folder: Path, host: str = "127.0.0.1", port: int = 0) -> tuple[ThreadingHTTPServer, str]:
    """Start a server on a thread; return it and its address (for tests and scripts)."""
    server = make_server(folder, host, port)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://{host}:{server.server_address[1]}/"


class _Handler(BaseHTTPRequestHandler):
    root: Path
    server_version = "voicecoach"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the name http.server uses
        pass  # quiet: the terminal shows the address and the QR code, not every request

    def do_HEAD(self) -> None:  # noqa: N802 - http.server's naming
        self.do_GET(head=True)

    def do_GET(self, head: bool = False) -> None:  # noqa: N802
        path = unquote(urlsplit(self.path).path)
        if path in ("/", "/index.html"):
            self._send(HTTPStatus.OK, "text/html; charset=utf-8", page(self.root).encode(), head)
            return
        target = self._file(path)
        if target is None:
            self._send(HTTPStatus.NOT_FOUND, "text/plain; charset=utf-8", b"not found\n", head)
            return
        self._send_file(target, head)

    def _file(self, path: str) -> Path | None:
        """The file ``path`` names, if it may be served: inside the folder, not hidden, of a session's kind."""
        parts = [part for part in path.split("/") if part]
        if not parts or any(part.startswith(".") or "\\" in part or "\x00" in part for part in parts):
            return None
        target = (self.root / Path(*parts)).resolve()
        if not target.is_relative_to(self.root) or not target.is_file():
            return None
        return target if target.suffix.lower() in SERVED_SUFFIXES else None

    def _send_file(self, target: Path, head: bool) -> None:
        size = target.stat().st_size
        content_type = SERVED_SUFFIXES.get(target.suffix.lower()) or mimetypes.guess_type(target.name)[0]
        start, end, status = 0, size - 1, HTTPStatus.OK
        wanted = self.headers.get("Range")
        if wanted:
            match = _RANGE.match(wanted.strip())
            if match and (match[1] or match[2]):
                if match[1]:
                    start, end = int(match[1]), min(int(match[2]) if match[2] else size - 1, size - 1)
                else:
                    start = max(0, size - int(match[2]))
                if start > end or start >= size:
                    self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
                    self.send_header("Content-Range", f"bytes */{size}")
                    self.end_headers()
                    return
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

    def _send(self, status: HTTPStatus, content_type: str, body: bytes, head: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)


def page(folder: Path) -> str:
    """The phone page: every session with a player, chapters, the spoken lines and a download link."""
    sections = []
    sessions = find_sessions(folder)
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
