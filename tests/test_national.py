"""OFGL national accounts: exports by year, resume, peers, and the financial indicators."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from lxml import etree

from budget_core.config import DEMO_DIR, settings
from budget_core.errors import BudgetError
from budget_core.http import Http, make_session
from budget_core.indicators import from_lines, from_ofgl
from budget_core.national import NationalStore, own_accounts
from budget_core.ofgl import UNREAD, normalise_export
from budget_core.store import Store
from tests.conftest import FIXTURES, TOTEM, parsed
from tests.portal_server import PortalServer, api_names, running

NATIONAL = FIXTURES / "national"
GUADELOUPE = NATIONAL / "ofgl-base-communes_guadeloupe_2024.csv"
GFP = NATIONAL / "ofgl-base-gfp-consolidee_haute-garonne_2016.csv"
DEPARTEMENTS = NATIONAL / "ofgl-base-departements-consolidee_haute-garonne_2022-2023.csv"
REGIONS = NATIONAL / "ofgl-base-regions-consolidee_occitanie_2022-2023.csv"
ABYMES = "219711017"
UNREAD_COLUMNS = sorted(UNREAD)  # stored, but not asked by a download: empty then


@pytest.fixture
def server() -> Iterator[PortalServer]:
    for server in running():
        data = GUADELOUPE.read_bytes()
        # The real 2024 export, plus the same rows as 2023 (a second year to resume on).
        head, *rows = data.split(b"\n")
        server.ods_tables["ofgl-base-communes"], server.ods_labels["ofgl-base-communes"] = \
            api_names(b"\n".join([head, *rows, *[b"2023" + r[4:] for r in rows if r]]))
        yield server


@pytest.fixture
def store(tmp_path: Path) -> Iterator[NationalStore]:
    with NationalStore(tmp_path) as store:
        yield store


@pytest.fixture
def guadeloupe_full(tmp_path: Path) -> Iterator[NationalStore]:
    """The whole real file imported as it is (every column, budgets annexes included)."""
    with NationalStore(tmp_path / "full") as full:
        full.add_export("communes", GUADELOUPE.read_bytes(), "ofgl")
        yield full


@pytest.fixture
def guadeloupe(store: NationalStore) -> NationalStore:
    """The real OFGL export of the communes of Guadeloupe, 2024."""
    store.add_export("communes", GUADELOUPE.read_bytes(), "ofgl")
    return store


def test_export_is_normalised_with_codes_as_text() -> None:
    table = normalise_export(GUADELOUPE.read_bytes(), "ofgl", "communes")
    frame = table.to_pandas()
    assert len(frame) == 2505
    abymes = frame[(frame["siren"] == ABYMES) & (frame["agregat"] == "Epargne brute")].iloc[0]
    assert (abymes["insee"], abymes["departement_code"], abymes["region_code"]) == (
        "97101", "971", "01")
    assert abymes["strate"] == "9" and abymes["population"] == 52586
    assert abymes["amount"] == pytest.approx(abymes["per_inhabitant"] * 52586)


def test_download_by_year_through_exports_and_resume(store: NationalStore,
                                                      server: PortalServer) -> None:
    http = Http(make_session(retries=1, backoff=0.05), timeout=10)
    export = "/api/explore/v2.1/catalog/datasets/ofgl-base-communes/exports/csv"
    server.faults[export] = ["500", "500", "500"]  # 2023 fails: retries exhausted
    with pytest.raises(Exception, match="500"):
        store.download(http, server.url, "communes", [2023, 2024])
    assert store.years("communes") == []
    fetched = store.download(http, server.url, "communes", [2023, 2024])
    assert fetched == [2023, 2024] and store.years("communes") == [2023, 2024]
    hits = server.hits[export]
    assert store.download(http, server.url, "communes", [2023, 2024]) == []  # resumed: none
    assert server.hits[export] == hits
    both = store.entity("communes", ABYMES)
    assert set(both["year"]) == {2023, 2024}


def test_download_asks_only_the_columns_read_and_the_budgets_principaux(
        store: NationalStore, guadeloupe_full: NationalStore, server: PortalServer) -> None:
    """The export is asked with the dataset's own field names (from its catalogue record) in
    `select=` and `where=<budget type>="Budget principal"`: the real 2024 file's 1 551 budget
    principal rows of its 2 505, each entity's figures the same as from the full file."""
    http = Http(make_session(retries=0), timeout=10)
    assert store.download(http, server.url, "communes", [2024]) == [2024]
    asked = next(r for r in server.requests if "/exports/csv" in r)
    assert "select=exercice%2C" in asked and "type_de_budget%3D%22Budget%20principal" in asked
    with GUADELOUPE.open(encoding="utf-8-sig", newline="") as handle:
        principal = sum(row["Type de budget"] == "Budget principal"
                        for row in csv.DictReader(handle, delimiter=";"))
    stored = store.query("communes", "SELECT budget_type, count(*) AS n FROM ofgl GROUP BY ALL")
    assert stored.to_dict("records") == [{"budget_type": "Budget principal", "n": principal}]
    assert principal == 1551
    for siren in (ABYMES, "219711025"):
        pd.testing.assert_frame_equal(
            store.entity("communes", siren).drop(columns=UNREAD_COLUMNS),
            guadeloupe_full.entity("communes", siren).drop(columns=UNREAD_COLUMNS))
    assert server.export_bytes[-1] < 0.4 * GUADELOUPE.stat().st_size


