"""Analyses over canonical lines, checked on real documents."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from budget_core import analysis
from tests.conftest import TOTEM, parsed


def test_real_operations_without_carryover_by_default() -> None:
    lines = parsed(TOTEM / "crach_lotissement_BP_2022.xml").lines
    chosen = analysis.select(lines)
    assert set(chosen["operation_kind"]) == {"reel"}
    assert not chosen["carryover"].astype(bool).any()
    assert len(analysis.select(lines, include_order=True, include_carryover=True)) == len(lines)


def test_money_flows_keep_both_totals() -> None:
    table = analysis.by_chapter(parsed(TOTEM / "Montreuil_CA_2022.xml").lines)
    links = analysis.money_flows(table)
    income = links[links["direction"] == "recette"]
    spending = links[links["direction"] == "depense"]
    assert income["value"].sum() == table.loc[table["direction"] == "recette", "amount"].sum()
    assert spending["value"].sum() == table.loc[table["direction"] == "depense",
                                                "amount"].sum()
    assert set(income["target"]) == set(spending["source"]) == {"Fonctionnement",
                                                                 "Investissement"}
    staff = spending[spending["target"] == "012 — Charges de personnel et frais assimilés"]
    assert staff["source"].tolist() == ["Fonctionnement"]


def test_execution_rate_from_the_ca_itself() -> None:
    frame = analysis.execution(parsed(TOTEM / "Montreuil_CA_2022.xml").lines)
    staff = frame[(frame["direction"] == "depense") & (frame["chapter_code"] == "012")].iloc[0]
    assert staff["execution_rate"] == float(staff["mt_real"]) / float(staff["cred_ouv"])
    assert staff["mt_real"] > Decimal(0)


def test_nomenclature_changes_are_found() -> None:
    montreuil = [parsed(TOTEM / f"Montreuil_CA_{year}.xml").lines for year in (2021, 2022)]
    montpellier = parsed(TOTEM / "Montpellier_CA_2018.xml").lines
    assert analysis.nomenclature_changes(pd.concat(montreuil)) == []
    mixed = pd.concat([montpellier, montreuil[0]])
    assert analysis.nomenclature_changes(mixed) == [(2021, "M57", "M14")]
