"""The podcast feed: valid RSS 2.0 listing every built session, with enclosures, durations, chapters and covers."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from voicecoach._catalog.catalog import build_batch
from voicecoach._catalog.model import BatchOptions
from voicecoach._catalog.specs import batch_specs
from voicecoach._cli.app import message as shown  # a library error as the command line shows it
from voicecoach._errors import OutputError
from voicecoach._publish.feed import ITUNES, PODCAST, write_feed
from voicecoach._routine.load import load_routine_file
from voicecoach._routine.settings import parse_matrix

from .conftest import write_routine

ROUTINE = "title: Knee & hip\ndescription: Two short holds.\nexercises:\n  - name: Squeeze\n    hold: 2s\n" \
          "  - name: Reach\n    hold: 2s\n"
BASE = "http://192.168.1.20:8000/"


@pytest.fixture(scope="module")
def feed(tmp_path_factory, cache_dir):
    folder = tmp_path_factory.mktemp("feed")
    routine_file = load_routine_file(write_routine(folder, ROUTINE, "knee.yaml"))
    out = folder / "out"
    build_batch(routine_file, batch_specs(routine_file, matrix=[parse_matrix("voice.rate=150,200")]),
                BatchOptions(output_dir=out, jobs=1, cache_dir=cache_dir))
    return out, write_feed(out, BASE)


def test_the_feed_is_rss_2_with_every_required_element(feed):
    out, result = feed
    rss = ET.parse(result.path).getroot()
    assert rss.tag == "rss" and rss.get("version") == "2.0"
    channel = rss.find("channel")
    for required in ("title", "link", "description"):  # RSS 2.0: required in a channel
        assert channel.findtext(required)
    assert channel.findtext("title") == "Knee & hip" and channel.findtext("description") == "Two short holds."
    assert channel.find(f"{{{ITUNES}}}image").get("href").startswith(BASE)


def test_every_session_is_an_item_with_its_enclosure_duration_and_chapters(feed):
    out, result = feed
    items = ET.parse(result.path).getroot().find("channel").findall("item")
    assert [item.findtext("title") for item in items] == ["Knee & hip (rate 150)", "Knee & hip (rate 200)"]
    for item, session in zip(items, result.sessions):
        enclosure = item.find("enclosure")
        relative = session.mp3.as_posix()  # its place in the folder
        assert enclosure.get("url") == BASE + relative
        assert int(enclosure.get("length")) == (out / session.mp3).stat().st_size
        assert enclosure.get("type") == "audio/mpeg"
        timeline = json.loads((out / session.mp3).with_suffix("").with_suffix(".timeline.json").read_text())
        assert item.findtext(f"{{{ITUNES}}}duration") == str(round(timeline["duration"]))
        chapters_url = item.find(f"{{{PODCAST}}}chapters").get("url")
        chapters = json.loads((out / chapters_url[len(BASE):]).read_text())
        assert chapters["chapters"] == [{"startTime": c["start"], "title": c["title"]} for c in timeline["chapters"]]
        cover = out / item.find(f"{{{ITUNES}}}image").get("href")[len(BASE):]
        assert cover.read_bytes().startswith(b"\x89PNG")


def test_a_feed_needs_a_web_address_and_sessions(tmp_path):
    with pytest.raises(OutputError) as caught:
        write_feed(tmp_path, "192.168.1.20")
    assert shown(caught.value) == ('--base-url: "192.168.1.20" is not a web address; give the address the folder is '
                                 "served at, e.g. --base-url http://192.168.1.20:8000/")
    with pytest.raises(OutputError) as caught:
        write_feed(tmp_path, BASE)
    assert shown(caught.value) == (f"{tmp_path}: has no built sessions (an .mp3 with its .timeline.json); build some "
                                 "first, e.g. `voicecoach build`")


def test_the_feed_and_the_page_speak_the_sessions_language(tmp_path, cache_dir):
    from voicecoach._publish.serve import page

    routine_file = load_routine_file(write_routine(tmp_path, "title: {en: Knee, de: Knie}\nlanguage: de\n"
                                                             "exercises: [{name: Beugen, hold: 2s}]\n", "knie.yaml"))
    out = tmp_path / "out"
    build_batch(routine_file, batch_specs(routine_file), BatchOptions(output_dir=out, jobs=1, cache_dir=cache_dir))
    channel = ET.parse(write_feed(out, BASE).path).getroot().find("channel")
    assert channel.findtext("language") == "de"
    html = page(out)
    assert html.startswith('<!doctype html>\n<html lang="de">')
    assert '<h2 class="routine">Knie</h2><section class="session" id="s0" lang="de">' in html
    assert ">MP3 herunterladen</a>" in html and "<h1>voicecoach-Trainings</h1>" in html


def test_a_damaged_session_is_left_out_with_one_warning_and_a_copy_is_listed_once(feed, tmp_path):
    import shutil

    from typer.testing import CliRunner

    from voicecoach._cli.app import app
    from voicecoach._publish.serve import page

    out, _ = feed
    folder = tmp_path / "mixed"
    shutil.copytree(out, folder)
    sessions = sorted(folder.rglob("*.mp3"))
    # A damaged timeline, and the same build copied into another folder (as `build` then `batch` leave it).
    broken = sessions[0].with_name(sessions[0].name[:-4] + ".timeline.json")
    broken.write_text('{"title": "half a file"')
    (folder / "copy").mkdir()
    for path in sessions[1].parent.glob(sessions[1].name[:-4] + ".*"):
        shutil.copy(path, folder / "copy" / path.name)
    result = CliRunner().invoke(app, ["feed", str(folder), "--base-url", BASE])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and str(broken) in warnings[0] and warnings[0].endswith("(left out of the feed)")
    items = ET.parse(folder / "feed.xml").getroot().find("channel").findall("item")
    assert len(items) == len(sessions) - 1  # the damaged one out, the copy listed once
    shown_page = page(folder)
    assert shown_page.count('class="session damaged"') == 1
    assert shown_page.count('<section class="session" ') == len(sessions) - 1


def test_without_a_base_url_the_feed_is_for_the_address_serve_prints(feed):
    from typer.testing import CliRunner

    from voicecoach._cli.app import app
    from voicecoach._publish.serve import lan_address

    out, _ = feed
    result = CliRunner().invoke(app, ["feed", str(out)])
    assert result.exit_code == 0, result.output
    address = f"http://{lan_address()}:8000/"
    assert result.stderr == f"for {address} (where `voicecoach serve {out}` serves it; --base-url gives another)\n"
    assert f"<link>{address}</link>" in (out / "feed.xml").read_text(encoding="utf-8")
