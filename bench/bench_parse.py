"""Parsing speed and peak memory: budget_core.read_totem against plain lxml parse + XPath.

Run: python bench/bench_parse.py [--synthetic-mb 200]

Each measurement runs in a fresh subprocess so its peak RSS is its own. The baseline, measured
in the same run, is what a naive reader does: `lxml.etree.parse` of the whole file, then XPath
over every LigneBudget collecting the same fields (no mapping). A synthetic document is made by
repeating the real lines of the largest Montreuil CA until it weighs --synthetic-mb MB.
Prints time and peak memory of both and their ratios.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "totem"
sys.path.insert(0, str(ROOT))
from budget_core.totem import read_totem  # noqa: E402  (imports are not what is timed)

LARGEST = ("Montreuil_CA_2023.xml", "Montpellier_CA_2018.xml")


def baseline(path: Path) -> int:
    ns = {"d": "http://www.minefi.gouv.fr/cp/demat/docbudgetaire"}
    tree = etree.parse(str(path))
    rows = []
    for line in tree.xpath("//d:LigneBudget", namespaces=ns):
        rows.append({etree.QName(c).localname: c.get("V") for c in line})
    return len(rows)


def ours(path: Path) -> int:
    return len(read_totem(path).lines)


def measure(kind: str, path: Path) -> tuple[float, float, int]:
    """(seconds, peak MB, lines) of one reader on one file, in a fresh process."""
    out = subprocess.run([sys.executable, __file__, "--one", kind, str(path)], check=True,
                         capture_output=True, text=True).stdout.split()
    return float(out[0]), float(out[1]), int(out[2])


def synthetic(mb: int, folder: Path) -> Path:
    source = (FIXTURES / "Montreuil_CA_2022.xml").read_bytes()
    start = source.index(b"<LigneBudget>")
    end = source.rindex(b"</LigneBudget>") + len(b"</LigneBudget>")
    head, lines, tail = source[:start], source[start:end], source[end:]
    target = folder / f"synthetic_{mb}MB.xml"
    with target.open("wb") as out:
        out.write(head)
        written = len(head)
        while written < mb * 1_000_000:
            out.write(lines)
            written += len(lines)
        out.write(tail)
    return target


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--one", nargs=2, metavar=("KIND", "FILE"))
    parser.add_argument("--synthetic-mb", type=int, default=200)
    args = parser.parse_args()
    if args.one:
        kind, file = args.one
        started = time.perf_counter()
        count = (ours if kind == "ours" else baseline)(Path(file))
        seconds = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(seconds, peak_mb, count)
        return
    with tempfile.TemporaryDirectory() as tmp:
        files = [FIXTURES / name for name in LARGEST]
        if args.synthetic_mb:
            files.append(synthetic(args.synthetic_mb, Path(tmp)))
        print(f"{'file':<28} {'MB':>6} {'lines':>8} {'ours s':>8} {'base s':>8} {'time x':>7} "
              f"{'ours MB':>8} {'base MB':>8} {'mem x':>6}")
        for path in files:
            o_s, o_mb, o_n = measure("ours", path)
            b_s, b_mb, _ = measure("baseline", path)
            size = path.stat().st_size / 1e6
            print(f"{path.name:<28} {size:6.1f} {o_n:8d} {o_s:8.2f} {b_s:8.2f} {o_s / b_s:7.2f} "
                  f"{o_mb:8.0f} {b_mb:8.0f} {o_mb / b_mb:6.2f}")
        print("time x, mem x: ours / baseline (below 1: ours is faster / lighter)")


if __name__ == "__main__":
    main()
