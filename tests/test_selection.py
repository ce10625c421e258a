"""Documents kept apart and named, choices carried across pages, populations, policies:
checked on the real documents against what their XML says."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from lxml import etree

from budget_core import analysis, population
from budget_core.config import DEMO_DIR
from budget_core.formats import read_uploaded
from budget_core.nomenclature import load_plan
from budget_core.selection import (
    UPLOAD_PREFIX,
    budget_names,
    comparable,
    decision_label,
    default_comparison,
    documents_of,
    pick_index,
    reference,
    richest,
    series_documents,
    still_valid,
    superseded,
    upload_key,
    uploads_first,
)
from budget_core.store import Store, catalogue_rows
from tests.conftest import FIXTURES, TOTEM, parsed
from tests.rawxml import NS, budget_lines, value

CRACH = "21560046100010"


def bloc(path: Path, name: str) -> str:
    """A BlocBudget field, or an InformationsGenerales value, as the XML writes it."""
    tree = etree.parse(str(path))
    found = tree.xpath(f"//d:BlocBudget/d:{name}/@V | //d:Information[@Code='{name}']/@V",
                       namespaces=NS)
    return str(found[0])


def raw_chapter(path: Path, chapter: str, amount: str = "MtPrev") -> Decimal:
    """Sum of an amount over the real lines the document votes in a chapter (ContNat)."""
    return sum((Decimal(value(line, amount) or "0") for line in budget_lines(path)
                if value(line, "ContNat") == chapter and value(line, "OpBudg") == "0"),
               Decimal(0))


def test_each_dm_is_its_own_document_named_by_its_number_and_date() -> None:
    store = Store(DEMO_DIR)
    dms = documents_of(store.documents(), CRACH, 2021, "DM")
    assert len(dms) == 2
    for row, name in zip(dms.to_dict("records"), ("DM2", "DM3"), strict=True):
        path = TOTEM / f"crach_principal_{name}_2021.xml"
        number, when = bloc(path, "NumDec"), bloc(path, "DteDec")
        assert (row["decision_number"], row["decision_date"]) == (number, when)
        year, month, day = when.split("-")
        assert decision_label(row) == f"DM n° {number} du {day}/{month}/{year}"
        lines = store.document_lines([row["doc_key"]])
        table = analysis.by_chapter(lines)
        spent = table.loc[(table["direction"] == "depense")
                          & (table["chapter_code"] == "014"), "amount"].sum()
        assert spent == raw_chapter(path, "014")
    # What each DM's XML votes in chapter 014: 1 595 € (DM2) and 562 € (DM3), never summed.
    assert [raw_chapter(TOTEM / f"crach_principal_{n}_2021.xml", "014")
            for n in ("DM2", "DM3")] == [Decimal("1595.00"), Decimal("562.00")]
    names = budget_names(dms)
    assert len(set(names.values())) == 2


def test_budgets_of_two_collectivites_named_alike_get_their_siret() -> None:
    """Homonyms (here Montreuil's CA 2021 given Crach's names, as every budget of the
    synthetic France-scale balances is « COMMUNE — COMMUNE »): a multiselect tells its
    values apart by their names, so each gets its SIRET; the others keep theirs."""
    catalogue = Store(DEMO_DIR).documents()
    ca_2021 = comparable(catalogue, "CA", 2021)
    crach = ca_2021[ca_2021["siret"] == CRACH].iloc[0]
    montreuil = ca_2021["siret"] == "21930048000015"
    alike = ca_2021.assign(entity_name=ca_2021["entity_name"].where(~montreuil,
                                                                    crach["entity_name"]),
                           budget_label=ca_2021["budget_label"].where(~montreuil,
                                                                      crach["budget_label"]))
    names = budget_names(alike)
    assert len(set(names.values())) == len(alike)
    for siret in (CRACH, "21930048000015"):
        [key] = alike.loc[alike["siret"] == siret, "doc_key"]
        assert names[key] == f"CRACH — BUDGET PRINCIPAL — SIRET {siret}"
    others = alike[~alike["siret"].isin([CRACH, "21930048000015"])]
    assert all("SIRET" not in names[key] for key in others["doc_key"])
    # The demo's own budgets are named apart already: no SIRET.
    assert not any("SIRET" in name for name in budget_names(ca_2021).values())


def test_document_population_is_read_from_informations_generales() -> None:
    for name in ("crach_principal_CA_2021.xml", "crach_principal_DM2_2021.xml",
                 "Montreuil_CA_2019.xml"):
        stated = int(bloc(TOTEM / name, "PopTot").replace(" ", ""))
        assert parsed(TOTEM / name).info.population == stated
    # Saint-Malo's budget annexe states 0: no population, the INSEE one is used instead.
    assert bloc(TOTEM / "saint_malo_agglo_transport_BP_2022.xml", "PopTot") == "0"
    assert parsed(TOTEM / "saint_malo_agglo_transport_BP_2022.xml").info.population is None
    head = population.of_document("243500782", None)
    assert head.source == "insee" and head.value == population.by_siren(["243500782"])[
        "243500782"]
    assert population.of_document("215600461", 3446) == population.Population(3446,
                                                                              "document")
    assert population.of_document("215600461", pd.NA).source == "insee"


def test_a_choice_is_kept_while_it_applies_and_reset_when_not() -> None:
    years = [2023, 2022, 2021]
    assert pick_index(years, None, "2021") == 2  # a link's `?annee=2021`
    assert pick_index(years, 2019, 2022) == 1  # 2019 no longer offered: the last choice
    assert pick_index(years, "2030") == 0
    spending = ["011", "012", "65"]
    assert still_valid(["012", "16"], spending, ["011"]) == ["012"]
    assert still_valid(["16", "23", "204"], ["70", "73", "74"], ["73", "74"]) == ["73", "74"]


def test_a_hostile_link_never_chooses_a_value_twice_nor_too_many() -> None:
    """`?cmp=` repeating one SIRET 11 times, `?liste=` with 51 entries: once each, capped."""
    sirets = [f"{n:014d}" for n in range(60)]
    assert still_valid([sirets[0]] * 11, sirets, [], limit=10) == [sirets[0]]
    assert still_valid(sirets[:51], sirets, [], limit=50) == sirets[:50]


def test_compare_keeps_two_budgets_of_one_collectivite_apart() -> None:
    store = Store(DEMO_DIR)
    catalogue = store.documents()
    keys = list(catalogue.loc[(catalogue["siren"] == "215600461") & (catalogue["stage"] == "BP")
                              & (catalogue["year"] == 2022), "doc_key"])
    names = budget_names(catalogue[catalogue["doc_key"].isin(keys)])
    frame = analysis.compare(store.document_lines(keys), names, {})
    loans = frame[(frame["direction"] == "depense") & (frame["chapter_code"] == "16")]
    files = dict(zip(catalogue["doc_key"], catalogue["source_file"], strict=True))
    expected = {names[k]: sum((Decimal(value(line, "MtPrev") or "0")
                               for line in budget_lines(TOTEM / files[k])
                               if (value(line, "Nature") or "").startswith("16")
                               and value(line, "CodRD") == "D"
                               and value(line, "OpBudg") == "0"), Decimal(0))
                for k in keys}
    assert dict(zip(loans["budget"], loans["amount"], strict=True)) == expected
    assert sorted(expected.values()) == [Decimal("138000.00"), Decimal("2500000.00")]


def test_m14_and_m57_chapters_share_one_label() -> None:
    m14 = parsed(TOTEM / "crach_principal_CA_2021.xml").lines.assign(doc_key="m14")
    m57 = parsed(TOTEM / "mohon_CFU_2023.xml").lines.assign(doc_key="m57")
    both = pd.concat([m14, m57], ignore_index=True)
    labels = analysis.chapter_labels(both)
    m57_plan = load_plan(str(m57["declinaison"].iloc[0]), int(m57["plan_year"].iloc[0]))
    assert labels["67"] == m57_plan.chapters["67"].label
    frame = analysis.compare(both, {"m14": "M14", "m57": "M57"}, {})
    assert frame.groupby("chapter_code")["chapter_label"].nunique().max() == 1
    assert analysis.nomenclatures(both) == ["M14", "M57"]


def test_spending_by_public_policy_maps_m57_functional_references() -> None:
    path = TOTEM / "Montpellier_CA_2018.xml"
    policies = analysis.by_policy(parsed(path).lines)
    general = policies[(policies["direction"] == "depense")
                       & (policies["policy_code"] == "0")]["amount"].sum()
    # Montpellier votes by fonction: « Services généraux » are the functional chapters 900
    # (investissement) and 930 (fonctionnement) of its XML, real spending, no 001/002.
    raw = sum((Decimal(value(line, "MtReal") or "0") for line in budget_lines(path)
               if (value(line, "Fonction") or "")[:3] in ("900", "930")
               and value(line, "CodRD") == "D" and value(line, "OpBudg") == "0"
               and value(line, "Nature") not in ("001", "002")), Decimal(0))
    assert general == raw and raw > 0
    assert analysis.by_policy(parsed(TOTEM / "crach_principal_CA_2021.xml").lines).empty


def test_yearly_totals_change_and_per_inhabitant() -> None:
    lines = pd.concat([parsed(TOTEM / f"Montreuil_CA_{y}.xml").lines for y in (2021, 2022)])
    frame = analysis.evolution(lines)
    people = {2021: 111261, 2022: 111810}
    totals = analysis.yearly_totals(frame[frame["direction"] == "depense"], people)
    first, second = totals.to_dict("records")
    assert pd.isna(first["change"])
    assert second["change"] == float(second["amount"]) / float(first["amount"]) - 1
    assert second["per_inhabitant"] == float(second["amount"]) / 111810
    # Per inhabitant, the change is the per-inhabitant values' (the population changed too).
    assert pd.isna(first["change_per_inhabitant"])
    assert second["change_per_inhabitant"] == pytest.approx(
        (float(second["amount"]) / 111810) / (float(first["amount"]) / 111261) - 1)
    assert second["change_per_inhabitant"] != pytest.approx(second["change"])


def test_comparer_opens_on_two_collectivites_of_the_same_type() -> None:
    catalogue = Store(DEMO_DIR).documents()
    stage, year = richest(catalogue)
    same = catalogue[(catalogue["stage"] == stage) & (catalogue["year"] == year)]
    # The stage and year where the demo holds the most budgets: CA 2021 (Crach's two budgets,
    # Montreuil, the Morbihan), as the catalogue counts them.
    counts = catalogue.groupby(["stage", "year"])["siret"].nunique()
    assert counts[(stage, year)] == counts.max()
    first, second = (same.set_index("siret").loc[ref] for ref in default_comparison(same))
    assert (first["budget_kind"], second["budget_kind"]) == ("principal", "principal")
    assert first["siren"] != second["siren"]
    assert first["entity_type"] == second["entity_type"]
    # The budget last chosen comes first, even a budget annexe.
    assert default_comparison(same, "21560046100085")[0] == "21560046100085"


def test_overview_of_a_budget_from_its_xml() -> None:
    path = TOTEM / "crach_principal_CA_2021.xml"
    parts = analysis.overview(parsed(path).lines)
    sums: dict[tuple[str, str], Decimal] = {}
    for line in budget_lines(path):
        nature = value(line, "Nature") or ""
        kind = "reporte" if nature in ("001", "002") else (
            "ordre" if value(line, "OpBudg") == "1" else "reel")
        key = (kind, value(line, "CodRD") or "")
        sums[key] = sums.get(key, Decimal(0)) + Decimal(value(line, "MtReal") or "0")
    assert parts["ordre_depense"] == sums[("ordre", "D")] == sums[("ordre", "R")]
    assert parts["reporte_recette"] == sums.get(("reporte", "R"), Decimal(0))
    assert parts["reporte_depense"] == sums.get(("reporte", "D"), Decimal(0))
    real_income = parts["recette_fonctionnement"] + parts["recette_investissement"]
    assert real_income == sums[("reel", "R")]


def test_evolution_across_the_m14_m57_switch_keeps_one_label_per_chapter() -> None:
    m14 = parsed(TOTEM / "Montreuil_CA_2021.xml").lines
    m57 = parsed(TOTEM / "mohon_CFU_2023.xml").lines
    both = pd.concat([m14, m57], ignore_index=True)
    frame = analysis.evolution(both)
    assert frame.groupby("chapter_code")["chapter_label"].nunique().max() == 1
    plan = load_plan(str(m57["declinaison"].iloc[0]), int(m57["plan_year"].iloc[0]))
    spent = frame[frame["direction"] == "depense"]
    staff = spent[spent["chapter_code"] == "012"]
    assert set(staff["year"].astype(int)) == {2021, 2023}  # one series across the switch
    assert set(staff["chapter_label"]) == {plan.chapters["012"].label}
    assert analysis.nomenclature_changes(both) == [(2023, "M14", "M57")]


def test_an_upload_is_named_by_its_key_beside_the_stored_document() -> None:
    stored = {"doc_key": "21560134500014_2023_CFU", "stage": "CFU", "siret": "21560134500014"}
    uploaded = {**stored, "doc_key": f"{UPLOAD_PREFIX}0123456789abcdef_21560134500014"}
    assert reference(stored) == "21560134500014"
    assert reference(uploaded) == uploaded["doc_key"]


COMBINED = FIXTURES / "scdl_combined" / "crach_lotissement_BP_2022_CA_2021.csv"


def test_each_document_of_an_uploaded_file_has_its_own_key() -> None:
    """An SCDL file holding a budget's BP 2022 and CA 2021 (one SIRET): two documents, two
    keys, each naming the file's content (its SHA-256, as written in the file's bytes) and
    the document; the same file uploaded again gives the same keys."""
    data = COMBINED.read_bytes()
    documents = read_uploaded(data, COMBINED.name)
    years = {row["BGT_ANNEE"] for row in csv.DictReader(io.StringIO(data.decode("utf-8")))}
    assert sorted((d.info.stage, d.info.year) for d in documents) == [("BP", 2022), ("CA", 2021)]
    assert years == {"2021", "2022"}
    keys = [upload_key(d.info) for d in documents]
    sha = hashlib.sha256(data).hexdigest()[:16]
    assert sorted(keys) == [f"{UPLOAD_PREFIX}{sha}_21560046100085_2021_CA",
                            f"{UPLOAD_PREFIX}{sha}_21560046100085_2022_BP"]
    assert [upload_key(d.info) for d in read_uploaded(data, COMBINED.name)] == keys


def test_comparable_documents_carry_the_reference_a_link_names_them_by() -> None:
    """Comparer's list of a stage and year, made in one step (70 000 rows at the scale of
    France): each row's `ref` is what `reference` gives that row (a DM by its key)."""
    catalogue = Store(DEMO_DIR).documents()
    for stage, year in {(str(s), int(y)) for s, y in zip(catalogue["stage"], catalogue["year"],
                                                          strict=True)}:
        same = comparable(catalogue, stage, year)
        assert len(same) == ((catalogue["stage"] == stage) & (catalogue["year"] == year)).sum()
        assert list(same["ref"]) == [reference(row) for row in same.to_dict("records")]
    dms = comparable(catalogue, "DM", 2021)
    assert len(dms) >= 2 and list(dms["ref"]) == list(dms["doc_key"])


