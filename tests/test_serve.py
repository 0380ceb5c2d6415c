"""`voicecoach serve`: the phone page, byte ranges for seeking, and nothing outside the folder."""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
from urllib.parse import urlsplit

import pytest

from voicecoach._pipeline.build import BuildOptions, build_file
from voicecoach._publish.serve import serve_in_background

from .conftest import write_routine

ROUTINE = "title: Knee & hip\nexercises:\n  - name: Squeeze\n    hold: 2s\n  - name: Reach\n    hold: 2s\n"


@pytest.fixture(scope="module")
def served(tmp_path_factory, cache_dir):
    folder = tmp_path_factory.mktemp("serve")
    (folder / "secret.txt").write_text("outside the output folder")
    out = folder / "out"
    result = build_file(write_routine(folder, ROUTINE, "knee.yaml"), BuildOptions(output_dir=out, cache_dir=cache_dir))
    (out / ".hidden.json").write_text("{}")
    server, address = serve_in_background(out)
    yield result, urlsplit(address).netloc
    server.shutdown()
    server.server_close()


def address_of(netloc: str) -> tuple[str, int]:
    host, port = netloc.split(":")
    return host, int(port)


def answer(connection: socket.socket) -> bytes:
    """All the server sends until it closes the connection."""
    received = b""
    while block := connection.recv(65536):
        received += block
    return received


def get(netloc: str, path: str, method: str = "GET", headers: dict | None = None) -> tuple[int, dict, bytes]:
    connection = http.client.HTTPConnection(netloc, timeout=10)
    connection.request(method, path, headers=headers or {})  # the path is sent exactly as given
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, dict(response.getheaders()), body


def test_the_page_lists_each_session_with_player_chapters_and_lines(served):
    result, netloc = served
    status, headers, body = get(netloc, "/")
    page = body.decode()
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert '<h2 class="routine">Knee &amp; hip</h2><section class="session" id="s0" lang="en">' in page
    assert ('<button class="summary" type="button" aria-expanded="false"><img class="cover" alt="" '
            'src="knee-hip.cover.png"><span class="label">Knee &amp; hip</span><span class="length">0:') in page
    assert '<audio controls preload="metadata" src="knee-hip.mp3"></audio>' in page
    for chapter in result.timeline.chapters:
        assert f'<button data-at="{chapter.start_ms / 1000}">{chapter.title}</button>' in page
    assert '<li data-start="' in page and ">Exercise 1 of 2: Squeeze</li>" in page
    assert 'download href="knee-hip.mp3"' in page


def test_audio_answers_byte_ranges_so_a_player_can_seek(served):
    result, netloc = served
    data = result.mp3_path.read_bytes()
    status, headers, body = get(netloc, "/knee-hip.mp3", headers={"Range": "bytes=100-199"})
    assert status == 206 and body == data[100:200]
    assert headers["Content-Range"] == f"bytes 100-199/{len(data)}"
    status, headers, body = get(netloc, "/knee-hip.mp3", method="HEAD")
    assert status == 200 and int(headers["Content-Length"]) == len(data) and body == b""
    assert get(netloc, "/knee-hip.mp3", headers={"Range": f"bytes={len(data)}-"})[0] == 416


@pytest.mark.parametrize("path", ["/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt", "/../../../etc/passwd",
                                  "//etc/passwd", "/.hidden.json", "/knee-hip", "/nothing.mp3", "/%00.mp3"])
def test_nothing_outside_the_folder_or_hidden_or_unlisted_is_served(served, path):
    _, netloc = served
    status, _, body = get(netloc, path)
    assert status == 404 and b"outside" not in body and b"root:" not in body


def test_it_is_read_only(served):
    _, netloc = served
    assert get(netloc, "/knee-hip.mp3", method="POST")[0] == 501
    assert get(netloc, "/knee-hip.mp3", method="DELETE")[0] == 501


# ---------------------------------------------------------------- safe on a shared network


