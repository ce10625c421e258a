"""TOTEM → SCDL conversion, whole process: `python -m budget_core convert` against yatotem2scdl.

Run: python bench/bench_convert.py [--repeat 3] [--synthetic-mb 20] [--venv /tmp/yatotem-venv]
     [--plans DIR] [--only Montreuil] [--reference-max-mb 50] [--against DIR] [--app-env]

What is compared. Every real document of tests/fixtures/totem (19 TOTEM files, 23 kB to
3.9 MB) and, with `--synthetic-mb N`, one synthetic document made here by repeating the real
LigneBudget elements of Montreuil CA 2022 until it weighs N MB (`--only synthetic` runs it
alone; at 23 MB the reference took 1 to 2.5 minutes and 1.1 GiB per run here):
- ours: `python -m budget_core convert IN.xml -o OUT.csv` (this checkout, run from a venv
  of this interpreter: see « The interpreter floor »), and `inspect IN.xml`, `validate IN.xml`
  on the same file;
- the reference: `yatotem2scdl budget IN.xml --plans-de-comptes DIR > OUT.csv`, the CLI of
  yatotem2scdl 0.1.5 (megalis-bretagne, the converter the SCDL budget community uses), which
  does the whole job too: parse, look the plan de comptes up, XSLT to its intermediate rows,
  CSV. Same input, same plans de comptes (DGFiP, 2013-2024), same CSV columns out; the number
  of data rows each wrote is printed so a reader sees the same work was done.

Why the baseline is fair. Each command is one whole process, as a user runs it: interpreter
start, imports, reading, mapping, writing. The reference runs in its own venv (created by this
script: `python -m venv VENV && VENV/bin/pip install yatotem2scdl==0.1.5`; it is never added to
the app's requirements), whose only dependency is lxml, exactly as its users install it. The
runs of one file are interleaved (ours, reference, inspect, validate, then the next round
rotated) so load from other processes on a shared machine falls on all of them alike; each
figure is the median of `--repeat` rounds with its min–max. `inspect` and `validate` have no
counterpart in yatotem2scdl: their ratio is against the reference's conversion of the same
file, the only complete job the reference does on it (the goal of issue 13 states all three
against it). The cost of merely starting each environment (`python -c pass`) and of importing
each CLI is printed first, so the fixed part of every figure is visible.

Both sides run from compiled bytecode, as installed packages do: pip compiled the reference's
modules when it installed them, and this script compiles `budget_core` (`compileall`, into the
ignored `__pycache__`) before measuring, since an environment with PYTHONDONTWRITEBYTECODE set
would otherwise recompile our modules in every process.

Above `--reference-max-mb` (default 50 MB) the reference is not run (at 23 MB it took 1 to 2.5
minutes and 1.1 GiB per run; at 200 MB it would need tens of minutes and many GB): such rows
show our figures, with no ratio.

The interpreter floor. In the same rounds, interleaved with the commands, each side's
`python -c pass` is timed in its own environment: no process of that interpreter can take less.
The « ceiling » is the reference's conversion over our floor: the most any code of ours could
reach on that document (below 5×, the goal of issue 13 is out of reach there whatever we do,
short of not starting Python). « ceiling, lxml » (in the summary) is the same over
`python -c "import lxml.etree"`, timed in the same rounds: what any converter that parses with
lxml could reach at best. « minimal » is `bench/minimal_convert.py`, timed in the same rounds
and environment as ours: the least a Python converter does (expat, the shipped plan read with
json, a CSV written with the csv module; no argument parsing, no decimals, no check) — the
reference over it, « ceiling, minimal », is the most any Python program doing this job with
these plans could reach. « above floor » compares what each side does once
started: (reference − its floor) / (ours − our floor).

Both sides run from a venv, by default. The reference runs from its own venv; ours runs from a
venv of this interpreter (created in the temporary folder as `budget-bench-venv`) that sees
the app environment's packages as plain paths: its `.pth` lists their site-packages
directories, so no `.pth` of theirs is executed at start, exactly as in the reference's venv
(a venv without system site-packages reads no `.pth` of the base interpreter). The floors are
then alike (0.011–0.012 s here) and the ratios compare the two programs only. `--app-env`
runs ours from the app's environment instead (the interpreter running this script, with its
site-packages): on this machine a sandbox `.pth` there imports certifi at every start of
Python (about 30 ms of CPU), which no venv pays. (Neither side is started through the `python`
of the PATH, a pyenv shim here: a shell script that takes 0.09 s before Python starts.)

Each table is printed twice: wall time, what a user waits, and CPU time (user + system of the
process, from getrusage): on a machine whose cores are shared with other jobs, wall times grow
with their load while CPU times move much less (shared caches still slow a busy core: the
reference's CPU time moved by up to 40 % between two runs at load 3 to 12, ours by up to 15 %),
so the CPU ratios are the steadier comparison of the two programs (a process that waits on the
disk, as our fsync does, shows it in wall time only).

`--against DIR` also runs another checkout's `budget_core` (a worktree of main, say) in the
same rounds, with the same interpreter, and prints each command's time there and this
checkout's speed-up over it: a before/after that the machine's load falls on alike.

Peak memory of each process is measured by GNU time in a fresh process (see bench/measure.py);
it is the median over the rounds. The script always exits 0; a failed run is shown as failed.
"""

