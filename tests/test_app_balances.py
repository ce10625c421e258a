"""The DGFiP balances in the app (AppTest): a collectivité without documents opens on its
balance-derived CA, the pages say its source, a published CA wins over its balance, « Se
comparer » by chapter, and Données downloads a year from the local portal.

The cache holds the 20 real rows of tests/fixtures/balances/ (2024: Grenoble, Chambéry,
Annecy, Lyon); expected figures come from the raw CSV (tests.test_balances helpers).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import statistics
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from budget_core import balance_catalogue
from budget_core.balances import BalanceStore
from budget_core.config import DEMO_DIR
from budget_core.fmt import compact_euros, md_escape
from budget_core.national import NationalStore
from budget_core.store import Store
from tests.conftest import FIXTURES
from tests.portal_server import running
from tests.test_app import ROOT, map_values, open_page
from tests.test_balance_peers import (
    counted_queries,
    history_2024,
    moved,
    moved_to_a_commune_of_no_inhabitant,
    real_by_chapter,
)
from tests.test_balances import CHAMBERY, DATASET, EXPORT, GRENOBLE, SAMPLE, raw_rows

GRENOBLE_CA = f"dgfip_{GRENOBLE}_2024"


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    with BalanceStore(tmp_path / "cache" / "balances") as store:
        store.import_csv(SAMPLE, "communes")
    return tmp_path / "cache"


@pytest.fixture
def app(cache: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("BUDGET_DATA_DIR", str(DEMO_DIR))
    monkeypatch.setenv("BUDGET_CACHE_DIR", str(cache))
    monkeypatch.chdir(ROOT)
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)


def captions(at: AppTest) -> str:
    return "\n".join(c.value for c in at.caption)


def test_a_commune_without_documents_opens_on_its_balance_derived_ca(app: AppTest) -> None:
    app.run()
    app.text_input(key="q").input("grenoble").run()
    assert not app.exception
    assert app.expander[0].label == (md_escape("Grenoble (38)") + " — aucun document publié "
                                     "ici · comptes de gestion DGFiP")
    [link] = [link.proto for link in app.get("page_link") if "explorer" in link.proto.page]
    assert link.label == "GRENOBLE — GRENOBLE — 2024 CA · comptes de gestion DGFiP"
    assert f"doc={GRENOBLE_CA}" in link.query_string
    assert "Comptes administratifs reconstitués depuis les comptes de gestion DGFiP" in \
        captions(app)
    # Documents counted are published ones: the balances are not documents.
    assert [m.value for m in app.metric][2] == str(len(Store(DEMO_DIR).documents()))


def test_explorer_shows_the_balance_ca_and_says_its_source(app: AppTest) -> None:
    """Grenoble's only real operation of the sample: 1318, a subsidy received, 680 305,58."""
    [income] = [a for (siren, direction, _), a in real_by_chapter(raw_rows()).items()
                if siren == GRENOBLE[:9] and direction == "recette"]
    assert income == Decimal("680305.58")
    app.query_params.update(siret=GRENOBLE, etape="CA", annee="2024", doc=GRENOBLE_CA)
    open_page(app, "explorer")
    assert [m.value for m in app.metric] == [compact_euros(income), compact_euros(0),
                                             compact_euros(income)]
    text = captions(app)
    assert "Source : comptes de gestion DGFiP (balance comptable), data.economie.gouv.fr" in \
        text and "GRENOBLE 2024" in text
    app.switch_page("app_pages/comprendre.py").run()  # the choice follows
    assert not app.exception
    assert "Source : comptes de gestion DGFiP (balance comptable)" in captions(app)


def test_se_comparer_opens_on_the_collectivite_chosen_elsewhere(app: AppTest) -> None:
    """Chambéry explored, then « Se comparer » by chapter: the page opens on Chambéry (not on
    the first commune of its list), until the user picks another one there."""
    app.query_params.update(siret=CHAMBERY, etape="CA", annee="2024")
    open_page(app, "explorer")
    app.query_params.clear()
    app.query_params["mode"] = "chapitres"
    app.switch_page("app_pages/comparer_national.py").run()
    commune = app.selectbox(key="chap_siren")
    assert not commune.options[0].startswith("Chambéry")  # not the first of the list
    assert commune.value == CHAMBERY[:9]
    commune.set_value(GRENOBLE[:9]).run()
    app.switch_page("app_pages/explorer.py").run()
    app.switch_page("app_pages/comparer_national.py").run()
    assert app.selectbox(key="chap_siren").value == GRENOBLE[:9]


