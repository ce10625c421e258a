"""`streamlit run` on a free port of 127.0.0.1, waited for and stopped: shared by the browser
tests (tests/conftest.py, which serve app.py) and bench/bench_app.py (which serves an entry
script around a checkout's app.py), so that both start the app the same way.

Also the Chromium both drive: Debian's (no browser can be downloaded here), with the flags
that keep it from reaching the network on its own.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import requests

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
# What `streamlit run` is told beside the script and the port: no browser, no telemetry, and
# no file watcher (a test or a benchmark must not rerun because a file changed beside it).
OPTIONS = ("--server.headless=true", "--server.address=127.0.0.1",
           "--browser.gatherUsageStats=false", "--server.fileWatcherType=none")


class NotStarted(RuntimeError):
    """The server did not answer its health check in time; the message holds its output."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def streamlit_run(script: Path, *, cwd: Path, env: Mapping[str, str], log: Path,
                  start_timeout: float = 60.0, poll: float = 0.5, stop_timeout: float = 20.0
                  ) -> Iterator[tuple[str, int]]:
    """`streamlit run script` from `cwd` with exactly the environment `env`, its output (stdout
    and stderr) written to `log`: yields (base URL, server pid) once `/_stcore/health` answers,
    and stops the server after (SIGTERM, then up to `stop_timeout` s).

    Raises NotStarted, with the server's output, when it has not answered within
    `start_timeout` s (a health check busy for 1 s counts as not answering yet: the first
    start on a loaded 2-core machine takes tens of seconds). The output goes to a file, not a
    pipe: a pipe nobody reads blocks the server once it holds 64 kB of logs."""
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(script), f"--server.port={port}",
             *OPTIONS], cwd=cwd, env=dict(env), stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_timeout
        while not answers(url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise NotStarted(f"streamlit did not start (exit code {process.poll()}):\n"
                                 f"{log.read_text(encoding='utf-8', errors='replace')}")
            time.sleep(poll)
        yield url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=stop_timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def answers(url: str) -> bool:
    try:
        return requests.get(f"{url}/_stcore/health", timeout=1).ok
    except (requests.ConnectionError, requests.Timeout):  # not up, or busy starting
        return False
