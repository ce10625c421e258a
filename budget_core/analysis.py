"""Totals over canonical lines: by chapter, by section and direction, by nature, by fonction.

Every function takes a lines frame (one document or many) and returns a small frame of exact
decimal totals; charts and the CLI only format them.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from budget_core.model import AMOUNT_COLUMNS

TOTAL_KEYS = ("section", "direction", "operation_kind")
CHAPTER_KEYS = ("direction", "section", "chapter_code", "chapter_label")


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


def by_chapter(lines: pd.DataFrame, *, include_order: bool = False) -> pd.DataFrame:
    """What the explorer shows: the stage's main amount by direction, section and chapter."""
    chosen = select(lines, include_order=include_order)
    out = totals(chosen, CHAPTER_KEYS, ["amount"])
    return out.sort_values(["direction", "amount"], ascending=[True, False], ignore_index=True)


def drill_down(lines: pd.DataFrame, chapter_code: str, direction: str, *, by: str = "nature",
               include_order: bool = False) -> pd.DataFrame:
    """One chapter split by nature or by fonction."""
    chosen = select(lines, include_order=include_order)
    chosen = chosen[(chosen["chapter_code"] == chapter_code) & (chosen["direction"] == direction)]
    keys = ("nature_code", "nature_label") if by == "nature" else ("fonction_code",
                                                                     "fonction_label")
    out = totals(chosen, keys, ["amount"])
    return out.sort_values("amount", ascending=False, ignore_index=True)


def compare(lines: pd.DataFrame, population: dict[str, int | None]) -> pd.DataFrame:
    """Several entities side by side: amount and € per inhabitant by direction and chapter."""
    chosen = select(lines)
    out = totals(chosen, ("siren", "entity_name", "direction", "chapter_code", "chapter_label"),
                 ["amount"])
    out["population"] = out["siren"].map(population).astype("Int64")
    out["per_inhabitant"] = out["amount"].astype(float) / out["population"].astype(float)
    return out


def evolution(lines: pd.DataFrame) -> pd.DataFrame:
    """One entity over the years by direction and chapter, with the nomenclature of each year.

    Chapters of M14 and M57 share their codes for the main chapters (011, 012, 65, 66, 70,
    73, 74...), so the series stay comparable; the nomenclature column tells where it changes.
    """
    chosen = select(lines)
    return totals(chosen, ("year", "nomenclature", "direction", "chapter_code",
                           "chapter_label"), ["amount"])


def nomenclature_changes(lines: pd.DataFrame) -> list[tuple[int, str, str]]:
    """(year, before, after) for each year where the nomenclature changes."""
    by_year = lines.groupby("year")["nomenclature"].first().sort_index()
    return [(int(str(year)), str(before), str(after))
            for (year, after), before in zip(by_year.items(), by_year.shift(1), strict=True)
            if isinstance(before, str) and before != after]


def execution(lines: pd.DataFrame) -> pd.DataFrame:
    """Execution of a CA/CFU by chapter: crédits ouverts (BP + BS + DM) against réalisé."""
    chosen = select(lines)
    out = totals(chosen, CHAPTER_KEYS, ["cred_ouv", "mt_real", "mt_rar_3112"])
    voted = out["cred_ouv"].astype(float)
    out["execution_rate"] = (out["mt_real"].astype(float) / voted).where(voted != 0)
    return out.sort_values(["direction", "cred_ouv"], ascending=[True, False],
                           ignore_index=True)


SECTION_NODES = {"fonctionnement": "Fonctionnement", "investissement": "Investissement"}


def money_flows(table: pd.DataFrame) -> pd.DataFrame:
    """Links of a Sankey: income chapter → section → spending chapter (from `by_chapter`).

    Each income chapter flows into its section, each section into its spending chapters;
    the values are the chapter totals, so the links out of the income side add up to the
    income total and those into the spending side to the spending total.
    """
    label = table["chapter_code"] + " — " + table["chapter_label"]
    section = table["section"].map(SECTION_NODES)
    income = table["direction"] == "recette"
    links = pd.DataFrame({
        "source": label.where(income, section),
        "target": section.where(income, label),
        "value": table["amount"],
        "direction": table["direction"],
    })
    return links[links["value"] > 0].reset_index(drop=True)
