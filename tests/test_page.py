"""The phone page of `voicecoach serve`, in a real headless Chromium: it plays, a chapter button jumps, and the
line being spoken is the one highlighted."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from voicecoach.build import BuildOptions, build_file
from voicecoach.serve import serve_in_background

from .conftest import write_routine

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium (CI installs Debian's chromium package)")

ROUTINE = ("title: Page test\nintro: Welcome to the page test.\nexercises:\n  - name: Squeeze\n    hold: 3s\n"
           "    reps: 2\n    rep_rest: 6s\n  - name: Reach\n    hold: 3s\n")


@pytest.fixture(scope="module")
def page_and_timeline(tmp_path_factory, cache_dir):
    folder = tmp_path_factory.mktemp("page")
    result = build_file(write_routine(folder, ROUTINE), BuildOptions(output_dir=folder / "out", cache_dir=cache_dir))
    server, address = serve_in_background(folder / "out")
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM,
                                         args=["--autoplay-policy=no-user-gesture-required", "--no-sandbox"])
        page = browser.new_page()
        page.goto(address)
        yield page, json.loads(Path(result.timeline_path).read_text(encoding="utf-8"))
        browser.close()
    server.shutdown()
    server.server_close()


def test_the_chapter_buttons_are_the_chapters(page_and_timeline):
    page, timeline = page_and_timeline
    assert page.locator(".chapters button").all_inner_texts() == [c["title"] for c in timeline["chapters"]]


def test_a_chapter_button_jumps_there_and_plays(page_and_timeline):
    page, timeline = page_and_timeline
    reach = next(c for c in timeline["chapters"] if c["title"] == "Reach")
    page.locator(".chapters button", has_text="Reach").click()
    page.wait_for_timeout(1500)
    state = page.evaluate("(() => { const a = document.querySelector('audio'); "
                          "return {t: a.currentTime, paused: a.paused}; })()")
    assert not state["paused"]
    assert reach["start"] + 0.5 <= state["t"] <= reach["start"] + 3.0


def test_the_line_being_spoken_is_highlighted(page_and_timeline):
    page, timeline = page_and_timeline
    spoken = [e for e in timeline["events"] if e["kind"] == "speech"]
    for line in (spoken[1], spoken[-1]):
        middle = (line["start"] + line["end"]) / 2
        page.evaluate("(() => { const a = document.querySelector('audio'); a.pause(); "
                      f"a.currentTime = {middle}; }})()")
        page.wait_for_function(f"Math.abs(document.querySelector('audio').currentTime - {middle}) < 0.05")
        page.wait_for_timeout(300)  # the page updates on the seek's timeupdate
        assert page.locator(".lines li.now").all_inner_texts() == [line["text"]]
