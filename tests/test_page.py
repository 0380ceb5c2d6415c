"""The phone page of `voicecoach serve`, in a real headless Chromium: it plays, a chapter button jumps, and the
line being spoken is the one highlighted."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from voicecoach._pipeline.build import BuildOptions, build_file
from voicecoach._publish.serve import serve_in_background

from .conftest import write_routine

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium (CI installs Debian's chromium package)")

ROUTINE = ("title: Page test\nintro: Welcome to the page test.\nexercises:\n  - name: Squeeze\n    hold: 3s\n"
           "    reps: 2\n    rep_rest: 6s\n  - name: Reach\n    hold: 3s\n")


@pytest.fixture(scope="module")
def chromium():
    """One headless Chromium for the module (the sync API allows one Playwright at a time)."""
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM,
                                         args=["--autoplay-policy=no-user-gesture-required", "--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def page_and_timeline(tmp_path_factory, cache_dir, chromium):
    folder = tmp_path_factory.mktemp("page")
    result = build_file(write_routine(folder, ROUTINE), BuildOptions(output_dir=folder / "out", cache_dir=cache_dir))
    server, address = serve_in_background(folder / "out")
    page = chromium.new_page()
    page.goto(address)
    yield page, json.loads(Path(result.timeline_path).read_text(encoding="utf-8"))
    page.close()
    server.shutdown()
    server.server_close()


def test_the_chapter_buttons_are_the_chapters(page_and_timeline):
    page, timeline = page_and_timeline
    assert page.locator(".chapters button").all_inner_texts() == [c["title"] for c in timeline["chapters"]]


def test_a_chapter_button_jumps_there_and_plays(page_and_timeline):
    page, timeline = page_and_timeline
    reach = next(c for c in timeline["chapters"] if c["title"] == "Reach")
    page.locator(".chapters button", has_text="Reach").click()
    # playing, and moved on from where the chapter starts (the click jumps there and plays)
    page.wait_for_function(f"(() => {{ const a = document.querySelector('audio'); "
                           f"return !a.paused && a.currentTime > {reach['start']} + 0.2; }})()")
    assert reach["start"] <= page.evaluate("document.querySelector('audio').currentTime") < reach["end"]


def test_the_line_being_spoken_is_highlighted(page_and_timeline):
    page, timeline = page_and_timeline
    spoken = [e for e in timeline["events"] if e["kind"] == "speech"]
    for line in (spoken[1], spoken[-1]):
        middle = (line["start"] + line["end"]) / 2
        page.evaluate("(() => { const a = document.querySelector('audio'); a.pause(); "
                      f"a.currentTime = {middle}; }})()")
        page.wait_for_function(f"Math.abs(document.querySelector('audio').currentTime - {middle}) < 0.05")
        # the page marks the line on the seek's timeupdate
        page.wait_for_function("(text => [...document.querySelectorAll('.lines li.now')].map(li => li.innerText)"
                               ".join('|') === text)", arg=line["text"])
        assert page.locator(".lines li.now").all_inner_texts() == [line["text"]]


# ---------------------------------------------------------------- the coach view, at phone size

SIDES = ("title: Foot drill\nintro: Sit on a chair.\nexercises:\n  - name: Pencil pick-up\n    hold: 4s\n"
         "    reps: 2\n    rep_rest: 6s\n    sides: [left foot, right foot]\n    side_rest: 6s\n")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


@pytest.fixture(scope="module")
def phone(tmp_path_factory, cache_dir, chromium):
    folder = tmp_path_factory.mktemp("phone")
    out = folder / "out"
    first = build_file(write_routine(folder, SIDES, "feet.yaml"), BuildOptions(output_dir=out, cache_dir=cache_dir))
    build_file(write_routine(folder, ROUTINE, "page.yaml"), BuildOptions(output_dir=out, cache_dir=cache_dir))
    server, address = serve_in_background(out, token="phone-token")
    context = chromium.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                   has_touch=True)
    page = context.new_page()
    page.goto(address + "?token=phone-token")
    yield page, json.loads(Path(first.timeline_path).read_text(encoding="utf-8"))
    context.close()
    server.shutdown()
    server.server_close()


def seek(page, seconds: float, card: int = 0, play: bool = False) -> None:
    """Move card's player to ``seconds`` (and play), then wait until the page has drawn what follows: the
    player's event (seeked, or playing) and two animation frames after it."""
    event = "playing" if play else "seeked"
    page.evaluate(f"""new Promise(done => {{
        const a = document.querySelectorAll('audio')[{card}];
        a.addEventListener('{event}', () => requestAnimationFrame(() => requestAnimationFrame(done)), {{once: true}});
        a.pause();
        a.currentTime = {seconds};
        if ({'true' if play else 'false'}) a.play();
    }})""")


