"""Totals over canonical lines: by chapter, by section and direction, by nature, by fonction.

Every function takes a lines frame (one document or many) and returns a small frame of exact
decimal totals; charts and the CLI only format them.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from budget_core.model import AMOUNT_COLUMNS

TOTAL_KEYS = ("section", "direction", "operation_kind")


def select(lines: pd.DataFrame, *, include_order: bool = False,
           include_carryover: bool = False) -> pd.DataFrame:
    """The lines that answer "where does the money come from and go".

    By default only real operations (order operations are counted twice: once in each
    section) and without the results carried over from the previous year (001/002).
    """
    keep = pd.Series(True, index=lines.index)
    if not include_order:
        keep &= lines["operation_kind"] == "reel"
    if not include_carryover:
        keep &= ~lines["carryover"].astype(bool)
    return lines[keep]


def totals(lines: pd.DataFrame, by: Sequence[str], amounts: Sequence[str] = AMOUNT_COLUMNS
           ) -> pd.DataFrame:
    """Exact sums of `amounts` grouped by `by` (empty groups dropped, codes kept as text)."""
    grouped = lines.groupby(list(by), observed=True, sort=True, dropna=False)[list(amounts)]
    return grouped.sum(min_count=0).reset_index()


def chapter_totals(lines: pd.DataFrame, amounts: Sequence[str] = AMOUNT_COLUMNS) -> pd.DataFrame:
    """Totals by section × direction × operation kind × chapter, with the chapter's label."""
    return totals(lines, (*TOTAL_KEYS, "chapter_code", "chapter_label"), amounts)


def section_totals(lines: pd.DataFrame, amounts: Sequence[str] = AMOUNT_COLUMNS) -> pd.DataFrame:
    """Totals by section × direction × operation kind."""
    return totals(lines, TOTAL_KEYS, amounts)
