"""National comparison (« Se comparer »): the app's DuckDB query against three pandas paths.

Run: python bench/bench_national.py [--rows 2000000] [--rounds 3] [--entities 8]
     full scale: python bench/bench_national.py --rows 22700000 [--paths app,pandas-best]
     (every commune of France; the naive path alone then needs about 16 GB of RAM)

1. A generator writes one CSV export per year in the real OFGL layout (label headers, `;`,
   UTF-8 with BOM) with real communes (INSEE code, SIREN, population) and the real agrégat
   labels of the Guadeloupe sample: `--rows` rows over 13 years × 50 agrégats (the default,
   2 M rows, runs in a few minutes; 22.7 M is every commune of France).
2. Load/convert: `NationalStore.add_export` turns each export into a sorted parquet year.
3. A filter change as the page makes it: one entity against its population band (strate),
   one agrégat, every year: value, peers' median and quartiles, rank, group size. Four ways,
   each computing the same table (checked: the first entity's answer is compared to DuckDB's):
   - app: `NationalStore.placement` (DuckDB over the parquet files, connection kept open);
   - pandas best: `pd.read_parquet(folder, columns=[4 needed], filters=[agrégat, budget
     principal])` at each change — reads only the row groups and columns the query needs
     (the files are sorted by agrégat, so row-group statistics skip the others);
   - pandas resident: the needed columns of every agrégat read once (as an app would keep
     them in `st.cache_resource`), then each change filters that frame in memory: the fastest
     pandas answer, paid for in memory;
   - pandas naive: every file read whole at each change (what the old benchmark compared).

Why it is fair. All four answer the same question on the same files and the same entities
(chosen once, passed to each). Each path runs in its own fresh process (imports are not
timed), so its peak memory, measured by GNU time (bench/measure.py), is its own and not the
generator's inherited at fork. The four processes run in turn, in an order rotated each round
(`--rounds`), so machine load falls on all alike. The first change of each process (DuckDB
opening the files, pandas resident loading its frame) is reported apart from the later
changes; those are pooled over rounds and entities: median (min–max). Ratios are pandas
median / app median. Target (issue 13): app median < 150 ms at full scale.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from measure import Spread, json_phase, load, machine, ratio, require_gnu_time

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from budget_core.national import NationalStore  # noqa: E402
from budget_core.population import table as population_table  # noqa: E402

SAMPLE = ROOT / "tests" / "fixtures" / "national" / "ofgl-base-communes_guadeloupe_2024.csv"
STRATES = [0, 100, 200, 500, 2000, 3500, 5000, 10000, 20000, 50000, 100000, 10**9]
LEVEL = "communes"
AGREGAT = "Epargne brute"
PRINCIPAL = "Budget principal"
NEEDED = ["year", "siren", "strate", "per_inhabitant"]
PATHS = ("app", "pandas-best", "pandas-resident", "pandas-naive")
LABELS = {
    "app": "app: NationalStore.placement (DuckDB)",
    "pandas-best": "pandas best: read_parquet(columns, filters) per change",
    "pandas-resident": "pandas resident: needed columns loaded once, filtered per change",
    "pandas-naive": "pandas naive: every file whole per change",
}


def generate(folder: Path, communes: int, years: int, agregats: int) -> list[Path]:
    header = SAMPLE.read_text(encoding="utf-8-sig").split("\n", 1)[0].split(";")
    labels = list(pd.read_csv(SAMPLE, sep=";", dtype=str)["Agrégat"].unique())[:agregats]
    towns = population_table()
    towns = towns[towns["kind"] == "commune"].head(communes).reset_index(drop=True)
    strate = np.searchsorted(STRATES, towns["population"].fillna(0).to_numpy(), "right")
    rng = np.random.default_rng(0)
    files = []
    for year in range(2024 - years + 1, 2025):
        n = len(towns) * len(labels)
        frame = pd.DataFrame(dict.fromkeys(header, ""), index=range(n))
        frame["Exercice"] = str(year)
        frame["Code Insee 2024 Région"] = np.repeat(towns["region"].fillna("").to_numpy(),
                                                    len(labels))
        frame["Code Insee 2024 Département"] = np.repeat(
            towns["departement"].fillna("").to_numpy(), len(labels))
        frame["Strate population 2024"] = np.repeat(strate.astype(str), len(labels))
        frame["Code Siren Collectivité"] = np.repeat(towns["siren"].to_numpy(), len(labels))
        frame["Code Insee Collectivité"] = np.repeat(towns["insee"].to_numpy(), len(labels))
        frame["Nom 2024 Commune"] = np.repeat(towns["name"].to_numpy(), len(labels))
        frame["Catégorie"] = "Commune"
        frame["Type de budget"] = PRINCIPAL
        frame["Nomenclature"] = "M57"
        frame["Agrégat"] = np.tile(labels, len(towns))
        population = np.repeat(towns["population"].fillna(1).to_numpy(), len(labels))
        per_head = rng.gamma(2.0, 150.0, n)
        frame["Montant"] = (per_head * population).round(2).astype(str)
        frame["Population totale"] = population.astype(int).astype(str)
        frame["Montant en € par habitant"] = per_head.round(6).astype(str)
        path = folder / f"export_{year}.csv"
        frame.to_csv(path, sep=";", index=False, encoding="utf-8-sig")
        files.append(path)
    return files


def placement(rows: pd.DataFrame, siren: str) -> pd.DataFrame:
    """The app's placement computed by pandas from the rows of one agrégat, budgets principaux
    (columns of NEEDED): same columns and meaning as `NationalStore.placement`."""
    rows = rows.assign(strate=rows["strate"].fillna(""))
    mine = rows.loc[rows["siren"] == siren, ["year", "strate", "per_inhabitant"]]
    peers = rows.merge(mine.rename(columns={"per_inhabitant": "value"}), on=["year", "strate"])
    peers["above"] = peers["per_inhabitant"] > peers["value"]
    grouped = peers.groupby("year")
    quartiles = grouped["per_inhabitant"].quantile(np.array([0.25, 0.5, 0.75])).unstack()
    return pd.DataFrame({
        "value": grouped["value"].first(), "median": quartiles[0.5], "q1": quartiles[0.25],
        "q3": quartiles[0.75], "peers": grouped["per_inhabitant"].count(),
        "rank": 1 + grouped["above"].sum(),
    }).reset_index()


def query_path(name: str, store: NationalStore) -> Callable[[str], pd.DataFrame]:
    """One filter change by path `name`: SIREN → placement table (state kept in closures)."""
    files = sorted((store.folder / LEVEL).glob("year=*.parquet"))
    if name == "app":
        return lambda siren: store.placement(LEVEL, siren, AGREGAT, "strate")
    if name == "pandas-best":
        return lambda siren: placement(pd.read_parquet(
            store.folder / LEVEL, columns=NEEDED,
            filters=[("agregat", "==", AGREGAT), ("budget_type", "==", PRINCIPAL)]), siren)
    if name == "pandas-naive":
        def naive(siren: str) -> pd.DataFrame:
            whole = pd.concat(pd.read_parquet(p) for p in files)
            rows = whole[(whole["agregat"] == AGREGAT) & (whole["budget_type"] == PRINCIPAL)]
            return placement(rows[NEEDED], siren)
        return naive
    resident: list[pd.DataFrame] = []

    def in_memory(siren: str) -> pd.DataFrame:
        if not resident:  # loaded by the first change, as a cache_resource would be
            frame = pd.read_parquet(store.folder / LEVEL,
                                    columns=[*NEEDED, "agregat", "budget_type"])
            resident.append(frame.astype({"agregat": "category", "budget_type": "category"}))
        frame = resident[0]
        rows = frame[(frame["agregat"] == AGREGAT) & (frame["budget_type"] == PRINCIPAL)]
        return placement(rows[NEEDED], siren)
    return in_memory


def run_phase(name: str, folder: Path, sirens: list[str], limit: int) -> None:
    """In a fresh process: load, or time `limit` filter changes; prints one JSON line."""
    store = NationalStore(folder / "national")
    if name == "load":
        started = time.perf_counter()
        for path in sorted(folder.glob("export_*.csv")):
            store.add_export(LEVEL, path.read_bytes(), path.name)
        print(json.dumps({"seconds": time.perf_counter() - started}))
        return
    change = query_path(name, store)
    timings = []
    first: pd.DataFrame | None = None
    for siren in sirens[:limit]:
        begin = time.perf_counter()
        answer = change(siren)
        timings.append(time.perf_counter() - begin)
        first = answer if first is None else first
    assert first is not None
    columns = ["year", "value", "median", "q1", "q3", "peers", "rank"]
    answer_rows = first[columns].astype(float).round(6).to_numpy().tolist()
    print(json.dumps({"first": timings[0], "later": timings[1:], "answer": answer_rows}))


def phase(name: str, folder: Path, sirens: list[str], limit: int
          ) -> tuple[dict[str, Any], float]:
    """Run one phase in a fresh process: (its JSON, its peak MiB from GNU time)."""
    return json_phase([sys.executable, __file__, "--phase", name, str(folder),
                       "--sirens", ",".join(sirens), "--limit", str(limit)], cwd=ROOT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--phase", nargs=2, metavar=("NAME", "FOLDER"), help=argparse.SUPPRESS)
    parser.add_argument("--sirens", default="", help=argparse.SUPPRESS)
    parser.add_argument("--limit", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, default=2_000_000,
                        help="rows to generate (default 2 M; 22.7 M = every commune)")
    parser.add_argument("--years", type=int, default=13)
    parser.add_argument("--agregats", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3, help="processes per path (default 3)")
    parser.add_argument("--paths", default=",".join(PATHS),
                        help="paths to measure, comma-separated (the app is always measured; "
                             "at full scale pandas-naive needs about 16 GB)")
    parser.add_argument("--entities", type=int, default=8,
                        help="filter changes per process (default 8; the naive path does 3)")
    args = parser.parse_args()
    if args.phase:
        run_phase(args.phase[0], Path(args.phase[1]), args.sirens.split(","), args.limit)
        return
    require_gnu_time()
    paths = tuple(p for p in PATHS if p == "app" or p in args.paths.split(","))
    communes = max(1, args.rows // (args.years * args.agregats))
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        files = generate(folder, communes, args.years, args.agregats)
        rows = sum(1 for f in files for _ in f.open("rb")) - len(files)
        print(f"generated {rows:,} rows ({rows // (args.years * args.agregats):,} communes × "
              f"{args.years} years × "
              f"{args.agregats} agrégats) in {len(files)} yearly exports "
              f"({sum(f.stat().st_size for f in files) / 1e9:.2f} GB) in "
              f"{time.perf_counter() - started:.0f} s")
        loaded, load_peak = phase("load", folder, [], 0)
        print(f"load/convert (fresh process): {loaded['seconds']:.1f} s, "
              f"peak {load_peak:.0f} MiB")
        sirens = [str(s) for s in pd.read_parquet(
            folder / "national" / LEVEL, columns=["siren"])["siren"].drop_duplicates()
            .sample(args.entities, random_state=1)]
        first: dict[str, list[float]] = {p: [] for p in paths}
        later: dict[str, list[float]] = {p: [] for p in paths}
        peaks: dict[str, list[float]] = {p: [] for p in paths}
        answers: dict[str, list[list[float]]] = {}
        for round_number in range(args.rounds):
            order = paths[round_number % len(paths):] + paths[:round_number % len(paths)]
            for name in order:
                limit = min(3, args.entities) if name == "pandas-naive" else args.entities
                result, peak = phase(name, folder, sirens, limit)
                first[name].append(result["first"])
                later[name].extend(result["later"])
                peaks[name].append(peak)
                answers[name] = result["answer"]
        app_median = statistics.median(later["app"])
        print(f"\none filter change = entity {AGREGAT!r} against its strate, every year; "
              f"{args.rounds} processes per path, order rotated; ms median (min–max)")
        print("| path | first change ms | later changes ms | changes | × app | peak MiB | "
              "same answer |")
        print("|---|---|---|---|---|---|---|")
        for name in paths:
            same = np.allclose(np.array(answers[name]), np.array(answers["app"]), rtol=1e-6,
                               equal_nan=True)
            spread = Spread.of(later[name])
            print(f"| {LABELS[name]} | {Spread.of(first[name]).text(1000, 0)} | "
                  f"{spread.text(1000, 0)} | {spread.count} | "
                  f"{ratio(spread.median, app_median)} | "
                  f"{Spread.of(peaks[name]).median:.0f} | {'yes' if same else 'NO'} |")
        print(f"app median {app_median * 1000:.0f} ms: target < 150 ms "
              f"{'met' if app_median < 0.150 else 'NOT met'} at {rows:,} rows")
        print(f"{load()} at the end")


if __name__ == "__main__":
    main()