@pytest.fixture(scope="module")
def guarded(served, tmp_path_factory):
    """The same folder, served with an access token, a 1 s idle timeout and a line per request."""
    result, _ = served
    out = result.mp3_path.parent
    (out / "holiday.jpg").write_bytes(b"\xff\xd8\xff private photo")
    (out / "notes.json").write_text('{"private": true}')
    (out / "photos").mkdir(exist_ok=True)
    (out / "photos" / "me.png").write_bytes(b"\x89PNG private")
    lines: list[str] = []
    server, address = serve_in_background(out, token="s3cret-token", timeout_s=1.0, head_timeout_s=1.0,
                                          quiet=False, log=lines.append)
    yield urlsplit(address).netloc, lines
    server.shutdown()
    server.server_close()


def test_without_the_token_everything_is_403_and_with_it_200(guarded):
    netloc, _ = guarded
    assert get(netloc, "/")[0] == 403
    assert get(netloc, "/knee-hip.mp3")[0] == 403
    assert get(netloc, "/?token=wrong")[0] == 403
    status, headers, _ = get(netloc, "/?token=s3cret-token")
    assert status == 200
    assert headers["Set-Cookie"] == "voicecoach_token=s3cret-token; Path=/; HttpOnly; SameSite=Strict"
    # The page's own requests carry the cookie.
    assert get(netloc, "/knee-hip.mp3", headers={"Cookie": "voicecoach_token=s3cret-token"})[0] == 200


@pytest.mark.parametrize("path", ["/holiday.jpg", "/notes.json", "/photos/me.png"])
def test_only_what_builds_wrote_is_served(guarded, path):
    netloc, _ = guarded
    status, _, body = get(netloc, path, headers={"Cookie": "voicecoach_token=s3cret-token"})
    assert status == 404 and b"private" not in body


def test_every_request_gets_an_answer(guarded):
    netloc, _ = guarded
    cookie = {"Cookie": "voicecoach_token=s3cret-token"}
    huge = "9" * 4300
    assert get(netloc, "/knee-hip.mp3", headers={**cookie, "Range": f"bytes={huge}-"})[0] == 416
    assert get(netloc, "/knee-hip.mp3", headers={**cookie, "Range": f"bytes=0-{huge}"})[0] == 206
    assert get(netloc, "/knee-hip.mp3", headers={**cookie, "Range": f"bytes=-{huge}"})[0] == 206
    assert get(netloc, "/knee-hip.mp3", headers={**cookie, "Range": "bytes=5-2"})[0] == 200  # invalid: ignored
    assert get(netloc, "/knee-hip.mp3", headers={**cookie, "Range": "pages=1-2"})[0] == 200
    assert get(netloc, "/" + "a" * 300 + ".mp3", headers=cookie)[0] == 404  # a name too long for the disk
    assert get(netloc, "/" + "a" * 5000, headers=cookie)[0] == 414
    _, headers, _ = get(netloc, "/", headers=cookie)
    assert headers["Server"] == "voicecoach"  # no Python version


def test_half_open_connections_get_408_at_the_head_deadline_and_the_page_still_loads(guarded):
    netloc, _ = guarded
    idle = []
    for _ in range(50):
        connection = socket.create_connection(address_of(netloc), timeout=30)
        connection.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # never finished
        idle.append(connection)
    try:
        assert get(netloc, "/?token=s3cret-token")[0] == 200  # served meanwhile
        for connection in idle:  # each answered 408 at its deadline, then closed
            assert answer(connection).startswith(b"HTTP/1.0 408 Request Timeout\r\n")
    finally:
        for connection in idle:
            connection.close()


def test_one_short_line_per_request_and_no_traceback(guarded, capfd):
    netloc, lines = guarded
    before = len(lines)
    get(netloc, "/?token=s3cret-token")
    assert lines[before:][-1].endswith(" GET / 200")
    host, port = netloc.split(":")
    with socket.create_connection((host, int(port))) as connection:  # a client that hangs up mid-request
        connection.sendall(b"GET /knee-hip.mp3 HTTP/1.1\r\nHost: x\r\nCookie: voicecoach_token=s3cret-token\r\n\r\n")
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    get(netloc, "/?token=s3cret-token")
    assert "Traceback" not in capfd.readouterr().err


