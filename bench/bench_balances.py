"""DGFiP balances: import of a national export, and two queries against a pandas baseline.

Run: python bench/bench_balances.py [--rows 8000000] [--years 1] [--rounds 3] [--lookups 8]
     real scale: --rows 60000000 --years 10 (every commune's budgets, ten years)

1. A generator writes one export per year in the real layout (the header of the real 2024
   sample, `;`, `.` decimals, codes with leading zeros): real communes (SIREN, département,
   INSEE code from the shipped COG table), each with its budget principal and 0 to 2 annexes
   (one on average), each budget with about 115 accounts drawn from the M57 plan's own
   accounts (charges, produits, immobilisations, subventions, amortissements, tiers), random
   amounts with order operations part of the budget ones and closing balances that satisfy
   the identity. The real 2024 file has about 7 M rows a year (≈ 950 MB of CSV): `--rows` scales
   it. Years come as the real downloads do, one at a time: a year's file is written (2 000
   communes at a time), imported, then deleted, so memory and disk stay bounded at any scale.
2. Import: `BalanceStore.import_csv` of each year in turn, each in a fresh process (GNU time:
   peak RSS); the total time and the largest peak are reported.
3. Two questions, each in its own fresh process per path, paths in rotated order per round:
   - chapter view of one commune (its budget principal, one year): the app reads the rows
     with DuckDB (`BalanceStore.document`, the year's file sorted by SIREN) against pandas
     `read_parquet(year folder, columns=used, filters=[ident ==])`; both then map the same
     rows with the same plan code (`balance_budget.document` + `chapter_view`): only the
     reading differs, the rest is the same work;
   - a chapter's peer median (real spending of chapter 011 per inhabitant among the budgets
     principaux of the commune's population strate): `BalanceStore.peer_median` (DuckDB over
     the chapter aggregates) against pandas `read_parquet(chapters folder, columns, filters=
     [chapter_code, direction, cbudg])` + merge with the strates + median.
   Answers are compared (the first entity's). Target: each app median under 150 ms.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from measure import Spread, json_phase, load, machine, ratio, require_gnu_time

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from budget_core.balance_budget import chapter_view, document  # noqa: E402
from budget_core.balance_csv import AMOUNTS, USED  # noqa: E402
from budget_core.balances import BalanceStore  # noqa: E402
from budget_core.nomenclature import load_plan  # noqa: E402
from budget_core.population import commune_strates  # noqa: E402
from budget_core.population import table as population_table  # noqa: E402

SAMPLE = ROOT / "tests" / "fixtures" / "balances" / "balance-comptable-communes-2024_sample20.csv"
ACCOUNTS_PER_BUDGET = 115
BUDGETS_PER_COMMUNE = 2.0  # a principal and 0 to 2 annexes, one on average
CHAPTER, DIRECTION = "011", "depense"
PATHS = ("app", "pandas")


def account_pool() -> np.ndarray:
    """Accounts of the M57 plan with a chapter, and some class-4 third-party accounts."""
    plan = load_plan("M57_D", 2024)
    budget = [c for c, a in plan.accounts.items() if a.dr or a.rr or a.does or a.roes]
    tiers = [c for c in plan.accounts if c.startswith(("40", "41", "43", "44"))][:40]
    return np.array(budget + tiers)


class Generator:
    """The synthetic communes, their budgets and the account pool, shared by every year."""

    def __init__(self, rows: int, years: int) -> None:
        self.header = SAMPLE.read_text(encoding="utf-8").split("\n", 1)[0].split(";")
        towns = population_table()
        towns = towns[towns["kind"] == "commune"].sample(frac=1.0, random_state=0)
        per_commune = ACCOUNTS_PER_BUDGET * BUDGETS_PER_COMMUNE * years
        self.towns = towns.head(max(1, int(rows / per_commune))).reset_index(drop=True)
        self.pool = account_pool()
        self.rng = np.random.default_rng(0)
        self.annexes = self.rng.integers(0, 3, len(self.towns))  # 0, 1 or 2 per commune

    def year(self, folder: Path, year: int) -> Path:
        """Write one year's export, 2 000 communes at a time (memory stays bounded)."""
        path = folder / f"export_{year}.csv"
        with pacsv.CSVWriter(path, _schema(self.header), write_options=pacsv.WriteOptions(
                delimiter=";", quoting_style="none")) as writer:
            for start in range(0, len(self.towns), 2000):
                chunk = self.towns.iloc[start:start + 2000]
                writer.write_table(_chunk(chunk, self.annexes[start:start + 2000], self.pool,
                                          year, self.header, self.rng))
        return path


def _schema(header: list[str]) -> pa.Schema:
    return pa.schema([(name, pa.string()) for name in header])


