"""Finding any collectivité of France, on the real search index.

Expected results are read from the official geography itself (`fixtures/geo/
decoupage_extract.json`: every homonym of the names tested, copied unchanged from
@etalab/decoupage-administratif 6.0.0), from the real budget documents of `fixtures/` and from
the demo catalogue, never from the search's own output.
"""

from __future__ import annotations

import csv
import gc
import gzip
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from budget_core.cli import main
from budget_core.config import DEMO_DIR
from budget_core.search import budgets_of, fold, national_index, search_collectivites
from budget_core.store import Store
from tests.conftest import FIXTURES, TOTEM

ROOT = Path(__file__).resolve().parent.parent
GEO = json.loads((FIXTURES / "geo" / "decoupage_extract.json").read_text(encoding="utf-8"))
CURRENT = [c for c in GEO["communes"] if c["type"] == "commune-actuelle"]
SHARED_GEO = ROOT.parent / "shared" / "data" / "geo" / "decoupage-administratif-6.0.0"


def named(name: str) -> list[dict]:
    """Current communes of that exact name, biggest first."""
    return sorted((c for c in CURRENT if c["nom"] == name), key=lambda c: -c["population"])


@pytest.fixture(scope="module")
def catalogue() -> pd.DataFrame:
    return Store(DEMO_DIR).documents()


def test_a_name_finds_its_biggest_homonym_first() -> None:
    montreuils = named("Montreuil")
    assert len(montreuils) == 3 and montreuils[0]["departement"] == "93"
    found = search_collectivites("montreuil")
    assert [r.code for r in found[:3]] == [c["code"] for c in montreuils]
    assert found[0].label() == "Montreuil (93)"
    assert found[0].siren == montreuils[0]["siren"]
    assert found[0].population == montreuils[0]["population"]


def test_a_longer_usual_name_still_finds_the_commune() -> None:
    """« Montreuil-sous-Bois » is no official name (nor an old one) in the geography: the
    commune is Montreuil; the name the query starts with comes first."""
    assert not [c for c in GEO["communes"] if fold(c["nom"]) == "montreuil sous bois"]
    for query in ("Montreuil-sous-Bois", "montreuil sous bois"):
        assert search_collectivites(query)[0].code == named("Montreuil")[0]["code"]


@pytest.mark.parametrize(("typo", "name"), [("Montpelier", "Montpellier"),
                                            ("Grenble", "Grenoble"),
                                            ("MONTPELLIER", "Montpellier"),
                                            ("grenoble", "Grenoble")])
def test_typos_case_and_accents_are_forgiven(typo: str, name: str) -> None:
    [commune] = named(name)
    assert search_collectivites(typo)[0].code == commune["code"]


def test_homonyms_are_told_apart_by_their_departement() -> None:
    """« st denis » lists every commune named Saint-Denis, biggest first, each with its
    département; a département at the end of the query keeps that one."""
    homonyms = named("Saint-Denis")
    assert {c["departement"] for c in homonyms} >= {"93", "974"}
    found = search_collectivites("st denis", limit=len(homonyms))
    assert [r.label() for r in found] == [f"Saint-Denis ({c['departement']})" for c in homonyms]
    for query, departement in (("Saint-Denis (974)", "974"), ("saint-denis 93", "93")):
        first = search_collectivites(query)[0]
        assert (first.name, first.departement) == ("Saint-Denis", departement)


def test_a_postcode_finds_every_commune_it_serves() -> None:
    """56470 serves La Trinité-sur-Mer and Saint-Philibert (Crach's postcode is 56950)."""
    served = {c["code"] for c in CURRENT if "56470" in c["codesPostaux"]}
    [crach] = named("Crach")
    assert len(served) == 2 and crach["code"] not in served
    found = search_collectivites("56470")
    assert {r.code for r in found} == served
    assert {r.found_by for r in found} == {"code postal 56470"}


