"""The phone page of `voicecoach serve` for a program: its days under their weeks, the day of today's date marked
and open (else the first day not played: "Next"), and what this browser played to the end remembered, also after a
reload, with each week's count of played days. In a real headless Chromium at phone size, as tests/test_page.py."""

from __future__ import annotations

import datetime
import html
import re
import shutil
from pathlib import Path

import pytest
from mutagen.id3 import ID3

from voicecoach._catalog.model import BatchOptions
from voicecoach._program.build import build_programs
from voicecoach._publish.serve import page, serve_in_background
from voicecoach._publish.tags import TIMELINE_HASH_TAG, tag_values

from .conftest import write_routine

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
WAIT_MS = 120_000  # a bound for a hang, far above what any step takes (also on a busy machine)

# A program with dates: week 2's first day is today (a week is the seven days from the start).
DATED = """\
title: Knee today
exercises:
  - name: Squeeze
    id: squeeze
    hold: 2s
program:
  weeks: 4
  days_per_week: 3
  start: {start}
  progression:
    exercises.squeeze.hold: [2s, 2s, 3s, 3s]
"""
# A program without dates, on named weekdays; its title shows that the page escapes what it reads from a file.
UNDATED = """\
title: Ankle & <foot>
exercises:
  - name: Circles
    hold: 2s
program:
  weeks: 4
  days: [mon, wed, fri]
"""


@pytest.fixture(scope="module")
def programs(tmp_path_factory, cache_dir):
    """Both programs built into one folder; today's date as it was when they were built."""
    folder = tmp_path_factory.mktemp("programs")
    today = datetime.date.today()
    start = today - datetime.timedelta(days=7)
    paths = [write_routine(folder, DATED.format(start=start.isoformat()), "knee.yaml"),
             write_routine(folder, UNDATED, "ankle.yaml")]
    result = build_programs(paths, BatchOptions(output_dir=folder / "out", cache_dir=cache_dir, jobs=1))
    assert not result.failed and len(result.sessions) == 24
    return folder / "out", today


# ---------------------------------------------------------------- the page as the server writes it


def test_a_program_without_dates_marks_its_first_day_next(programs):
    out, today = programs
    written = page(out, today=today)
    ankle = written.split('<h2 class="routine">Ankle &amp; &lt;foot&gt;</h2>', 1)[1].split('<h2 class="routine">')[0]
    assert ankle.startswith('<div class="program" lang="en" data-today="Today" data-next="Next" '
                            'data-progress="{done} of {total} played">')
    assert re.findall(r'<h3 class="week-heading"><span>([^<]*)</span> <span class="progress">([^<]*)</span>',
                      ankle) == [(f"Week {week}", "0 of 3 played") for week in (1, 2, 3, 4)]
    labels = re.findall(r'<span class="label">([^<]*)</span>', ankle)
    assert labels == [f"Week {week} · Day {day}" for week in (1, 2, 3, 4) for day in (1, 2, 3)]
    marks = re.findall(r'<span class="mark( [a-z]+)?">([^<]*)</span>', ankle)
    assert marks[0] == (" next", "Next")  # the first day, the only one marked
    assert all(mark == ("", "") for mark in marks[1:])
    assert re.findall(r'<span class="when" data-weekday="([a-z]+)">', ankle)[:3] == ["mon", "wed", "fri"]
    assert "<foot>" not in written  # every text from a file is escaped


def test_a_program_with_dates_marks_the_day_of_today_and_keys_each_day_by_its_timeline(programs):
    out, today = programs
    written = page(out, today=today)
    knee = written.split('<h2 class="routine">Knee today</h2>', 1)[1]
    marked = re.findall(r'<section class="session" id="s\d+" lang="en" data-key="([^"]*)" data-date="([-0-9]*)">'
                        r'.*?<span class="mark( [a-z]+)?">([^<]*)</span>', knee)
    assert len(marked) == 12
    assert [(date, mark) for _, date, mark, _ in marked if mark] == [(today.isoformat(), " today")]
    assert [date for _, date, _, _ in marked][3] == today.isoformat()  # week 2, day 1
    # The key this browser remembers a played day by: its MP3's path and the timeline hash in its tags.
    key = html.unescape(marked[3][0])
    mp3 = out / key.split("#")[0]
    assert key.split("#")[1] == tag_values(ID3(mp3), TIMELINE_HASH_TAG)[0][:16]
    assert len({key for key, _, _, _ in marked}) == 12


# ---------------------------------------------------------------- in Chromium, at phone size


@pytest.fixture(scope="module")
def chromium():
    if CHROMIUM is None:
        pytest.skip("no chromium (CI installs Debian's chromium package)")
    playwright = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM,
                                         args=["--autoplay-policy=no-user-gesture-required", "--no-sandbox"])
        yield browser
        browser.close()