def test_the_command_prints_the_address_with_its_token_or_warns_without_one(served):
    import subprocess
    import sys

    result, _ = served
    out = result.mp3_path.parent
    for flags, expected_query, warning in ((["--token", "bookmark-me"], "?token=bookmark-me", False),
                                           (["--no-token"], "", True)):
        process = subprocess.Popen([sys.executable, "-m", "voicecoach", "serve", str(out), "--host", "127.0.0.1",
                                    "--port", "0", "-q", *flags],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            first = process.stdout.readline()
        finally:
            process.terminate()
            _, stderr = process.communicate(timeout=30)
        address = first.split(" at ", 1)[1].split()[0]
        assert address.startswith("http://127.0.0.1:") and address.endswith("/" + expected_query)
        assert ("warning: no access token" in stderr) == warning


def test_a_non_ascii_token_in_a_request_is_403_not_silence(guarded):
    netloc, _ = guarded
    for path in ("/?token=%C3%A9", "/?token=p%C3%A4ssw%C3%B6rd", "/?token=%FF%FE"):
        assert get(netloc, path)[0] == 403
    assert get(netloc, "/", headers={"Cookie": "voicecoach_token=é"})[0] == 403


def test_a_token_a_phone_cannot_carry_is_refused_in_one_line(tmp_path):
    from typer.testing import CliRunner

    from voicecoach._cli.app import app

    result = CliRunner().invoke(app, ["serve", str(tmp_path), "--token", "pässwörd", "--host", "127.0.0.1",
                                      "--port", "0", "-q"])
    assert result.exit_code == 2
    assert result.stderr == ("--token: is not a token a phone's address can carry; use letters, digits, and . _ ~ - "
                             "only\n")


def test_a_timeline_nested_thousands_deep_or_with_1e999_is_listed_as_damaged(tmp_path, cache_dir):
    from voicecoach._publish.feed import scan_sessions
    from voicecoach._publish.serve import page
    from voicecoach._stores import FolderStore

    out = tmp_path / "out"
    build_file(write_routine(tmp_path, ROUTINE, "knee.yaml"), BuildOptions(output_dir=out, cache_dir=cache_dir))
    good = (out / "knee-hip.timeline.json").read_text()
    infinite = re.sub(r'"duration": [0-9.]+', '"duration": 1e999', good, count=1)
    for number, damaged in enumerate(["[" * 100_000 + "]" * 100_000, infinite]):
        (out / f"bad-{number}.mp3").write_bytes((out / "knee-hip.mp3").read_bytes())
        (out / f"bad-{number}.timeline.json").write_text(damaged)
    sessions, broken = scan_sessions(FolderStore(out))
    assert [session.mp3.name for session in sessions] == ["knee-hip.mp3"]
    assert sorted(problem.mp3.name for problem in broken) == ["bad-0.mp3", "bad-1.mp3"]
    assert "knee-hip.mp3" in page(out)


# ---------------------------------------------------------------- under abuse


@pytest.fixture(scope="module")
def patient(served):
    """The folder served with a head deadline longer than any test: slow clients stay connected."""
    result, _ = served
    server, address = serve_in_background(result.mp3_path.parent, head_timeout_s=600)
    yield urlsplit(address).netloc
    server.shutdown()
    server.server_close()


def still_open(connection: socket.socket) -> bool:
    connection.setblocking(False)
    try:
        return connection.recv(1) != b""
    except BlockingIOError:
        return True
    finally:
        connection.setblocking(True)


def test_a_client_is_answered_while_100_slow_clients_are_connected(patient):
    slow = [socket.create_connection(address_of(patient), timeout=30) for _ in range(100)]
    try:
        for number, connection in enumerate(slow):
            connection.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n" if number % 2 else b"")  # half idle, half slow
        assert get(patient, "/knee-hip.lrc")[0] == 200
        assert all(still_open(connection) for connection in slow)  # answered without waiting for any of them
    finally:
        for connection in slow:
            connection.close()


def test_every_one_of_300_simultaneous_clients_gets_an_answer(patient):
    statuses: list[int] = []
    start = threading.Barrier(300)

    def client() -> None:
        start.wait()
        statuses.append(get(patient, "/knee-hip.lrc")[0])

    clients = [threading.Thread(target=client) for _ in range(300)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()
    assert statuses == [200] * 300  # no connection reset, none left without an answer


def test_past_the_connection_limit_a_client_gets_503_at_once(served):
    result, _ = served
    server, address = serve_in_background(result.mp3_path.parent, head_timeout_s=600, max_connections=2)
    netloc = urlsplit(address).netloc
    holding = [socket.create_connection(address_of(netloc), timeout=30) for _ in range(2)]
    try:
        with socket.create_connection(address_of(netloc), timeout=30) as third:  # accepted after those two
            third.sendall(b"GET / HTTP/1.0\r\n\r\n")
            assert answer(third).startswith(b"HTTP/1.0 503 Service Unavailable\r\n")
    finally:
        for connection in holding:
            connection.close()
        server.shutdown()
        server.server_close()


def test_a_head_sent_a_line_at_a_time_is_cut_off_at_its_deadline(served):
    result, _ = served
    server, address = serve_in_background(result.mp3_path.parent, head_timeout_s=0.5)
    try:
        with socket.create_connection(address_of(urlsplit(address).netloc), timeout=30) as connection:
            connection.sendall(b"GET / HTTP/1.1\r\n")
            sent = 0
            try:
                while still_open(connection) and sent < 3000:  # a header line at a time, each in good time
                    connection.sendall(b"X-Slow: 1\r\n")
                    sent += 1
                    threading.Event().wait(0.01)
                cut_off = answer(connection)
            except (BrokenPipeError, ConnectionResetError):  # it came in while the server closed: a reset
                cut_off = b"reset"
            assert cut_off.startswith((b"HTTP/1.0 408 Request Timeout\r\n", b"reset")) and sent < 3000
    finally:
        server.shutdown()
        server.server_close()


TLS_HELLO = bytes.fromhex("160301020001")  # the first bytes of a TLS client hello: https:// on plain HTTP


@pytest.mark.parametrize(("request_bytes", "status"), [
    (b"GET /\r\n", b"400 Bad Request"),  # HTTP/0.9: it used to wait for headers that never come
    (TLS_HELLO, b"400 Bad Request"),  # it used to wait for a line end that never comes
    (b"\x01\x02 hello there\r\n\r\n", b"400 Bad Request"),
    (b"GET / HTTP/2.0\r\n\r\n", b"505 HTTP Version Not Supported"),
    (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", b"505 HTTP Version Not Supported"),  # HTTP/2 with prior knowledge
])
def test_what_is_not_http_1_gets_a_status_line_at_once(patient, request_bytes, status):
    with socket.create_connection(address_of(patient), timeout=20) as connection:  # less than any deadline
        connection.sendall(request_bytes)
        assert answer(connection).startswith(b"HTTP/1.0 " + status + b"\r\n")


def test_an_idle_connection_is_closed_at_the_head_deadline(served):
    result, _ = served
    server, address = serve_in_background(result.mp3_path.parent, head_timeout_s=0.5)
    try:
        with socket.create_connection(address_of(urlsplit(address).netloc), timeout=30) as connection:
            assert answer(connection) == b""  # closed, with nothing sent
    finally:
        server.shutdown()
        server.server_close()


# ---------------------------------------------------------------- only what a build wrote


@pytest.fixture(scope="module")
def planted(tmp_path_factory, cache_dir):
    """A batch (manifest, playlist, subtitles) beside files planted with build-like names, and links."""
    from voicecoach._catalog.catalog import build_batch
    from voicecoach._catalog.model import BatchOptions
    from voicecoach._catalog.specs import batch_specs
    from voicecoach._routine.load import load_routine_file

    folder = tmp_path_factory.mktemp("planted")
    (folder / "outside.timeline.json").write_text("private, outside the folder")
    out = folder / "out"
    routine_file = load_routine_file(write_routine(folder, ROUTINE, "knee.yaml"))
    batch = build_batch(routine_file, batch_specs(routine_file),
                        BatchOptions(output_dir=out, jobs=1, cache_dir=cache_dir, subtitle_formats=("srt",)))
    out = batch.folder  # the routine's folder: its sessions, manifest and playlist
    real = out / batch.sessions[0].result.files.mp3.name
    name = real.name[: -len(".mp3")]
    (out / "fake.mp3").write_bytes(b"ID3 private audio")
    (out / "fake.timeline.json").write_text((out / f"{name}.timeline.json").read_text())
    (out / "calf-raises.srt").write_text("1\nprivate stray subtitles\n")
    (out / f"{name}.vtt").write_text("WEBVTT\n\nprivate: a sidecar the timeline does not list\n")
    (out / "private.m3u8").write_text("#EXTM3U\nprivate.mp3\n")
    (out / "sub").mkdir()
    (out / "sub" / "manifest.json").write_text('{"private": true, "sessions": []}')
    (out / "alias.mp3").symlink_to(real)
    (out / "alias.timeline.json").symlink_to(out / f"{name}.timeline.json")
    (out / "linked").symlink_to(out)
    (out / "borrowed.mp3").write_bytes(real.read_bytes())  # a real MP3 whose timeline is a link out of the folder
    (out / "borrowed.timeline.json").symlink_to(folder / "outside.timeline.json")
    server, address = serve_in_background(out)
    yield urlsplit(address).netloc, name, batch
    server.shutdown()
    server.server_close()


def test_a_batch_s_files_are_served(planted):
    netloc, name, batch = planted
    for path in [f"/{name}.mp3", f"/{name}.timeline.json", f"/{name}.lrc", f"/{name}.srt", "/manifest.json",
                 f"/{batch.playlist_in_store.name}", f"/{name}.chapters.json"]:
        assert get(netloc, path)[0] == 200, path
    status, _, body = get(netloc, f"/{name}.chapters.json")  # made from the timeline, not read from the folder
    assert json.loads(body)["chapters"][1] == {"startTime": batch.sessions[0].result.timeline.chapters[1].start_ms
                                               / 1000, "title": "Reach"}


@pytest.mark.parametrize("path", ["/fake.mp3", "/fake.timeline.json", "/calf-raises.srt", "/private.m3u8",
                                  "/sub/manifest.json", "/alias.mp3", "/alias.timeline.json", "/borrowed.mp3",
                                  "/borrowed.timeline.json", "/linked/manifest.json"])
def test_files_planted_with_build_like_names_and_links_are_not_served(planted, path):
    netloc, name, _ = planted
    status, _, body = get(netloc, path)
    assert status == 404 and b"private" not in body
    assert get(netloc, f"/linked/{name}.mp3")[0] == 404  # a link to a folder
    assert b"private" not in get(netloc, f"/{name}.vtt")[1:][1] and get(netloc, f"/{name}.vtt")[0] == 404


def test_the_page_lists_planted_sessions_as_damaged_never_as_sessions(planted):
    netloc, name, _ = planted
    page = get(netloc, "/")[2].decode()
    assert f'src="{name}.mp3"' in page
    for planted_name in ("fake.mp3", "alias.mp3", "borrowed.mp3"):
        assert f'src="{planted_name}"' not in page
        assert f'<section class="session damaged"><h3>{planted_name}</h3>' in page


def test_a_session_whose_timeline_was_replaced_is_not_served(tmp_path, cache_dir):
    out = tmp_path / "out"
    build_file(write_routine(tmp_path, ROUTINE, "knee.yaml"), BuildOptions(output_dir=out, cache_dir=cache_dir))
    timeline = out / "knee-hip.timeline.json"
    timeline.write_text(timeline.read_text().replace('"Squeeze"', '"Sqeeze"'))  # no longer the MP3's
    server, address = serve_in_background(out)
    try:
        assert get(urlsplit(address).netloc, "/knee-hip.mp3")[0] == 404
        assert get(urlsplit(address).netloc, "/knee-hip.lrc")[0] == 404
    finally:
        server.shutdown()
        server.server_close()
