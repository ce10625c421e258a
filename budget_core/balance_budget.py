"""A budget read from the DGFiP balances as a canonical document, and its chapter view.

Rules (each pinned on real rows in tests/test_balances.py):
- real spending of an account = budget debit net of order operations (`obnetdeb − oobdeb`),
  real income = `obnetcre − oobcre`; order amounts are `oobdeb` (spending) and `oobcre`
  (income);
- the chapter comes from the DGFiP plan of the row's year and nomenclature (`plan_of`): DR/RR
  for real operations; for order operations the balance does not say whether an operation
  went between sections (040/042) or within one (041/043), so an account's order total goes
  to its between-sections chapter when the plan gives it one, else to its within-section
  chapter (an account of chapter 041 only, such as 2041511 or 1318, stays in 041). Most order
  operations are amortisation and provisions (040/042); an account that can be in both (2111:
  040 and 041) puts its patrimonial operations under 040: the chapter view of a balance budget
  then shows 040 ≠ 042 by exactly those amounts, which a CA would show in 041 on both sides;
- an account finer than the plan takes its parent's chapter (`chapter_source = plan_parent`);
  an account without a chapter for an operation (classes 4 and 5: third parties, cash) is not
  budget money and yields no line for it;
- the section is the chapter's section in the plan;
- a row whose closing balance breaks the balance identity is not used: it is counted and
  listed in the document's warnings.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any, cast

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from budget_core.analysis import CHAPTER_KEYS, select
from budget_core.linetable import AMOUNT_TYPE, LINE_SCHEMA
from budget_core.model import (
    AMOUNT_FIELDS,
    DIRECTIONS,
    SECTIONS,
    BudgetDocument,
    DocumentInfo,
    entity_type_of,
)
from budget_core.nomenclature import Plan, plan_for

SOURCE_FORMAT = "dgfip_balance"
# The balance writes the norme only (« M57 », « M14 »): the plan read for it, by first year.
# M57: the developed plan (M57_D from 2022; its accounts include every account of M57_A);
# M14: the plan of communes over 3 500 inhabitants (the smaller communes' plans are subsets).
PLANS: dict[str, tuple[tuple[int, str], ...]] = {
    "M14": ((0, "M14_COM_SUP3500"),),
    "M57": ((0, "M57"), (2022, "M57_D")),
    "M43": ((0, "M43_D"), (2022, "M43")),
    "M49": ((0, "M49_D"),),
}
# operation kind, direction, the row's amount for it
MEASURES = (("reel", "D"), ("reel", "R"), ("ordre", "D"), ("ordre", "R"))
# Type of entity by `ctype` (DGFiP code of the budget's holder), else by SIREN prefix.
CTYPES = {
    **dict.fromkeys(("101", "410"), "commune"),
    **dict.fromkeys(("201", "420"), "departement"),
    **dict.fromkeys(("301", "430"), "region"),
    **dict.fromkeys(("401", "402", "403", "404", "405", "425", "440", "705", "495"), "epci"),
    **dict.fromkeys(("421", "422", "423", "424", "450"), "syndicat"),
}
COMMUNE_CTYPES = ("101", "410")


@functools.lru_cache(maxsize=256)
def plan_of(nomen: str, year: int) -> Plan:
    """The DGFiP plan a balance row of this norme and year is mapped with."""
    choices = PLANS.get(nomen.strip().upper())
    declinaison = [d for first, d in choices if year >= first][-1] if choices else nomen
    return plan_for(declinaison, year, source=f"balance comptable {year}")


def measure_amount(row: Mapping[str, Any], kind: str, direction: str) -> Any:
    """Real spending obnetdeb − oobdeb, real income obnetcre − oobcre, order oobdeb/oobcre."""
    side = "deb" if direction == "D" else "cre"
    order = row[f"oob{side}"]
    return order if kind == "ordre" else row[f"obnet{side}"] - order


def account_chapters(plan: Plan, compte: str) -> Iterator[tuple[str, str, str, str, bool]]:
    """(operation kind, direction D/R, chapter code, section F/I, exact account) for each kind
    of operation the plan gives this account a chapter for."""
    account, exact = plan.account(compte)
    if account is None:
        return
    for kind, direction in MEASURES:
        code = account.chapter(direction, kind == "ordre", None)  # between, else within
        chapter = plan.chapters.get(code) if code else None
        if chapter is not None:
            yield kind, direction, code, chapter.section, exact


def insee_code(ndept: str, insee: str) -> str:
    """INSEE code of a commune from the balance's split code: « 038 » + « 185 » → 38185;
    overseas « 971 » + « 101 » → 97101 (the commune part carries the third digit)."""
    if not ndept or not insee:
        return ""
    return (ndept[:2] if ndept.startswith("97") else ndept[1:]) + insee


def document_info(row: Mapping[Any, Any], entity_name: str, dataset: str) -> DocumentInfo:
    """What a budget of the balances is (from any of its rows): a CA of the DGFiP's comptes
    de gestion, named after the collectivité's budget principal (`entity_name`)."""
    year = int(row["year"])
    plan = plan_of(str(row["nomen"]), year)
    ctype = str(row["ctype"] or "")
    return DocumentInfo(
        siret=str(row["ident"]), entity_name=entity_name,
        entity_type=CTYPES.get(ctype) or entity_type_of(str(row["ident"])),
        budget_kind="principal" if row["cbudg"] == "1" else "annexe",
        budget_label=str(row["lbudg"]), year=year, stage="CA",
        nomenclature=str(row["nomen"]), declinaison=plan.declinaison, plan_year=plan.year,
        insee=insee_code(str(row["ndept"]), str(row["insee"]))
        if ctype in COMMUNE_CTYPES else "",
        source_file=dataset, source_format=SOURCE_FORMAT)