def published_as_totem(cache: Path, year: int, folder: Path,
                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A published CA of Chambéry for `year` in a store the app reads: its balance's lines
    under a TOTEM file's name (`chambery_CA_<year>.xml`)."""
    with BalanceStore(cache / "balances") as balances:
        document = balances.document(CHAMBERY, year)
    document.info = dataclasses.replace(document.info, source_format="totem",
                                        source_file=f"chambery_CA_{year}.xml")
    store = Store(folder)
    store.add([document])
    monkeypatch.setenv("BUDGET_DATA_DIR", str(store.folder))


def test_a_published_ca_wins_over_the_balance_of_its_budget_year(
        app: AppTest, cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A published CA of Chambéry 2024 in the store (its balance's lines under a TOTEM
    file's name): Comparer offers Chambéry once, from the published document, and says the
    balance exists too; the three other communes come from the balances."""
    published_as_totem(cache, 2024, tmp_path / "store", monkeypatch)
    app.query_params.update(cmp_etape="CA", cmp_annee="2024",
                            cmp=f"{CHAMBERY},{GRENOBLE}")
    open_page(app, "comparer")
    [chosen] = [w for w in app.multiselect if w.key == "cmp"]
    assert [o for o in chosen.options if "CHAMBERY" in o] == ["CHAMBERY — CHAMBERY"]
    assert len(chosen.options) == 4
    text = captions(app)
    assert "Les comptes de gestion DGFiP (balance comptable) existent aussi pour 2024" in text
    assert "Source : comptes de gestion DGFiP (balance comptable)" in text and \
        "GRENOBLE 2024" in text and "CHAMBERY 2024" not in text


def test_se_comparer_by_chapter_places_a_commune_among_its_region(app: AppTest) -> None:
    people = history_2024()
    values = {siren: float(amount) / people[siren]
              for (siren, direction, chapter), amount in real_by_chapter(raw_rows()).items()
              if (direction, chapter) == ("recette", "13")}
    app.query_params.update(mode="chapitres", chap_siren=GRENOBLE[:9], chap_sens="Recettes",
                            chap_pairs="region")
    open_page(app, "comparer_national")
    placement, departements = app.get("vega_lite_chart")
    [row] = next(frame for frame in (pa.ipc.open_stream(d.data.data).read_all().to_pandas()
                                 for d in placement.proto.datasets)
             if "q1" in frame).to_dict("records")
    assert row["chapitre"] == "13 — Subventions d'investissement"
    assert row["value"] == pytest.approx(values[GRENOBLE[:9]])
    assert row["median"] == pytest.approx(statistics.median(values.values()))
    assert row["chiffres"] == "1re sur 2"
    assert "Source : comptes de gestion DGFiP (balance comptable)" in captions(app)
    assert "population totale légale en vigueur en 2024" in captions(app)
    assert map_values(departements) == pytest.approx({"38": values[GRENOBLE[:9]],
                                     "73": values[CHAMBERY[:9]]})

def test_se_comparer_by_chapter_changes_only_its_rows_with_the_commune_or_direction(
        app: AppTest) -> None:
    """Grenoble's receipts, Chambéry's receipts, Chambéry's spending (one chapter each, 13 or
    21): the chart's spec is the same text, so the browser puts the new rows into the Vega
    view it has; what changes is the title written above it and the rows, each commune's real
    amount per inhabitant in the raw CSV."""
    people = history_2024()
    real = real_by_chapter(raw_rows())
    names = {r["siren"]: f"{r['lbudg']} ({r['ndept'][1:]}{r['insee']})" for r in raw_rows()}
    drawn = {}
    app.query_params.update(mode="chapitres", chap_pairs="region")
    open_page(app, "comparer_national", chap_siren=GRENOBLE[:9], chap_sens="recette")
    for siren, sens, direction, chapter in ((GRENOBLE[:9], "Recettes", "recette", "13"),
                                            (CHAMBERY[:9], "Recettes", "recette", "13"),
                                            (CHAMBERY[:9], "Dépenses", "depense", "21")):
        # As users change them, in this session: the commune, then the direction.
        app.selectbox(key="chap_siren").set_value(siren).run()
        app.radio(key="chap_sens").set_value(direction).run()
        assert not app.exception
        placement = app.get("vega_lite_chart")[0]
        drawn[siren, direction] = placement
        [row] = next(frame for frame in (pa.ipc.open_stream(d.data.data).read_all().to_pandas()
                                         for d in placement.proto.datasets)
                     if "q1" in frame).to_dict("records")
        assert row["chapitre"].startswith(f"{chapter} — ")
        assert row["value"] == pytest.approx(float(real[siren, direction, chapter])
                                             / people[siren])
        assert f"**{md_escape(f'{sens} réelles : {names[siren]} parmi « même région »')}**" \
            in [m.value for m in app.markdown]
    specs = {chart.proto.spec for chart in drawn.values()}
    assert len(specs) == 1
    spec = json.loads(specs.pop())
    assert "title" not in spec and "Grenoble" not in json.dumps(spec)


def test_se_comparer_says_what_ofgl_criteria_need(app: AppTest, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The embedded OFGL accounts of 2024 hold Guadeloupe's communes, not Grenoble; without
    OFGL accounts of the year, the page says how to get them."""
    app.query_params.update(mode="chapitres", chap_siren=GRENOBLE[:9], chap_pairs="mountain")
    open_page(app, "comparer_national")
    assert "la commune n'a pas cette information dans les comptes OFGL de 2024" in \
        app.info[0].value
    (tmp_path / "national").mkdir()
    monkeypatch.setenv("BUDGET_NATIONAL_DIR", str(tmp_path / "national"))
    open_page(app, "comparer_national")
    assert "vient des comptes OFGL des communes de 2024, qui ne sont pas chargés" in \
        app.info[0].value

@pytest.fixture
def portal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The local portal serving the real rows as the 2024 communes dataset, under the
    registry's name of data.economie.gouv.fr."""
    for server in running():
        server.ods_tables[DATASET] = SAMPLE.read_bytes()
        portals = tmp_path / "portals.toml"
        portals.write_text('replace = true\n[[portal]]\nname = "data.economie.gouv.fr"\n'
                           f'kind = "opendatasoft"\nurl = "{server.url}"\n', encoding="utf-8")
        monkeypatch.setenv("BUDGET_PORTALS", str(portals))
        server.faults[EXPORT] = ["", "truncate"]  # the second part is cut mid-transfer
        yield server.url


def test_donnees_downloads_a_year_and_resumes_after_a_failure(
        portal: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUDGET_DATA_DIR", str(DEMO_DIR))
    monkeypatch.setenv("BUDGET_CACHE_DIR", str(tmp_path / "empty"))
    monkeypatch.chdir(ROOT)
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    open_page(app, "donnees")
    assert "Balances en cache : aucun exercice." in captions(app)
    app.number_input(key="bal_annee").set_value(2024).run()
    app.button(key="bal_telecharger").click().run()
    assert not app.exception
    [status] = app.get("status")
    assert status.proto.label.startswith("Téléchargement interrompu")
    assert "interrompu" in app.error[0].value
    parts = tmp_path / "empty" / "balances" / "_parts" / "level=communes" / "year=2024"
    assert [p.name for p in parts.glob("ndept=*")] == ["ndept=038.parquet"]  # kept
    app.button(key="bal_telecharger").click().run()
    [status] = app.get("status")
    assert status.proto.label == "Exercice 2024 chargé (4 département(s))"
    assert app.success[0].value.startswith(md_escape(f"communes : {len(raw_rows())} lignes "))
    assert "Balances en cache : communes 2024." in captions(app)
    app.switch_page("app_pages/explorer.py").run()
    [picker] = [w for w in app.selectbox if w.key == "siret"]
    assert "GRENOBLE — GRENOBLE" in picker.options


def test_pages_about_published_documents_leave_the_balances_out(app: AppTest) -> None:
    """A balance has no crédits ouverts (Prévu / réalisé) and is not a publication (Publier:
    the publication map and the metadata sheet count what collectivités published)."""
    open_page(app, "execution")
    [picker] = [w for w in app.selectbox if w.key == "exe_siret"]
    assert picker.options and not [o for o in picker.options if "GRENOBLE" in o]
    open_page(app, "publier")
    [sheet] = [w for w in app.selectbox if w.key == "fiche"]
    assert sheet.options and not [o for o in sheet.options if "GRENOBLE" in o]


def test_evolution_follows_a_budget_across_published_and_balance_years(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Chambéry's real rows, also written as 2023 (the only change: `exer`), and a published
    CA of 2023 (its balance's lines under a TOTEM file's name): Évolution shows 2023 once,
    from the published CA, and 2024 from the balance, and says both."""
    head, *rows = SAMPLE.read_text(encoding="utf-8").splitlines()
    chambery = [r for r in rows if f";{CHAMBERY};" in r]
    path = tmp_path / "two_years.csv"
    path.write_text("\n".join([head, *rows, *(r.replace("2024;", "2023;", 1)
                                              for r in chambery)]), encoding="utf-8")
    with BalanceStore(tmp_path / "cache" / "balances") as balances:
        balances.import_csv(path, "communes")
    published_as_totem(tmp_path / "cache", 2023, tmp_path / "store", monkeypatch)
    monkeypatch.setenv("BUDGET_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(ROOT)
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.query_params.update(evo_siret=CHAMBERY, evo_etape="CA")
    open_page(app, "evolution")
    spent = sum(amount for (siren, direction, _), amount in
                real_by_chapter([dict(zip(head.split(";"), r.split(";"), strict=True))
                                 for r in chambery]).items()
                if siren == CHAMBERY[:9] and direction == "depense")
    totals = next(pa.ipc.open_stream(d.data.data).read_all().to_pandas()
                  for d in app.get("vega_lite_chart")[0].proto.datasets)
    assert sorted(totals["year"].astype(int)) == [2023, 2024]
    assert [Decimal(str(v)) for v in totals.sort_values("year")["amount"]] == [spent, spent]
    text = captions(app)
    assert md_escape("chambery_CA_2023.xml") in text and "CHAMBERY 2024" in text
    assert "Les comptes de gestion DGFiP (balance comptable) existent aussi pour 2023" in text


def test_a_widget_change_queries_no_balance_again(app: AppTest,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The balances' catalogue (one grouped query over every account row: 2 to 3 s for all
    of France) is read once per version of the folder, and the pickers' lists are made from
    it once: a widget change that keeps the document runs no query of the balances."""
    queries = counted_queries(monkeypatch)
    app.query_params.update(siret=GRENOBLE, etape="CA", annee="2024", doc=GRENOBLE_CA)
    open_page(app, "explorer")
    assert queries.count(balance_catalogue.BUDGETS_SQL) == 1
    queries.clear()
    for include_order in (True, False):
        app.toggle(key="ordre").set_value(include_order).run()
    app.selectbox(key="siret_type").set_value("commune").run()
    assert not app.exception and queries == []


def test_past_the_list_limit_a_picker_asks_for_the_departement_of_the_budget_linked(
        app: AppTest, monkeypatch: pytest.MonkeyPatch) -> None:
    """At the scale of France a picker would list 69 457 budgets: past `LIST_AT_MOST` it
    lists one département's, that of the budget a link names (Chambéry: `ndept` « 073 » in
    the raw rows); choosing another département lists its budgets."""
    monkeypatch.setattr("app_pages.common.LIST_AT_MOST", 3)
    monkeypatch.setattr("app_pages.common.NARROW_ABOVE", 1)
    departement_of = {row["ident"]: row["ndept"][1:] for row in raw_rows()}
    app.query_params.update(siret=CHAMBERY, etape="CA", annee="2024")
    open_page(app, "explorer")
    assert app.selectbox(key="siret_dep").value == departement_of[CHAMBERY] == "73"
    assert app.selectbox(key="siret").value == CHAMBERY
    assert len(app.selectbox(key="siret").options) == len(
        {s for s, code in departement_of.items() if code == "73"})
    app.selectbox(key="siret_dep").set_value(departement_of[GRENOBLE]).run()
    assert not app.exception and app.selectbox(key="siret").value == GRENOBLE
    assert "GRENOBLE" in app.subheader[0].value


def ofgl_export(mountain: dict[str, str]) -> bytes:
    """The real OFGL export of Guadeloupe's communes 2024 (tests/fixtures/national/) with
    Les Abymes' rows copied once for each commune of `mountain` (SIREN → « Oui »/« Non » in
    « Commune de montagne »), its SIREN, INSEE code and name replaced: the OFGL accounts give
    Grenoble and Chambéry a mountain criterion the balances' communes can be grouped by."""
    path = FIXTURES / "national" / "ofgl-base-communes_guadeloupe_2024.csv"
    with path.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.DictReader(file, delimiter=";"))
    names = {r["siren"]: (r["lbudg"], r["ndept"][1:] + r["insee"]) for r in raw_rows()}
    abymes = [r for r in rows if r["Code Siren Collectivité"] == "219711017"]
    for siren, answer in mountain.items():
        name, insee = names[siren]
        rows += [{**r, "Code Siren Collectivité": siren, "Code Insee Collectivité": insee,
                  "Code Insee 2024 Commune": insee, "Nom 2024 Commune": name,
                  "Commune de montagne": answer} for r in abymes]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), delimiter=";")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def test_se_comparer_by_chapter_follows_the_ofgl_accounts_its_group_comes_from(
        app: AppTest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """« Communes de montagne » is read from the OFGL accounts of the year: Grenoble and
    Chambéry, then Grenoble alone once the year's accounts are imported again with Chambéry
    out. The placement (median, rank among the group) follows the new group in the same
    session; it was cached by the balances' version alone and kept the old group."""
    people = history_2024()
    values = {siren: float(amount) / people[siren]
              for (siren, direction, chapter), amount in real_by_chapter(raw_rows()).items()
              if (direction, chapter) == ("recette", "13")}
    grenoble, chambery = GRENOBLE[:9], CHAMBERY[:9]
    folder = tmp_path / "national"
    monkeypatch.setenv("BUDGET_NATIONAL_DIR", str(folder))
    with NationalStore(folder) as national:
        national.add_export("communes", ofgl_export({grenoble: "Oui", chambery: "Oui"}),
                            "ofgl.csv")
    app.query_params.update(mode="chapitres", chap_pairs="mountain")
    open_page(app, "comparer_national", chap_siren=grenoble, chap_sens="recette")
    row = placed_row(app)
    assert row["median"] == pytest.approx(statistics.median([values[grenoble],
                                                             values[chambery]]))
    assert row["chiffres"] == "1re sur 2"
    with NationalStore(folder) as national:
        national.add_export("communes", ofgl_export({grenoble: "Oui", chambery: "Non"}),
                            "ofgl.csv")
    app.run()
    assert not app.exception
    row = placed_row(app)
    assert row["median"] == pytest.approx(values[grenoble])
    assert row["chiffres"] == "1re sur 1"


def placed_row(app: AppTest) -> dict[str, object]:
    """The one chapter row of Se comparer's placement chart (Grenoble's receipts: 13)."""
    placement = app.get("vega_lite_chart")[0]
    [row] = next(frame for frame in (pa.ipc.open_stream(d.data.data).read_all().to_pandas()
                                     for d in placement.proto.datasets)
                 if "q1" in frame).to_dict("records")
    assert str(row["chapitre"]).startswith("13 — ")
    return dict(row)


def by_chapter_on(path: Path, siren: str, tmp_path: Path,
                  monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """Se comparer by chapter on the balances of `path` alone (the demo's documents beside
    them), opened on the receipts of commune `siren` among those of its région."""
    with BalanceStore(tmp_path / "cache" / "balances") as store:
        store.import_csv(path, "communes")
    monkeypatch.setenv("BUDGET_DATA_DIR", str(DEMO_DIR))
    monkeypatch.setenv("BUDGET_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(ROOT)
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.query_params.update(mode="chapitres", chap_siren=siren, chap_sens="Recettes",
                            chap_pairs="region")
    return open_page(app, "comparer_national")


def test_se_comparer_opens_on_a_commune_of_no_inhabitant(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fleury-devant-Douaumont, population 0, with Chambéry's real rows: the page stopped on
    a traceback (an infinite amount per inhabitant has no French number)."""
    path, fleury = moved_to_a_commune_of_no_inhabitant(tmp_path)
    app = by_chapter_on(path, fleury, tmp_path, monkeypatch)
    assert "(0 habitants pour la commune)" in captions(app)
    assert [i.value for i in app.info] == [
        "Pas de montant par habitant : la commune n'a aucun habitant (population 0)."]


def test_se_comparer_by_chapter_says_why_an_overseas_map_is_not_drawn(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Grenoble's and Chambéry's real rows moved to Les Abymes and Pointe-à-Pitre: their
    département (971) has no shape in the embedded map (metropolitan France), so no map of the
    départements is drawn, and the page says why where it said nothing."""
    path, to = moved(tmp_path, {GRENOBLE[:9]: "97101", CHAMBERY[:9]: "97120"})
    app = by_chapter_on(path, to["97101"][0], tmp_path, monkeypatch)
    assert len(app.get("vega_lite_chart")) == 1  # the placement; no map
    text = captions(app)
    assert "Carte des départements : contours embarqués pour la métropole seulement " \
        "(pas pour 971)." in text
    assert "(pas pour le département 971)" in text

