"""Shared stores (s3:// through s3fs, the cluster extra) against a real S3 endpoint on loopback (moto_server)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from voicecoach._cli.app import message as shown
from voicecoach._speech.engines import make_engine
from voicecoach._errors import OutputError
from voicecoach._routine.model import Voice
from voicecoach._speech.cache import PhraseCache
from voicecoach._speech.service import SpeechService
from voicecoach._speech.entry import decode_entry
from voicecoach._stores.remote import RemoteStore, is_remote, local_path

from .conftest import write_routine


def test_which_locations_are_shared_stores():
    assert is_remote("s3://bucket/prefix") and is_remote("gs://bucket")
    assert not is_remote("output") and not is_remote("file:///shared/out") and not is_remote(None)
    assert str(local_path("file:///shared/out")) == "/shared/out" and str(local_path("out")) == "out"


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
def store(s3_endpoint, request) -> RemoteStore:
    return RemoteStore(f"s3://voicecoach/{request.node.name}")


def test_a_file_is_written_whole_and_read_back(store):
    assert store.read_bytes("a/b.json") is None and store.names("a") == set()
    store.write_bytes("a/b.json", b"{}")
    store.write_bytes("a/b.json", b'{"new": 1}')
    assert store.read_bytes("a/b.json") == b'{"new": 1}' and store.names("a") == {"b.json"}
    assert store.where("a/b.json") == f"{store.url}/a/b.json"


def test_an_entry_is_created_once_and_the_first_one_stays(store):
    assert store.create("clips/x.clip", b"first") is True
    assert store.create("clips/x.clip", b"second") is False  # the conditional PUT (If-None-Match: *) refused it
    assert store.read_bytes("clips/x.clip") == b"first"


def test_a_bucket_that_does_not_exist_is_one_line(s3_endpoint):
    with pytest.raises(OutputError) as caught:
        RemoteStore("s3://no-such-bucket/out").check()
    assert shown(caught.value) == ("s3://no-such-bucket/out: the bucket no-such-bucket does not exist; create it "
                                   "(for S3: aws s3 mb s3://no-such-bucket), or choose another with -o DIR")


def test_two_workers_making_the_same_phrase_agree_on_the_first_one_stored(store, tmp_path):
    # Two caches on the same store, as two workers have; each synthesizes the phrase before looking again.
    engine = make_engine("pyttsx3")
    settings = SpeechService(PhraseCache(tmp_path)).settings_for(Voice(rate_wpm=170), "en")
    first, second = PhraseCache(tmp_path / "a", store.url), PhraseCache(tmp_path / "b", store.url)
    made_first = first.make(settings, "Shared phrase", engine)
    made_second = second.make(settings, "Shared phrase", engine)
    assert made_second.samples == made_first.samples  # the second worker's own take was not used
    stored = store.read_bytes(first.relative_for(settings, "Shared phrase"))
    assert stored is not None and decode_entry(stored)[1].samples == made_first.samples
    assert second.load(settings, "Shared phrase").samples == made_first.samples


def test_a_damaged_entry_in_the_store_is_thrown_away_and_made_again(store, tmp_path):
    engine = make_engine("pyttsx3")
    settings = SpeechService(PhraseCache(tmp_path)).settings_for(Voice(rate_wpm=170), "en")
    cache = PhraseCache(tmp_path, store.url)
    relative = cache.relative_for(settings, "Damaged")
    store.write_bytes(relative, b"VCCLIP4\nnot a header")
    assert cache.load(settings, "Damaged") is None
    assert cache.take_notices() == ("a damaged speech cache entry (unreadable header) was thrown away and made again",)
    assert store.read_bytes(relative) is None
    assert cache.make(settings, "Damaged", engine).frames > 0 and cache.load(settings, "Damaged") is not None


def test_build_says_a_shared_cache_is_for_batch(tmp_path):
    from typer.testing import CliRunner

    from voicecoach._cli.app import app

    routine = write_routine(tmp_path, "title: Plank\nexercises:\n  - {name: Plank, hold: 2s}\n")
    result = CliRunner().invoke(app, ["build", str(routine), "-o", str(tmp_path), "--cache-dir", "s3://b/speech"])
    assert result.exit_code == 2
    assert result.stderr == ("--cache-dir: s3://b/speech is a shared store, which only `voicecoach batch` uses; give "
                             "a local folder here\n")
    assert not (tmp_path / "s3:").exists() and not any(tmp_path.glob("*.mp3"))
