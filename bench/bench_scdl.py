"""Peak memory and time of reading big SCDL CSVs: `inspect`, `validate`, `convert`, the app.

Run: python bench/bench_scdl.py [--sizes 20,100,200] [--repeat 1] [--shapes one,many]
     [--jobs inspect,validate,convert,app-read,app-publish,pandas]

Inputs are made here from a real SCDL file, the Département du Morbihan's CA 2021
(`tests/fixtures/scdl_expected/morbihan_CA_2021.csv`, 305 kB, 1 273 rows):
- `one`: its rows repeated until the file weighs N MB: one document of ~4 200 lines a MB;
- `many`: the whole file repeated, each copy under another SIRET (valid Luhn keys, so
  `validate` reports nothing per row): ~3.3 documents a MB, 655 at 200 MB (the limit is 1 000).

Jobs, each one whole fresh process measured by GNU time (bench/measure.py):
- `inspect`, `validate`, `convert`: `python -m budget_core COMMAND FILE`;
- `app-read`: what the page « Données » does with an upload: the bytes in memory (Streamlit
  holds them), then `formats.read_uploaded`;
- `app-publish`: what « Publier mes données » does on each run of its page: `validate_bytes`
  and `read_uploaded` on the same bytes in memory;
- `app-download`: the same, then `documents_csv_bytes` (the SCDL CSV, which the page built
  on every run before and now builds on the download's click only);
- `pandas`: the baseline, `pandas.read_csv(FILE, dtype=str)` in its own process (every cell as
  text, no mapping: the least a reader keeping the rows can cost), and `python -c
  "import budget_core.cli"`, the fixed cost of our imports.
Rounds are rotated (the jobs of a file in another order each round); medians with min–max.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from measure import Run, Spread, load, machine, require_gnu_time, run_measured

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "tests" / "fixtures" / "scdl_expected" / "morbihan_CA_2021.csv"
SIRET = "22560001400016"
TIMEOUT_S = 1800.0

APP_READ = ("import sys; from pathlib import Path; from budget_core.formats import read_uploaded;"
            " data = Path(sys.argv[1]).read_bytes(); docs = read_uploaded(data, 'f.csv');"
            " print(len(docs), sum(len(d.lines) for d in docs))")
APP_PUBLISH = ("import sys; from pathlib import Path; from budget_core.formats import "
               "read_uploaded; from budget_core.validate import validate_bytes; "
               "from budget_core.scdlwrite import documents_csv_bytes;"
               " data = Path(sys.argv[1]).read_bytes(); report = validate_bytes(data, 'f.csv');"
               " docs = read_uploaded(data, 'f.csv');"
               " out = documents_csv_bytes(docs) if sys.argv[2] == 'csv' else b'';"
               " print(report.valid, len(docs), len(out))")
PANDAS = ("import sys, pandas; frame = pandas.read_csv(sys.argv[1], dtype=str); "
          "print(len(frame))")


def luhn_siret(number: int) -> str:
    """A 14-digit SIRET with a valid Luhn key: 2256 + number on 9 digits + key."""
    body = f"2256{number:09d}"
    for key in "0123456789":
        total = 0
        for index, digit in enumerate(reversed(body + key)):
            value = int(digit) * (2 if index % 2 else 1)
            total += value - 9 if value > 9 else value
        if total % 10 == 0:
            return body + key
    raise AssertionError("unreachable: one key of ten is valid")


def make_input(folder: Path, shape: str, megabytes: int) -> Path:
    header, *rows = SOURCE.read_text(encoding="utf-8").splitlines()
    path = folder / f"morbihan_{shape}_{megabytes}MB.csv"
    target = megabytes * 1_000_000
    with path.open("w", encoding="utf-8") as out:
        out.write(header + "\n")
        written, copy = 0, 0
        while written < target:
            if shape == "one":
                block = "\n".join(rows) + "\n"
            else:
                block = "\n".join(rows).replace(SIRET, luhn_siret(copy)) + "\n"
            out.write(block)
            written += len(block.encode("utf-8"))
            copy += 1
    return path


def command(job: str, path: Path, out: Path) -> list[str]:
    python = sys.executable
    return {
        "inspect": [python, "-m", "budget_core", "inspect", str(path)],
        "validate": [python, "-m", "budget_core", "validate", str(path)],
        "convert": [python, "-m", "budget_core", "convert", str(path), "-o", str(out)],
        "app-read": [python, "-c", APP_READ, str(path)],
        "app-publish": [python, "-c", APP_PUBLISH, str(path), "-"],
        "app-download": [python, "-c", APP_PUBLISH, str(path), "csv"],
        "pandas": [python, "-c", PANDAS, str(path)],
        "imports": [python, "-c", "import budget_core.cli, budget_core.validate"],
    }[job]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20,100,200")
    parser.add_argument("--shapes", default="one,many")
    parser.add_argument("--jobs", default="inspect,validate,convert,app-read,app-publish,pandas")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    require_gnu_time()
    print(machine())
    jobs = ["imports", *args.jobs.split(",")]
    with tempfile.TemporaryDirectory(prefix="bench_scdl_") as tmp:
        folder = Path(tmp)
        for shape in args.shapes.split(","):
            for megabytes in map(int, args.sizes.split(",")):
                path = make_input(folder, shape, megabytes)
                size_mib = path.stat().st_size / 2**20
                runs: dict[str, list[Run]] = {job: [] for job in jobs}
                for round_ in range(args.repeat):
                    shift = round_ % len(jobs)
                    for job in jobs[shift:] + jobs[:shift]:
                        run = run_measured(command(job, path, folder / "out.csv"),
                                           cwd=ROOT, timeout=TIMEOUT_S)
                        runs[job].append(run)
                        if run.returncode and not (job == "validate" and run.returncode == 1):
                            print(f"  {job} failed ({run.returncode}): {run.stderr[-300:]}")
                print(f"\n{shape} document(s), {size_mib:.0f} MiB ({load()})")
                print(f"  {'job':<12} {'seconds':>22} {'peak MiB':>24} {'peak/size':>10}")
                for job, done in runs.items():
                    peak = Spread.of([r.peak_mib for r in done])
                    seconds = Spread.of([r.seconds for r in done])
                    print(f"  {job:<12} {seconds.text():>22} {peak.text(digits=0):>24} "
                          f"{peak.median / size_mib:>9.1f}×")
                path.unlink()


if __name__ == "__main__":
    main()
