"""Plans de comptes: shipped, complete, and the same as the DGFiP's own files."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from budget_core.config import DEMO_DIR
from budget_core.errors import NomenclatureError
from budget_core.nomenclature import (
    available_plans,
    best_plan,
    load_plan,
    parse_plan_xml,
    plan_for,
    split_nomenclature,
)
from budget_core.store import Store
from tests.conftest import FIXTURES

ROOT = Path(__file__).resolve().parent.parent


def test_shipped_plans_cover_every_nomenclature_of_the_documents() -> None:
    plans = available_plans()
    for declinaison in ("M14_COM_SUP3500", "M14_COM_500_3500", "M57", "M57_A", "M52", "M71",
                        "M43_D", "M4", "M49_A", "M61"):
        assert declinaison in plans
    assert plans["M14_COM_SUP3500"] == tuple(range(2013, 2025))


def test_readme_states_how_many_plans_are_shipped() -> None:
    """The files of budget_core/data/plans (M14_COM_SUP3500_2018.json.gz...), counted on disk."""
    shipped = sorted((ROOT / "budget_core" / "data" / "plans").glob("*.json.gz"))
    years = {int(path.name.removesuffix(".json.gz")[-4:]) for path in shipped}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"DGFiP plans {min(years)}-{max(years)} are shipped" in readme
    assert f"({len(shipped)} files:" in readme
    assert sum(len(plan_years) for plan_years in available_plans().values()) == len(shipped)


def test_shipped_plan_equals_the_original_iso_8859_1_download() -> None:
    original = parse_plan_xml(FIXTURES / "plans" / "plan-de-compte-M14-M14_COM_SUP3500-2018.xml")
    shipped = load_plan("M14_COM_SUP3500", 2018)
    assert (original.norme, original.declinaison, original.year) == ("M14", "M14_COM_SUP3500",
                                                                     2018)
    assert {code: shipped.chapters[code] for code in original.chapters} == original.chapters
    assert shipped.accounts["6411"] == original.accounts["6411"]
    # 6411 groups 64111 and 64118: it takes their chapter
    assert shipped.accounts["6411"].chapter("D", order=False, order_kind=None) == "012"
    assert original.chapters["011"].label == "Charges à caractère général"


def test_a_pair_of_third_party_chapters_is_also_a_chapter_under_its_parent_account() -> None:
    """The original lists chapters 4581 and 4582 « Opérations sous mandat » (spending and
    income) under account 458, which documents may vote as one chapter: shipped as such.
    Only such accounts are added."""
    original = parse_plan_xml(FIXTURES / "plans" / "plan-de-compte-M14-M14_COM_SUP3500-2018.xml")
    shipped = load_plan("M14_COM_SUP3500", 2018)
    added = set(shipped.chapters) - set(original.chapters)
    assert added == {"454", "4561", "4562", "458"}
    for code in added:
        pair = [original.chapters[code + digit] for digit in "12"]
        assert pair[0].label == pair[1].label == shipped.chapters[code].label
        assert shipped.chapters[code].section == "I"
    assert shipped.chapters["458"].label == "Opérations sous mandat"


def test_chapter_4544_voted_by_the_morbihan_has_its_label() -> None:
    """The Morbihan's CA 2021 (SCDL) votes chapter 4544 (aménagement foncier): the M57 plan
    only lists 45441 and 45442, « Opérations d'aménagement foncier »."""
    plan = load_plan("M57", 2021)
    assert plan.chapters["4544"].label == plan.chapters["45441"].label == \
        "Opérations d'aménagement foncier"
    lines = Store(DEMO_DIR).query("SELECT chapter_code, chapter_label FROM lines "
                                  "WHERE source_file = 'morbihan_CA_2021.csv' "
                                  "AND chapter_code = '4544'")
    assert set(lines["chapter_label"]) == {"Opérations d'aménagement foncier"}


def broken_characters(text: str) -> set[str]:
    """Control characters (C0, C1), U+FFFD and the geometric shapes browsers draw for them."""
    return {char for char in text if unicodedata.category(char) == "Cc" or char == "\ufffd"
            or "\u25a0" <= char <= "\u25ff"}


@pytest.mark.parametrize(("declinaison", "year"), [
    (declinaison, year) for declinaison, years in sorted(available_plans().items())
    for year in years])
def test_every_label_of_every_shipped_plan_is_clean(declinaison: str, year: int) -> None:
    plan = load_plan(declinaison, year)
    labels = [*(c.label for c in plan.chapters.values()),
              *(a.label for a in plan.accounts.values()), *plan.fonctions.values()]
    assert [label for label in labels if broken_characters(label)] == []
    assert [code for code, chapter in plan.chapters.items() if not chapter.label.strip()] == []


def test_windows_1252_characters_of_the_dgfip_plans_are_restored() -> None:
    """The DGFiP wrote these with Windows-1252 bytes \\x96 (–) and \\x92 (’) in ISO-8859-1
    files: shown as « Énergie ▯ Électricité » and « d\\x92entretien » before."""
    plan = load_plan("M57_A", 2023)
    assert plan.accounts["60612"].label == "Énergie – Électricité"
    assert plan.accounts["60631"].label == "Fournitures d’entretien"


def test_every_line_of_the_demo_data_has_a_chapter_label() -> None:
    lines = Store(DEMO_DIR).query("SELECT source_file, chapter_code FROM lines "
                                  "WHERE trim(chapter_label) = ''")
    assert lines.empty, lines


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
