"""National comparison at real scale: 22.4 M OFGL rows, the app's query path against pandas.

Run: python bench/bench_national.py [--communes 35000 --years 13 --agregats 50]

1. A generator writes one CSV export per year in the real OFGL layout (label headers, `;`,
   UTF-8 with BOM), with the real communes (INSEE code, SIREN, département, région,
   population) and the real agrégat labels of the Guadeloupe sample.
2. Load/convert: `NationalStore.add_export` turns each export into a sorted parquet year
   (time and peak memory, in a fresh process).
3. A filter change as the app makes it: `NationalStore.placement` for one entity against its
   population band (strate), one agrégat, all years — median latency over 20 entities.
4. The naive path measured in the same run: pandas reads every file whole, filters, groups.
Prints the times, memory and the ratio (target: median < 150 ms and ≥ 20× faster).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from budget_core.national import NationalStore  # noqa: E402
from budget_core.population import table as population_table  # noqa: E402

SAMPLE = ROOT / "tests" / "fixtures" / "national" / "ofgl-base-communes_guadeloupe_2024.csv"
STRATES = [0, 100, 200, 500, 2000, 3500, 5000, 10000, 20000, 50000, 100000, 10**9]


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
        frame["Type de budget"] = "Budget principal"
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


def phase(name: str, folder: Path) -> dict[str, float]:
    """Run one phase in a fresh process: its time and its own peak memory."""
    out = subprocess.run([sys.executable, __file__, "--phase", name, str(folder)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def run_phase(name: str, folder: Path) -> None:
    store = NationalStore(folder / "national")
    started = time.perf_counter()
    result: dict[str, float] = {}
    if name == "load":
        for path in sorted(folder.glob("export_*.csv")):
            store.add_export("communes", path.read_bytes(), path.name)
    elif name in ("app", "pandas"):
        sirens = store.query("communes", "SELECT DISTINCT siren FROM ofgl USING SAMPLE 20 "
                             "ROWS")["siren"].tolist()
        timings = []
        for siren in sirens:
            begin = time.perf_counter()
            if name == "app":
                store.placement("communes", siren, "Epargne brute", "strate")
            else:
                whole = pd.concat(pd.read_parquet(p) for p in sorted(
                    (folder / "national" / "communes").glob("*.parquet")))
                mine = whole[(whole["siren"] == siren) & (whole["agregat"] == "Epargne brute")]
                peers = whole[(whole["agregat"] == "Epargne brute")
                              & whole["strate"].isin(mine["strate"])]
                peers.groupby("year")["per_inhabitant"].describe()
            timings.append(time.perf_counter() - begin)
            if name == "pandas" and len(timings) == 3:
                break  # each naive run takes seconds: three are enough for a median
        result["median_s"] = statistics.median(timings)
    result["seconds"] = time.perf_counter() - started
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--phase", nargs=2)
    parser.add_argument("--communes", type=int, default=35_000)
    parser.add_argument("--years", type=int, default=13)
    parser.add_argument("--agregats", type=int, default=50)
    args = parser.parse_args()
    if args.phase:
        run_phase(args.phase[0], Path(args.phase[1]))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        files = generate(folder, args.communes, args.years, args.agregats)
        rows = sum(1 for f in files for _ in f.open("rb")) - len(files)
        print(f"generated {rows:,} rows in {len(files)} yearly exports "
              f"({sum(f.stat().st_size for f in files) / 1e9:.1f} GB) in "
              f"{time.perf_counter() - started:.0f} s")
        load = phase("load", folder)
        print(f"load/convert: {load['seconds']:.1f} s, peak {load['peak_mb']:.0f} MB")
        app = phase("app", folder)
        naive = phase("pandas", folder)
        print(f"filter change, app path (DuckDB): median {app['median_s'] * 1000:.0f} ms, "
              f"peak {app['peak_mb']:.0f} MB")
        print(f"filter change, naive pandas: median {naive['median_s'] * 1000:.0f} ms, "
              f"peak {naive['peak_mb']:.0f} MB")
        print(f"ratio: {naive['median_s'] / app['median_s']:.0f}x faster "
              f"(target ≥ 20x, and median < 150 ms: "
              f"{'yes' if app['median_s'] < 0.150 else 'NO'})")


if __name__ == "__main__":
    main()
