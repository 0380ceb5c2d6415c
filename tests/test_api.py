"""The public surface: what `import voicecoach` offers, and the README's example, run as it is written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import voicecoach as vc
from voicecoach._audio.mix import ms_to_frame

README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_surface_is_small_listed_and_every_name_is_there():
    assert len(vc.__all__) == len(set(vc.__all__)) < 40
    assert {"load_routine", "parse_routine", "script", "build", "build_catalog", "render", "Timeline",
            "VoicecoachError", "register_engine", "register_store"} <= set(vc.__all__)
    for name in vc.__all__:
        assert getattr(vc, name) is not None, name
    assert not [name for name in dir(vc) if not name.startswith("_") and name not in vc.__all__]


def test_the_readmes_python_example_runs_as_written(tmp_path, cache_dir):
    code = re.search(r"## Use it from Python\n.*?```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert code is not None
    env = {**os.environ, "VOICECOACH_CACHE_DIR": str(cache_dir)}
    run = subprocess.run([sys.executable, "-c", code[1]], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "output/relieve-back-pain-through-your-feet--hold-20s.mp3"
    assert (tmp_path / lines[0]).is_file()
    assert re.fullmatch(r"\d+\.\d s in 7 chapters", lines[1])
    assert lines[2].startswith("resistance-to-flexion: ") and len(lines) == 5
    timeline = vc.Timeline.from_json((tmp_path / lines[0]).with_suffix("").with_suffix(".timeline.json")
                                     .read_text(encoding="utf-8"))
    circles = [event for event in timeline.events if event.kind == "hold" and event.exercise == "ankle-circles"]
    assert circles and {event.end_ms - event.start_ms for event in circles} == {20_000}  # the override


def test_a_routine_from_text_a_script_and_a_session_in_memory(tmp_path, cache_dir):
    routine = vc.parse_routine("title: Plank\nexercises:\n  - {name: Plank, hold: 3s}\n", source="plank.yaml")
    said = vc.script(routine)
    assert "Plank" in said.text and said.to_dict()["speech"]["engine"] == "pyttsx3"
    session = vc.render(routine, cache_dir=cache_dir)
    chunks = list(session.chunks(chunk_s=1.0))
    assert sum(len(chunk.samples) for chunk in chunks) == ms_to_frame(session.timeline.duration_ms, 22_050)
    assert [chunk.start_frame for chunk in chunks][:2] == [0, 22_050]
    assert {chunk.samples.dtype.name for chunk in chunks} == {"int16"}
    assert session.duration_s == session.timeline.duration_ms / 1000


def test_a_mistake_is_one_error_with_its_file_line_and_field():
    try:
        vc.parse_routine("title: Plank\nexercises:\n  - {name: Plank, hold: soon}\n", source="plank.yaml")
    except vc.RoutineError as error:
        assert (error.file, error.line, error.field) == ("plank.yaml", 3, "exercises[0].hold")
        assert str(error).startswith('plank.yaml:3: exercises[0].hold: "soon" is not a duration')
    else:
        raise AssertionError("no error")


def test_an_unknown_option_value_is_one_line_before_any_work(tmp_path):
    routine = vc.parse_routine("title: Plank\nexercises:\n  - {name: Plank, hold: 3s}\n")
    try:
        vc.build(routine, tmp_path / "out", subtitle_formats=("txt",), cache_dir=tmp_path / "cache")
    except vc.OutputError as error:
        assert str(error) == 'subtitle_formats: "txt" is not a subtitle format; use srt, vtt or both'.replace(
            "subtitle_formats", "`subtitle_formats`", 1)
    else:
        raise AssertionError("no error")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    assert not (tmp_path / "cache").exists()  # nothing was synthesized


def test_every_subprocess_a_test_starts_has_a_timeout():
    # A hung child must fail its test, not hang the suite.
    import ast

    missing = []
    for path in sorted(Path(__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and (
                    node.func.attr == "communicate" or (node.func.attr in ("run", "check_output") and isinstance(
                        node.func.value, ast.Name) and node.func.value.id == "subprocess")):
                if not any(keyword.arg == "timeout" for keyword in node.keywords):
                    missing.append(f"{path.name}:{node.lineno}")
    assert missing == []