def _chunk(towns: pd.DataFrame, annexes: np.ndarray, pool: np.ndarray, year: int,
           header: list[str], rng: np.random.Generator) -> pa.Table:
    siren = np.repeat(towns["siren"].to_numpy(), annexes + 1)
    number = np.concatenate([np.arange(n + 1) for n in annexes])
    insee = np.repeat(towns["insee"].to_numpy(), annexes + 1)
    n_budgets = len(siren)
    b = np.repeat(np.arange(n_budgets), ACCOUNTS_PER_BUDGET)
    n = len(b)
    cents = lambda scale: rng.integers(0, scale, n)  # noqa: E731
    obnetdeb, obnetcre = cents(10**9), cents(10**9)
    oobdeb = np.where(rng.random(n) < 0.1, obnetdeb // 5, 0)
    oobcre = np.where(rng.random(n) < 0.1, obnetcre // 5, 0)
    bedeb, becre, onbdeb, onbcre = cents(10**9), cents(10**9), cents(10**7), cents(10**7)
    net = bedeb - becre + obnetdeb - obnetcre + onbdeb - onbcre
    values: dict[str, Any] = {
        "exer": np.full(n, str(year)), "ident": (siren + np.char.zfill(
            (number * 100 + 15).astype(str), 5).astype(object))[b],
        "ndept": np.char.zfill(np.array([c[:2] if not c.startswith("97") else c[:3]
                                         for c in insee]), 3)[b],
        "lbudg": np.where(number == 0, "COMMUNE", "BUDGET ANNEXE")[b],
        "insee": np.array([c[-3:] for c in insee])[b],
        "cbudg": np.where(number == 0, "1", "3")[b], "ctype": np.where(number == 0, "101",
                                                                      "410")[b],
        "cstyp": "00", "nomen": "M57", "siren": siren[b], "cregi": "084", "cacti": "40",
        "secteur": "", "finess": "", "codbud1": "", "categ": "Commune", "bal": "DEF",
        "compte": rng.choice(pool, n), "bedeb": bedeb, "becre": becre,
        "obnetdeb": obnetdeb, "obnetcre": obnetcre, "onbdeb": onbdeb, "onbcre": onbcre,
        "oobdeb": oobdeb, "oobcre": oobcre, "sd": np.maximum(net, 0),
        "sc": np.maximum(-net, 0)}
    arrays = []
    for name in header:
        value = values[name]
        if name in AMOUNTS:  # cents → « 1234.05 », as the export writes amounts
            cents = pa.array(value, pa.int64())
            euros = pc.cast(pc.divide(cents, 100), pa.string())
            rest = pc.utf8_lpad(pc.cast(pc.remainder(cents, 100), pa.string()), width=2,
                                padding="0")
            arrays.append(pc.binary_join_element_wise(euros, rest, "."))
        else:
            arrays.append(pa.array(np.broadcast_to(value, n).astype(str), pa.string()))
    return pa.Table.from_arrays(arrays, schema=_schema(header))


def pandas_chapter_view(store: BalanceStore, siret: str, year: int) -> pd.DataFrame:
    rows = pd.read_parquet(store.year_dir("communes", year), columns=[*USED[1:], "balanced"],
                           filters=[("ident", "==", siret)], dtype_backend="pyarrow")
    rows = rows.assign(year=year)
    return chapter_view(document(rows, "", "").lines)


def pandas_peer_median(store: BalanceStore, year: int, strate: int) -> tuple[float, int]:
    chapters = pd.read_parquet(
        store.year_dir("communes", year, "_chapters"), columns=["siren", "real_amount"],
        filters=[("chapter_code", "==", CHAPTER), ("direction", "==", DIRECTION),
                 ("cbudg", "==", "1")])
    peers = commune_strates()
    peers = peers[(peers["strate"] == strate) & (peers["population"] > 0)]
    merged = chapters.merge(peers, on="siren")
    values = merged["real_amount"].astype(float) / merged["population"]
    return float(values.median()), len(values)


def run_phase(name: str, folder: Path, sirens: list[str], year: int) -> None:
    """In a fresh process: import, or time one path's questions; one JSON line out."""
    store = BalanceStore(folder / "balances")
    if name == "import":
        started = time.perf_counter()
        rows = sum(store.import_csv(p, "communes").rows for p in sorted(folder.glob("*.csv")))
        print(json.dumps({"seconds": time.perf_counter() - started, "rows": rows}))
        return
    strates = dict(zip(commune_strates()["siren"], commune_strates()["strate"], strict=True))
    view_times, median_times, answers = [], [], []
    for siren in sirens:
        siret = siren + "00015"
        begin = time.perf_counter()
        view = (chapter_view(store.document(siret, year).lines) if name == "app"
                else pandas_chapter_view(store, siret, year))
        view_times.append(time.perf_counter() - begin)
        begin = time.perf_counter()
        if name == "app":
            found = store.peer_median("communes", year, CHAPTER, DIRECTION, strates[siren])
            median = (float(found["median"].iloc[0]), int(found["peers"].iloc[0]))
        else:
            median = pandas_peer_median(store, year, strates[siren])
        median_times.append(time.perf_counter() - begin)
        answers.append([[str(v) for v in view["real"]], round(median[0], 6), median[1]])
    print(json.dumps({"view": view_times, "median": median_times, "answer": answers[0]}))


def phase(name: str, folder: Path, sirens: list[str], year: int) -> tuple[dict[str, Any],
                                                                           float]:
    return json_phase([sys.executable, __file__, "--phase", name, str(folder),
                       "--sirens", ",".join(sirens), "--year", str(year)], cwd=ROOT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--phase", nargs=2, metavar=("NAME", "FOLDER"), help=argparse.SUPPRESS)
    parser.add_argument("--sirens", default="", help=argparse.SUPPRESS)
    parser.add_argument("--year", type=int, default=2024, help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, default=8_000_000,
                        help="account rows in all (default 8 M: every commune, one year; "
                             "60 M over --years 10 is the real scale of ten years)")
    parser.add_argument("--years", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3, help="processes per path")
    parser.add_argument("--lookups", type=int, default=8, help="communes asked per process")
    parser.add_argument("--tmp", default=None,
                        help="folder for the generated exports and store, removed at the end "
                             "(default: the system's temporary folder)")
    args = parser.parse_args()
    if args.phase:
        run_phase(args.phase[0], Path(args.phase[1]), args.sirens.split(","), args.year)
        return
    require_gnu_time()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        folder = Path(tmp)
        generator = Generator(args.rows, args.years)
        size, generating, importing, rows, peak = 0, 0.0, 0.0, 0, 0.0
        for year in range(2024 - args.years + 1, 2025):
            # As the real downloads come: one yearly file at a time, imported, then deleted,
            # so the disk holds one year's CSV (about 1.2 GB) besides the store.
            started = time.perf_counter()
            export = generator.year(folder, year)
            generating += time.perf_counter() - started
            size += export.stat().st_size
            imported, year_peak = phase("import", folder, [], year)
            export.unlink()
            importing += imported["seconds"]
            rows += imported["rows"]
            peak = max(peak, year_peak)
            print(f"  {year}: {imported['rows']:,} rows imported in {imported['seconds']:.1f} s, "
                  f"peak {year_peak:.0f} MiB; {load()}", flush=True)
        print(f"generated {args.years} yearly export(s), {size / 1e9:.2f} GB of CSV in all, in "
              f"{generating:.0f} s")
        print(f"import (a fresh process per year): {rows:,} rows in {importing:.1f} s "
              f"({rows / importing:,.0f} rows/s), peak {peak:.0f} MiB (the largest year's)")
        stored = {name: sum(f.stat().st_size for f in (folder / "balances").glob(pattern))
                  for name, pattern in (("rows", "level=*/year=*/*.parquet"),
                                        ("chapters", "_chapters/level=*/year=*/*.parquet"))}
        print(f"stored: account rows {stored['rows'] / 1e6:.0f} MB "
              f"({stored['rows'] / size:.0%} of the CSV), chapter aggregates "
              f"{stored['chapters'] / 1e6:.0f} MB")
        with BalanceStore(folder / "balances") as store:
            sirens = [str(s) for s in store.query(
                "SELECT DISTINCT siren FROM balances WHERE year = 2024 ORDER BY siren")[
                "siren"].sample(args.lookups, random_state=1)]
        times: dict[str, dict[str, list[float]]] = {p: {"view": [], "median": []}
                                                    for p in PATHS}
        peaks: dict[str, list[float]] = {p: [] for p in PATHS}
        answers: dict[str, Any] = {}
        for number in range(args.rounds):
            for name in PATHS[number % 2:] + PATHS[:number % 2]:
                result, peak = phase(name, folder, sirens, 2024)
                for key in ("view", "median"):
                    times[name][key].extend(result[key][1:])  # the first is a cold start
                peaks[name].append(peak)
                answers[name] = result["answer"]
        same = answers["app"] == answers["pandas"]
        print(f"\n{args.rounds} processes per path, {args.lookups} communes each (first "
              "left out: cold); ms median (min–max)")
        print("| question | app (DuckDB) | pandas read_parquet(columns, filters) | × app |")
        print("|---|---|---|---|")
        for key, label in (("view", "one commune's chapter view"),
                           ("median", f"chapter {CHAPTER} peer median in its strate")):
            app, base = Spread.of(times["app"][key]), Spread.of(times["pandas"][key])
            print(f"| {label} | {app.text(1000, 0)} | {base.text(1000, 0)} | "
                  f"{ratio(base.median, app.median)} |")
            verdict = "met" if app.median < 0.150 else "NOT met"
            print(f"  app median {app.median * 1000:.0f} ms: target < 150 ms {verdict}")
        print(f"peak MiB: app {statistics.median(peaks['app']):.0f}, pandas "
              f"{statistics.median(peaks['pandas']):.0f}; same answer: "
              f"{'yes' if same else 'NO'}")
        print(f"{load()} at the end")


if __name__ == "__main__":
    main()
