"""Page reruns at the scale of France: the app's Python time after a widget change (AppTest)
over one year of DGFiP balances for every commune.

Run: python bench/bench_france.py [--cache DIR] [--rounds 3] [--changes 3] [--against DIR]

1. Data: `--cache DIR` is a cache folder whose `balances` already hold the year (`python -m
   budget_core balances import export.csv` with BUDGET_CACHE_DIR=DIR); without it, the
   generator of bench_balances.py writes the synthetic national year (8 M rows: every
   commune of the COG with its budget principal and 0 to 2 annexes, 69 457 budgets) and
   `balances import` loads it into a temporary folder (about 2 minutes, 5 at load 19).
2. Each round starts a fresh process per checkout (this one, and `--against DIR`, a worktree
   of main, in alternate order), which opens the app with AppTest on that cache
   (BUDGET_CACHE_DIR; the embedded demo store beside it, as `streamlit run` does) and, page
   after page, changes widgets `--changes` times, timing each `AppTest.run()` of a change:
   Accueil (the search box), Explorer (« Inclure les opérations d'ordre », the type, the
   budget), Comparer (the type, « En € par habitant »), Évolution (Sens), Se comparer
   agrégats (Agrégat) and par chapitre (Sens, Comparer avec, Chapitre de la carte,
   Commune). The first opening of each page is printed apart (it fills the caches).
3. Prints, per change, the median (min–max) over rounds × changes of each checkout, their
   ratio, the targets (under 1 s, issue 11/14; under 200 ms, issue 13), and the load
   average at start and end: the machine is shared, so read the paired ratio first.
AppTest times the script's run in-process (no browser, no websocket): bench_app.py times
the same changes in Chromium, where Streamlit's messages and drawing come on top.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from measure import Spread, load, machine, ratio

ROOT = Path(__file__).resolve().parent.parent
TARGETS_S = (1.0, 0.2)


def _widget(at: Any, kind: str, key: str) -> Any:
    return next(w for w in at.get(kind) if w.key == key)


def _changes(at: Any) -> list[tuple[str, str, Callable[[int], Any]]]:
    """(page, change, act): `act(i)` makes the i-th change; pages opened in this order."""
    def option(key: str, step: int, first: int = 1) -> Callable[[int], Any]:
        def act(i: int) -> Any:
            widget = _widget(at, "selectbox", key)
            return widget.select_index((first + i * step) % len(widget.options))
        return act

    def flip(kind: str, key: str, values: tuple[Any, Any]) -> Callable[[int], Any]:
        return lambda i: _widget(at, kind, key).set_value(values[i % 2])

    return [
        ("accueil", "search « Rechercher une collectivité »",
         lambda i: at.text_input(key="q").input(["grenoble", "lyon", "saint denis"][i % 3])),
        ("explorer", "toggle « Inclure les opérations d'ordre »",
         flip("toggle", "ordre", (True, False))),
        ("explorer", "selectbox « Type de collectivité »",
         flip("selectbox", "siret_type", ("commune", "Tous"))),
        ("explorer", "selectbox « Collectivité » (another budget)",
         option("siret", 7, 7)),
        ("comparer", "selectbox « Type de collectivité »",
         flip("selectbox", "cmp_type", ("commune", "Tous"))),
        ("comparer", "toggle « En € par habitant »",
         flip("toggle", "par_habitant", (True, False))),
        ("evolution", "radio « Sens »", flip("radio", "evo_sens", ("recette", "depense"))),
        ("se-comparer (agrégats)", "selectbox « Agrégat »", option("agregat", 1)),
        ("se-comparer (chapitres)", "radio « Sens »",
         flip("radio", "chap_sens", ("recette", "depense"))),
        ("se-comparer (chapitres)", "selectbox « Comparer avec »",
         lambda i: _widget(at, "selectbox", "chap_pairs").set_value(
             ["region", "strate", "departement"][i % 3])),
        ("se-comparer (chapitres)", "selectbox « Chapitre » (map)",
         option("chap_carte", 1)),
        ("se-comparer (chapitres)", "selectbox « Commune » (another commune)",
         option("chap_siren", 5, 5)),
    ]


OPEN = {"explorer": "app_pages/explorer.py", "comparer": "app_pages/comparer.py",
        "evolution": "app_pages/evolution.py",
        "se-comparer (agrégats)": "app_pages/comparer_national.py"}


def run_phase(checkout: Path, cache: Path, changes: int) -> None:
    """In a fresh process: every page's changes on this checkout; one JSON line out."""
    os.environ["BUDGET_CACHE_DIR"] = str(cache)
    os.environ.pop("BUDGET_DATA_DIR", None)
    os.chdir(checkout)
    sys.path.insert(0, str(checkout))
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(checkout / "app.py"), default_timeout=600)
    opened: dict[str, float] = {}
    began = time.perf_counter()
    at.run()
    opened["accueil"] = time.perf_counter() - began
    times: dict[str, list[float]] = {}
    for page, label, act in _changes(at):
        if page not in opened:
            began = time.perf_counter()
            if page == "se-comparer (chapitres)":
                _widget(at, "radio", "mode").set_value("chapitres").run()
            else:
                at.switch_page(OPEN[page]).run()
            opened[page] = time.perf_counter() - began
        name = f"{page}: {label}"
        times[name] = []
        for i in range(changes):
            began = time.perf_counter()
            act(i).run()
            times[name].append(time.perf_counter() - began)
            if at.exception:
                raise SystemExit(f"{name}: {at.exception[0].message}")
    print(json.dumps({"opened": opened, "times": times}))