def document(rows: pd.DataFrame, entity_name: str, dataset: str) -> BudgetDocument:
    """One budget's balance rows (one `ident`, one year; columns of balance_csv.ROW_SCHEMA)
    as a CA document whose lines are the accounts' real and order amounts by chapter."""
    rows = rows.sort_values("compte", kind="stable").reset_index(drop=True)
    info = document_info(rows.iloc[0].to_dict(), entity_name, dataset)
    plan = plan_of(info.nomenclature, info.year)
    digest = hashlib.sha256()
    records: list[dict[str, Any]] = []
    warnings = []
    accounts = cast(list[dict[str, Any]], rows.to_dict("records"))
    broken = [f"{r['compte']} (sd − sc = {r['sd'] - r['sc']})" for r in accounts
              if not r["balanced"]]
    if broken:
        warnings.append(f"{len(broken)} compte(s) dont la balance ne vérifie pas sd − sc = "
                        f"solde d'entrée + opérations, non comptés : {', '.join(broken)}")
    unknown = []
    for number, row in enumerate(accounts, start=1):
        digest.update(repr(sorted(row.items())).encode())
        if not row["balanced"]:
            continue
        found = False
        for kind, direction, code, section, exact in account_chapters(plan, row["compte"]):
            found = True
            amount = measure_amount(row, kind, direction)
            if amount == 0:
                continue
            account, _ = plan.account(row["compte"])
            records.append({
                "section": SECTIONS[section], "direction": DIRECTIONS[direction],
                "operation_kind": kind, "chapter_code": code,
                "chapter_label": plan.chapters[code].label,
                "chapter_source": "plan" if exact else "plan_parent",
                "nature_code": row["compte"], "nature_label": account.label if account else "",
                "nature_known": exact, "mt_real": amount, "amount": amount,
                "source_line": number})
        if not found and plan.account(row["compte"])[0] is None and (
                row["obnetdeb"] or row["obnetcre"]):
            unknown.append(row["compte"])
    if unknown:
        warnings.append(f"{len(unknown)} compte(s) absents du plan {plan.declinaison} "
                        f"{plan.year}, non comptés : {', '.join(unknown)}")
    info.source_sha256 = digest.hexdigest()
    return BudgetDocument(info, _lines(info, records), warnings=warnings)


def _lines(info: DocumentInfo, records: list[dict[str, Any]]) -> pd.DataFrame:
    """Canonical lines (exactly LINE_SCHEMA's columns) from the per-line values."""
    constant = {"siret": info.siret, "siren": info.siren, "entity_name": info.entity_name,
                "entity_type": info.entity_type, "insee": info.insee,
                "budget_kind": info.budget_kind, "budget_label": info.budget_label,
                "year": info.year, "stage": info.stage, "nomenclature": info.nomenclature,
                "declinaison": info.declinaison, "plan_year": info.plan_year,
                "carryover": False, "vote_chapter": "", "fonction_code": "",
                "fonction_label": "", "operation_code": "", "specialised": None,
                "source_file": info.source_file, "source_sha256": info.source_sha256,
                **{column: None for column in AMOUNT_FIELDS.values() if column != "mt_real"}}
    table = pa.Table.from_pylist([{**constant, **record} for record in records],
                                 schema=LINE_SCHEMA)
    return table.to_pandas(types_mapper=pd.ArrowDtype)


def chapter_view(lines: pd.DataFrame) -> pd.DataFrame:
    """Each chapter's direction, section, code, label, real amount and order amount, from
    canonical lines of any source (results carried over, 001/002, left out)."""
    chosen = select(lines, include_order=True)
    table = pa.Table.from_pandas(chosen[[*CHAPTER_KEYS, "operation_kind", "amount"]],
                                 preserve_index=False)
    amount = table["amount"].cast(AMOUNT_TYPE)
    zero = pa.scalar(Decimal(0), AMOUNT_TYPE)
    kinds = table["operation_kind"]
    table = table.append_column("real", pc.if_else(pc.equal(kinds, "reel"), amount, zero))
    table = table.append_column("order", pc.if_else(pc.equal(kinds, "ordre"), amount, zero))
    grouped = table.group_by(list(CHAPTER_KEYS)).aggregate([("real", "sum"),
                                                            ("order", "sum")])
    view = grouped.to_pandas(types_mapper=pd.ArrowDtype).rename(columns={
        "chapter_code": "code", "chapter_label": "label", "real_sum": "real",
        "order_sum": "order"})
    return view[["direction", "section", "code", "label", "real", "order"]].sort_values(
        ["direction", "section", "code"], ignore_index=True)
