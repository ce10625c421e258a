"""Every page through AppTest on the embedded demo data: figures equal the library's."""

from __future__ import annotations

import io
import json
import re
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from lxml import etree, html
from streamlit.testing.v1 import AppTest

from app_pages import common, drawing
from app_pages.catalogue import UPLOADS
from budget_core import maps
from budget_core.config import DEMO_DIR
from budget_core.fmt import compact_euros, euros, md_escape
from budget_core.indicators import from_ofgl
from budget_core.national import NationalStore
from budget_core.selection import upload_key
from budget_core.store import Store
from tests.conftest import FIXTURES, HOSTILE_RAW, TOTEM, hostile_store, parsed
from tests.portal_server import running
from tests.rawxml import NS, budget_lines, real_sums_without_carryover
from tests.rawxml import value as xml_value

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


def map_values(chart: object) -> dict[str, object]:
    """A map as drawn: the code of each territory whose shape is in its spec → the value of
    its table of values (`maps.VALUES`, shipped as Arrow IPC) joined to that shape."""
    [table] = [d.data.data for d in chart.proto.datasets if d.name == maps.VALUES]
    rows = pa.ipc.open_stream(table).read_all().to_pylist()
    values = {row["code"]: row["valeur"] for row in rows}
    return {f["properties"]["code"]: values.get(f["properties"]["code"])
            for f in json.loads(chart.proto.spec)["data"]["values"]}


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
    # The demo named as in the repository, not by the server's own path.
    assert "Source des données : jeu de démonstration embarqué (budget_core/data/demo dans " \
        "le dépôt)" in [c.value for c in app.caption]
    assert not [c.value for c in app.caption if str(DEMO_DIR) in c.value]
    assert [m.value for m in app.metric][2] == str(len(Store(DEMO_DIR).documents()))
    # « Données chargées »: a static table (no canvas grid to redraw at each search) counting
    # every document once, by type and stage.
    loaded = app.table[0].value
    assert list(loaded.columns) == ["Type", "Étape", "Documents"]
    assert loaded["Documents"].sum() == len(Store(DEMO_DIR).documents())
    app.text_input(key="q").input("montreuil").run()
    links = app.get("page_link")
    assert links and "VILLE DE MONTREUIL" in links[0].proto.label


def test_home_search_reaches_every_collectivite(app: AppTest) -> None:
    """Crach (INSEE 56046) opens on each of its two budgets; the communes of postcode 56470
    (La Trinité-sur-Mer, Saint-Philibert: no document in the demo) say so and where to get
    their accounts, with no link to Explorer."""
    app.run()
    app.text_input(key="q").input("56046").run()
    assert not app.exception
    links = [link.proto for link in app.get("page_link")]
    assert [link.label.split(" — ")[:2] for link in links] == [
        ["CRACH", "BUDGET PRINCIPAL"], ["CRACH", md_escape("LOTISSEMENT LE BOCENO (annexe)")]]
    assert all("explorer" in link.page for link in links)
    app.text_input(key="q").input("56470").run()
    labels = [e.label for e in app.expander]
    assert labels == [md_escape(f"{name} (56)") + " — aucun document publié ici"
                      for name in ("La Trinité-sur-Mer", "Saint-Philibert")]
    text = " ".join(m.value for m in app.markdown)
    assert (f"Aucun document budgétaire de **{md_escape('La Trinité-sur-Mer')}** n'est publié"
            in text)
    # How to get the accounts is said once below the results, not once per collectivité.
    assert text.count("python -m budget_core sync") == 1
    assert {link.proto.page.rsplit("/", 1)[-1] for link in app.get("page_link")} == {
        "donnees"}
    app.text_input(key="q").input("zzzzqqq").run()
    assert "Aucune collectivité ne correspond" in app.warning[0].value