def test_a_field_the_portal_no_longer_has_is_its_own_french_error(
        store: NationalStore, server: PortalServer) -> None:
    """The catalogue names a field the export does not know (renamed in between): the portal
    refuses the query (400, ODSQLError) and its message is said, nothing is stored."""
    names = server.ods_labels["ofgl-base-communes"]
    server.ods_labels["ofgl-base-communes"] = {**names, "ptot_renamed": "Population totale"}
    table = server.ods_tables["ofgl-base-communes"]
    server.ods_tables["ofgl-base-communes"] = table.replace(b";population_totale;",
                                                            b";ptot_renamed;", 1)
    original = server.ods_export

    def renamed_after_the_catalogue(dataset: str, params: dict[str, str]) -> Any:
        server.ods_tables[dataset] = table
        return original(dataset, params)

    server.ods_export = renamed_after_the_catalogue  # type: ignore[method-assign]
    http = Http(make_session(retries=0), timeout=10)
    with pytest.raises(BudgetError, match="400 Bad Request : « ODSQL query is malformed: "
                                          "Unknown field: ptot_renamed"):
        store.download(http, server.url, "communes", [2024])
    assert store.years("communes") == []


def test_placement_among_peers(guadeloupe: NationalStore) -> None:
    store = guadeloupe
    frame = store.query("communes", "SELECT siren, per_inhabitant FROM ofgl WHERE agregat = ? "
                        "AND budget_type = 'Budget principal'", ["Epargne brute"])
    [row] = store.placement("communes", ABYMES, "Epargne brute", "departement_code").to_dict(
        "records")
    values = frame["per_inhabitant"]
    assert row["peers"] == len(values) == 32
    assert row["median"] == pytest.approx(values.median())
    assert row["q1"] == pytest.approx(values.quantile(0.25))
    assert row["rank"] == 1 + int((values > row["value"]).sum())
    custom = store.placement("communes", ABYMES, "Epargne brute", None,
                             custom=[ABYMES, "219711025"])
    assert custom["peers"].tolist() == [2]


def test_indicators_from_ofgl_rows_hand_checked() -> None:
    frame = normalise_export(GUADELOUPE.read_bytes(), "ofgl", "communes").to_pandas()
    rows = frame[(frame["siren"] == ABYMES) & (frame["budget_type"] == "Budget principal")]
    amount = rows.set_index("agregat")["amount"]
    values = from_ofgl(rows)
    assert values["epargne_brute"] == pytest.approx(amount["Epargne brute"])
    assert values["taux_epargne_brute"] == pytest.approx(
        amount["Epargne brute"] / amount["Recettes de fonctionnement"])
    assert values["capacite_desendettement"] == pytest.approx(
        amount["Encours de dette"] / amount["Epargne brute"])
    assert values["dette_par_habitant"] == pytest.approx(amount["Encours de dette"] / 52586)


def test_negative_epargne_brute_gives_no_capacity_and_missing_is_not_zero() -> None:
    rows = pd.DataFrame({"agregat": ["Epargne brute", "Encours de dette"],
                         "amount": [-1000.0, 50000.0], "population": [100.0, 100.0]})
    values = from_ofgl(rows)
    assert values["capacite_desendettement"] is None
    assert values["taux_epargne_brute"] is None  # no « Recettes de fonctionnement » row
    assert values["epargne_nette"] is None


