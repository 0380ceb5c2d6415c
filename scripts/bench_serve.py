"""How `voicecoach serve` holds up under abuse: a normal client's latency beside slow, idle and many clients.

    python scripts/bench_serve.py --write docs/benchmarks.md

Builds the bundled example into a temporary folder, starts the real command (`python -m voicecoach serve
FOLDER --no-token -q`) in its own process, and measures from this one, over loopback:

- a normal client alone: 200 requests one after another (the page, and the session's lyrics file);
- the same client while 100 clients send a request head one header line every 8 s, and while 100 clients
  connect and send nothing (each measured for 30 s, past the 10 s head deadline);
- 500 clients at once (one thread each, released together): answers, 503s, connection resets, latencies;
- what is not HTTP/1.x (a TLS hello, HTTP/0.9): how long until the answer.

Its section of the report goes at the end of the file (it replaces its own section, and keeps the others).
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from report_sections import SECTIONS, write_section

HEADING = SECTIONS[1]
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def timed_get(port: int, path: str) -> tuple[float, int | str]:
    start = time.perf_counter()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        connection.close()
        outcome: int | str = response.status
    except ConnectionResetError:
        outcome = "reset"
    except OSError as error:
        outcome = type(error).__name__
    return time.perf_counter() - start, outcome


def summary(seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return (f"median {statistics.median(ordered) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
            f"max {ordered[-1] * 1000:.1f} ms")


def normal_client(port: int, paths: list[str], for_s: float, every_s: float = 0.25) -> list[tuple[float, int | str]]:
    results = []
    end = time.monotonic() + for_s
    while time.monotonic() < end:
        for path in paths:
            results.append(timed_get(port, path))
        time.sleep(every_s)
    return results


def with_crowd(port: int, paths: list[str], slow: bool, for_s: float) -> tuple[list, dict]:
    """The normal client's requests while 100 slow (or idle) clients are connected; how the crowd ended."""
    stop = threading.Event()
    ended: dict[str, int] = {}
    lock = threading.Lock()

    def crowd_member() -> None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=60) as connection:
                if slow:
                    connection.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
                started = time.monotonic()
                connection.settimeout(8 if slow else 60)
                outcome = "still open"
                while not stop.is_set():
                    try:
                        data = connection.recv(64)
                        outcome = f"answered {data[9:12].decode()} after ~{round(time.monotonic() - started)} s" \
                            if data else f"closed after ~{round(time.monotonic() - started)} s"
                        break
                    except TimeoutError:
                        if slow:
                            connection.sendall(b"X-Slow: 1\r\n")
        except (ConnectionResetError, BrokenPipeError):
            outcome = "reset"
        with lock:
            ended[outcome] = ended.get(outcome, 0) + 1

    crowd = [threading.Thread(target=crowd_member, daemon=True) for _ in range(100)]
    for member in crowd:
        member.start()
    time.sleep(1)  # all connected
    results = normal_client(port, paths, for_s)
    stop.set()
    for member in crowd:
        member.join(timeout=15)
    return results, ended


def stampede(port: int, path: str, clients: int) -> list[tuple[float, int | str]]:
    results: list[tuple[float, int | str]] = []
    lock = threading.Lock()
    gate = threading.Barrier(clients)

    def one() -> None:
        gate.wait()
        result = timed_get(port, path)
        with lock:
            results.append(result)

    threads = [threading.Thread(target=one) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def first_answer(port: int, data: bytes) -> tuple[float, bytes]:
    start = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=60) as connection:
        connection.sendall(data)
        answer = connection.recv(64)
    return time.perf_counter() - start, answer.split(b"\r\n")[0]