from __future__ import annotations

import argparse
import os
import site
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from measure import Run, Spread, load, machine, ratio, require_gnu_time, run_measured

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "totem"
DEFAULT_PLANS = ROOT.parent / "shared" / "data" / "plans_de_comptes" / "dgfip_2013_2024"
REFERENCE = "yatotem2scdl==0.1.5"
SYNTHETIC_SOURCE = FIXTURES / "Montreuil_CA_2022.xml"
TIMEOUT_S = 900.0


@dataclass(frozen=True)
class Job:
    """One command of the benchmark, for one input file."""

    name: str
    command: Callable[[Path, Path], list[str]]  # (input, output csv) → argv
    writes_stdout: bool = False  # the CSV goes to stdout (the reference's CLI)
    cwd: Path = ROOT  # where `python -m budget_core` finds the checkout measured


def ensure_reference(venv: Path) -> Path:
    """The reference CLI in its own venv, created on first use. Returns its executable."""
    cli = venv / "bin" / "yatotem2scdl"
    if not cli.exists():
        print(f"creating {venv} with {REFERENCE} (once)...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", REFERENCE], check=True)
    return cli


def synthetic(megabytes: int, folder: Path) -> Path:
    """A valid TOTEM document of about `megabytes` MB: real LigneBudget elements repeated."""
    source = SYNTHETIC_SOURCE.read_bytes()
    start = source.index(b"<LigneBudget>")
    end = source.rindex(b"</LigneBudget>") + len(b"</LigneBudget>")
    head, lines, tail = source[:start], source[start:end], source[end:]
    target = folder / f"synthetic_{megabytes}MB.xml"
    with target.open("wb") as out:
        out.write(head)
        written = len(head)
        while written < megabytes * 1_000_000:
            out.write(lines)
            written += len(lines)
        out.write(tail)
    return target


def data_rows(csv_path: Path) -> int:
    """Data rows of a CSV (lines minus the header; no SCDL field holds a newline)."""
    if not csv_path.exists():
        return -1
    with csv_path.open("rb") as handle:
        return max(sum(1 for _ in handle) - 1, 0)


COMMANDS = ("convert", "inspect", "validate")


def ours(side: str, interpreter: str, cwd: Path) -> list[Job]:
    """convert, inspect and validate of the checkout at `cwd`, named `side`."""
    python = [interpreter, "-m", "budget_core"]
    arguments: dict[str, Callable[[Path, Path], list[str]]] = {
        "convert": lambda i, o: [*python, "convert", str(i), "-o", str(o)],
        "inspect": lambda i, o: [*python, "inspect", str(i)],
        "validate": lambda i, o: [*python, "validate", str(i)]}
    return [Job(f"{side} {command}", arguments[command], cwd=cwd) for command in COMMANDS]