def test_indicators_from_our_lines_pinned_on_montreuil_2022() -> None:
    """Recomputed here from the XML itself: real fonctionnement CA amounts, without 002
    carried over nor 775 cessions; interests 6611*; capital 16* but 166, 1645, 16449."""
    ns = {"d": "http://www.minefi.gouv.fr/cp/demat/docbudgetaire"}
    tree = etree.parse(str(TOTEM / "Montreuil_CA_2022.xml"))
    lines = parsed(TOTEM / "Montreuil_CA_2022.xml").lines
    section = dict(zip(lines["source_line"], lines["section"], strict=True))
    rrf = drf = interests = repayments = 0.0
    for line in tree.xpath("//d:LigneBudget", namespaces=ns):
        get = {etree.QName(c).localname: c.get("V") for c in line}
        if get.get("OpBudg") != "0" or get["Nature"] in ("001", "002"):
            continue
        amount = float(get.get("MtReal") or 0)
        nature, where = get["Nature"], section[line.sourceline]
        if where == "fonctionnement" and get["CodRD"] == "R" and not nature.startswith("775"):
            rrf += amount
        if where == "fonctionnement" and get["CodRD"] == "D":
            drf += amount
            interests += amount if nature.startswith("6611") else 0
        if where == "investissement" and get["CodRD"] == "D" and nature.startswith("16") \
                and not nature.startswith(("166", "1645", "16449")):
            repayments += amount
    values = from_lines(lines, population=111934)
    assert values["epargne_brute"] == pytest.approx(rrf - drf, abs=0.005)
    assert values["epargne_gestion"] == pytest.approx(rrf - drf + interests, abs=0.005)
    assert values["epargne_nette"] == pytest.approx(rrf - drf - repayments, abs=0.005)
    assert values["epargne_brute"] == pytest.approx(21213279.12, abs=0.005)
    assert values["taux_epargne_brute"] == pytest.approx((rrf - drf) / rrf)
    assert values["capacite_desendettement"] is None  # no debt outstanding in the lines


def test_epci_fiscal_regime_from_the_export_else_from_the_cog(tmp_path: Path) -> None:
    """Toulouse Métropole (243100518) is FPU in the export and in the shipped COG; the CC du
    Volvestre of 2016 (243100658, merged since) is FA in the export and unknown to today's
    COG: without the export's column, only the COG's answer remains."""
    frame = pd.read_csv(GFP, sep=";", dtype=str, encoding="utf-8-sig")
    without = frame.drop(columns=["Mode de financement 2024 abrégé"])
    regimes = {}
    for name, export in (("with", frame), ("without", without)):
        with NationalStore(tmp_path / name) as store:
            store.add_export("gfp", export.to_csv(sep=";", index=False).encode("utf-8-sig"),
                             name)
            found = store.query("gfp", "SELECT DISTINCT siren, fiscal_regime FROM ofgl")
            regimes[name] = dict(zip(found["siren"], found["fiscal_regime"], strict=True))
    assert (regimes["with"]["243100518"], regimes["with"]["243100658"]) == ("FPU", "FA")
    assert regimes["without"]["243100518"] == "FPU"
    assert pd.isna(regimes["without"]["243100658"])


def test_peers_by_ofgl_strate_among_epci(tmp_path: Path) -> None:
    raw = pd.read_csv(GFP, sep=";", dtype=str, encoding="utf-8-sig")
    raw = raw[raw["Agrégat"] == "Achats et charges externes"]
    same = raw[raw["Strate population 2024"] == "2"]  # CC de la Vallée de l'Ariège's strate
    with NationalStore(tmp_path) as store:
        store.add_export("gfp", GFP.read_bytes(), GFP.name)
        [row] = store.placement("gfp", "243100542", "Achats et charges externes",
                                "strate").to_dict("records")
        assert "strate" in store.peer_columns("gfp")
    assert row["peers"] == len(same) == 12
    assert row["median"] == pytest.approx(same["Montant en € par habitant"].astype(float).median())


def test_a_criterion_the_level_lacks_groups_no_one(tmp_path: Path) -> None:
    """Régions have no strate: « same strate » is not offered, and asked anyway it gives no
    group (it used to compare the région with every région whose strate was empty too)."""
    with NationalStore(tmp_path) as store:
        store.add_export("regions", REGIONS.read_bytes(), REGIONS.name)
        assert "strate" not in store.peer_columns("regions")
        assert store.peer_columns("regions") == ["region_code", "overseas", "ctu"]
        assert store.placement("regions", "200053791", "Epargne brute", "strate").empty
        [_, last] = store.placement("regions", "200053791", "Epargne brute",
                                    "ctu").to_dict("records")
    assert (last["year"], last["peers"], last["rank"]) == (2023, 1, 1)


def test_consolidated_accounts_are_the_entity_rows(tmp_path: Path) -> None:
    """A consolidated export (one row per collectivité) is what the pages compare."""
    with NationalStore(tmp_path) as store:
        store.add_export("departements", DEPARTEMENTS.read_bytes(), DEPARTEMENTS.name)
        rows = store.entity("departements", "223100017")
        [entity] = store.entities("departements").to_dict("records")
    raw = pd.read_csv(DEPARTEMENTS, sep=";", dtype=str, encoding="utf-8-sig")
    assert len(rows) == len(raw) and set(rows["year"]) == {2022, 2023}
    assert (entity["name"], entity["population"]) == ("Haute-Garonne", 1439027)


