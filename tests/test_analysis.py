"""Analyses over canonical lines, checked on real documents."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest
from lxml import etree

from budget_core import analysis
from tests.conftest import TOTEM, parsed
from tests.rawxml import NS, value


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
    """Staff spending (chapter 012) of Montreuil's CA 2022, summed from the raw XML: 113 M€
    of credits opened (CredOuv), 112 853 940,59 € spent (MtReal), a 99,87 % execution."""
    path = TOTEM / "Montreuil_CA_2022.xml"
    staff_lines = etree.parse(str(path)).xpath(
        "//d:LigneBudget[d:ContNat/@V='012'][d:CodRD/@V='D'][d:OpBudg/@V='0']", namespaces=NS)
    opened = sum(Decimal(value(line, "CredOuv") or "0") for line in staff_lines)
    spent = sum(Decimal(value(line, "MtReal") or "0") for line in staff_lines)
    assert (opened, spent) == (Decimal("113000000.00"), Decimal("112853940.59"))
    frame = analysis.execution(parsed(path).lines)
    staff = frame[(frame["direction"] == "depense") & (frame["chapter_code"] == "012")].iloc[0]
    assert (staff["cred_ouv"], staff["mt_real"]) == (opened, spent)
    assert staff["execution_rate"] == pytest.approx(float(spent / opened))  # 0.99870...


def test_nomenclature_changes_are_found() -> None:
    montreuil = [parsed(TOTEM / f"Montreuil_CA_{year}.xml").lines for year in (2021, 2022)]
    montpellier = parsed(TOTEM / "Montpellier_CA_2018.xml").lines
    assert analysis.nomenclature_changes(pd.concat(montreuil)) == []
    mixed = pd.concat([montpellier, montreuil[0]])
    assert analysis.nomenclature_changes(mixed) == [(2021, "M57", "M14")]