def jobs(reference: Path, plans: Path, interpreter: str, against: Path | None) -> list[Job]:
    """Every command timed on each file, the two interpreter floors included."""
    ref_python = str(reference.parent / "python")
    return [
        *ours("ours", interpreter, ROOT),
        Job("reference convert",
            lambda i, o: [str(reference), "budget", str(i), "--plans-de-comptes", str(plans)],
            writes_stdout=True),
        Job("minimal convert",
            lambda i, o: [interpreter, str(ROOT / "bench" / "minimal_convert.py"), str(i),
                          str(o)]),
        Job("ours floor", lambda i, o: [interpreter, "-c", "pass"]),
        Job("ours lxml floor", lambda i, o: [interpreter, "-c", "import lxml.etree"]),
        Job("reference floor", lambda i, o: [ref_python, "-c", "pass"]),
        *(ours("base", interpreter, against) if against else []),
    ]


def ours_venv(folder: Path) -> str:
    """A venv of this interpreter that sees the app environment's packages as plain paths
    (no `.pth` of theirs is run at start, as in the reference's venv). Its python."""
    python = folder / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    found = subprocess.run([str(python), "-c", "import sys; print(sys.version_info[:2])"],
                           capture_output=True, text=True, check=True).stdout.strip()
    site_packages = site.getsitepackages()
    lib = next((folder / "lib").glob("python3*")) / "site-packages"
    (lib / "app-environment.pth").write_text("".join(f"{path}\n" for path in site_packages))
    print(f"ours run from {python} (python {found}), seeing {', '.join(site_packages)} as "
          "plain paths")
    return str(python)


def measure_file(path: Path, work: Sequence[Job], repeat: int, folder: Path,
                 reference_max_mb: float) -> tuple[dict[str, list[Run]], dict[str, int]]:
    """All jobs on one file, `repeat` rounds, each round's order rotated by one."""
    if path.stat().st_size > reference_max_mb * 1e6:
        work = [job for job in work if job.name != "reference convert"]
    runs: dict[str, list[Run]] = {job.name: [] for job in work}
    rows: dict[str, int] = {}
    for round_number in range(repeat):
        shift = round_number % len(work)
        for job in [*work[shift:], *work[:shift]]:
            output = folder / f"{job.name.replace(' ', '_')}.csv"
            output.unlink(missing_ok=True)
            run = run_measured(job.command(path, output), cwd=job.cwd, timeout=TIMEOUT_S,
                               stdout_path=output if job.writes_stdout else None)
            if run.returncode != 0:
                run = Run(float("nan"), run.peak_mib, run.returncode, run.stdout, run.stderr)
            runs[job.name].append(run)
            if job.name.endswith("convert"):
                rows[job.name] = data_rows(output) if run.returncode == 0 else -1
    return runs, rows


def startup_costs(reference: Path, repeat: int, interpreter: str) -> None:
    """The fixed cost of each side: interpreter start, then importing the CLI, paired."""
    reference_python = str(reference.parent / "python")
    commands = {
        "app env: python -c pass": [sys.executable, "-c", "pass"],
        **({"ours' venv: python -c pass": [interpreter, "-c", "pass"]}
           if interpreter != sys.executable else {}),
        "reference venv: python -c pass": [reference_python, "-c", "pass"],
        "ours: import budget_core.cli": [interpreter, "-c", "import budget_core.cli"],
        "reference: import yatotem2scdl.main": [reference_python, "-c",
                                                "import yatotem2scdl.main"],
    }
    seconds: dict[str, list[float]] = {name: [] for name in commands}
    peaks: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, command in commands.items():
            run = run_measured(command, cwd=ROOT)
            seconds[name].append(run.seconds)
            peaks[name].append(run.peak_mib)
    print("\n| fixed cost (whole process) | seconds median (min–max) | peak MiB |")
    print("|---|---|---|")
    for name in commands:
        print(f"| {name} | {Spread.of(seconds[name]).text()} | "
              f"{Spread.of(peaks[name]).median:.0f} |")


