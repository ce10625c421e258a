"""What every page shares: the store, cached queries, the budget picker, error display."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from budget_core.config import settings
from budget_core.errors import BudgetError
from budget_core.fmt import md_escape
from budget_core.model import ENTITY_TYPE_LABELS, STAGE_LABELS, STAGES
from budget_core.store import Store

ALL = "Tous"


def store() -> Store:
    """The store the app reads (cheap to make; cached results are keyed by its folder)."""
    return settings().store()


def _version() -> tuple[tuple[str, float], ...]:
    return store().version()


@st.cache_data(show_spinner=False)
def catalogue(version: tuple[tuple[str, float], ...]) -> pd.DataFrame:
    return store().documents()


def documents() -> pd.DataFrame:
    return catalogue(_version())


@st.cache_data(show_spinner=False, max_entries=64)
def budget_lines(sirets: tuple[str, ...], years: tuple[int, ...], stages: tuple[str, ...],
                 kinds: tuple[str, ...], version: tuple[tuple[str, float], ...]) -> pd.DataFrame:
    return store().lines(sirets, years, stages, kinds)


def lines_for(sirets: list[str], years: list[int], stages: list[str],
              kinds: tuple[str, ...] = ("principal", "annexe")) -> pd.DataFrame:
    return budget_lines(tuple(sirets), tuple(years), tuple(stages), kinds, _version())


def workshop_mode() -> bool:
    """Mode atelier: hides the filters' help and the tables for projection."""
    return bool(st.sidebar.toggle("Mode atelier (projection)", key="atelier",
                                  bind="query-params"))


def url_selectbox(box: st.delta_generator.DeltaGenerator, label: str, options: list[Any],
                  key: str, format_func: Callable[[Any], str] = str) -> Any:
    """A selectbox whose raw value (a SIRET, a stage code) is kept in the URL as `?key=value`.

    Streamlit's own binding writes the displayed label to the URL; links must hold codes.
    """
    wanted = st.query_params.get(key)
    by_text = {str(option): i for i, option in enumerate(options)}
    index = by_text.get(wanted, 0) if wanted is not None else 0
    value = box.selectbox(label, options, index=index, key=key, format_func=format_func)
    if value is not None:
        st.query_params[key] = str(value)
    return value


def url_multiselect(box: st.delta_generator.DeltaGenerator, label: str, options: list[str],
                    key: str, format_func: Callable[[Any], str], default: list[str],
                    max_selections: int) -> list[str]:
    """A multiselect kept in the URL as codes: `?cmp=21930048000015,21560046100010`."""
    wanted = [code for code in st.query_params.get(key, "").split(",") if code in options]
    chosen = box.multiselect(label, options, default=wanted or default, key=key,
                             format_func=format_func, max_selections=max_selections)
    st.query_params[key] = ",".join(chosen)
    return list(chosen)


def entity_label(row: pd.Series) -> str:
    """`CRACH — LOTISSEMENT LE BOCENO (annexe)`: a budget is a SIRET (IdEtab)."""
    annex = " (annexe)" if row["budget_kind"] == "annexe" else ""
    return f"{row['entity_name']} — {row['budget_label']}{annex}"


def pick_entity(docs: pd.DataFrame, *, key: str = "siret", label: str = "Collectivité",
                container: st.delta_generator.DeltaGenerator | None = None) -> str | None:
    """Type de collectivité then budget of a collectivité; returns the budget's SIRET."""
    box = container or st
    types = [t for t in ENTITY_TYPE_LABELS if t in set(docs["entity_type"])]
    kind = url_selectbox(box, "Type de collectivité", [ALL, *types], f"{key}_type",
                         lambda t: ENTITY_TYPE_LABELS.get(t, t))
    if kind != ALL:
        docs = docs[docs["entity_type"] == kind]
    entities = docs.drop_duplicates("siret").sort_values("entity_name")
    names = dict(zip(entities["siret"], entities.apply(entity_label, axis=1), strict=True))
    if not names:
        return None
    options = list(names)
    return url_selectbox(box, label, options, key, names.__getitem__)


def pick_stage(docs: pd.DataFrame, *, key: str = "etape",
               container: st.delta_generator.DeltaGenerator | None = None) -> str | None:
    box = container or st
    stages = [s for s in STAGES if s in set(docs["stage"])]
    if not stages:
        return None
    return url_selectbox(box, "Étape budgétaire", stages, key,
                         lambda s: f"{s} — {STAGE_LABELS[s]}")


DIRECTION_LABELS = {"depense": "Dépenses", "recette": "Recettes"}


def pick_direction(box: st.delta_generator.DeltaGenerator, key: str) -> str:
    """Dépenses or recettes, kept in the URL."""
    return str(box.radio("Sens", list(DIRECTION_LABELS), key=key, horizontal=True,
                         format_func=DIRECTION_LABELS.__getitem__, bind="query-params"))


def upload_widget(label: str, key: str) -> tuple[str, bytes] | None:
    """A TOTEM/SCDL upload within the size limit: (file name, content), or None.

    Streamlit's own `server.maxUploadSize` (.streamlit/config.toml) stops larger files first.
    """
    limit = settings().max_upload_mb
    upload = st.file_uploader(label, type=["xml", "csv"], key=key,
                              help=f"Document TOTEM (.xml) ou CSV SCDL (.csv), {limit} Mo au "
                                   "plus.")
    if upload is None:
        return None
    if upload.size > limit * 1_000_000:
        st.error(f"Fichier trop volumineux ({upload.size / 1e6:.1f} Mo) : {limit} Mo au plus. "
                 "Déposez le document d'un seul budget et d'une seule année.")
        return None
    return upload.name, upload.getvalue()


def show_error(exc: BudgetError) -> None:
    st.error(md_escape(exc.french()), icon="⚠️")