def test_a_long_list_of_collectivites_is_narrowed_by_the_search(
        app: AppTest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past `NARROW_ABOVE` collectivités (a synced cache; 3 here for the demo's 7), a search
    box above the picker keeps those it finds: « crach » keeps Crach's two budgets."""
    monkeypatch.setattr(common, "NARROW_ABOVE", 3)
    open_page(app, "explorer")
    app.text_input(key="siret_q").input("crach").run()
    assert not app.exception
    [picker] = [box for box in app.selectbox if box.key == "siret"]
    assert sorted(picker.options) == ["CRACH — BUDGET PRINCIPAL",
                                      "CRACH — LOTISSEMENT LE BOCENO (annexe)"]


def test_explorer_shows_the_documents_own_totals(app: AppTest) -> None:
    """Montreuil's CA 2022: real operations without the results carried over (001/002), as
    the raw XML sums them; chapter 012 as its own lines sum; in the Sankey, the node of 012
    is named as the DGFiP plan names the chapter and receives exactly that amount."""
    open_page(app, "explorer", siret=MONTREUIL, etape="CA", annee=2022)
    path = TOTEM / "Montreuil_CA_2022.xml"
    raw = real_sums_without_carryover(path, "MtReal")
    income, spending = raw[("F", "R")] + raw[("I", "R")], raw[("F", "D")] + raw[("I", "D")]
    assert [m.value for m in app.metric][:2] == [compact_euros(income), compact_euros(spending)]
    assert app.metric[0].proto.help == f"Recettes : {euros(income, 2)}"

    staff = sum(Decimal(v) for v in etree.parse(str(path)).xpath(
        "//d:LigneBudget[d:OpBudg/@V='0'][d:CodRD/@V='D'][d:ContNat/@V='012']/d:MtReal/@V",
        namespaces=NS))
    recettes, depenses, *_ = chart_data(app)
    assert Decimal(str(depenses.set_index("chapter_code").loc["012", "amount"])) == staff
    assert recettes["amount"].sum() == pytest.approx(float(income), abs=0.01)
    assert depenses["amount"].sum() == pytest.approx(float(spending), abs=0.01)

    # The chart's data, opened: a static table (no grid), 012's spending to the cent.
    app.session_state["download_csv_ouvert"] = True
    app.run()
    assert not app.dataframe
    rows = static_table(app, 0).set_index(["sens", "chapitre"])
    assert rows.loc[("depense", "012"), "montant"] == euros(staff, 2)

    [label] = etree.parse(str(PLAN_2018)).xpath("//Chapitre[@Code='012']/@Libelle")
    assert not app.get("plotly_chart")  # drawn once its expander is opened
    app.session_state["flux_ouvert"] = True
    app.run()
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


def static_table(at: AppTest, which: int = -1) -> pd.DataFrame:
    """One of the page's static tables (`drawing.show_table(static=True)`, an `st.html`
    element; the last by default): its cells' text, as drawn."""
    body = [el.proto.body for el in at.get("html") if "<table" in el.proto.body][which]
    [table] = html.fromstring(body).xpath("//table")
    header = [cell.text_content() for cell in table.xpath(".//thead//th")]
    return pd.DataFrame([[cell.text_content() for cell in row.xpath("td")]
                         for row in table.xpath(".//tbody/tr")], columns=header)


def test_explorer_drill_down_to_natures(app: AppTest) -> None:
    """Chapter 012 of Montreuil's CA 2022 by nature: a static table (the page's last), largest
    first, each nature's real spending as the raw XML sums it, written the French way, with
    its CSV; then the same chapter by fonction."""
    open_page(app, "explorer", siret=MONTREUIL, etape="CA", annee=2022, chapitre="012")
    raw: dict[str, Decimal] = {}
    for line in budget_lines(TOTEM / "Montreuil_CA_2022.xml"):
        if (xml_value(line, "ContNat"), xml_value(line, "CodRD"),
                xml_value(line, "OpBudg")) == ("012", "D", "0"):
            nature = xml_value(line, "Nature") or ""
            raw[nature] = raw.get(nature, Decimal(0)) + Decimal(xml_value(line, "MtReal") or "0")
    assert not app.dataframe  # the chart data's grids are in closed expanders
    natures = static_table(app)
    assert sorted(natures["Code"]) == sorted(raw)
    assert natures["Montant"].tolist() == [euros(raw[code], 2) for code in natures["Code"]]
    amounts = [raw[code] for code in natures["Code"]]
    assert amounts == sorted(amounts, reverse=True)
    assert [b.proto.label for b in app.get("download_button")] == [
        "Télécharger ce détail (CSV)"]  # its content: test_browser_state
    app.radio(key="par").set_value("fonction").run()
    assert "020" in set(static_table(app)["Code"])


def test_a_static_table_shows_a_documents_text_as_text() -> None:
    """Labels come from documents: HTML in them is shown, never rendered; a line break, a
    tab or the cells' separator does not split a cell; amounts the French way, an empty one
    « — »."""
    frame = pd.DataFrame({"Code": ["6411", "6413"],
                          "Libellé": ["<img src=x onerror=alert(1)> & co",
                                      "deux\nlignes\tet\x1fplus"],
                          "Montant": [Decimal("1234.50"), None]})
    drawn = html.fromstring(drawing.static_table(frame, ["Montant"], [], []))
    assert [[cell.text_content() for cell in row.xpath("td")]
            for row in drawn.xpath("//tbody/tr")] == [
        ["6411", "<img src=x onerror=alert(1)> & co", "1\u202f234,50\u202f€"],
        ["6413", "deux lignes et plus", "—"]]
    assert not drawn.xpath("//img")
    assert drawn.xpath("//td[3]/@class") == ["nombre", "nombre"]  # right-aligned


def test_compare_two_communes_per_inhabitant(app: AppTest) -> None:
    open_page(app, "comparer", cmp_etape="CA", cmp_annee=2021,
              cmp=["21560046100010", MONTREUIL], par_habitant=True)
    [rows] = chart_data(app)
    crach_name, montreuil_name = "CRACH — BUDGET PRINCIPAL", \
        "VILLE DE MONTREUIL — BUDGET PRINCIPAL MONTREUIL"
    assert set(rows["budget"]) == {crach_name, montreuil_name}
    crach = rows[(rows["budget"] == crach_name) & (rows["chapter_code"] == "012")].iloc[0]
    # The population of the budget's year, as Crach's CA 2021 states it (PopTot « 3 446 »).
    stated = int(etree.parse(str(TOTEM / "crach_principal_CA_2021.xml")).xpath(
        "//d:Information[@Code='PopTot']/@V", namespaces=NS)[0].replace(" ", ""))
    assert stated == 3446
    assert crach["population"] == stated
    assert crach["per_inhabitant"] == pytest.approx(float(crach["amount"]) / stated)
    assert any("indiquée par le document" in c.value for c in app.caption)


def test_compare_two_budgets_of_crach_grouped_with_their_own_names(app: AppTest) -> None:
    open_page(app, "comparer", cmp_etape="BP", cmp_annee=2022,
              cmp=["21560046100010", "21560046100085"])
    bars = json.loads(app.get("vega_lite_chart")[0].proto.spec)["layer"][0]
    assert bars["encoding"]["yOffset"]["field"] == "budget"
    assert bars["encoding"]["color"]["field"] == "budget"
    [rows] = chart_data(app)
    loans = rows[rows["chapter_code"] == "16"].set_index("budget")["amount"]
    crach = {path: sum(Decimal(xml_value(line, "MtPrev") or "0") for line in budget_lines(path)
                       if (xml_value(line, "Nature") or "").startswith("16")
                       and xml_value(line, "CodRD") == "D" and xml_value(line, "OpBudg") == "0")
             for path in (TOTEM / "crach_principal_BP_2022.xml",
                          TOTEM / "crach_lotissement_BP_2022.xml")}
    assert sorted(Decimal(str(v)) for v in loans) == sorted(crach.values())
    assert set(loans.index) == {"CRACH — BUDGET PRINCIPAL",
                                "CRACH — LOTISSEMENT LE BOCENO (annexe)"}
    # A plain HTML table: a chapter a row, a budget a column, the amounts in French.
    [table] = pd.read_html(io.StringIO(app.get("html")[0].proto.body),
                           converters={"Chapitre": str})
    assert list(table.columns) == ["Chapitre", "Libellé", "CRACH — BUDGET PRINCIPAL",
                                   "CRACH — LOTISSEMENT LE BOCENO (annexe)"]
    assert list(table["Chapitre"]) == sorted(set(rows["chapter_code"]))
    by_chapter = table.set_index("Chapitre")
    assert set(by_chapter.loc["16", table.columns[2:]]) == {
        euros(amount, 2) for amount in crach.values()}
    # « — » where a budget spends nothing in a chapter: the lotissement has no staff (012).
    assert "012" not in set(rows.loc[rows["budget"] == table.columns[3], "chapter_code"])
    assert by_chapter.loc["012", table.columns[3]] == "—"
    assert any(b.proto.label == "Télécharger ces données (CSV)" for b in
               app.get("download_button"))


def test_comparer_s_chart_keeps_its_spec_when_other_budgets_are_chosen(app: AppTest) -> None:
    """Other budgets, as many: the spec names none of them (colours and bars follow the order
    of the rows), so the browser puts the new rows into the Vega view it has. Each budget's
    bars add up to the real spending (OpBudg 0, without 001/002) its document states."""
    drawn = {}
    for other, document in (("21560046100010", "crach_principal_CA_2021.xml"),
                            ("21560046100085", "crach_lotissement_CA_2021.xml")):
        open_page(app, "comparer", cmp_etape="CA", cmp_annee=2021, cmp=[MONTREUIL, other])
        [drawn[document]] = app.get("vega_lite_chart")
        [rows] = chart_data(app)
        spent = rows.groupby("doc_key")["amount"].sum()
        for key, path in ((MONTREUIL, "Montreuil_CA_2021.xml"), (other, document)):
            raw = real_sums_without_carryover(TOTEM / path, "MtReal")
            [total] = spent[spent.index.str.startswith(f"{key}_2021_CA")]
            assert Decimal(str(total)).quantize(Decimal("0.01")) == raw[("F", "D")] + raw[
                ("I", "D")]
    first, second = drawn.values()
    assert first.proto.spec == second.proto.spec
    assert "CRACH" not in first.proto.spec


def test_compare_m14_and_m57_chapters_on_one_row(app: AppTest) -> None:
    open_page(app, "comparer", cmp_etape="CA", cmp_annee=2021,
              cmp=["21560046100010", "22560001400016"])
    [rows] = chart_data(app)
    assert rows.groupby("chapter_code")["chapter_label"].nunique().max() == 1
    both = rows.groupby("chapter_code")["budget"].nunique()
    assert (both == 2).sum() >= 5  # 011, 012, 65, 66... of Crach (M14) beside the Morbihan's
    # 67 is « Charges exceptionnelles » in Crach's M14 plan, « Charges spécifiques » in M57.
    crach_plan = parsed(TOTEM / "crach_principal_CA_2021.xml").lines
    m14_label = crach_plan.loc[crach_plan["chapter_code"] == "67", "chapter_label"].iloc[0]
    exceptional = rows[rows["chapter_code"] == "67"]
    assert len(exceptional) == 2 and set(exceptional["chapter_label"]) != {m14_label}
    assert any("Nomenclatures différentes (M14, M57)" in c.value for c in app.caption)


def test_the_choice_follows_the_user_across_pages(app: AppTest) -> None:
    open_page(app, "explorer", siret=MONTREUIL, etape="CA", annee=2023)
    app.query_params.clear()  # the browser drops the URL on page change
    app.switch_page("app_pages/execution.py").run()
    values = {w.key: w.value for w in app.selectbox}
    assert (values["exe_siret"], values["exe_annee"]) == (MONTREUIL, 2023)
    app.switch_page("app_pages/evolution.py").run()
    assert {w.key: w.value for w in app.selectbox}["evo_siret"] == MONTREUIL
    app.switch_page("app_pages/comprendre.py").run()
    values = {w.key: w.value for w in app.selectbox}
    assert (values["siret"], values["etape"], values["annee"]) == (MONTREUIL, "CA", 2023)


def test_evolution_resets_the_chapters_when_sens_changes(app: AppTest) -> None:
    open_page(app, "evolution", evo_siret=MONTREUIL, evo_chapitres=["16", "23", "204"])
    app.radio(key="evo_sens").set_value("recette").run()
    chosen = app.multiselect(key="evo_chapitres").value
    [_, chapters] = chart_data(app)
    assert set(chapters["direction"]) == {"recette"}
    assert set(chapters["chapter_code"]) == set(chosen) and len(chosen) == 8
    assert chosen != ["16", "23", "204"]


def test_evolution_s_charts_keep_their_specs_across_sens_and_unit(app: AppTest) -> None:
    """Recettes after Dépenses, then per inhabitant: the same two specs (titles and unit are
    above the charts, the unit's format is read from the rows), so the browser puts new rows
    into the Vega views it has. The rows are each year's real receipts (OpBudg 0, without
    001/002) as Montreuil's CAs state them."""
    open_page(app, "evolution", evo_siret=MONTREUIL)
    specs = [[chart.proto.spec for chart in app.get("vega_lite_chart")]]
    app.radio(key="evo_sens").set_value("recette").run()
    specs.append([chart.proto.spec for chart in app.get("vega_lite_chart")])
    totals, _ = chart_data(app)
    for year in (2016, 2023):
        raw = real_sums_without_carryover(TOTEM / f"Montreuil_CA_{year}.xml", "MtReal")
        drawn = totals.set_index("year").loc[year]
        assert Decimal(str(drawn["valeur"])).quantize(Decimal("0.01")) == raw[("F", "R")] + raw[
            ("I", "R")]
        assert drawn["unite"] == "Montant"
    app.toggle(key="evo_hab").set_value(True).run()
    specs.append([chart.proto.spec for chart in app.get("vega_lite_chart")])
    totals, _ = chart_data(app)
    assert set(totals["unite"]) == {"€ par habitant"}
    assert (totals["valeur"] == totals["per_inhabitant"]).all()
    assert specs[0] == specs[1] == specs[2] and len(specs[0]) == 2
    titles = [m.value for m in app.markdown if m.value.startswith("**Recettes réelles")]
    assert titles == [f"**{md_escape(title)}**" for title in (
        "Recettes réelles : total par année (€ par habitant)",
        "Recettes réelles par chapitre (€ par habitant)")]


def test_evolution_s_notes_stay_when_their_cache_answers(app: AppTest) -> None:
    """The notes under Évolution's charts are drawn inside a cache: Dépenses again (a hit)
    still names Montreuil's eight CAs, the files of the demo folder, and the PopTot its
    documents state."""
    open_page(app, "evolution", evo_siret=MONTREUIL)
    app.radio(key="evo_sens").set_value("recette").run()
    app.radio(key="evo_sens").set_value("depense").run()
    files = ", ".join(sorted(path.name for path in TOTEM.glob("Montreuil_CA_20*.xml")))
    captions = [caption.value for caption in app.caption]
    assert md_escape(f"Documents : {files}.") in captions
    assert any("population totale indiquée par le document" in c for c in captions)


def test_explorer_shows_each_dm_apart(app: AppTest) -> None:
    open_page(app, "explorer", siret="21560046100010", etape="DM", annee=2021)
    assert app.selectbox(key="doc").options == ["DM n° 2 du 22/11/2021",
                                                "DM n° 3 du 13/12/2021"]
    catalogue = Store(DEMO_DIR).documents().set_index("source_file")
    for name in ("DM2", "DM3"):
        path = TOTEM / f"crach_principal_{name}_2021.xml"
        app.selectbox(key="doc").set_value(catalogue.loc[path.name, "doc_key"]).run()
        [_, depenses, *_] = chart_data(app)
        shown = depenses.set_index("chapter_code").loc["014", "amount"]
        expected = sum(Decimal(xml_value(line, "MtPrev") or "0") for line in budget_lines(path)
                       if xml_value(line, "ContNat") == "014")
        assert Decimal(str(shown)) == expected  # 1 595 € (DM2), 562 € (DM3): never 2 157 €
        assert md_escape(path.name) in app.caption[0].value


def test_comprendre_explains_with_the_budgets_own_figures(app: AppTest) -> None:
    open_page(app, "comprendre", siret=MONTREUIL, etape="CA", annee=2022)
    lines = parsed(TOTEM / "Montreuil_CA_2022.xml").lines
    real = lines[(lines["operation_kind"] == "reel") & ~lines["carryover"].astype(bool)]
    income = real[(real["direction"] == "recette") & (real["section"] == "fonctionnement")]
    assert app.metric[0].value == compact_euros(income["amount"].sum())
    assert app.metric[0].proto.help.endswith(euros(income["amount"].sum(), 2))
    assert any("Opérations réelles et opérations d'ordre" in m.value for m in app.markdown)
    # The three largest spending chapters, each with its real spending as the raw XML sums it.
    spent: dict[str, Decimal] = {}
    for line in budget_lines(TOTEM / "Montreuil_CA_2022.xml"):
        chapter = xml_value(line, "ContNat") or ""
        if xml_value(line, "CodRD") == "D" and xml_value(line, "OpBudg") == "0" \
                and chapter not in ("001", "002"):
            spent[chapter] = spent.get(chapter, Decimal(0)) + Decimal(
                xml_value(line, "MtReal") or "0")
    [chapters] = [m.value for m in app.markdown if "Des chapitres, puis des articles" in m.value]
    listed = re.findall(r"^- \*\*(\w+) — .*\*\* : (.+) \(", chapters, flags=re.MULTILINE)
    top = sorted(spent, key=spent.__getitem__, reverse=True)[:3]
    assert listed == [(code, euros(spent[code])) for code in top]


def test_evolution_over_eight_years_of_montreuil(app: AppTest) -> None:
    open_page(app, "evolution", evo_siret=MONTREUIL)
    totals, chapters = chart_data(app)
    assert set(chapters["year"]) == set(totals["year"]) == set(range(2016, 2024))
    spent = {}
    for year in (2022, 2023):
        lines = parsed(TOTEM / f"Montreuil_CA_{year}.xml").lines
        real = lines[(lines["operation_kind"] == "reel") & ~lines["carryover"].astype(bool)
                     & (lines["direction"] == "depense")]
        spent[year] = float(real["mt_real"].sum())
    last = totals.set_index("year").loc[2023]
    assert last["amount"] == pytest.approx(spent[2023])
    assert last["change"] == pytest.approx(spent[2023] / spent[2022] - 1)
    # € per inhabitant with the population the CA 2023 states (InformationsGenerales PopTot).
    stated = int(etree.parse(str(TOTEM / "Montreuil_CA_2023.xml")).xpath(
        "//d:Information[@Code='PopTot']/@V", namespaces=NS)[0].replace(" ", ""))
    assert last["per_inhabitant"] == pytest.approx(spent[2023] / stated)
    # The totals' data, opened: a static table (a grid was most of the second it took to
    # open, issue 13), 2023's spending to the cent.
    app.session_state["download_evolution_total_ouvert"] = True
    app.run()
    assert not app.dataframe
    raw = real_sums_without_carryover(TOTEM / "Montreuil_CA_2023.xml", "MtReal")
    rows = static_table(app, 0).set_index("exercice")
    assert rows.loc["2023", "montant"] == euros(raw[("F", "D")] + raw[("I", "D")], 2)


def test_execution_rate(app: AppTest) -> None:
    open_page(app, "execution", exe_siret=MONTREUIL, exe_annee=2022)
    lines = parsed(TOTEM / "Montreuil_CA_2022.xml").lines
    real = lines[(lines["operation_kind"] == "reel") & ~lines["carryover"].astype(bool)
                 & (lines["direction"] == "depense")]
    assert [m.value for m in app.metric][:2] == [compact_euros(real["cred_ouv"].sum()),
                                                compact_euros(real["mt_real"].sum())]
    assert app.metric[1].proto.help == f"Réalisé : {euros(real['mt_real'].sum(), 2)}"
    # The chart's data, opened: a static table (no grid to draw), 012's realised to the cent.
    app.session_state["download_execution_ouvert"] = True
    app.run()
    assert not app.dataframe
    staff = sum(Decimal(v) for v in etree.parse(str(TOTEM / "Montreuil_CA_2022.xml")).xpath(
        "//d:LigneBudget[d:OpBudg/@V='0'][d:CodRD/@V='D'][d:ContNat/@V='012']/d:MtReal/@V",
        namespaces=NS))
    assert static_table(app).set_index("chapitre").loc["012", "realise"] == euros(staff, 2)


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
    shares = map_values(app.get("vega_lite_chart")[0])
    assert set(shares) == {"22", "29", "35", "56"}  # the four départements of Bretagne
    assert shares["56"] == pytest.approx(1 / 249) and shares["29"] == 0
    published, others = app.dataframe[-2].value, app.dataframe[-1].value
    assert published.loc[published["Publié"], "Commune"].tolist() == ["Crach"]
    assert others[["Type", "Collectivité"]].values.tolist() == [
        ["Département", "DEPARTEMENT DU MORBIHAN 56"]]
    [fiche] = [w for w in app.get("selectbox") if w.key == "fiche"]
    fiche.set_value("219300480").run()
    assert md_escape("Budgets de Ville De Montreuil (2016-2023)") in [h.value for h in
                                                                      app.subheader]


def test_the_metadata_sheet_opens_on_the_collectivite_explored(app: AppTest) -> None:
    """Crach's budget explored, then « Publier mes données »: the sheet describes Crach, not
    the first collectivité of its list."""
    open_page(app, "explorer", siret="21560046100010")
    app.switch_page("app_pages/publier.py").run()
    [fiche] = [w for w in app.get("selectbox") if w.key == "fiche"]
    assert not fiche.options[0].startswith("CRACH")
    assert fiche.value == "215600461"
    assert md_escape("Budgets de Crach") in " ".join(h.value for h in app.subheader)


def test_the_metadata_sheet_describes_a_collectivite_known_by_its_upload(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cache empty, Crach's CA 2021 uploaded in this session (held as « Données » keeps
    an upload): « Fiche de métadonnées » lists Crach and describes its uploaded CA, where it
    showed a traceback (« no document to describe »: the sheet read the cache alone)."""
    monkeypatch.setenv("BUDGET_DATA_DIR", str(tmp_path / "vide"))
    monkeypatch.setenv("BUDGET_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(ROOT)
    path = TOTEM / "crach_principal_CA_2021.xml"
    document = parsed(path)
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.session_state[UPLOADS] = {upload_key(document.info): document}
    open_page(app, "publier")
    tree = etree.parse(str(path))
    name, year = (tree.find(f".//d:{tag}", NS).get("V") for tag in ("LibelleColl", "Exer"))
    assert (name, year) == ("CRACH", "2021")
    assert [h.value for h in app.subheader] == [md_escape(f"Budgets de Crach ({year})")]
    sheet = json.loads(app.get("json")[0].proto.body)
    assert sheet["temporal_coverage"] == {"start": "2021-01-01", "end": "2021-12-31"}
    assert "compte administratif pour l’exercice 2021" in sheet["description"]


def test_publication_map_draws_communes_of_a_grand_est_departement(app: AppTest) -> None:
    open_page(app, "publier", carte_etape="CA", carte_annee=2021, carte_region="44",
              carte_departement="10")
    assert len(app.get("vega_lite_chart")) == 2  # région map + communes of the Aube
    assert app.metric[0].proto.delta == "0 sur 431"


def test_an_overseas_region_says_why_it_has_no_publication_map(app: AppTest) -> None:
    # The shipped map of départements is metropolitan France: Guadeloupe (région 01) has no
    # shapes, so the page says so instead of drawing an empty map. Its communes, counted in
    # the shipped COG table as read by pandas, have none in the demo data.
    cog = pd.read_csv(ROOT / "budget_core" / "data" / "population.csv.gz", dtype=str)
    guadeloupe = cog[(cog["kind"] == "commune") & (cog["region"] == "01")]
    assert len(guadeloupe) == 32 and set(guadeloupe["departement"]) == {"971"}
    open_page(app, "publier", carte_etape="CA", carte_annee=2021, carte_region="01",
              carte_departement="971")
    assert app.get("vega_lite_chart") == []
    [info] = [i.value for i in app.info if "Guadeloupe" in i.value]
    assert "ne couvrent que les départements de métropole" in info
    assert "ayant publié leur CA 2021 dans les données chargées : 0 sur 32" in info
    assert app.expander[0].label == "Publication par département (tableau et CSV)"
    assert app.metric[0].proto.delta == "0 sur 32"
    communes = app.dataframe[-2].value
    assert len(communes) == 32 and not communes["Publié"].any()


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
    assert values[4] == compact_euros(expected["epargne_brute"])
    assert any("Épargne de gestion moins les intérêts" in m.value for m in app.markdown)


def test_se_comparer_s_chart_keeps_its_spec_when_only_the_collectivite_changes(
        app: AppTest) -> None:
    """Another collectivité, same agrégat: the chart's spec is the same text, its datasets
    named by position, so the browser puts the new rows into the Vega view it has; the rows
    are each commune's own € per inhabitant in the raw OFGL export (Guadeloupe 2024)."""
    raw = pd.read_csv(FIXTURES / "national" / "ofgl-base-communes_guadeloupe_2024.csv",
                      sep=";", dtype=str, encoding="utf-8-sig")
    raw = raw[(raw["Agrégat"] == "Epargne brute") & (raw["Type de budget"] == "Budget principal")]
    drawn = {}
    for siren in ("219711025", "219711033"):  # Anse-Bertrand, Baie-Mahault
        open_page(app, "comparer_national", niveau="communes", siren_national=siren,
                  agregat="Epargne brute", pairs="departement_code")
        [drawn[siren]] = app.get("vega_lite_chart")
    first, second = drawn.values()
    assert first.proto.spec == second.proto.spec
    spec = json.loads(first.proto.spec)
    assert [layer["data"]["name"] for layer in spec["layer"]] == ["data-0", "data-1"]
    for siren, chart in drawn.items():
        [band] = [pa.ipc.open_stream(d.data.data).read_all().to_pandas()
                  for d in chart.proto.datasets if d.name == "data-0"]
        [per_inhabitant] = raw.loc[raw["Code Siren Collectivité"] == siren,
                                   "Montant en € par habitant"]
        assert list(band["value"]) == [pytest.approx(float(per_inhabitant))]


def test_se_comparer_s_chart_keeps_its_spec_when_only_the_agregat_changes(
        app: AppTest) -> None:
    """The agrégat is named in a title written above the chart, not in its spec: another
    agrégat is new rows for the same Vega view, and the title wraps at 390 px (a Vega title
    was cut: « Achats et charges externes : la collectiv… »)."""
    drawn = {}
    for agregat in ("Epargne brute", "Achats et charges externes"):
        open_page(app, "comparer_national", niveau="communes", siren_national="219711025",
                  agregat=agregat, pairs="departement_code")
        [drawn[agregat]] = app.get("vega_lite_chart")
        assert md_escape(f"{agregat} : la collectivité parmi son groupe (bande : du 1er au 3e "
                         "quartile)") in "\n".join(m.value for m in app.markdown)
    first, second = drawn.values()
    assert first.proto.spec == second.proto.spec
    assert "title" not in json.loads(first.proto.spec)


def test_se_comparer_offers_ofgl_criteria_and_says_which_a_level_lacks(
        app: AppTest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Communes get OFGL's own criteria (mountain, QPV...); régions have no strate: not
    offered, said so, and a link asking for it falls back to a group that exists."""
    national = FIXTURES / "national"
    with NationalStore(tmp_path / "national") as store:
        store.add_export("communes", (national / "ofgl-base-communes_guadeloupe_2024.csv")
                         .read_bytes(), "communes")
        store.add_export("regions", (national / "ofgl-base-regions-consolidee_occitanie_"
                                     "2022-2023.csv").read_bytes(), "regions")
    monkeypatch.setenv("BUDGET_NATIONAL_DIR", str(tmp_path / "national"))
    app.query_params.update(niveau="regions", siren_national="200053791", pairs="strate")
    open_page(app, "comparer_national")
    [pairs] = [w for w in app.selectbox if w.key == "pairs"]
    assert "Même strate de population" not in pairs.options and pairs.value != "strate"
    assert any("Non renseigné dans les comptes OFGL de ce niveau : même strate de population"
               in c.value for c in app.caption)
    assert any("comptes consolidés" in c.value for c in app.caption)
    open_page(app, "comparer_national", niveau="communes", siren_national="219711017",
              agregat="Epargne brute", pairs="mountain")
    [pairs] = [w for w in app.selectbox if w.key == "pairs"]
    assert "Même classement montagne (commune de montagne ou non)" in pairs.options
    # Les Abymes and 14 others: « Commune de montagne » Oui
    assert app.metric[1].label == "Médiane du groupe (15 collectivités)"


# Three communes of the Aube (10), each given the real rows of Les Abymes' budget principal
# (Guadeloupe export): Troyes, Bar-sur-Aube, Romilly-sur-Seine (INSEE, SIREN).
AUBE = {"10387": "211003876", "10033": "211000336", "10323": "211003231"}


def aube_national(folder: Path) -> pd.DataFrame:
    """A national store in `folder` whose communes are `AUBE`; the Abymes rows moved there."""
    frame = pd.read_csv(ROOT / "tests" / "fixtures" / "national" /
                        "ofgl-base-communes_guadeloupe_2024.csv", sep=";", dtype=str,
                        encoding="utf-8-sig")
    abymes = frame[(frame["Code Siren Collectivité"] == "219711017")
                   & (frame["Type de budget"] == "Budget principal")]
    moved = []
    for insee, siren in AUBE.items():
        rows = abymes.copy()
        rows["Code Insee Collectivité"] = insee
        rows["Code Siren Collectivité"] = siren
        rows["Code Insee 2024 Département"] = "10"
        moved.append(rows)
    with NationalStore(folder) as store:
        store.add_export("communes", pd.concat(moved).to_csv(sep=";", index=False).encode(),
                         "aube")
    return abymes


def test_se_comparer_maps_the_communes_of_a_grand_est_departement(
        app: AppTest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows of the real Guadeloupe export moved to three communes of the Aube (10)."""
    aube_national(tmp_path / "national")
    monkeypatch.setenv("BUDGET_NATIONAL_DIR", str(tmp_path / "national"))
    open_page(app, "comparer_national", niveau="communes", siren_national="211003876",
              agregat="Epargne brute")
    values = map_values(app.get("vega_lite_chart")[-1])
    assert {code for code, value in values.items() if value is not None} == set(AUBE)


def test_links_repeating_or_listing_too_many_entities_still_open(app: AppTest) -> None:
    """`?cmp=` with one budget eleven times, `?liste=` with 51 entries: each value once, the
    list capped, no Streamlit error (hardening, second round)."""
    catalogue = Store(DEMO_DIR).documents()
    ca_2021 = catalogue[(catalogue["stage"] == "CA") & (catalogue["year"] == 2021)]
    first = str(ca_2021["siret"].iloc[0])
    app.query_params.update(cmp=",".join([first] * 11), cmp_etape="CA", cmp_annee="2021")
    app.run()
    app.switch_page("app_pages/comparer.py").run()
    assert not app.exception
    [chosen] = [w for w in app.multiselect if w.key == "cmp"]
    assert chosen.value == [first]
    with NationalStore(DEMO_DIR / "national") as national:
        sirens = list(national.entities("communes")["siren"])
    app.query_params.update(niveau="communes", siren_national=sirens[0], pairs="custom",
                            liste=",".join((sirens * 3)[:51]))
    app.switch_page("app_pages/comparer_national.py").run()
    assert not app.exception
    [listed] = [w for w in app.multiselect if w.key == "liste"]
    assert listed.value == sirens[:50]


MARKDOWN_KINDS = ("markdown", "caption", "title", "header", "subheader", "info", "warning",
                  "error", "success")


def rendered_text(at: AppTest) -> list[str]:
    """Everything Streamlit renders as Markdown on the page: bodies, and metric labels."""
    texts = [str(el.proto.body) for kind in MARKDOWN_KINDS for el in at.get(kind)]
    return texts + [str(m.proto.label) for m in at.metric]


def test_every_page_shows_document_text_as_text(app: AppTest, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A real document whose collectivité name and nomenclature carry Markdown (an outside
    image every visitor's browser would fetch, a javascript: link, coloured text, HTML): every
    page shows them escaped, never rendered (hardening, second round)."""
    store = hostile_store(tmp_path)
    monkeypatch.setenv("BUDGET_DATA_DIR", str(store.folder))
    monkeypatch.setenv("BUDGET_CACHE_DIR", str(tmp_path / "cache"))
    pages = re.findall(r'st\.Page\("(app_pages/\w+\.py)"', (ROOT / "app.py").read_text())
    app.query_params.update(siret="21560046100010", etape="CA", annee="2021",
                            cmp_etape="CA", cmp_annee="2021",
                            cmp="21560046100010,21560046100085")
    app.run()
    for page in pages:
        app.switch_page(page).run()
        assert not app.exception, page
        for text in rendered_text(app):
            for raw in HOSTILE_RAW:
                assert raw not in text, (page, text)
        for element in app.get("html"):  # HTML (Comparer's table): the name's tags escaped
            assert "<b>gras</b>" not in element.proto.body, page


def test_the_pickers_set_a_selectbox_only_when_its_value_must_change(app: AppTest) -> None:
    """A selectbox whose value the script sets through the session state is flagged so
    (`set_value`), and the browser rebuilds it at that run instead of keeping it (6 to 10 ms
    each, issue 13): the pickers (`common.url_selectbox`) set one only when its value must
    change — the first run, or another budget whose stage or year is not the one shown —
    and a page opened next shows the same budget without setting it."""
    open_page(app, "explorer")
    app.run()  # nothing changed
    assert [box.key for box in app.selectbox if box.proto.set_value] == []
    before = {box.key: box.value for box in app.selectbox}
    app.selectbox(key="siret").set_value(MONTREUIL).run()
    after = {box.key: box.value for box in app.selectbox}
    assert after["siret"] == MONTREUIL
    set_now = {box.key for box in app.selectbox if box.proto.set_value}
    assert set_now == {key for key in after if key != "siret" and after[key] != before[key]}
    # The demo's Montreuil documents are CAs (Montreuil_CA_*.xml), the budget shown first a
    # CFU: the stage had to change.
    assert before["etape"] == "CFU" and "etape" in set_now
    app.switch_page("app_pages/comprendre.py").run()
    assert app.selectbox(key="siret").value == MONTREUIL
    assert not app.selectbox(key="siret").proto.set_value
    assert not app.exception
