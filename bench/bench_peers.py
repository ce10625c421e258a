"""Memory and time of « Se comparer » by chapter at the scale of France, two checkouts
interleaved.

    python bench/bench_peers.py --cache DIR --before CHECKOUT [--rounds 3]

DIR is a cache with at least one imported year of balances (`BUDGET_CACHE_DIR=DIR python -m
budget_core balances import export.csv`, as bench_france.py prepares it). Each round runs, in a
fresh process per checkout (this one, then CHECKOUT, in alternating order):

- `_values` of the latest year, the € per inhabitant of every commune by chapter that every
  placement and map shares: the bytes its rows hold (pandas `memory_usage(deep=True)`: numpy
  buffers, Python strings and Arrow buffers alike; tracemalloc would miss Arrow's allocator)
  and the resident size the call adds (VmRSS after minus before, the DuckDB result freed:
  noisy, as the allocators keep freed pages);
- the whole process's peak resident size (GNU time, as `measure.json_phase`);
- then `placement` of 5 communes of different sizes against every commune and against their
  département (the two largest and the most common groups), the median of 5 calls each.

The baseline is the same code before the change, on the same data, in the same rounds.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from measure import Spread, json_phase, load, machine, ratio, require_gnu_time

HERE = Path(__file__).resolve().parent.parent


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_phase(checkout: Path, cache: Path) -> None:
    """In a fresh process: one JSON line with this checkout's figures."""
    sys.path.insert(0, str(checkout))
    from budget_core import balance_peers
    from budget_core.balances import BalanceStore

    with BalanceStore(cache / "balances") as store:
        year = store.years(balance_peers.LEVEL)[-1]
        version = store.version()
        balance_peers.communes(year)  # the population table, outside the measure
        store.query("SELECT 1", [])
        gc.collect()
        before = rss_mib()
        began = time.perf_counter()
        values = balance_peers._values(store, version, year)
        built = time.perf_counter() - began
        gc.collect()
        added = rss_mib() - before
        rows = sum(len(v.rows) for v in values.values())
        held = sum(int(v.rows.memory_usage(deep=True).sum()) for v in values.values())
        frame = balance_peers.communes(year)
        frame = frame[frame["population"] > 0]  # a commune of no inhabitant has no place
        chosen = frame.sort_values("population").iloc[[0, len(frame) // 4, len(frame) // 2,
                                                       3 * len(frame) // 4, -1]]
        times: dict[str, list[float]] = {"all": [], "departement": []}
        for siren in chosen["siren"]:
            for group in times:
                peers = balance_peers.peers(group, siren, year)
                calls = []
                for _ in range(5):
                    began = time.perf_counter()
                    balance_peers.placement(store, year, siren, "depense", peers)
                    calls.append(time.perf_counter() - began)
                times[group].append(statistics.median(calls))
    print(json.dumps({"rows": rows, "held_mib": held / 2**20, "rss_added_mib": added,
                      "values_s": built,
                      "placement_s": {g: sum(t) / len(t) for g, t in times.items()}}))


def phase(checkout: Path, cache: Path) -> dict[str, Any]:
    result, peak = json_phase([sys.executable, __file__, "--phase", str(checkout), str(cache)])
    return {**result, "process_peak_mib": peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--phase", nargs=2, type=Path, metavar=("CHECKOUT", "CACHE"))
    parser.add_argument("--cache", type=Path)
    parser.add_argument("--before", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.phase:
        run_phase(*args.phase)
        return
    require_gnu_time()
    print(machine())
    results: dict[str, list[dict[str, Any]]] = {"after": [], "before": []}
    for i in range(args.rounds):
        order = [("after", HERE), ("before", args.before)]
        for name, checkout in order if i % 2 == 0 else order[::-1]:
            results[name].append(phase(checkout, args.cache))
    print(f"rows: {results['after'][0]['rows']} (before {results['before'][0]['rows']})")
    medians = {}
    for name, runs in results.items():
        figures = {"rows held (MiB)": [r["held_mib"] for r in runs],
                   "RSS added by _values (MiB)": [r["rss_added_mib"] for r in runs],
                   "process peak (MiB, GNU time)": [r["process_peak_mib"] for r in runs],
                   "_values (s)": [r["values_s"] for r in runs],
                   **{f"placement {g} (ms)": [r["placement_s"][g] * 1000 for r in runs]
                      for g in runs[0]["placement_s"]}}
        medians[name] = {k: Spread.of(v) for k, v in figures.items()}
    print("| figure | before | after | before / after |\n|---|---|---|---|")
    for key in medians["after"]:
        b, a = medians["before"][key], medians["after"][key]
        print(f"| {key} | {b.text(digits=1)} | {a.text(digits=1)} | "
              f"{ratio(b.median, a.median)} |")
    print(f"at the end: {load()}")


if __name__ == "__main__":
    main()
