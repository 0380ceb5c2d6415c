"""Check that a change of the code changed no build: same timelines, same samples, same error lines.

    python scripts/same_output.py collect ROUTINES        # every routine in tests/, docs/, README, examples
    python scripts/same_output.py build ROUTINES OUT      # build each (and each variant) with this checkout
    python scripts/same_output.py compare OUT_BEFORE OUT_AFTER

``collect`` writes each routine it finds into ROUTINES once: the bundled examples, the YAML files under tests/,
the fenced YAML blocks of README.md and docs/ that are routines, and the triple-quoted strings in tests/*.py
that are. ``build`` runs the command line (`voicecoach build ROUTINE --variant V -o ... -q`), which stays the
same however the code is laid out, and keeps for each build its timeline (less a "version" field, if any) and
the SHA-256 of its decoded samples, or its exit code and stderr. ``compare`` says which differ.
Builds share one speech cache: a build is a function of its inputs (docs/routine-format.md, section 10).
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

TOP = Path(__file__).resolve().parent.parent


def _is_routine(text: str) -> bool:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return False
    return isinstance(data, dict) and "exercises" in data


def collect(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    found: dict[str, str] = {}
    for path in sorted((TOP / "voicecoach" / "examples").glob("*.yaml")):
        found[f"example-{path.stem}"] = path.read_text(encoding="utf-8")
    for path in sorted((TOP / "tests").rglob("*.yaml")):
        found[f"tests-{path.parent.name}-{path.stem}"] = path.read_text(encoding="utf-8", errors="replace")
    for doc in [TOP / "README.md", *sorted((TOP / "docs").glob("*.md"))]:
        blocks = re.findall(r"```ya?ml\n(.*?)```", doc.read_text(encoding="utf-8"), flags=re.S)
        for number, block in enumerate(blocks, start=1):
            if _is_routine(block):
                found[f"{doc.stem}-{number}"] = block
    for test in sorted((TOP / "tests").glob("*.py")):
        tree = ast.parse(test.read_text(encoding="utf-8"))
        number = 0
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and "\n" in node.value \
                    and "exercises" in node.value and _is_routine(node.value):
                number += 1
                found[f"{test.stem}-{number}"] = node.value
    # Music and covers the docs and the tests name relative to the routine: the examples' folder has them.
    for name, text in found.items():
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    music = TOP / "voicecoach" / "examples" / "music"
    if music.is_dir() and not (folder / "music").exists():
        (folder / "music").symlink_to(music)
    print(f"{len(found)} routines in {folder}")


def build(folder: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    cache = out / "cache"
    results: dict[str, dict] = {}
    for routine in sorted(folder.glob("*.yaml")):
        try:
            data = yaml.safe_load(routine.read_text(encoding="utf-8"))
            variants = list((data.get("variants") or {}) if isinstance(data, dict) else {})
        except (yaml.YAMLError, UnicodeDecodeError, AttributeError):
            variants = []
        for variant in [None, *variants]:
            key = routine.stem + (f"--{variant}" if variant else "")
            target = out / "builds" / key
            command = [sys.executable, "-m", "voicecoach", "build", str(routine), "-o", str(target), "-q",
                       "--cache-dir", str(cache), *(["--variant", str(variant)] if variant else [])]
            done = subprocess.run(command, capture_output=True, text=True, timeout=600)
            result: dict = {"exit": done.returncode, "stderr": done.stderr.replace(str(folder), "ROUTINES")}
            timelines = sorted(target.glob("*.timeline.json")) if target.is_dir() else []
            if done.returncode == 0 and timelines:
                timeline = json.loads(timelines[0].read_text(encoding="utf-8"))
                timeline.pop("version", None)
                mp3 = timelines[0].with_name(timelines[0].name.removesuffix(".timeline.json") + ".mp3")
                pcm = subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", str(mp3), "-f", "s16le",
                                      "-"], capture_output=True, check=True).stdout
                result.update(timeline=json.dumps(timeline, ensure_ascii=False, sort_keys=True),
                              samples=len(pcm) // 2, audio_sha256=hashlib.sha256(pcm).hexdigest())
            results[key] = result
            print(f"{key}: exit {done.returncode}" + (f", {result.get('samples')} samples" if "samples" in result
                                                       else ""), flush=True)
    (out / "results.json").write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")


def compare(before: Path, after: Path) -> int:
    first = json.loads((before / "results.json").read_text(encoding="utf-8"))
    second = json.loads((after / "results.json").read_text(encoding="utf-8"))
    built = sum("samples" in result for result in first.values())
    differ = [key for key in sorted(set(first) | set(second)) if first.get(key) != second.get(key)]
    for key in differ:
        a, b = first.get(key, {}), second.get(key, {})
        what = [field for field in ("exit", "stderr", "timeline", "audio_sha256") if a.get(field) != b.get(field)]
        print(f"DIFFERS {key}: {', '.join(what)}")
        for field in ("stderr",):
            if field in what:
                print(f"  before: {a.get(field)!r}\n  after:  {b.get(field)!r}")
    print(f"{len(first)} builds ({built} built, {len(first) - built} refused): {len(differ)} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    command, *arguments = sys.argv[1:] or ["--help"]
    if command == "collect":
        collect(Path(arguments[0]))
    elif command == "build":
        build(Path(arguments[0]), Path(arguments[1]))
    elif command == "compare":
        sys.exit(compare(Path(arguments[0]), Path(arguments[1])))
    else:
        print(__doc__)
