"""Stores: a folder here and s3:// (through s3fs, the cluster extra) against a real S3 endpoint on loopback
(moto_server), held to the one protocol; and build, feed and serve with a store."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from voicecoach._cli.app import message as shown
from voicecoach._errors import OutputError
from voicecoach._routine.model import Voice
from voicecoach._speech.cache import PhraseCache
from voicecoach._speech.engines import make_engine
from voicecoach._speech.entry import decode_entry
from voicecoach._speech.service import SpeechService
from voicecoach._stores import FolderStore, FsspecStore, Store, open_store

from .conftest import write_routine


def test_open_store_turns_a_location_into_a_store():
    assert isinstance(open_store("s3://bucket/prefix"), FsspecStore) and isinstance(open_store("gs://b"), FsspecStore)
    assert open_store("s3://bucket/prefix/").where("a/b.mp3") == "s3://bucket/prefix/a/b.mp3"
    folder = open_store("file:///shared/out")
    assert isinstance(folder, FolderStore) and folder.local("a.mp3") == Path("/shared/out/a.mp3")
    assert isinstance(open_store("out"), FolderStore) and open_store("out").where("x") == "out/x"
    assert open_store("s3://b/out").local("x") is None


def test_without_the_extra_an_s3_output_is_one_line_and_exit_3(tmp_path):
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "fsspec.py").write_text("raise ImportError('not installed')\n")
    routine = write_routine(tmp_path, "title: Plank\nexercises:\n  - {name: Plank, hold: 2s}\n")
    result = subprocess.run([sys.executable, "-m", "voicecoach", "batch", str(routine), "-q", "-o", "s3://b/out"],
                            capture_output=True, text=True, env={"PYTHONPATH": str(shadow), "PATH": "/usr/bin:/bin"},
                            timeout=120)
    assert result.returncode == 3
    assert result.stderr == ("-o DIR: s3://b/out needs the cluster extra (fsspec, s3fs); install it with "
                             "`pip install 'voicecoach[cluster]'`\n")


@pytest.fixture()
def store(s3_endpoint, request) -> FsspecStore:
    return FsspecStore(f"s3://voicecoach/{request.node.name}")


@pytest.fixture(params=["folder", "s3"])
def any_store(request, tmp_path) -> Store:
    """Each kind of store, held to the same promises."""
    if request.param == "folder":
        return FolderStore(tmp_path / "store")
    request.getfixturevalue("s3_endpoint")
    return FsspecStore(f"s3://voicecoach/{request.node.name.replace('[', '-').rstrip(']')}")


def test_a_file_is_written_whole_and_read_back(any_store):
    assert any_store.read("a/b.json") is None and any_store.names("a") == set()
    any_store.write("a/b.json", b"{}")
    any_store.write("a/b.json", b'{"new": 1}')
    assert any_store.read("a/b.json") == b'{"new": 1}' and any_store.names("a") == {"b.json"}
    assert any_store.exists("a/b.json") and not any_store.exists("a/c.json")
    with any_store.open("a/b.json") as handle:
        assert handle.read(3) == b'{"n'
    assert any_store.where("a/b.json") == f"{any_store.location}/a/b.json"


def test_an_entry_is_created_once_and_the_first_one_stays(any_store):
    assert any_store.create("clips/x.clip", b"first") is True
    assert any_store.create("clips/x.clip", b"second") is False  # in S3 a conditional PUT (If-None-Match: *)
    assert any_store.read("clips/x.clip") == b"first"


def test_files_are_listed_and_removed(any_store):
    any_store.write_all({"t/a.json": b"1", "t/sub/b.json": b"22", "u.json": b"333"})
    assert [(found.name, found.size_bytes) for found in any_store.walk("t")] == [("t/a.json", 1),
                                                                                ("t/sub/b.json", 2)]
    any_store.remove("t/a.json")
    any_store.remove("t/a.json")  # nothing there: nothing happens
    assert [found.name for found in any_store.walk("t")] == ["t/sub/b.json"]
    any_store.remove_tree("t")
    assert list(any_store.walk("t")) == [] and any_store.read("u.json") == b"333"


def test_staged_files_are_published_when_the_block_ends_and_not_at_all_when_it_fails(any_store):
    with pytest.raises(RuntimeError):
        with any_store.staging(["s/a.txt", "s/b.mp3"]) as staged:
            for path in staged.paths:
                path.write_bytes(b"half")
            raise RuntimeError("the encoder failed")
    assert any_store.names("s") == set()
    with any_store.staging(["s/a.txt", "s/b.mp3"]) as staged:
        for path, text in zip(staged.paths, (b"sidecar", b"audio")):
            path.write_bytes(text)
        assert staged.scratch.is_dir() and any_store.names("s") == set()  # nothing is there before the end
    assert any_store.read("s/a.txt") == b"sidecar" and any_store.read("s/b.mp3") == b"audio"


def test_a_bucket_that_does_not_exist_is_one_line(s3_endpoint):
    with pytest.raises(OutputError) as caught:
        FsspecStore("s3://no-such-bucket/out").check()
    assert shown(caught.value) == ("s3://no-such-bucket/out: the bucket no-such-bucket does not exist; create it "
                                   "(for S3: aws s3 mb s3://no-such-bucket), or choose another with -o DIR")


def test_two_workers_making_the_same_phrase_agree_on_the_first_one_stored(store, tmp_path):
    # Two caches on the same store, as two workers have; each synthesizes the phrase before looking again.
    engine = make_engine("pyttsx3")
    settings = SpeechService(PhraseCache(tmp_path)).settings_for(Voice(rate_wpm=170), "en")
    first, second = PhraseCache(store.location), PhraseCache(store.location)
    made_first = first.make(settings, "Shared phrase", engine)
    made_second = second.make(settings, "Shared phrase", engine)
    assert made_second.samples == made_first.samples  # the second worker's own take was not used
    stored = store.read(first.relative_for(settings, "Shared phrase"))
    assert stored is not None and decode_entry(stored)[1].samples == made_first.samples
    assert second.load(settings, "Shared phrase").samples == made_first.samples


def test_a_damaged_entry_in_the_store_is_thrown_away_and_made_again(store, tmp_path):
    engine = make_engine("pyttsx3")
    settings = SpeechService(PhraseCache(tmp_path)).settings_for(Voice(rate_wpm=170), "en")
    cache = PhraseCache(store)
    relative = cache.relative_for(settings, "Damaged")
    store.write(relative, b"VCCLIP5\nnot a header")
    assert cache.load(settings, "Damaged") is None
    assert cache.take_notices() == ("a damaged speech cache entry (unreadable header) was thrown away and made again",)
    assert store.read(relative) is None
    assert cache.make(settings, "Damaged", engine).frames > 0 and cache.load(settings, "Damaged") is not None


def test_build_writes_a_session_into_s3_and_feed_lists_it_there(store, tmp_path):
    # `build -o s3://...` with its speech cache in the store too; the feed reads and writes the same store.
    import json

    from typer.testing import CliRunner

    from voicecoach._cli.app import app

    from .audio_probe import decode_mp3
    from .session_checks import check_timing

    routine = write_routine(tmp_path, "title: Plank\nexercises:\n  - {name: Plank, hold: 3s, sides: true}\n")
    result = CliRunner().invoke(app, ["build", str(routine), "-q", "-o", store.where("out"), "--cache-dir",
                                      store.where("speech")])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1:] == [f"  {store.where('out/plank.' + suffix)}"
                                              for suffix in ("mp3", "timeline.json", "lrc")]
    assert store.names("out") == {"plank.mp3", "plank.timeline.json", "plank.lrc"}
    assert [found.name.split("/")[1] for found in store.walk("speech")][:1] == ["clips-v5"]
    (tmp_path / "plank.mp3").write_bytes(store.read("out/plank.mp3") or b"")
    written = store.read("out/plank.timeline.json") or b""
    assert check_timing(decode_mp3(tmp_path / "plank.mp3"), json.loads(written), {"plank": 3000})[1] == 2
    again = CliRunner().invoke(app, ["build", str(routine), "-q", "-o", store.where("out"), "--cache-dir",
                                     store.where("speech")])
    assert again.exit_code == 0 and store.read("out/plank.timeline.json") == written  # from the store's cache
    feed = CliRunner().invoke(app, ["feed", store.where("out"), "--base-url", "https://example.org/s/"])
    assert feed.exit_code == 0, feed.output
    assert feed.stdout == (f"Wrote {store.where('out/feed.xml')} with 1 session; subscribe to "
                           "https://example.org/s/feed.xml\n")
    assert b"https://example.org/s/plank.mp3" in (store.read("out/feed.xml") or b"")
    assert store.names("out") >= {"feed.xml", "plank.chapters.json", "plank.cover.png"}


def test_serve_says_in_one_line_that_it_serves_a_local_folder():
    from typer.testing import CliRunner

    from voicecoach._cli.app import app

    result = CliRunner().invoke(app, ["serve", "s3://bucket/sessions", "--host", "127.0.0.1", "--port", "0"])
    assert result.exit_code == 2
    assert result.stderr == ("s3://bucket/sessions: is not a folder on this machine; serve works on a local folder: "
                             "copy the sessions here first (for S3: aws s3 sync URL DIR), then serve DIR\n")
