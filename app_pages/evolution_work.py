"""Évolution's work, cached by the documents, in a module imported once.

A change of « Sens » or « En € par habitant » reran the same work at each run of the page:
the direction's rows with their population, the totals by year, the largest chapters, the
chapters' labels, and the notes under the charts, whose sources are looked up in the
catalogue and the balances (about 15 ms of a rerun). Made here, each is made once per set of
inputs (a cache defined in the page script is made anew at each rerun: `comparison.py`).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages.common import source_notes, summary
from app_pages.drawing import FRAME_KEY
from budget_core import analysis
from budget_core.fmt import md_escape

Versions = tuple[tuple[str, float], ...]  # the catalogue's (`catalogue.catalogue_versions`)


@st.cache_data(show_spinner=False, max_entries=64)
def by_year(keys: tuple[str, ...], direction: str, people: tuple[tuple[int, int | None], ...],
            versions: Versions) -> tuple[pd.DataFrame, pd.DataFrame, list[str], dict[str, str]]:
    """The direction's rows by year and chapter with their € per inhabitant (`people`: each
    year's population), their totals by year (`analysis.yearly_totals`), the eight largest
    chapters over the years and each chapter's label (« 012 — Charges de personnel... »).
    `versions` keys the sums of documents imported anew."""
    population = dict(people)
    frame = summary(analysis.evolution, keys)
    frame = analysis.with_population(frame[frame["direction"] == direction].assign(
        year=frame["year"].astype(int)), "year", population)
    totals = analysis.yearly_totals(frame, population)
    top = list(frame.groupby("chapter_code")["amount"].sum().astype(float).nlargest(8).index)
    labels = dict(zip(frame["chapter_code"],
                      frame["chapter_code"] + " — " + frame["chapter_label"], strict=False))
    return frame, totals, top, labels


@st.cache_data(show_spinner=False, max_entries=64, hash_funcs=FRAME_KEY)
def notes(rows: pd.DataFrame, changes: list[tuple[int, str, str]], sources: tuple[str, ...],
          versions: Versions) -> None:
    """Under the charts: each change of nomenclature, where the populations come from, the
    documents (`rows`: their catalogue rows) and their sources (`common.source_notes`)."""
    # Drawn inside the cache: a hit replays what Streamlit recorded instead of looking the
    # sources up again (`versions` keys a catalogue or balances imported anew).
    for year, before, after in changes:
        st.warning(f"Changement de nomenclature en {year} : {before} → {after}. Les chapitres "
                   "sont rapprochés par leur code, sous un seul libellé ; ceux qui n'existent "
                   "que dans une nomenclature ne se prolongent pas.")
    st.caption("Opérations réelles, hors résultats reportés (001/002). Population de chaque "
               "année : " + " ; ".join(sources) + ".")
    st.caption(md_escape(f"Documents : {', '.join(rows['source_file'])}."))
    source_notes(rows)
