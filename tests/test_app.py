"""Every page through AppTest on the embedded demo data: figures equal the library's."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from lxml import etree
from streamlit.testing.v1 import AppTest

from budget_core.config import DEMO_DIR
from budget_core.fmt import euros, md_escape
from budget_core.indicators import from_ofgl
from budget_core.national import NationalStore
from budget_core.store import Store
from tests.conftest import FIXTURES, TOTEM, parsed
from tests.portal_server import running
from tests.rawxml import NS, real_sums_without_carryover

MONTREUIL = "21930048000015"
ROOT = Path(__file__).resolve().parent.parent
# The DGFiP plan as downloaded (ISO-8859-1): chapter labels independent of the shipped plans.
PLAN_2018 = FIXTURES / "plans" / "plan-de-compte-M14-M14_COM_SUP3500-2018.xml"


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("BUDGET_DATA_DIR", str(DEMO_DIR))
    monkeypatch.chdir(ROOT)
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)


def chart_data(at: AppTest) -> list[pd.DataFrame]:
    """The data each Altair chart on the page draws (Streamlit ships it as Arrow IPC)."""
    return [pa.ipc.open_stream(el.proto.datasets[0].data.data).read_all().to_pandas()
            for el in at.get("vega_lite_chart")]


def open_page(app: AppTest, page: str, **widgets: object) -> AppTest:
    """Open a page and set its widgets by key, in order (each change reruns the page)."""
    app.run()
    app.switch_page(f"app_pages/{page}.py").run()
    for key, value in widgets.items():
        [widget] = [w for kind in ("selectbox", "multiselect", "toggle", "radio")
                    for w in app.get(kind) if w.key == key]
        widget.set_value(value).run()
    assert not app.exception
    return app


def test_home_lists_the_demo_data_and_finds_an_entity(app: AppTest) -> None:
    app.run()
    assert not app.exception
    assert [m.value for m in app.metric][2] == str(len(Store(DEMO_DIR).documents()))
    app.text_input(key="q").input("montreuil").run()
    links = app.get("page_link")
    assert links and "VILLE DE MONTREUIL" in links[0].proto.label


def test_explorer_shows_the_documents_own_totals(app: AppTest) -> None:
    """Montreuil's CA 2022: real operations without the results carried over (001/002), as
    the raw XML sums them; chapter 012 as its own lines sum; in the Sankey, the node of 012
    is named as the DGFiP plan names the chapter and receives exactly that amount."""
    open_page(app, "explorer", siret=MONTREUIL, etape="CA", annee=2022)
    path = TOTEM / "Montreuil_CA_2022.xml"
    raw = real_sums_without_carryover(path, "MtReal")
    income, spending = raw[("F", "R")] + raw[("I", "R")], raw[("F", "D")] + raw[("I", "D")]
    assert [m.value for m in app.metric][:2] == [euros(income), euros(spending)]

    staff = sum(Decimal(v) for v in etree.parse(str(path)).xpath(
        "//d:LigneBudget[d:OpBudg/@V='0'][d:CodRD/@V='D'][d:ContNat/@V='012']/d:MtReal/@V",
        namespaces=NS))
    recettes, depenses = chart_data(app)
    assert Decimal(str(depenses.set_index("chapter_code").loc["012", "amount"])) == staff
    assert recettes["amount"].sum() == pytest.approx(float(income), abs=0.01)
    assert depenses["amount"].sum() == pytest.approx(float(spending), abs=0.01)

    [label] = etree.parse(str(PLAN_2018)).xpath("//Chapitre[@Code='012']/@Libelle")
    sankey = json.loads(app.get("plotly_chart")[0].proto.spec)["data"][0]
    nodes = sankey["node"]["label"]
    into_staff = [value for value, target in zip(sankey["link"]["value"],
                                                  sankey["link"]["target"], strict=True)
                  if nodes[target] == f"012 — {label}"]
    assert into_staff == [pytest.approx(float(staff), abs=0.01)]


def test_explorer_order_operations_switch_changes_the_totals(app: AppTest) -> None:
    open_page(app, "explorer", siret=MONTREUIL, etape="CA", annee=2022)
    real = [m.value for m in app.metric]
    app.toggle(key="ordre").set_value(True).run()
    assert [m.value for m in app.metric] != real
    assert "toutes opérations" in app.caption[0].value


def test_explorer_drill_down_to_natures(app: AppTest) -> None:
    open_page(app, "explorer", siret=MONTREUIL, etape="CA", annee=2022, chapitre="012")
    natures = app.dataframe[0].value
    assert {"64111", "64131"} <= set(natures["Code"])
    app.radio(key="par").set_value("fonction").run()
    assert "020" in set(app.dataframe[0].value["Code"])


def test_compare_two_communes_per_inhabitant(app: AppTest) -> None:
    open_page(app, "comparer", cmp_etape="CA", cmp_annee=2021,
              cmp=["21560046100010", MONTREUIL], par_habitant=True)
    [rows] = chart_data(app)
    assert set(rows["entity_name"]) == {"CRACH", "VILLE DE MONTREUIL"}
    crach = rows[(rows["entity_name"] == "CRACH") & (rows["chapter_code"] == "012")].iloc[0]
    assert crach["population"] == 3423
    assert crach["per_inhabitant"] == pytest.approx(float(crach["amount"]) / 3423)


def test_evolution_over_eight_years_of_montreuil(app: AppTest) -> None:
    open_page(app, "evolution", evo_siret=MONTREUIL)
    [rows] = chart_data(app)
    assert set(rows["year"]) == set(range(2016, 2024))


def test_execution_rate(app: AppTest) -> None:
    open_page(app, "execution", exe_siret=MONTREUIL, exe_annee=2022)
    lines = parsed(TOTEM / "Montreuil_CA_2022.xml").lines
    real = lines[(lines["operation_kind"] == "reel") & ~lines["carryover"].astype(bool)
                 & (lines["direction"] == "depense")]
    assert [m.value for m in app.metric][:2] == [euros(real["cred_ouv"].sum()),
                                                euros(real["mt_real"].sum())]


def test_data_page_lists_the_catalogue(app: AppTest) -> None:
    open_page(app, "donnees")
    assert len(app.dataframe[0].value) == len(Store(DEMO_DIR).documents())


def test_data_page_refreshes_from_the_portals(app: AppTest, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    for server in running():
        server.publish("mohon_CFU_2023.xml", (TOTEM / "mohon_CFU_2023.xml").read_bytes())
        server.udata_files = ["mohon_CFU_2023.xml"]
        portals = tmp_path / "portals.toml"
        portals.write_text('replace = true\n[[portal]]\nname = "local"\nkind = "udata"\n'
                           f'url = "{server.url}"\nqueries = []\n', encoding="utf-8")
        monkeypatch.setenv("BUDGET_PORTALS", str(portals))
        monkeypatch.setenv("BUDGET_CACHE_DIR", str(tmp_path / "cache"))
        open_page(app, "donnees")
        assert "Aucune ressource" in app.info[0].value
        app.button(key="refresh").click().run()
        assert not app.exception
        table = app.dataframe[1].value
        assert list(table["title"]) == ["mohon_CFU_2023.xml"]
        assert list(table["status"]) == ["ok"]
        [status] = app.get("status")
        assert status.proto.label == "1 nouveau(x), 0 mis à jour, 0 inchangé(s), 0 en échec"


def test_publication_map_and_metadata_sheet(app: AppTest) -> None:
    open_page(app, "publier", carte_etape="CA", carte_annee=2021, carte_region="53",
              carte_departement="56")
    [metric] = app.metric
    assert (metric.value, metric.proto.delta) == ("0,4\u202f%", "1 sur 249")
    region_map = json.loads(app.get("vega_lite_chart")[0].proto.spec)
    shares = {f["properties"]["code"]: f["properties"]["valeur"]
              for f in region_map["data"]["values"]}
    assert set(shares) == {"22", "29", "35", "56"}  # the four départements of Bretagne
    assert shares["56"] == pytest.approx(1 / 249) and shares["29"] == 0
    published, others = app.dataframe[-2].value, app.dataframe[-1].value
    assert published.loc[published["Publié"], "Commune"].tolist() == ["Crach"]
    assert set(others["Collectivité"]) == {"DEPARTEMENT DU MORBIHAN 56"}
    [fiche] = [w for w in app.get("selectbox") if w.key == "fiche"]
    fiche.set_value("219300480").run()
    assert md_escape("Budgets de Ville De Montreuil (2016-2023)") in [h.value for h in
                                                                      app.subheader]


def test_publication_map_draws_communes_of_a_grand_est_departement(app: AppTest) -> None:
    open_page(app, "publier", carte_etape="CA", carte_annee=2021, carte_region="44",
              carte_departement="10")
    assert len(app.get("vega_lite_chart")) == 2  # région map + communes of the Aube
    assert app.metric[0].proto.delta == "0 sur 431"


def test_se_comparer_places_an_entity_among_its_peers(app: AppTest) -> None:
    open_page(app, "comparer_national", niveau="communes", siren_national="219711017",
              agregat="Epargne brute", pairs="departement_code")
    with NationalStore(DEMO_DIR / "national") as national:
        [row] = national.placement("communes", "219711017", "Epargne brute",
                                   "departement_code").to_dict("records")
        rows = national.entity("communes", "219711017")
    values = [m.value for m in app.metric]
    assert values[0] == euros(row["value"], 2) + "/hab"
    assert values[1] == euros(row["median"], 2) + "/hab"
    assert values[2] == f"{row['rank']} / 32"
    expected = from_ofgl(rows)
    assert values[4] == euros(expected["epargne_brute"])
    assert any("Épargne de gestion moins les intérêts" in m.value for m in app.markdown)


def test_se_comparer_maps_the_communes_of_a_grand_est_departement(
        app: AppTest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows of the real Guadeloupe export moved to three communes of the Aube (10)."""
    frame = pd.read_csv(ROOT / "tests" / "fixtures" / "national" /
                        "ofgl-base-communes_guadeloupe_2024.csv", sep=";", dtype=str,
                        encoding="utf-8-sig")
    abymes = frame[(frame["Code Siren Collectivité"] == "219711017")
                   & (frame["Type de budget"] == "Budget principal")]
    moved = []
    for insee, siren in (("10387", "211003876"), ("10033", "211000336"),
                         ("10323", "211003231")):
        rows = abymes.copy()
        rows["Code Insee Collectivité"] = insee
        rows["Code Siren Collectivité"] = siren
        rows["Code Insee 2024 Département"] = "10"
        moved.append(rows)
    with NationalStore(tmp_path / "national") as store:
        store.add_export("communes", pd.concat(moved).to_csv(sep=";", index=False).encode(),
                         "aube")
    monkeypatch.setenv("BUDGET_NATIONAL_DIR", str(tmp_path / "national"))
    open_page(app, "comparer_national", niveau="communes", siren_national="211003876",
              agregat="Epargne brute")
    communes = json.loads(app.get("vega_lite_chart")[-1].proto.spec)
    values = {f["properties"]["code"]: f["properties"]["valeur"]
              for f in communes["data"]["values"] if f["properties"]["valeur"] is not None}
    assert set(values) == {"10387", "10033", "10323"}