def phase(checkout: Path, cache: Path, changes: int) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, "--phase", str(checkout), str(cache),
                           "--changes", str(changes)], capture_output=True, text=True,
                          check=False)
    if done.returncode:
        raise SystemExit(f"{checkout}: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def prepared(folder: Path) -> Path:
    """A cache holding the synthetic national year (bench_balances.py's generator)."""
    from bench_balances import Generator

    started = time.perf_counter()
    export = Generator(8_000_000, 1).year(folder, 2024)
    print(f"generated {export.stat().st_size / 1e9:.2f} GB of CSV in "
          f"{time.perf_counter() - started:.0f} s")
    cache = folder / "cache"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "budget_core", "balances", "import", str(export)],
                   cwd=ROOT, env={**os.environ, "BUDGET_CACHE_DIR": str(cache)}, check=True)
    print(f"imported in {time.perf_counter() - started:.0f} s")
    export.unlink()
    return cache


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--phase", nargs=2, metavar=("CHECKOUT", "CACHE"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--cache", type=Path, default=None,
                        help="a cache folder whose balances hold the year (else generated)")
    parser.add_argument("--rounds", type=int, default=3, help="fresh processes per checkout")
    parser.add_argument("--changes", type=int, default=3, help="changes of each widget")
    parser.add_argument("--against", type=Path, default=None,
                        help="another checkout (a worktree of main) measured alternately")
    args = parser.parse_args()
    if args.phase:
        run_phase(Path(args.phase[0]), Path(args.phase[1]), args.changes)
        return
    print(f"machine: {machine()}\n{load()} at the start")
    checkouts = {"this": ROOT, **({"against": args.against.resolve()} if args.against
                                 else {})}
    with tempfile.TemporaryDirectory(dir=ROOT / "data_cache" if (
            ROOT / "data_cache").exists() else None) as tmp:
        cache = args.cache.resolve() if args.cache else prepared(Path(tmp))
        times: dict[str, dict[str, list[float]]] = {name: {} for name in checkouts}
        opened: dict[str, dict[str, list[float]]] = {name: {} for name in checkouts}
        names = list(checkouts)
        for number in range(args.rounds):
            for name in names[number % 2:] + names[:number % 2]:
                result = phase(checkouts[name], cache, args.changes)
                for key, values in result["times"].items():
                    times[name].setdefault(key, []).extend(values)
                for key, value in result["opened"].items():
                    opened[name].setdefault(key, []).append(value)
                print(f"round {number + 1}, {name} ({load()}): " + "; ".join(
                    f"{key.split(':')[0]} {statistics.median(v):.2f}"
                    for key, v in result["times"].items()), flush=True)
        report(times, opened, args)
    print(f"{load()} at the end")


def report(times: dict[str, dict[str, list[float]]], opened: dict[str, dict[str, list[float]]],
           args: argparse.Namespace) -> None:
    against = "against" in times
    print(f"\n{args.rounds} rounds × {args.changes} changes; seconds, median (min–max)")
    print("| change | this checkout | " + ("against | × |" if against else "") +
          " < 1 s / < 0.2 s |")
    print("|---|---|" + ("---|---|" if against else "") + "---|")
    for key, values in times["this"].items():
        mine = Spread.of(values)
        row = f"| {key} | {mine.text(1, 3)} |"
        if against:
            other = Spread.of(times["against"][key])
            row += f" {other.text(1, 3)} | {ratio(other.median, mine.median)} |"
        verdict = ["yes" if mine.median < t else "NO" for t in TARGETS_S]
        print(f"{row} {' / '.join(verdict)} |")
    for name, pages in opened.items():
        print(f"first opening ({name}): " + ", ".join(
            f"{page} {statistics.median(v):.2f} s" for page, v in pages.items()))


if __name__ == "__main__":
    main()