HEADER = ("| document | MB | rows ours / ref | reference convert s | floor s ref / ours | "
          "ceiling | minimal s | ceiling, minimal | convert s | × | ↑floor | inspect s | × | "
          "↑floor | validate s | × | ↑floor | peak MiB ref / convert / inspect / validate |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")


def above_floor(reference: float, reference_floor: float, mine: float, floor: float) -> str:
    """What the reference does once started over what ours does once started."""
    return ratio(reference - reference_floor, mine - floor)


def report_file(path: Path, runs: dict[str, list[Run]], rows: dict[str, int],
                speedups: dict[str, list[float]], measure: Callable[[Run], float],
                digits: int = 2) -> str:
    """One row of a table of `measure` (wall or CPU seconds of a run); adds this file's
    ratios to `speedups`."""
    nothing = Spread.of([])  # the reference, not run above --reference-max-mb
    time_of = {name: Spread.of([measure(r) for r in rs]) for name, rs in runs.items()}
    peak_of = {name: Spread.of([r.peak_mib for r in rs]) for name, rs in runs.items()}
    base = time_of.get("reference convert", nothing).median
    floor = time_of["ours floor"].median
    base_floor = time_of["reference floor"].median
    ceiling = base / floor if base == base else float("nan")
    speedups["ceiling"].append(ceiling)
    speedups["ceiling, lxml"].append(base / time_of["ours lxml floor"].median)
    minimal = time_of["minimal convert"]
    speedups["ceiling, minimal converter"].append(base / minimal.median)
    cells = []
    for command in COMMANDS:
        mine = time_of[f"ours {command}"]
        cells += [mine.text(digits=digits), ratio(base, mine.median),
                  above_floor(base, base_floor, mine.median, floor)]
        if base == base and mine.median == mine.median:
            speedups[command].append(base / mine.median)
            if mine.median > floor:
                speedups[f"{command} above floor"].append(
                    (base - base_floor) / (mine.median - floor))
    peaks = " / ".join(f"{peak_of.get(name, nothing).median:.0f}" for name in
                       ("reference convert", "ours convert", "ours inspect", "ours validate"))
    return (f"| {path.name} | {path.stat().st_size / 1e6:.2f} | "
            f"{rows.get('ours convert', -1)} / {rows.get('reference convert', -1)} | "
            f"{time_of.get('reference convert', nothing).text(digits=digits)} | {base_floor:.3f} / "
            f"{floor:.3f} | {ceiling:.1f}× | {minimal.text(digits=digits)} | "
            f"{ratio(base, minimal.median)} | {' | '.join(cells)} | {peaks} |")


