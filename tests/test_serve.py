"""`voicecoach serve`: the phone page, byte ranges for seeking, and nothing outside the folder."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

import pytest

from voicecoach.build import BuildOptions, build_file
from voicecoach.serve import serve_in_background

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
    assert "<h2>Knee &amp; hip</h2>" in page
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
