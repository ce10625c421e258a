"""Helpers shared by the benchmarks: whole-process timing, per-process peak memory, medians.

Peak memory is read by `/usr/bin/time -f %M` (GNU time) wrapped around the measured command,
never from `ru_maxrss` of a child of the benchmark itself: on Linux a child's high-water mark
starts at its parent's resident size when it is forked (the copied or shared address space
counts until `exec`), so a child of a benchmark holding 1 GB reports at least 1 GB. GNU time is a
small C program started fresh, so the figure it prints is the measured process's own (its floor
is GNU time's couple of MiB). Wall time is taken here with `perf_counter` around the whole
process (start, imports, work, exit); GNU time adds the same ~1 ms fork/exec to every command.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GNU_TIME = "/usr/bin/time"


@dataclass(frozen=True)
class Run:
    """One whole-process run: wall seconds, peak resident MiB, exit code, output, and the CPU
    seconds it used (user + system, microseconds from getrusage of the waited children, GNU
    time's own millisecond included): on a machine shared with other jobs, the CPU a process
    uses moves much less than its wall time."""

    seconds: float
    peak_mib: float
    returncode: int
    stdout: str
    stderr: str
    cpu_seconds: float = float("nan")


def require_gnu_time() -> None:
    if not Path(GNU_TIME).exists() or shutil.which(GNU_TIME) is None:
        raise SystemExit(f"{GNU_TIME} (GNU time) is needed for peak memory: "
                         "apt-get install -y time")


def run_measured(command: Sequence[str], *, cwd: Path | None = None,
                 env: Mapping[str, str] | None = None, stdout_path: Path | None = None,
                 timeout: float | None = None) -> Run:
    """Run `command` once under GNU time; stdout to `stdout_path` when given (big outputs)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        wrapped = [GNU_TIME, "-f", "%M", "-o", report.name, *command]
        out = stdout_path.open("wb") if stdout_path else subprocess.PIPE
        try:
            used = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            done = subprocess.run(wrapped, cwd=cwd, env=dict(env) if env else None, stdout=out,
                                  stderr=subprocess.PIPE, timeout=timeout, check=False)
            seconds = time.perf_counter() - started
            after = resource.getrusage(resource.RUSAGE_CHILDREN)  # GNU time and its child
            cpu = after.ru_utime - used.ru_utime + after.ru_stime - used.ru_stime
        finally:
            if stdout_path:
                out.close()  # type: ignore[union-attr]
        lines = [line for line in Path(report.name).read_text().splitlines() if line.strip()]
        # On a non-zero exit GNU time writes "Command exited with non-zero status N" first.
        peak_kib = float(lines[-1]) if lines and lines[-1].strip().isdigit() else float("nan")
    text = done.stdout.decode("utf-8", "replace") if done.stdout else ""
    return Run(seconds, peak_kib / 1024, done.returncode, text,
               done.stderr.decode("utf-8", "replace"), cpu)


@dataclass(frozen=True)
class Spread:
    """Median and range of repeated measurements."""

    median: float
    low: float
    high: float
    count: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        finite = [v for v in values if v == v]  # drop NaN (failed runs)
        if not finite:
            return cls(float("nan"), float("nan"), float("nan"), 0)
        return cls(statistics.median(finite), min(finite), max(finite), len(finite))

    def text(self, scale: float = 1.0, digits: int = 2) -> str:
        """`median (min–max)`, values multiplied by `scale` (1000 for ms)."""
        if not self.count:
            return "n/a"
        return (f"{self.median * scale:.{digits}f} ({self.low * scale:.{digits}f}–"
                f"{self.high * scale:.{digits}f})")


def ratio(slower: float, faster: float) -> str:
    """`slower / faster` as `3.1×`; NaN-safe."""
    if not (slower == slower and faster == faster) or faster <= 0:
        return "n/a"
    value = slower / faster
    return f"{value:.2f}×" if value < 1 else f"{value:.1f}×"


def machine() -> str:
    """One line naming the machine the figures ran on (CPU model, cores, load)."""
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{model}, {os.cpu_count()} cores, {load()}"


def load() -> str:
    """The load averages: other processes sharing the cores make every figure noisier."""
    return "load average " + ", ".join(f"{v:.1f}" for v in os.getloadavg())


def json_phase(command: Sequence[str], *, cwd: Path | None = None) -> tuple[dict[str, Any],
                                                                          float]:
    """Run a benchmark phase (a fresh process printing one JSON line last) under GNU time:
    (its JSON, its peak MiB). A failed phase stops the benchmark with its stderr."""
    run = run_measured(command, cwd=cwd)
    if run.returncode != 0:
        raise SystemExit(f"phase {' '.join(command[2:4])} failed:\n{run.stderr}")
    return json.loads(run.stdout.strip().splitlines()[-1]), run.peak_mib
