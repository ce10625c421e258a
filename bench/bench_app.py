"""First render of each page on the demo data, against an empty Streamlit page, same run.

Run: python bench/bench_app.py

Each page is rendered in a fresh AppTest (cold Streamlit caches, as for a new visitor of a
freshly started server); the baseline is a one-line Streamlit script rendered the same way.
Target from the dashboard issue: the first page renders in under 3 s on the demo data.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
PAGES = ("accueil", "explorer", "comprendre", "comparer", "evolution", "execution", "donnees")
REPEAT = 3


def first_render(script: Path, page: str | None = None) -> tuple[float, float]:
    """(cold, median) seconds: the first render fills Streamlit's caches, later ones hit."""
    timings = []
    for _ in range(REPEAT):
        app = AppTest.from_file(str(script), default_timeout=60)
        started = time.perf_counter()
        app.run()
        if page is not None and page != "accueil":
            app.switch_page(f"app_pages/{page}.py").run()
        timings.append(time.perf_counter() - started)
        assert not app.exception, app.exception
    return timings[0], statistics.median(timings)


def main() -> None:
    os.environ["BUDGET_DATA_DIR"] = str(ROOT / "budget_core" / "data" / "demo")
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty.py"
        empty.write_text("import streamlit as st\nst.write('ok')\n")
        base_cold, base_warm = first_render(empty)
    print(f"baseline (empty page): cold {base_cold:.3f} s, warm {base_warm:.3f} s")
    print(f"{'page':<12} {'cold s':>7} {'x base':>7} {'warm s':>7} {'x base':>7} {'< 3 s':>6}")
    for page in PAGES:
        cold, warm = first_render(ROOT / "app.py", page)
        print(f"{page:<12} {cold:7.3f} {cold / base_cold:7.1f} {warm:7.3f} "
              f"{warm / base_warm:7.1f} {'yes' if cold < 3 else 'NO':>6}")


if __name__ == "__main__":
    main()