def test_evolution_follows_budgets_with_two_years_of_a_stage_and_no_dm() -> None:
    catalogue = Store(DEMO_DIR).documents()
    years: dict[tuple[str, str], set[int]] = {}
    for row in catalogue.to_dict("records"):
        if row["stage"] != "DM":
            years.setdefault((str(row["siret"]), str(row["stage"])), set()).add(int(row["year"]))
    followed = series_documents(catalogue)
    assert "DM" not in set(followed["stage"])
    assert set(followed["siret"]) == {siret for (siret, _), held in years.items()
                                      if len(held) >= 2}
    assert not followed.duplicated(["siret", "stage", "year"]).any()


def test_an_upload_replaces_the_sessions_earlier_upload_of_its_budget_year_and_stage() -> None:
    """A corrected CA (another file: another SHA-256) replaces the CA uploaded before, as the
    store replaces a stored one; Crach's DM2 and DM3 of 2021 (two real files) stay two
    documents, and so do the BP and the CA of one SCDL file."""
    ca = parsed(TOTEM / "crach_principal_CA_2021.xml").info
    fixed = dataclasses.replace(ca, source_sha256="f" * 64)
    assert superseded({upload_key(ca): ca}, fixed) == [upload_key(ca)]
    assert superseded({upload_key(ca): ca}, ca) == []  # the same file again: the same key
    dm2, dm3 = (parsed(TOTEM / f"crach_principal_{dm}_2021.xml").info for dm in ("DM2", "DM3"))
    assert (dm2.siret, dm2.year, dm2.stage) == (dm3.siret, dm3.year, dm3.stage)
    assert superseded({upload_key(dm2): dm2}, dm3) == []
    bp, ca_scdl = (d.info for d in read_uploaded(COMBINED.read_bytes(), COMBINED.name))
    assert superseded({upload_key(bp): bp}, ca_scdl) == []


def test_evolution_follows_the_upload_of_a_year_rather_than_the_stored_document() -> None:
    """Montreuil's CA 2021 uploaded in a session: Évolution's series takes it for 2021 and
    the stored CAs for the other years."""
    stored = Store(DEMO_DIR).documents()
    document = parsed(TOTEM / "Montreuil_CA_2021.xml")
    key = upload_key(document.info)
    catalogue = pd.concat([stored, catalogue_rows([(document, key)])], ignore_index=True)
    assert uploads_first(catalogue)["doc_key"].iloc[0] == key
    montreuil = series_documents(catalogue)
    montreuil = montreuil[montreuil["siret"] == "21930048000015"].sort_values("year")
    assert list(montreuil["year"]) == list(range(2016, 2024))
    assert list(montreuil["doc_key"]) == [key if year == 2021 else f"21930048000015_{year}_CA"
                                          for year in range(2016, 2024)]
