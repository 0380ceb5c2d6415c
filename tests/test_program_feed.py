"""The podcast feed of a program: each day published on its date (or a minute apart, in program order), a season
per week and an episode per day, and a feed of one program serial; other sessions' items as they were."""

from __future__ import annotations

import calendar
import datetime
import shutil

import feedparser
import pytest

from voicecoach._catalog.catalog import build_batch
from voicecoach._catalog.model import BatchOptions
from voicecoach._catalog.specs import batch_specs
from voicecoach._program.build import build_programs
from voicecoach._publish.feed import write_feed
from voicecoach._routine.load import load_routine_file

from .conftest import write_routine

ROUTINE = """\
title: Knee home programme
prepare: 3s
exercises:
  - name: Quad squeeze
    id: quads
    hold: 2s
    sets: 2
    set_rest: 2s
    cue: Squeeze
    rest: 2s
  - name: Heel slide
    id: slides
    hold: 2s
"""
PROGRESSION = """\
  progression:
    exercises.quads.hold: [2s, 2s, 3s, 4s]
    exercises.quads.sets: {from: 1, to: 3}
"""
DATED = ROUTINE + "program:\n  weeks: 4\n  days: [mon, wed, fri]\n  start: 2027-01-04\n" + PROGRESSION
UNDATED = ROUTINE + "program:\n  weeks: 4\n  days_per_week: 3\n" + PROGRESSION
START = datetime.date(2027, 1, 4)  # a Monday
OFFSETS_DAYS = (0, 2, 4)  # mon, wed, fri
BASE = "http://192.168.1.20:8000/"


@pytest.fixture(scope="module")
def folders(tmp_path_factory, cache_dir):
    """A dated program, an undated one and the plain routine, each built once into a folder of its own (feed
    written)."""
    root = tmp_path_factory.mktemp("program-feed")
    out = {"dated": root / "dated", "undated": root / "undated", "plain": root / "plain"}
    for name, text in (("dated", DATED), ("undated", UNDATED)):
        routine = write_routine(root, text, f"{name}.yaml")
        build_programs([routine], BatchOptions(output_dir=out[name], jobs=1, cache_dir=cache_dir))
    routine_file = load_routine_file(write_routine(root, ROUTINE, "plain.yaml"))
    build_batch(routine_file, batch_specs(routine_file), BatchOptions(output_dir=out["plain"], jobs=1,
                                                                      cache_dir=cache_dir))
    for folder in out.values():
        write_feed(folder, BASE)
    return out


def parsed(folder):
    feed = feedparser.parse(str(folder / "feed.xml"))
    assert not feed.bozo, feed.get("bozo_exception")
    return feed


def program_order():
    return [(week, day) for week in range(1, 5) for day in range(1, 4)]


def test_each_day_of_a_dated_program_is_published_on_its_date_as_a_season_and_episode(folders):
    feed = parsed(folders["dated"])
    assert len(feed.entries) == 12
    assert feed.feed.itunes_type == "serial"  # one program: meant to be heard in order
    for entry, (week, day) in zip(feed.entries, program_order()):
        assert entry.title == f"Week {week} · Day {day}"
        date = START + datetime.timedelta(days=7 * (week - 1) + OFFSETS_DAYS[day - 1])
        published = entry.published_parsed  # in UTC
        assert (published.tm_year, published.tm_mon, published.tm_mday) == (date.year, date.month, date.day)
        assert (published.tm_hour, published.tm_min, published.tm_sec) == (12, 0, 0)  # noon UTC
        assert (entry.itunes_season, entry.itunes_episode) == (str(week), str(day))
        assert (entry.podcast_season, entry.podcast_episode) == (str(week), str(day))
        assert entry.itunes_episodetype == "full"
    assert [entry.published_parsed[:3] for entry in feed.entries][:4] == [
        (2027, 1, 4), (2027, 1, 6), (2027, 1, 8), (2027, 1, 11)]


def test_an_undated_program_is_published_a_minute_apart_in_program_order(folders):
    feed = parsed(folders["undated"])
    assert [entry.title for entry in feed.entries] == [f"Week {week} · Day {day}" for week, day in program_order()]
    assert [(entry.itunes_season, entry.itunes_episode) for entry in feed.entries] == [
        (str(week), str(day)) for week, day in program_order()]
    published_s = [calendar.timegm(entry.published_parsed) for entry in feed.entries]
    assert all(earlier < later for earlier, later in zip(published_s, published_s[1:]))
    assert [later - earlier for earlier, later in zip(published_s, published_s[1:])] == [60] * 11
    oldest_s = min(path.stat().st_mtime for path in folders["undated"].rglob("*.mp3"))
    assert published_s[0] == int(oldest_s)  # from the program's oldest file on (RFC 822 dates are whole seconds)
    assert feed.feed.itunes_type == "serial"


def test_a_plain_build_has_no_season_and_keeps_its_file_date_and_track(folders):
    feed = parsed(folders["plain"])
    assert "itunes_type" not in feed.feed
    [entry] = feed.entries
    assert entry.title == "Knee home programme"
    assert not any(key in entry for key in ("itunes_season", "podcast_season", "podcast_episode",
                                             "itunes_episodetype"))
    assert entry.itunes_episode == "1"  # its track
    [mp3] = folders["plain"].rglob("*.mp3")
    assert calendar.timegm(entry.published_parsed) == int(mp3.stat().st_mtime)


def test_a_program_beside_a_plain_session_of_its_routine_is_not_serial(folders, tmp_path):
    mixed = tmp_path / "mixed"
    shutil.copytree(folders["dated"], mixed)
    shutil.copytree(folders["plain"], mixed / "plain")
    write_feed(mixed, BASE)
    feed = parsed(mixed)
    assert "itunes_type" not in feed.feed
    program = [entry for entry in feed.entries if "itunes_season" in entry]
    plain = [entry for entry in feed.entries if "itunes_season" not in entry]
    assert [(entry.itunes_season, entry.itunes_episode) for entry in program] == [
        (str(week), str(day)) for week, day in program_order()]
    assert [entry.title for entry in plain] == ["Knee home programme"] and plain[0].itunes_episode == "1"
