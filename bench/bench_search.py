"""Benchmark of the collectivité search (Accueil, `python -m budget_core search`).

Usage: python bench/bench_search.py [--queries 300] [--rounds 3] [--seed 14]

Queries drawn (seeded) from the real index as users type them: a commune's exact name, the
same without accents and in lower case, its first letters, a typo (one letter dropped), its
INSEE code, SIREN or postcode, an EPCI's name. Each query through `search_collectivites`
(after the index is built once, timed apart) and through a naive pandas baseline over the same
table: accent-folded names computed once, `str.contains` of the folded query, biggest
population first (codes by equality). Rounds alternate the order (A B, B A) so that load from
other processes falls on both alike. Prints the median time per query (min–max, p90), the
ratio, and how often each finds the collectivité the query was made from first and in its 10
first results (the baseline finds no typo).
"""

from __future__ import annotations

import argparse
import gzip
import random
import statistics
import sys
import time
from importlib import resources
from pathlib import Path

import pandas as pd
from measure import Spread, machine, ratio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from budget_core.search import fold, national_index, search_collectivites


def read_index() -> pd.DataFrame:
    path = resources.files("budget_core.data").joinpath("collectivites.csv.gz")
    with resources.as_file(path) as file, gzip.open(file, "rt", encoding="utf-8") as text:
        return pd.read_csv(text, dtype=str, keep_default_na=False)


def make_queries(table: pd.DataFrame, count: int, seed: int) -> list[tuple[str, str, str]]:
    """(kind of query, query, SIREN it was made from)."""
    rng = random.Random(seed)
    communes = table[table["kind"] == "commune"].to_dict("records")
    epcis = table[table["kind"] == "epci"].to_dict("records")
    queries = []
    for i in range(count):
        c = rng.choice(communes)
        name = c["name"]
        kind = ["exact", "folded", "prefix", "typo", "insee", "siren", "postcode",
                "epci"][i % 8]
        if kind == "typo" and len(name) > 5:
            cut = rng.randrange(1, len(name) - 1)
            query = name[:cut] + name[cut + 1:]
        elif kind == "epci":
            c = rng.choice(epcis)
            query = c["name"]
        else:
            query = {"exact": name, "folded": fold(name), "prefix": name[:5], "typo": name,
                     "insee": c["code"], "siren": c["siren"],
                     "postcode": (c["postcodes"].split() or [c["code"]])[0]}[kind]
        queries.append((kind, query, c["siren"]))
    return queries


class Naive:
    """The same table searched with pandas: folded names once, `str.contains` per query."""

    def __init__(self, table: pd.DataFrame) -> None:
        own = table[table["kind"] != "alias"].copy()
        own["folded"] = own["name"].map(fold)
        own["people"] = pd.to_numeric(own["population"], errors="coerce").fillna(0)
        self.table = own

    def search(self, query: str, limit: int = 20) -> list[str]:
        code = query.replace(" ", "")
        t = self.table
        if code.isdigit() or code[:2] in ("2A", "2B"):
            found = t[(t["code"] == code) | (t["siren"] == code[:9])
                      | t["postcodes"].str.contains(code, regex=False)]
        else:
            found = t[t["folded"].str.contains(fold(query), regex=False)]
        return list(found.sort_values("people", ascending=False)["siren"].head(limit))


def timed(search, queries: list[tuple[str, str, str]]) -> tuple[list[float], list[list[str]]]:
    times, answers = [], []
    for _, query, _ in queries:
        started = time.perf_counter()
        answer = search(query)
        times.append(time.perf_counter() - started)
        answers.append(answer)
    return times, answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    started = time.perf_counter()
    national_index()
    build = time.perf_counter() - started
    table = read_index()
    started = time.perf_counter()
    naive = Naive(table)
    naive_build = time.perf_counter() - started
    queries = make_queries(table, args.queries, args.seed)
    sides = {"search_collectivites": lambda q: [r.siren for r in search_collectivites(q)],
             "pandas str.contains": naive.search}
    times: dict[str, list[float]] = {name: [] for name in sides}
    answers: dict[str, list[list[str]]] = {}
    for round_ in range(args.rounds):
        for name in list(sides)[::1 if round_ % 2 == 0 else -1]:
            spent, answers[name] = timed(sides[name], queries)
            times[name] += spent
    print(f"{len(queries)} queries × {args.rounds} rounds; index built in {build:.2f} s "
          f"(baseline's folded table: {naive_build:.2f} s)")
    medians = {}
    for name, spent in times.items():
        spread = Spread.of(spent)
        medians[name] = spread.median
        p90 = statistics.quantiles(spent, n=10)[-1]
        print(f"  {name:<22} {spread.text(1000, 1)} ms per query, p90 {p90 * 1000:.1f} ms")
    print(f"  ratio baseline / search: "
          f"{ratio(medians['pandas str.contains'], medians['search_collectivites'])}")
    print("found (first / in the first 10), by kind of query:")
    kinds = sorted({kind for kind, _, _ in queries})
    for name, found in answers.items():
        cells = []
        for kind in kinds:
            picked = [(siren, answer) for (k, _, siren), answer in zip(queries, found,
                                                                       strict=True) if k == kind]
            first = sum(answer[:1] == [siren] for siren, answer in picked)
            top = sum(siren in answer[:10] for siren, answer in picked)
            cells.append(f"{kind} {first}/{top}/{len(picked)}")
        print(f"  {name:<22} " + ", ".join(cells))


if __name__ == "__main__":
    main()
