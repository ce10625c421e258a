"""What a collectivité picker lists (`budget_core.pickers`), on the 20 real balance rows and on
a catalogue of every commune of France: the départements come from the raw CSV's `ndept`
and from the shipped COG table read with the csv module, not from the code under test."""

from __future__ import annotations

import csv
import gzip
from collections import Counter
from importlib import resources
from pathlib import Path

import pandas as pd

from budget_core import balance_catalogue
from budget_core.balances import BalanceStore
from budget_core.pickers import LIST_AT_MOST, PickerIndex, departement_of_insee
from budget_core.selection import budget_labels
from tests.test_balances import GRENOBLE, SAMPLE, raw_rows

ANNEXES = 2  # budgets annexes given to every commune of the France-wide catalogue


def balance_index(tmp_path: Path) -> PickerIndex:
    with BalanceStore(tmp_path / "balances") as store:
        store.import_csv(SAMPLE, "communes")
        rows = balance_catalogue.catalogue(store)
    return PickerIndex.of(rows, "siret", budget_labels)


def test_each_budget_of_the_real_rows_is_listed_under_its_departement(tmp_path: Path) -> None:
    index = balance_index(tmp_path)
    expected = {row["ident"]: row["ndept"][1:] for row in raw_rows()}  # « 038 » → « 38 »
    assert {siret: index.departement_of(siret) for siret in expected} == expected
    assert index.departements("commune") == sorted(set(expected.values()))
    assert index.choices("commune", departement="38") == {GRENOBLE: "GRENOBLE — GRENOBLE"}
    assert index.choices("commune", sirens=[GRENOBLE[:9]]) == {GRENOBLE: "GRENOBLE — GRENOBLE"}
    assert index.departement_of("00000000000000") is None


def test_insee_codes_name_their_departement() -> None:
    assert [departement_of_insee(code) for code in ("38185", "97411", "2A004", "")] == [
        "38", "974", "2A", ""]


def cog_communes() -> list[dict[str, str]]:
    path = resources.files("budget_core.data").joinpath("collectivites.csv.gz")
    with gzip.open(str(path), "rt", encoding="utf-8", newline="") as file:
        return [row for row in csv.DictReader(file) if row["kind"] == "commune"]


def france_catalogue(communes: list[dict[str, str]]) -> pd.DataFrame:
    """Every commune of the COG with a budget principal and two annexes, as catalogue rows
    of the DGFiP balances (an annex has no INSEE code there: its département comes from its
    SIREN)."""
    rows = [{"siret": f"{c['siren']}{number:05d}", "siren": c["siren"],
             "entity_name": c["name"].upper(), "entity_type": "commune",
             "insee": c["code"] if number == 0 else "",
             "budget_label": c["name"].upper() if number == 0 else f"ANNEXE {number}",
             "budget_kind": "principal" if number == 0 else "annexe"}
            for c in communes for number in range(ANNEXES + 1)]
    return pd.DataFrame(rows)


def test_at_the_scale_of_france_a_departement_lists_under_3_percent_of_the_budgets() -> None:
    communes = cog_communes()
    index = PickerIndex.of(france_catalogue(communes), "siret", budget_labels)
    per_departement = Counter(c["departement"] for c in communes)
    budgets = (ANNEXES + 1) * len(communes)
    assert len(index.options) == budgets > 60 * LIST_AT_MOST
    assert index.departements("commune") == sorted(per_departement)
    sizes = {code: len(index.choices("commune", departement=code))
             for code in index.departements("commune")}
    assert sizes == {code: (ANNEXES + 1) * n for code, n in per_departement.items()}
    biggest, communes_there = per_departement.most_common(1)[0]
    assert biggest == "62"  # Pas-de-Calais: the longest list a picker shows at this scale
    assert max(sizes.values()) == (ANNEXES + 1) * communes_there < 0.03 * budgets


def test_a_search_lists_the_budgets_of_the_sirens_it_found() -> None:
    communes = cog_communes()[:50]
    index = PickerIndex.of(france_catalogue(communes), "siret", budget_labels)
    first = communes[0]
    found = index.choices("commune", sirens=[first["siren"]])
    assert list(found) == [f"{first['siren']}{n:05d}" for n in range(ANNEXES + 1)]
    assert found[f"{first['siren']}00001"] == f"{first['name'].upper()} — ANNEXE 1 (annexe)"
    assert index.choices("epci") == {}