def test_the_coach_panel_shows_the_exercise_side_rep_and_seconds_left(phone):
    page, timeline = phone
    hold = [e for e in timeline["events"] if e["kind"] == "hold"][3]  # right foot, rep 2 of 2
    seek(page, hold["start"] + 1.2)
    coach = page.locator(".session").first.locator(".coach")
    assert coach.locator(".where").inner_text() == "Pencil pick-up · Right foot · Rep 2 of 2"
    assert coach.locator(".left").inner_text() == "3"  # 4 s hold, 1.2 s in: 2.8 s left, shown as 3
    assert coach.locator(".next").inner_text().startswith("→ ")
    rest = next(e for e in timeline["events"] if e["kind"] == "gap" and e["start"] > hold["end"] - 0.5) \
        if any(e["kind"] == "gap" and e["start"] >= hold["end"] for e in timeline["events"]) else None
    first_gap = next(e for e in timeline["events"] if e["kind"] == "gap" and e["after"] == "rep")
    seek(page, first_gap["end"] - 2.5)
    assert coach.locator(".where").inner_text() == "Rest"
    assert coach.locator(".left").inner_text() == "3"
    assert coach.locator(".next").inner_text() == "→ Pencil pick-up · Left foot · Rep 2 of 2"
    assert rest is None or rest["kind"] == "gap"
    ARTIFACTS.mkdir(exist_ok=True)
    seek(page, hold["start"] + 1.2)
    page.screenshot(path=str(ARTIFACTS / "coach-view.png"))


def test_the_window_never_scrolls_on_its_own(phone):
    page, timeline = phone
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    before = page.evaluate("window.scrollY")
    assert before > 0
    spoken = [e for e in timeline["events"] if e["kind"] == "speech"]
    for line in (spoken[2], spoken[6], spoken[-1]):
        seek(page, (line["start"] + line["end"]) / 2)
    assert page.evaluate("window.scrollY") == before
    # ...while the box of lines follows the line being spoken inside itself.
    assert page.evaluate("document.querySelector('.lines').scrollTop") > 0
    page.screenshot(path=str(ARTIFACTS / "lines-followed.png"))


def test_line_numbers_are_never_clipped(phone):
    page, _ = phone
    # The list's numbers sit in its left padding: 2.8rem holds "10." and "100." at the page's font size.
    padding = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.lines')).paddingLeft)")
    width = page.evaluate("""(() => { const c = document.createElement('canvas').getContext('2d');
        c.font = getComputedStyle(document.querySelector('.lines')).font; return c.measureText('100. ').width; })()""")
    assert padding >= width


def test_starting_a_second_session_pauses_the_first(phone):
    page, _ = phone
    page.evaluate("document.querySelectorAll('audio')[0].play()")
    page.wait_for_function("!document.querySelectorAll('audio')[0].paused")
    page.evaluate("document.querySelectorAll('audio')[1].play()")
    page.wait_for_function("!document.querySelectorAll('audio')[1].paused")
    page.wait_for_function("document.querySelectorAll('audio')[0].paused")  # fails by its timeout if never
    page.evaluate("document.querySelectorAll('audio')[1].pause()")


def test_the_lock_screen_title_follows_the_chapter(phone):
    page, timeline = phone
    for chapter in timeline["chapters"][1:3]:
        seek(page, chapter["start"] + 0.5, play=True)
        page.wait_for_function(f"navigator.mediaSession.metadata && "
                               f"navigator.mediaSession.metadata.title === {json.dumps(chapter['title'])}")
        assert page.evaluate("navigator.mediaSession.metadata.album") == "Foot drill"
    page.evaluate("document.querySelectorAll('audio')[0].pause()")


def test_the_cover_inside_the_mp3_is_served_for_the_card_and_the_lock_screen(phone):
    page, _ = phone
    src = page.locator(".session img.cover").first.get_attribute("src")
    size = page.evaluate(f"fetch({json.dumps(src)}).then(r => r.ok ? r.blob() : null).then(b => b && b.size)")
    assert size and size > 10_000


def test_at_0_00_the_coach_panel_shows_what_comes_first(phone):
    page, _ = phone
    seek(page, 0.0)
    coach = page.locator(".session").first.locator(".coach")
    assert coach.locator(".where").inner_text() == "Intro"
    assert coach.locator(".next").inner_text() == "→ Pencil pick-up · Left foot · Rep 1 of 2"


def test_one_card_is_open_the_others_are_one_line_with_a_label(phone):
    page, _ = phone
    assert page.locator(".session.open").count() == 1
    labels = page.locator(".session .summary .label").all_inner_texts()
    assert labels == ["Foot drill", "Page test"]  # a card always has a label, even when it is the routine's title
    second = page.locator(".session").nth(1)
    assert not second.locator("audio").is_visible()
    height = second.bounding_box()["height"]
    assert height < 80  # one line: cover, title, length (the open card is several hundred pixels)
    page.evaluate("document.querySelectorAll('audio')[1].play()")  # playing opens its card, and closes the other
    page.wait_for_function("document.querySelectorAll('.session')[1].classList.contains('open')")
    assert page.locator(".session.open").count() == 1
    page.evaluate("document.querySelectorAll('audio')[1].pause()")
    page.locator(".session").first.locator(".summary").click()  # choosing a card opens it
    page.wait_for_function("document.querySelectorAll('.session')[0].classList.contains('open')")
    assert page.locator(".session.open").count() == 1


def test_the_card_and_the_player_agree_on_the_length(phone, tmp_path):
    page, timeline = phone
    served = page.evaluate("fetch(location.href).then(r => r.text())")  # the card as the server wrote it
    written = served.split('<span class="length">', 1)[1].split("<", 1)[0]
    page.wait_for_function("isFinite(document.querySelector('audio').duration)")
    player = page.evaluate("(() => { const d = document.querySelector('audio').duration; "
                           "return Math.floor(d / 60) + ':' + String(Math.floor(d) % 60).padStart(2, '0'); })()")
    minutes, seconds = divmod(int(timeline["duration"]), 60)
    assert written == player == f"{minutes}:{seconds:02d}"
    assert page.locator(".session .summary .length").first.inner_text() == player
