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
                 key: str, decisive: tuple[str, ...] = ()) -> Picked:
    """`draw()` (the filters' widgets, returning what they pick) run in a fragment: when one
    of its widgets changes, the fragment reruns alone, and reruns the page only if
    `identity` of what it picks differs from what the page last drew (session state `key`).

    `decisive`: the keys of widgets whose change always changes what is picked (the budget,
    stage, year, document): the fragment's rerun after one of them reruns the page at once,
    before drawing the filters. Drawn, they were drawn again by the page a moment later:
    twice the filters' Python and messages, and two redraws in the browser, at each change
    of budget (issue 13).

    A fragment's rerun calls the function the page's last run defined, without running the
    page: its `picked` is that run's list, which already holds what the page drew. So an empty
    `picked` means the page is running (Streamlit's own flag for it is internal).
    """
    picked: list[Picked] = []

    drawn_with = f"{key}_widgets"  # the decisive widgets' values the page last drew

    @st.fragment
    def filters() -> None:
        # A widget gone from the session state (not drawn since) changed nothing.
        if picked and any(st.session_state.get(widget, value) != value
                          for widget, value in st.session_state[drawn_with].items()):
            st.rerun()
        chosen = draw()
        if not picked:
            st.session_state[key] = identity(chosen)
            st.session_state[drawn_with] = {widget: st.session_state.get(widget)
                                            for widget in decisive}
            picked.append(chosen)
        elif identity(chosen) != st.session_state.get(key):
            st.rerun()

    filters()
    return picked[0]


# The widgets of `common.pick_document` whose change changes the document picked.
DOCUMENT_WIDGETS = ("siret", "etape", "annee", "doc")


def document_key(doc: pd.Series | None) -> str | None:
    """What names a picked document (a catalogue row) for `picked_apart`."""
    return None if doc is None else str(doc["doc_key"])