def test_codes_siren_and_siret_find_the_commune(catalogue: pd.DataFrame) -> None:
    """Crach by its INSEE code, its SIREN and the SIRET its own CA 2021 names (IdColl); the
    demo holds its seven real documents (tests/fixtures/totem/crach_*.xml)."""
    [crach] = named("Crach")
    document = etree.parse(str(TOTEM / "crach_principal_CA_2021.xml"))
    siret = document.xpath("string(//*[local-name()='IdColl']/@V)")
    assert siret[:9] == crach["siren"]
    for query in (crach["code"], crach["siren"], siret, f"{siret[:3]} {siret[3:6]} {siret[6:9]}"):
        [found] = search_collectivites(query, catalogue=catalogue)
        assert (found.name, found.siren) == ("Crach", crach["siren"])
        assert found.documents == len(list(TOTEM.glob("crach_*.xml")))


def test_corsican_and_overseas_insee_codes() -> None:
    [ajaccio] = named("Ajaccio")
    assert search_collectivites("2A004")[0].siren == ajaccio["siren"]
    reunion = next(c for c in named("Saint-Denis") if c["departement"] == "974")
    assert search_collectivites("97411")[0].code == reunion["code"] == "97411"


def test_old_names_and_arrondissements_lead_to_todays_commune() -> None:
    marseille = named("Marseille")[0]
    first = next(c for c in GEO["communes"] if c["code"] == "13201")
    assert first["commune"] == marseille["code"]
    for query in ("13201", first["nom"], "marseille 1er"):
        found = search_collectivites(query)[0]
        assert found.code == marseille["code"]
        assert found.found_by == f"arrondissement municipal {first['nom']}"
    delegated = next(c for c in GEO["communes"] if c["nom"] == "Bâgé-la-Ville")
    parent = next(c for c in CURRENT if c["code"] == delegated["chefLieu"])
    assert search_collectivites("Bage la ville")[0].siren == parent["siren"]


def test_an_epci_a_departement_and_a_region_by_name(catalogue: pd.DataFrame) -> None:
    [agglo] = GEO["epci"]
    found = search_collectivites("Saint-Malo Agglomération", catalogue=catalogue)[0]
    assert (found.kind, found.siren, found.name) == ("epci", agglo["code"], agglo["nom"])
    assert {m["code"][:2] for m in agglo["membres"]} == {found.departement} == {"35"}
    assert found.documents == len(list(TOTEM.glob("saint_malo_agglo_*.xml")))

    with (FIXTURES / "scdl_expected" / "morbihan_CA_2021.csv").open(encoding="utf-8") as f:
        morbihan_siret = next(csv.DictReader(f))["BGT_SIRET"]
    found = search_collectivites("Morbihan", catalogue=catalogue)[0]
    [departement] = [d for d in GEO["departements"] if d["code"] == "56"]
    assert (found.kind, found.name, found.code) == ("departement", departement["nom"], "56")
    assert found.siren == morbihan_siret[:9]
    assert found.documents == len(list((FIXTURES / "scdl_expected").glob("morbihan_*.csv")))

    [bretagne] = GEO["regions"]
    found = search_collectivites("bretagne")[0]
    assert (found.kind, found.name, found.code) == ("region", bretagne["nom"], "53")
    assert found.label() == "Bretagne (région)"
    assert found.population > max(c["population"] for c in named("Bretagne"))


def test_collectivites_of_the_catalogue_outside_the_geography(catalogue: pd.DataFrame) -> None:
    """A syndicat mixte is in no COG file: found in the catalogue, with its document."""
    [found] = [r for r in search_collectivites("gironde numerique", catalogue=catalogue)
               if r.kind == "syndicat"]
    assert found.name == "Syndicat Mixte Gironde Numérique"
    assert found.documents == len(list(TOTEM.glob("gironde_numerique_*.xml")))
    budgets = budgets_of(catalogue, found.siren)
    assert list(budgets["siret"]) == ["20001004900076"]


def test_budgets_of_lists_each_budget_once_principal_first(catalogue: pd.DataFrame) -> None:
    """Crach's two budgets, each at its newest year (the year ends the fixture's name)."""
    [crach] = named("Crach")
    budgets = budgets_of(catalogue, crach["siren"])
    assert list(budgets["budget_kind"]) == ["principal", "annexe"]
    newest = [max(int(f.stem[-4:]) for f in TOTEM.glob(f"crach_{budget}_*.xml"))
              for budget in ("principal", "lotissement")]
    assert list(budgets["year"]) == newest