def skip_past_midnight(tab, today: datetime.date) -> None:
    """Skip when the browser's date is no longer the day the programs were built on (the test ran past midnight):
    today's day is another one then."""
    browser_today = tab.evaluate("(() => { const d = new Date(); return [d.getFullYear(), d.getMonth() + 1, "
                                 "d.getDate()]; })()")
    if datetime.date(*browser_today) != today:
        pytest.skip("midnight passed between the build and the page")


@pytest.fixture()
def phone(programs, chromium):
    out, today = programs
    server, address = serve_in_background(out)
    context = chromium.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                   has_touch=True)
    context.set_default_timeout(WAIT_MS)
    try:
        tab = context.new_page()
        tab.goto(address)
        skip_past_midnight(tab, today)
        yield tab, today
    finally:
        context.close()
        server.shutdown()
        server.server_close()


def play_to_the_end(tab, card) -> None:
    """Play ``card``'s session from half a second before its end, and wait until the player says it ended."""
    card.evaluate("""card => {
        const audio = card.querySelector('audio');
        window.endedSeen = false;
        audio.addEventListener('ended', () => { window.endedSeen = true; }, {once: true});
        const go = () => { audio.currentTime = audio.duration - 0.5; audio.play(); };
        if (isFinite(audio.duration)) go(); else audio.addEventListener('loadedmetadata', go, {once: true});
    }""")
    tab.wait_for_function("window.endedSeen === true")


def program_of(tab, dated: bool):
    days = tab.locator(".session[data-date]")
    programs = tab.locator(".program")
    return programs.filter(has=days) if dated else programs.filter(has_not=days)


def test_the_weeks_are_shown_and_the_day_of_today_is_marked_and_open(phone):
    tab, today = phone
    knee = program_of(tab, dated=True)
    headings = knee.locator(".week-heading")
    assert headings.locator("span:not(.progress)").all_inner_texts() == ["Week 1", "Week 2", "Week 3", "Week 4"]
    assert headings.locator(".progress").all_inner_texts() == ["0 of 3 played"] * 4
    todays = knee.locator(f'.session[data-date="{today.isoformat()}"]')
    assert todays.locator(".summary .label").inner_text() == "Week 2 · Day 1"
    assert todays.locator(".mark.today").inner_text() == "Today"
    assert knee.locator(".mark.today").count() == 1 and tab.locator(".mark.next").count() == 1  # the other's
    # Today's day is the card open, though the other program comes first; the page never scrolls sideways.
    assert tab.locator(".session.open").count() == 1
    assert "open" in (todays.get_attribute("class") or "")
    assert todays.locator("audio").is_visible()
    assert todays.locator("audio").evaluate("a => { const box = a.getBoundingClientRect(); "
                                            "return box.top >= 0 && box.bottom <= innerHeight; }")  # on the screen
    assert tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    ankle = program_of(tab, dated=False)
    assert ankle.locator(".session").first.locator(".mark.next").inner_text() == "Next"
    assert ankle.locator(".when").first.inner_text() == "Monday"  # its weekday, in the session's language


def test_a_day_played_to_the_end_stays_played_after_a_reload(phone):
    tab, today = phone
    todays = program_of(tab, dated=True).locator(f'.session[data-date="{today.isoformat()}"]')
    assert todays.locator(".done").is_hidden()
    play_to_the_end(tab, todays)
    todays.locator(".done").wait_for(state="visible")
    tab.reload()
    skip_past_midnight(tab, today)
    knee = program_of(tab, dated=True)
    todays = knee.locator(f'.session[data-date="{today.isoformat()}"]')
    todays.locator(".done").wait_for(state="visible")
    assert todays.locator(".done").inner_text() == "✓ Played"
    assert knee.locator(".done:visible").count() == 1
    assert knee.locator(".week-heading .progress").all_inner_texts() == [
        "0 of 3 played", "1 of 3 played", "0 of 3 played", "0 of 3 played"]
    assert todays.locator(".mark.today").inner_text() == "Today"  # still today's, and still the one open
    assert "open" in (todays.get_attribute("class") or "")
    assert tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / "program-view.png"))


def test_next_moves_on_to_the_first_day_not_played(phone):
    tab, _ = phone
    ankle = program_of(tab, dated=False)
    days = ankle.locator(".session")
    assert days.nth(0).locator(".mark.next").count() == 1
    play_to_the_end(tab, days.nth(0))
    days.nth(1).locator(".mark.next").wait_for()  # moved on as soon as the day ended
    assert days.nth(0).locator(".mark").inner_text() == ""
    assert days.nth(0).locator(".done").is_visible()
    assert ankle.locator(".week-heading .progress").first.inner_text() == "1 of 3 played"
