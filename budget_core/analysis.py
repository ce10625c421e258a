"""Totals over canonical lines: by chapter, by section and direction, by nature, by fonction.

Every function takes a lines frame (one document or many) and returns a small frame of exact
decimal totals; charts and the CLI only format them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import pandas as pd

from budget_core.model import AMOUNT_COLUMNS
from budget_core.nomenclature import load_plan

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


def chapter_labels(lines: pd.DataFrame) -> dict[str, str]:
    """One label per chapter code across documents of different nomenclatures.

    M14 and M57 share their chapter codes but not always their labels (67 « Charges
    exceptionnelles » in M14, « Charges spécifiques » in M57): the M57 label wins, then the
    most recent plan's, so a chapter is one row or one line, never two.
    """
    known = lines[lines["chapter_label"].astype(str) != ""]
    ranked = known.assign(_m57=known["nomenclature"] == "M57").sort_values(
        ["_m57", "plan_year"], kind="stable")
    last = ranked.drop_duplicates("chapter_code", keep="last")
    return dict(zip(last["chapter_code"].astype(str), last["chapter_label"].astype(str),
                    strict=True))


def _one_label(lines: pd.DataFrame) -> pd.DataFrame:
    labels = chapter_labels(lines)
    codes = lines["chapter_code"].astype(str)
    return lines.assign(chapter_label=codes.map(labels).fillna(lines["chapter_label"]))


def compare(lines: pd.DataFrame, names: Mapping[str, str],
            population: Mapping[str, int | None]) -> pd.DataFrame:
    """Several documents side by side: amount and € per inhabitant by direction and chapter.

    One row per document (`doc_key`, named by `names`), so two budgets of one collectivité
    stay two bars; chapters are matched by code with one label (see `chapter_labels`).
    """
    chosen = _one_label(select(lines))
    out = totals(chosen, ("doc_key", "direction", "chapter_code", "chapter_label"), ["amount"])
    out["budget"] = out["doc_key"].astype(str).map(names)
    return with_population(out, "doc_key", population)


def with_population(frame: pd.DataFrame, by: str, population: Mapping[Any, int | None]
                    ) -> pd.DataFrame:
    """`population` (looked up by the column `by`: a document, a year) and the amount per
    inhabitant, None where the population is unknown."""
    out = frame.copy()
    out["population"] = out[by].map(lambda value: population.get(value)).astype("Int64")
    out["per_inhabitant"] = out["amount"].astype(float) / out["population"].astype(float)
    return out


def nomenclatures(lines: pd.DataFrame) -> list[str]:
    """The nomenclatures (M14, M57...) of these lines: more than one needs a footnote."""
    return sorted(set(lines["nomenclature"].astype(str)))


def evolution(lines: pd.DataFrame) -> pd.DataFrame:
    """One budget over the years by direction and chapter, with the nomenclature of each year.

    Chapters of M14 and M57 share their codes for the main chapters (011, 012, 65, 66, 70,
    73, 74...): matched by code with one label, the series stay comparable across the switch;
    the nomenclature column tells where it happens.
    """
    chosen = _one_label(select(lines))
    return totals(chosen, ("year", "nomenclature", "direction", "chapter_code",
                           "chapter_label"), ["amount"])


def yearly_totals(evolution_frame: pd.DataFrame, population: Mapping[int, int | None]
                  ) -> pd.DataFrame:
    """Total by year and direction of an `evolution` frame, € per inhabitant (population of
    each year), and the change on the previous year of each (None for the first year, or
    where a population is unknown): `change` of the total, `change_per_inhabitant` of the €
    per inhabitant, which differ as the population does (Montreuil's spending 2018: +5,6 %
    in total, +3,6 % per inhabitant)."""
    out = totals(evolution_frame, ("direction", "year"), ["amount"])
    out = with_population(out.assign(year=out["year"].astype(int)), "year", population)
    for column, change in (("amount", "change"), ("per_inhabitant", "change_per_inhabitant")):
        values = out[column].astype(float)
        previous = values.groupby(out["direction"]).shift(1)
        out[change] = (values / previous - 1).where(previous != 0)
    return out


def nomenclature_changes(lines: pd.DataFrame) -> list[tuple[int, str, str]]:
    """(year, before, after) for each year where the nomenclature changes."""
    by_year = lines.groupby("year")["nomenclature"].first().sort_index()
    return [(int(str(year)), str(before), str(after))
            for (year, after), before in zip(by_year.items(), by_year.shift(1), strict=True)
            if isinstance(before, str) and before != after]


NOT_ALLOCATED = "01"  # opérations non ventilables (debt, transfers): no public policy


def policy_code(code: str, fonctions: Mapping[str, str]) -> str:
    """The public policy of a functional code: its fonction of the first level (0 to 9).

    M14 and M57 codes start with it (`822` → 8, `4213` → 4), except « 01 », the operations
    that no policy carries. Budgets voted by fonction in M57 (Montpellier) write references of
    the plan's functional tree instead: a group, then the fonction. The plan names the groups:
    « Opérations ventilées » (90) and « Services ventilés » (93) hold a fonction (`93020` →
    `020` → 0); « Opérations non ventilées » (92) and « Services communs non ventilés » (94)
    hold debt, taxes and provisions, which no policy carries.
    """
    group = fonctions.get(code[:2], "").lower() if len(code) >= 3 else ""
    if "non ventil" in group:
        return NOT_ALLOCATED
    if "ventil" in group:
        code = code[2:]
    return NOT_ALLOCATED if code.startswith(NOT_ALLOCATED) else code[:1]


POLICY_KEYS = ("direction", "section", "policy_code", "policy_label")


def by_policy(lines: pd.DataFrame, *, include_order: bool = False) -> pd.DataFrame:
    """The stage's main amount by public policy (fonction of the first level) and section.

    Empty when the document presents no fonction (small communes need not): say so.
    """
    chosen = select(lines, include_order=include_order)
    chosen = chosen[chosen["fonction_code"].astype(str) != ""]
    if chosen.empty:
        return pd.DataFrame(columns=[*POLICY_KEYS, "amount"])
    plans = chosen[["declinaison", "plan_year", "fonction_code"]].astype(str)
    found: dict[tuple[str, str, str], tuple[str, str]] = {}
    for declinaison, year, code in set(plans.itertuples(index=False, name=None)):
        fonctions = load_plan(declinaison, int(year)).fonctions
        main = policy_code(code, fonctions)
        found[(declinaison, year, code)] = (main, fonctions.get(main, ""))
    keys = list(plans.itertuples(index=False, name=None))
    chosen = chosen.assign(policy_code=[found[k][0] for k in keys],
                           policy_label=[found[k][1] for k in keys])
    out = totals(chosen, POLICY_KEYS, ["amount"])
    out = out[out["amount"] != 0]
    return out.sort_values(["direction", "amount"], ascending=[True, False], ignore_index=True)


def overview(lines: pd.DataFrame) -> dict[str, Decimal]:
    """What a budget is made of, for « Comprendre un budget »: real income and spending of
    each section (`recette_fonctionnement`...), order operations (`ordre_depense`, equal to
    `ordre_recette` when the document balances them) and results carried over from the
    previous years (`reporte_recette`: an excédent, `reporte_depense`: a déficit)."""
    out: dict[str, Decimal] = {}
    real = select(lines)
    carried = lines[lines["carryover"].astype(bool)]
    for direction in ("recette", "depense"):
        for section in ("fonctionnement", "investissement"):
            part = real[(real["direction"] == direction) & (real["section"] == section)]
            out[f"{direction}_{section}"] = Decimal(part["amount"].sum())
        order = lines[(lines["operation_kind"] == "ordre") & (lines["direction"] == direction)]
        out[f"ordre_{direction}"] = Decimal(order["amount"].sum())
        out[f"reporte_{direction}"] = Decimal(
            carried.loc[carried["direction"] == direction, "amount"].sum())
    return out


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