def report_against(path: Path, runs: dict[str, list[Run]]) -> str:
    """One row of the before/after table: the other checkout's medians, this one's, ratio;
    wall then CPU seconds."""
    cells = []
    for measure in (lambda r: r.seconds, lambda r: r.cpu_seconds):
        for command in COMMANDS:
            before = Spread.of([measure(r) for r in runs[f"base {command}"]]).median
            after = Spread.of([measure(r) for r in runs[f"ours {command}"]]).median
            cells += [f"{before:.3f} → {after:.3f}", ratio(before, after)]
    return f"| {path.name} | {' | '.join(cells)} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=3, help="rounds per file (default 3)")
    parser.add_argument("--synthetic-mb", type=int, default=0,
                        help="add a synthetic document of this size (default none: at 20 MB "
                             "the reference takes minutes per run)")
    parser.add_argument("--venv", type=Path, default=Path(tempfile.gettempdir()) / "yatotem-venv",
                        help="the reference's venv (created if missing)")
    parser.add_argument("--plans", type=Path,
                        default=Path(os.environ.get("PLANS_DE_COMPTES_DIR", DEFAULT_PLANS)),
                        help="plans de comptes <YEAR>/<NORME>/<DECLINAISON>/planDeCompte.xml")
    parser.add_argument("--only", default="", help="only files whose name contains this")
    parser.add_argument("--reference-max-mb", type=float, default=50.0,
                        help="do not run the reference on larger files (default 50)")
    parser.add_argument("--against", type=Path,
                        help="another checkout (e.g. a worktree of main) measured in the same "
                             "rounds: before/after")
    parser.add_argument("--app-env", action="store_true",
                        help="run ours from the app's environment (this interpreter with its "
                             "site-packages and their start-up .pth files) instead of a venv "
                             "of this interpreter seeing the same packages, as the reference "
                             "runs from its venv")
    args = parser.parse_args()
    require_gnu_time()
    for checkout in filter(None, [ROOT, args.against]):
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(checkout / "budget_core")],
                       check=True)
    reference = ensure_reference(args.venv)
    if not args.plans.is_dir():
        print(f"WARNING: no plans de comptes at {args.plans}: the reference then writes no "
              "labels and does less work than ours (pass --plans).")
    print(f"machine: {machine()}")
    print(f"python {sys.version.split()[0]}; reference: {REFERENCE} in {args.venv}; "
          f"{args.repeat} rounds per file, order rotated each round")
    interpreter = (sys.executable if args.app_env
                   else ours_venv(Path(tempfile.gettempdir()) / "budget-bench-venv"))
    if args.against:
        print(f"before/after: {args.against} against {ROOT}, same interpreter, same rounds")
    startup_costs(reference, args.repeat, interpreter)
    work = jobs(reference, args.plans, interpreter, args.against)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = sorted(FIXTURES.glob("*.xml"), key=lambda p: p.stat().st_size)
        if args.synthetic_mb:
            files.append(synthetic(args.synthetic_mb, folder))
        files = [f for f in files if args.only in f.name]
        print("\nseconds: median (min–max) of whole processes; ×: the reference's convert "
              "median / ours (above 1: ours faster); floors: `python -c pass` of each side, "
              "same rounds; ceiling: the reference / our floor (the most any code of ours "
              "could reach); minimal: bench/minimal_convert.py (the least a Python converter "
              "does), ceiling, minimal: the reference / it; ↑floor: (reference − its floor) "
              "/ (ours − our floor)")
        print(f"\nwall time\n{HEADER}")
        speedups: dict[str, dict[str, list[float]]] = {
            kind: {key: [] for key in (*COMMANDS, *(f"{c} above floor" for c in COMMANDS),
                                       "ceiling", "ceiling, lxml",
                                       "ceiling, minimal converter")}
            for kind in ("wall", "CPU")}
        against_rows, cpu_rows = [], []
        for path in files:
            runs, rows = measure_file(path, work, args.repeat, folder, args.reference_max_mb)
            print(report_file(path, runs, rows, speedups["wall"], lambda r: r.seconds),
                  flush=True)
            cpu_rows.append(report_file(path, runs, rows, speedups["CPU"],
                                        lambda r: r.cpu_seconds, digits=3))
            if args.against:
                against_rows.append(report_against(path, runs))
            failed = [f"{name}: exit {r.returncode}: {r.stderr.strip()[-200:]}"
                      for name, rs in runs.items() for r in rs[:1] if r.returncode != 0]
            for line in failed:
                print(f"  failed {path.name} {line}")
        print("\nCPU seconds (user + system) of the same runs: what each process used, "
              "whatever else the machine was running")
        print(f"\nCPU time\n{HEADER}")
        print("\n".join(cpu_rows))
        for kind, ratios in speedups.items():
            print(f"\nspeed-up against the reference's conversion, {kind} time, over the "
                  "documents (median, min–max; goal of issue 13: ≥ 5× on every document):")
            for key, values in ratios.items():
                spread = Spread.of(values)
                reached = sum(v >= 5 for v in values)
                print(f"  {key:<20} {spread.text(digits=2)}×  — ≥ 5× on {reached} of "
                      f"{len(values)} documents")
        if against_rows:
            print(f"\nbefore ({args.against}) → after ({ROOT}), seconds, median of the same "
                  "rounds; ×: before / after")
            print("| document | wall convert s | × | inspect s | × | validate s | × | "
                  "CPU convert s | × | inspect s | × | validate s | × |")
            print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
            print("\n".join(against_rows))
        print(f"{load()} at the end")


if __name__ == "__main__":
    main()
