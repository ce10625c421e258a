"""Plans de comptes: shipped, complete, and the same as the DGFiP's own files."""

from __future__ import annotations

import pytest

from budget_core.errors import NomenclatureError
from budget_core.nomenclature import (
    available_plans,
    best_plan,
    load_plan,
    parse_plan_xml,
    plan_for,
    split_nomenclature,
)
from tests.conftest import FIXTURES


def test_shipped_plans_cover_every_nomenclature_of_the_documents() -> None:
    plans = available_plans()
    for declinaison in ("M14_COM_SUP3500", "M14_COM_500_3500", "M57", "M57_A", "M52", "M71",
                        "M43_D", "M4", "M49_A", "M61"):
        assert declinaison in plans
    assert plans["M14_COM_SUP3500"] == tuple(range(2013, 2025))


def test_shipped_plan_equals_the_original_iso_8859_1_download() -> None:
    original = parse_plan_xml(FIXTURES / "plans" / "plan-de-compte-M14-M14_COM_SUP3500-2018.xml")
    shipped = load_plan("M14_COM_SUP3500", 2018)
    assert (original.norme, original.declinaison, original.year) == ("M14", "M14_COM_SUP3500",
                                                                     2018)
    assert shipped.chapters == original.chapters
    assert shipped.accounts["6411"] == original.accounts["6411"]
    # 6411 groups 64111 and 64118: it takes their chapter
    assert shipped.accounts["6411"].chapter("D", order=False, order_kind=None) == "012"
    assert original.chapters["011"].label == "Charges à caractère général"


def test_account_chapter_by_kind_of_operation() -> None:
    plan = load_plan("M14_COM_500_3500", 2022)
    stock = plan.accounts["3555"]
    assert stock.chapter("R", order=True, order_kind="2") == "040"
    assert stock.chapter("D", order=True, order_kind="2") == "040"
    fees = plan.accounts["6045"]
    assert fees.chapter("D", order=False, order_kind=None) == "011"
    assert fees.chapter("D", order=True, order_kind="1") == "043"


def test_finer_nature_than_the_plan_maps_through_its_parent() -> None:
    plan = load_plan("M14_COM_SUP3500", 2020)
    account, exact = plan.account("641199")
    assert account is not None and account.code == "6411" and not exact
    assert account.chapter("D", order=False, order_kind=None) == "012"


def test_nearest_year_when_the_exact_one_is_missing() -> None:
    assert plan_for("M57-M57", 2014).year == 2015
    assert plan_for("M57-M57_A", 2030).year == 2024


def test_split_nomenclature() -> None:
    assert split_nomenclature("M14-M14_COM_500_3500") == ("M14", "M14_COM_500_3500")
    assert split_nomenclature("M4-M43_D") == ("M4", "M43_D")
    assert split_nomenclature("M57_A") == ("M57", "M57_A")


def test_unknown_nomenclature() -> None:
    with pytest.raises(NomenclatureError, match="déclinaison « M99 »"):
        plan_for("M99-M99", 2020)


def test_best_plan_recognises_m57_natures() -> None:
    assert best_plan({"6573642", "65568", "64111"}, 2021).norme == "M57"
