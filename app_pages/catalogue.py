"""What the pages pick from: the store's catalogue, this session's uploads and the CAs of the
DGFiP balances, each made once per version of the folders it comes from.

At the scale of France (one year of balances: 69 457 budgets) a page must not copy, split or
sort the catalogue at each rerun: the merged catalogue and each picker's lists are Streamlit
resources (the same objects at every rerun; read them, never modify them in place), keyed by
the store's and the balances' versions and the uploads' keys (which name their content).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import streamlit as st

from budget_core import balance_catalogue
from budget_core.balances import BalanceStore
from budget_core.config import settings
from budget_core.model import EXECUTED_STAGES, BudgetDocument
from budget_core.pickers import PickerIndex
from budget_core.selection import (
    budget_labels,
    budget_names,
    comparable,
    richest,
    series_documents,
)
from budget_core.store import Store, catalogue_rows


def store() -> Store:
    """The store the app reads (cheap to make; cached results are keyed by its folder)."""
    return settings().store()


def _version() -> tuple[tuple[str, float], ...]:
    return store().version()


@st.cache_data(show_spinner=False)
def catalogue(version: tuple[tuple[str, float], ...]) -> pd.DataFrame:
    return store().documents()


UPLOADS = "uploads"  # session state: documents uploaded on Données, never written to the store


def uploads() -> dict[str, BudgetDocument]:
    """Documents uploaded in this session, by key (`selection.upload_key`): pickers offer
    them beside the stored ones."""
    found: dict[str, BudgetDocument] = st.session_state.setdefault(UPLOADS, {})
    return found


def stored_documents() -> pd.DataFrame:
    """The store's catalogue only."""
    return catalogue(_version())


def published_documents() -> pd.DataFrame:
    """The store's catalogue and this session's uploads: the documents collectivités
    published."""
    stored = stored_documents()
    mine = uploads()
    if not mine:
        return stored
    return pd.concat([stored, catalogue_rows((doc, key) for key, doc in mine.items())],
                     ignore_index=True)


@st.cache_resource(on_release=BalanceStore.close)
def balance_store(folder: str) -> BalanceStore:
    return BalanceStore(Path(folder), threads=settings().duckdb_threads)


def balances() -> BalanceStore:
    """The DGFiP balances of the cache (`Settings.balances_dir`), one connection per folder."""
    return balance_store(str(settings().balances_dir))


@st.cache_data(show_spinner=False)
def _balance_catalogue(folder: str, version: tuple[tuple[str, float], ...]) -> pd.DataFrame:
    return balance_catalogue.catalogue(balance_store(folder))


def balance_documents() -> pd.DataFrame:
    """Every budget-year of the balances as catalogue rows (`balance_catalogue`), those a
    published CA or CFU replaces included."""
    store = balances()
    return _balance_catalogue(str(store.folder), store.version())


def catalogue_versions() -> tuple[tuple[str, float], ...]:
    """The store's and the balances' versions: what the catalogue is made of."""
    return (*_version(), *balances().version())


@st.cache_resource(show_spinner=False, max_entries=4)
def _documents(versions: tuple[tuple[str, float], ...], uploaded: tuple[str, ...]
               ) -> tuple[pd.DataFrame, pd.DataFrame]:
    # Keyed by the uploads' keys, which name their content (`selection.upload_key`).
    published = published_documents()
    shown, apart = balance_catalogue.split(balance_documents(), published)
    return (published if shown.empty else pd.concat([published, shown], ignore_index=True),
            apart)


def documents() -> pd.DataFrame:
    """The published documents, and the CAs of the DGFiP balances for the budget-years no
    published CA or CFU covers: what every picker offers.

    The same frame at every rerun while the store, the balances and the session's uploads
    are unchanged (a resource, not a copy: read it, never modify it in place): at the scale
    of France it holds some 70 000 rows, which a cached copy unpickles, splits and joins
    again in about a second."""
    return _documents(catalogue_versions(), tuple(uploads()))[0]


def balances_apart() -> pd.DataFrame:
    """The balance-derived CAs that a published CA or CFU of the same budget-year replaces."""
    return _documents(catalogue_versions(), tuple(uploads()))[1]


def _executed() -> pd.DataFrame:
    docs = published_documents()
    return docs[docs["stage"].isin(EXECUTED_STAGES)]


# The catalogue rows a page picks from, by name: every document, the budgets with two years
# or more of a stage (Évolution), the executed published documents (Prévu / réalisé).
PICKED: dict[str, Callable[[], pd.DataFrame]] = {
    "documents": documents, "evolution": lambda: series_documents(documents()),
    "executed": _executed}


@st.cache_resource(show_spinner=False, max_entries=8)
def _picked(rows: str, versions: tuple[tuple[str, float], ...], uploaded: tuple[str, ...]
            ) -> pd.DataFrame:
    return PICKED[rows]()


def picked(rows: str) -> pd.DataFrame:
    """`PICKED[rows]`, made once per version of the catalogue (read it, never modify it)."""
    return _picked(rows, catalogue_versions(), tuple(uploads()))


@st.cache_resource(show_spinner=False, max_entries=8)
def _picker_index(rows: str, versions: tuple[tuple[str, float], ...],
                  uploaded: tuple[str, ...]) -> PickerIndex:
    return PickerIndex.of(picked(rows), "siret", budget_labels)


def picker_index(rows: str = "documents") -> PickerIndex:
    """The budgets of `picked(rows)` as a collectivité picker lists them, sorted and named
    once per version of the catalogue."""
    return _picker_index(rows, catalogue_versions(), tuple(uploads()))


@st.cache_resource(show_spinner=False, max_entries=8)
def _comparable(stage: str | None, year: int | None, versions: tuple[tuple[str, float], ...],
                uploaded: tuple[str, ...]) -> tuple[pd.DataFrame, PickerIndex]:
    same = comparable(documents(), stage, year)
    return same, PickerIndex.of(same, "ref", lambda rows: rows["doc_key"].map(
        budget_names(rows)))


def comparable_index(stage: str | None, year: int | None) -> tuple[pd.DataFrame,
                                                                     PickerIndex]:
    """The documents of one stage and year (`selection.comparable`, read them, never modify
    them) and their picker, named by `budget_names`, made once per version of the
    catalogue."""
    return _comparable(stage, year, catalogue_versions(), tuple(uploads()))


@st.cache_data(show_spinner=False, max_entries=8)
def _richest(versions: tuple[tuple[str, float], ...], uploaded: tuple[str, ...]
             ) -> tuple[str | None, int | None]:
    return richest(documents())


def richest_choice() -> tuple[str | None, int | None]:
    """`selection.richest` of `documents()`, once per version of the catalogue."""
    return _richest(catalogue_versions(), tuple(uploads()))
