"""A page's filters in a fragment: a change that leaves what they pick the same redraws the
filters alone, one that changes it reruns the page.

Streamlit redraws every element of a page at each rerun, and at the scale of France the
browser's share of a widget change on Explorer or Comprendre (redrawing their metrics,
charts and text) was most of it. Changing « Type de collectivité » or the département keeps
the budget chosen while it is still an option: nothing below the filters changes, so only
the filters are run and drawn again.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

import pandas as pd
import streamlit as st

Picked = TypeVar("Picked")


def picked_apart(draw: Callable[[], Picked], identity: Callable[[Picked], Hashable],
                 key: str) -> Picked:
    """`draw()` (the filters' widgets, returning what they pick) run in a fragment: when one
    of its widgets changes, the fragment reruns alone, and reruns the page only if
    `identity` of what it picks differs from what the page last drew (session state `key`).

    A fragment's rerun calls the function the page's last run defined, without running the
    page: its `picked` is that run's list, which already holds what the page drew. So an empty
    `picked` means the page is running (Streamlit's own flag for it is internal).
    """
    picked: list[Picked] = []

    @st.fragment
    def filters() -> None:
        chosen = draw()
        if not picked:
            st.session_state[key] = identity(chosen)
            picked.append(chosen)
        elif identity(chosen) != st.session_state.get(key):
            st.rerun()

    filters()
    return picked[0]


def document_key(doc: pd.Series | None) -> str | None:
    """What names a picked document (a catalogue row) for `picked_apart`."""
    return None if doc is None else str(doc["doc_key"])