def raw_principal() -> pd.DataFrame:
    """The export's budget principal rows as pandas reads the CSV, apart from our reader."""
    frame = pd.read_csv(GUADELOUPE, sep=";", dtype=str, encoding="utf-8-sig")
    frame = frame[frame["Type de budget"] == "Budget principal"]
    return frame.assign(per_inhabitant=frame["Montant en € par habitant"].astype(float))


def test_entities_list_each_commune_once_by_name(guadeloupe: NationalStore) -> None:
    raw = raw_principal().drop_duplicates("Code Siren Collectivité")
    entities = guadeloupe.entities("communes")
    assert len(entities) == len(raw) == 32
    assert dict(zip(entities["siren"], entities["name"], strict=True)) == dict(
        zip(raw["Code Siren Collectivité"], raw["Nom 2024 Commune"], strict=True))
    assert list(entities["name"]) == sorted(entities["name"])
    assert set(entities["departement_code"]) == {"971"}


def test_maps_values_by_departement_and_by_commune(guadeloupe: NationalStore) -> None:
    raw = raw_principal()
    raw = raw[raw["Agrégat"] == "Epargne brute"]
    [median] = guadeloupe.departement_medians("communes", "Epargne brute", 2024).to_dict(
        "records")
    assert median["code"] == "971"
    assert median["value"] == pytest.approx(raw["per_inhabitant"].median())
    communes = guadeloupe.commune_values("Epargne brute", 2024, "971")
    assert dict(zip(communes["code"], communes["value"], strict=True)) == pytest.approx(
        dict(zip(raw["Code Insee Collectivité"], raw["per_inhabitant"], strict=True)))
    assert guadeloupe.commune_values("Epargne brute", 2024, "972").empty


def test_own_accounts_are_the_principal_budgets_executed_accounts() -> None:
    """From the demo catalogue: Crach 2021 has a CA of its budget principal, a CA of its
    lotissement (annexe) and two DMs; 2022 only voted budgets; Mohon's 2023 account is a CFU."""
    catalogue = Store(DEMO_DIR).documents()
    [crach] = own_accounts(catalogue, "215600461", 2021)["source_file"]
    assert crach == "crach_principal_CA_2021.xml"
    assert own_accounts(catalogue, "215600461", 2022).empty
    [mohon] = own_accounts(catalogue, "215601345", 2023)["stage"]
    assert mohon == "CFU"


def test_connections_use_the_threads_asked_and_are_closed(tmp_path: Path) -> None:
    threads = "SELECT current_setting('threads') AS threads"
    with NationalStore(tmp_path, threads=1) as store:
        store.add_export("communes", GUADELOUPE.read_bytes(), "ofgl")
        assert store.query("communes", threads)["threads"].tolist() == [1]
        connection = store._connection("communes")
        assert connection is not None
    with pytest.raises(duckdb.ConnectionException):
        connection.execute("SELECT 1")
    every_core = NationalStore(tmp_path)
    assert every_core.query("communes", threads)["threads"].tolist() == [os.cpu_count()]
    every_core.close()


def test_duckdb_threads_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUDGET_CACHE_DIR", str(tmp_path))  # the demo store beneath
    monkeypatch.delenv("BUDGET_DATA_DIR", raising=False)
    monkeypatch.delenv("BUDGET_DUCKDB_THREADS", raising=False)
    assert settings().duckdb_threads is None
    monkeypatch.setenv("BUDGET_DUCKDB_THREADS", "1")
    assert settings().duckdb_threads == 1
    used = settings().store().query("SELECT DISTINCT current_setting('threads') AS threads "
                                    "FROM lines")
    assert used["threads"].tolist() == [1]
    for wrong in ("0", "deux", "-1"):
        monkeypatch.setenv("BUDGET_DUCKDB_THREADS", wrong)
        with pytest.raises(BudgetError, match=f"BUDGET_DUCKDB_THREADS vaut « {wrong} »"):
            settings()


def test_the_version_names_each_year_file_and_changes_when_it_is_replaced(
        store: NationalStore) -> None:
    """What Se comparer's cached queries are keyed by: nothing before a download, the year's
    file once imported, another version once that file is imported again."""
    assert store.version() == ()
    store.add_export("communes", GUADELOUPE.read_bytes(), "ofgl")
    [(name, first)] = store.version()
    assert name == "communes/year=2024.parquet"
    path = store.folder / name
    os.utime(path, ns=(first - 10**9, first - 10**9))  # as if imported a second earlier
    store.add_export("communes", GUADELOUPE.read_bytes(), "ofgl")
    assert store.version() != ((name, first - 10**9),)