def outcomes(results: list[tuple[float, int | str]]) -> str:
    counted: dict[str, int] = {}
    for _, outcome in results:
        counted[str(outcome)] = counted.get(str(outcome), 0) + 1
    return ", ".join(f"{count} x {outcome}" for outcome, count in sorted(counted.items()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", type=Path, metavar="PATH", help="also write the section into this Markdown file")
    parser.add_argument("--crowd-seconds", type=float, default=30.0, help="how long each crowd is measured")
    arguments = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "out"
        subprocess.run([sys.executable, "-m", "voicecoach", "build", "-q", "-o", str(out), "--cache-dir",
                        str(Path(scratch) / "cache")], check=True, cwd=ROOT, timeout=600)
        mp3 = next(out.glob("*.mp3"))
        paths = ["/", f"/{mp3.stem}.lrc"]
        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "voicecoach", "serve", str(out), "--host", "127.0.0.1",
                                   "--port", str(port), "--no-token", "-q"], cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while timed_get(port, "/")[1] != 200:
                time.sleep(0.1)
            alone = [timed_get(port, path) for _ in range(100) for path in paths]
            slow, slow_end = with_crowd(port, paths, slow=True, for_s=arguments.crowd_seconds)
            idle, idle_end = with_crowd(port, paths, slow=False, for_s=arguments.crowd_seconds)
            page_rush = stampede(port, "/", 500)
            lyrics_rush = stampede(port, paths[1], 500)
            tls = first_answer(port, bytes.fromhex("16030100a5010000a10303") + os.urandom(32))
            http09 = first_answer(port, b"GET /\r\n")
        finally:
            server.terminate()
            server.wait(timeout=30)
    ok = lambda results: [seconds for seconds, outcome in results if outcome == 200]  # noqa: E731
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT,
                            timeout=30).stdout.strip()
    lines = [
        HEADING, "",
        f"Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC by `scripts/bench_serve.py` "
        f"(it took {(time.monotonic() - started) / 60:.1f} min), at commit {commit}, on {os.cpu_count()} cores. "
        "The server is the real command in its own process; the clients are threads of the script, over loopback. "
        "The folder holds the bundled example.", "",
        "| what the normal client met | its requests | answers | latency |", "|---|---|---|---|",
        f"| nothing else | {len(alone)} | {outcomes(alone)} | {summary(ok(alone))} |",
        f"| 100 clients sending a head one line every 8 s | {len(slow)} | {outcomes(slow)} | {summary(ok(slow))} |",
        f"| 100 idle connections | {len(idle)} | {outcomes(idle)} | {summary(ok(idle))} |",
        f"| 500 clients at once, the page | 500 | {outcomes(page_rush)} | {summary(ok(page_rush))} |",
        f"| 500 clients at once, the lyrics file | 500 | {outcomes(lyrics_rush)} | {summary(ok(lyrics_rush))} |",
        "",
        f"- The slow clients ended: {', '.join(f'{n} {how}' for how, n in sorted(slow_end.items()))}; "
        f"the idle ones: {', '.join(f'{n} {how}' for how, n in sorted(idle_end.items()))} "
        "(the head deadline is 10 s).",
        f"- A TLS hello was answered `{tls[1].decode()}` in {tls[0] * 1000:.1f} ms; HTTP/0.9 `{http09[1].decode()}` "
        f"in {http09[0] * 1000:.1f} ms.",
        "- Before issue 20 (`http.server` with at most 64 connections that blocked the acceptor, a listen backlog "
        "of 5, a 30 s idle timeout per read): a normal client waited about 75 s beside 100 slow clients and 25 s "
        "beside 100 idle ones; 500 at once gave 173 connection resets and latencies up to 124 s; a TLS hello or "
        "HTTP/0.9 request was held 30 s.",
        "- Why still `http.server`: a thread per connection, with one watchdog thread holding every request head to "
        "its deadline, 503 past 512 connections and a backlog of 1024, was enough for these figures; uvicorn and "
        "hypercorn would add an ASGI stack for a read-only file server. The page is made again only when a file "
        "of the folder changes (made for every request, the 500 at once had a median of 2.8 s).", ""]
    section = "\n".join(lines)
    print(section)
    if arguments.write:
        write_section(arguments.write, HEADING, section)
        print(f"wrote {arguments.write}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