@pytest.mark.parametrize("query", ["", "   ", "%%%", "zzzzqqq", "x" * 10_000, "\x00", "1234",
                                   "99999", "123456789", "00000000000000", "(974)", "--"])
def test_garbage_gives_an_empty_list(query: str) -> None:
    assert search_collectivites(query) == []


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300), st.integers(min_value=1, max_value=30))
def test_any_text_gives_a_short_list_never_an_error(query: str, limit: int) -> None:
    found = search_collectivites(query, limit)
    assert len(found) <= limit
    assert len({r.siren for r in found}) == len(found)  # each collectivité once


def test_full_width_letters_are_plain_letters() -> None:
    assert search_collectivites("Ｍｏｎｔｒｅｕｉｌ")[0].code == named("Montreuil")[0]["code"]


def test_limit_is_respected() -> None:
    assert len(search_collectivites("saint", limit=5)) == 5


def test_the_index_holds_every_commune_epci_departement_and_region() -> None:
    """34 875 communes actuelles with a SIREN (the count shared/data/MANIFEST.md gives),
    1 255 EPCI à fiscalité propre, 101 départements and 18 régions, as 95 + 17 collectivités
    (one for 67 and 68, one for Corsica's three, one each for Martinique, Guyane, Mayotte and
    Paris, which hold both levels)."""
    path = ROOT / "budget_core" / "data" / "collectivites.csv.gz"
    with gzip.open(path, "rt", encoding="utf-8") as file:
        kinds = pd.read_csv(file, dtype=str)["kind"].value_counts()
    assert kinds["commune"] == 34_875 and kinds["epci"] == 1_255
    assert kinds["departement"] + kinds["region"] == 112


@pytest.mark.skipif(not SHARED_GEO.exists(), reason="shared/data absent")
def test_the_shipped_index_is_what_the_tool_builds(tmp_path: Path) -> None:
    out = tmp_path / "collectivites.csv.gz"
    subprocess.run([sys.executable, str(ROOT / "tools" / "build_search_index.py"),
                    str(SHARED_GEO), str(out)], check=True, capture_output=True)
    shipped = ROOT / "budget_core" / "data" / "collectivites.csv.gz"
    assert gzip.decompress(out.read_bytes()) == gzip.decompress(shipped.read_bytes())


def test_the_search_command(capsys: pytest.CaptureFixture[str],
                            monkeypatch: pytest.MonkeyPatch) -> None:
    """`python -m budget_core search`: one line per collectivité, JSON on request, exit 1
    when nothing matches."""
    monkeypatch.setenv("BUDGET_DATA_DIR", str(DEMO_DIR))
    [crach] = named("Crach")
    assert main(["search", "56046"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Crach (56)  [Commune]  INSEE 56046  SIREN {crach['siren']}  "
                          f"{crach['population']:,} hab.  7 document(s)".replace(",", "\u202f"))
    assert main(["search", "56470", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert {r["code"] for r in found} == {c["code"] for c in CURRENT
                                         if "56470" in c["codesPostaux"]}
    assert {r["documents"] for r in found} == {0}
    assert main(["search", "zzzzqqq"]) == 1
    assert "Aucune collectivité ne correspond à « zzzzqqq »" in capsys.readouterr().err


def test_the_national_index_leaves_the_garbage_collector_nothing_to_walk() -> None:
    """The index lives as long as the server, and Streamlit runs a full collection after
    every rerun: each list, set or named tuple the index held was walked every time (146,000
    of them, 0.07 to 0.2 s a rerun). Tuples of text and numbers are left alone once a
    collection has seen them (one collection a level of nesting)."""
    index = national_index()
    gc.collect()
    gc.collect()
    walked = [name for name, value in vars(index).items() if gc.is_tracked(value)]
    assert walked == []
    assert len(index.entities) > 35_000  # every commune of France, still searchable
    assert search_collectivites("montreuil")[0].label() == "Montreuil (93)"
