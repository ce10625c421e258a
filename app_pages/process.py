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
