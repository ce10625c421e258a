"""What the Streamlit server process does once, for every session: its imported modules are
moved out of the garbage collector's reach.

Streamlit runs a full collection (`gc.collect(2)`, option `runner.postScriptGC`) after every
script run, a rerun after a widget change included. A full collection walks every object the
collector tracks, and most of them are the functions, classes and dicts of the modules imported
(Streamlit, pandas, pyarrow, Altair, Plotly, DuckDB, budget_core: about 150,000 objects), which
live as long as the process: the walk cost 0.10 to 0.18 s a run on the 2-core machine, most of
the trivial one-selectbox page's whole rerun (measured by bench/bench_app.py). `gc.freeze()`
moves every object tracked at that moment to a permanent generation the collector skips; what
the pages create afterwards (sessions, frames, charts) is still collected after each run.
"""

from __future__ import annotations

import functools
import gc

# the modules every page imports, imported before freezing
import app_pages.common
import app_pages.drawing  # noqa: F401


@functools.cache
def freeze_imported_modules() -> None:
    """Collect once, then freeze what is left: the modules, and the few objects of the session
    running at that moment (kept for the process's life, a one-off of a few hundred kB)."""
    gc.collect()
    gc.freeze()


FROZEN_AFTER: set[str] = set()  # the url_path of each page whose first run was frozen


def freeze_after_first_run(page: str) -> None:
    """Once per page, after its first run: collect, then freeze what that run left behind
    for good (the page's own modules; Streamlit's emoji and icon sets, source lines and
    caches it fills on first use: some 28,000 objects at the scale of France, which the
    collection after every later run walked again, 5 to 10 ms a run and two runs a change of
    budget). The objects of the session running then are frozen too: freed as usual when
    nothing refers to them, only a cycle among them outlives it (a one-off per page)."""
    if page in FROZEN_AFTER:
        return
    FROZEN_AFTER.add(page)
    gc.collect()
    gc.freeze()
