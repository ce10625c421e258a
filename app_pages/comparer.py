"""Comparer: two to ten budgets side by side by chapter, in € and € per inhabitant."""

import streamlit as st

from app_pages.catalogue import (
    catalogue_versions,
    comparable_index,
    picker_index,
    richest_choice,
    uploads,
)
from app_pages.common import (
    ALL,
    kept,
    narrowed,
    pick_stage,
    pick_year,
    remembered,
    url_multiselect,
    url_selectbox,
    workshop_mode,
)
from app_pages.comparison import Picked, comparison, default, document_keys, stages_and_years
from app_pages.filters import picked_apart
from budget_core.model import ENTITY_TYPE_LABELS

st.title("Comparer des budgets")
atelier = workshop_mode()
versions = catalogue_versions()
uploaded = tuple(uploads())


def choose() -> Picked:
    """Stage, year and the budgets chosen (document key → name, in the order chosen)."""
    c1, c2, c3 = st.columns(3)
    # Nothing chosen yet: open where the most budgets can be compared.
    widest_stage, widest_year = richest_choice()
    held = stages_and_years(versions, uploaded)
    stage = pick_stage(held, key="cmp_etape", container=c1, fallback=widest_stage)
    year = pick_year(c2, held[held["stage"] == stage], "cmp_annee", fallback=widest_year)
    kind = url_selectbox(c3, "Type de collectivité", [ALL, *picker_index().types], "cmp_type",
                         lambda t: ENTITY_TYPE_LABELS.get(t, t))
    _, index = comparable_index(stage, year)
    of_kind = None if kind == ALL else kind
    pair = default(stage, year, kind, remembered().get("siret"), versions, uploaded)
    # The budgets listed: those chosen (or linked, or the default) and those the search or
    # the département finds, never the 69 457 budgets of a France-scale catalogue at once.
    listed = kept(index, of_kind, "cmp", pair)
    names = {**listed, **narrowed(index, of_kind, st, "cmp", next(iter(listed), None))}
    chosen = url_multiselect(st, "Budgets à comparer (2 à 10)", list(names), "cmp",
                             names.__getitem__, default=pair, max_selections=10)
    keys = document_keys(stage, year, versions, uploaded)
    return stage, year, {keys[ref]: names[ref] for ref in chosen}


# The pickers in a fragment: a change of type, département or search that keeps the budgets
# chosen redraws the pickers alone, not the comparison below (its chart, table and notes); a
# change of stage, year or budgets reruns the page at once, without drawing the pickers first
# for nothing (their options sent twice: 1 612 budgets of a département at France's scale).
stage, year, compared = picked_apart(choose, lambda c: (c[0], c[1], tuple(c[2].items())),
                                     "comparer_drawn", decisive=("cmp_etape", "cmp_annee", "cmp"))
comparison(compared, stage, year, atelier, versions)
