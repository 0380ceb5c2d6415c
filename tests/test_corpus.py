"""The corpus of bad routines: each file gives exactly its line of expected.txt, and nothing else happens.

Every case in tests/corpus/bad-routines/ is a routine as a person might write
it, with one mistake. expected.txt holds, in file order, the one line
voicecoach must print for it: the file, the line (where the YAML has one), the
field, what is wrong and what would be right. A folder and a missing file
cannot be committed, so they are made here at run time.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from voicecoach._errors import VoicecoachError
from voicecoach._pipeline.build import check_routine
from voicecoach._routine.load import load_routine_file

CORPUS = Path(__file__).parent / "corpus" / "bad-routines"
MIN_CASES = 34

# Cases that are not a committed file: made in a temporary folder by place().
MADE_AT_RUN_TIME = {"56-a-folder.yaml": "folder", "57-missing.yaml": "missing"}


def _read_expected() -> list[tuple[str, str]]:
    cases = []
    for line in (CORPUS / "expected.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        cases.append((line.split(":", 1)[0], line))
    return cases


CASES = _read_expected()
EXPECTED = dict(CASES)


def place(name: str, folder: Path) -> Path:
    """The case as a file (or folder, or nothing) named ``name`` in ``folder``."""
    target = folder / name
    made = MADE_AT_RUN_TIME.get(name)
    if made == "folder":
        target.mkdir()
    elif made is None:
        shutil.copyfile(CORPUS / name, target)
    return target


def check(path: Path, name: str, speech) -> None:
    """What `voicecoach validate` checks, with the file named by its bare name."""
    check_routine(path, speech, display_name=name)


def test_the_corpus_is_complete_and_in_order():
    names = [name for name, _ in CASES]
    assert len(names) >= MIN_CASES
    assert names == [f"{number:02d}-{name.split('-', 1)[1]}" for number, name in enumerate(names, start=1)]
    assert all(re.fullmatch(r"\d\d-[a-z0-9-]+\.yaml", name) for name in names)
    committed = {path.name for path in CORPUS.iterdir() if path.name != "expected.txt"}
    assert committed == set(names) - set(MADE_AT_RUN_TIME)
    assert set(MADE_AT_RUN_TIME) <= set(names)


@pytest.mark.parametrize("name, message", CASES, ids=[name for name, _ in CASES])
def test_a_bad_routine_gives_exactly_its_line(name, message, speech, tmp_path):
    path = CORPUS / name if name not in MADE_AT_RUN_TIME else place(name, tmp_path)
    with pytest.raises(VoicecoachError) as caught:
        check(path, name, speech)
    assert str(caught.value) == message
    assert caught.value.exit_code == 2


def test_every_message_is_one_line_that_names_the_file_first():
    for name, message in CASES:
        assert "\n" not in message and "\r" not in message
        assert re.match(rf"{re.escape(name)}(:\d+)?: \S", message), message
        assert "Traceback" not in message and "Error(" not in message


# (case, extra arguments): a representative of each kind of mistake, through the real command.
CLI_CASES = [
    ("01-unclosed-bracket.yaml", []),
    ("06-tab-indent.yaml", []),
    ("15-reps-many.yaml", []),
    ("28-too-many-holds.yaml", []),
    ("36-voice-not-installed.yaml", []),
    ("46-python-object.yaml", []),
    ("47-alias-bomb.yaml", []),
    ("49-binary.yaml", []),
    ("50-latin1.yaml", []),
    ("52-variant-unknown-id.yaml", ["--variant", "quick"]),
    ("55-variant-not-a-mapping.yaml", []),
    ("56-a-folder.yaml", []),
    ("57-missing.yaml", []),
    ("58-engine-unknown.yaml", []),
    ("59-voice-model-missing.yaml", []),
    ("62-translation-missing.yaml", []),
    ("64-lexicon-not-a-mapping.yaml", []),
]


@pytest.mark.parametrize("name, extra", CLI_CASES, ids=[name for name, _ in CLI_CASES])
def test_the_command_prints_one_line_exits_2_and_writes_nothing(name, extra, tmp_path, cache_dir):
    # The case is placed in an empty folder that is also the working directory, so the
    # command names it by its bare file name, and anything it wrongly ran or wrote shows.
    place(name, tmp_path)
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "voicecoach", "build", name, "-o", str(out), *extra],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "VOICECOACH_CACHE_DIR": str(cache_dir)})
    assert result.returncode == 2, result.stderr
    assert result.stderr == EXPECTED[name] + "\n"
    assert result.stdout == ""
    assert "Traceback" not in result.stdout + result.stderr
    assert not out.exists() or not any(out.iterdir())
    # Nothing else appeared beside the routine: a !!python/... tag ran nothing.
    assert {path.name for path in tmp_path.iterdir()} <= {name, "out"}


@pytest.mark.parametrize("name", ["47-alias-bomb.yaml", "48-merge-bomb.yaml"])
def test_an_alias_bomb_is_refused_quickly_without_eating_memory(name):
    # Bounded by work and memory, not by the clock: the loader stops at its node limit, so memory stays small
    # (a bomb expanded would take gigabytes).
    tracemalloc.start()
    try:
        with pytest.raises(VoicecoachError) as caught:
            load_routine_file(CORPUS / name, display_name=name)
        _, peak_bytes = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(caught.value) == EXPECTED[name]
    assert peak_bytes < 50_000_000
