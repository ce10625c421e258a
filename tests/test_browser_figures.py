"""The figures a page shows after what users do, read in a real Chromium and checked against
sums made here from the raw documents (lxml over the TOTEM XML with the DGFiP plan de comptes
as written, `tests.rawxml.chapter_sums`; the csv module over an SCDL file), never against the
library's own output.

The pages update a Vega view in place when only its rows change, keep their filters in a
fragment and cache their sums by inputs: each is a chance to show the previous budget's
figures, a chart whose bars and labels disagree, or another session's upload. Every chart is
read from its SVG: each bar's aria label holds its chapter and its exact amount (its
tooltip), each chapter's line of text its compact total.

Uses the `server`, `browser`, `page` and `size` fixtures of tests/conftest.py (streamlit run
on the demo data, Debian's Chromium; a test taking `size` runs at 1440×900 and 390×844).
Screenshots go to test-artifacts/ (figures_*.png).
"""

from __future__ import annotations

import csv
import re
import statistics
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from bench.settled import OBSERVER
from budget_core.balances import BalanceStore
from budget_core.config import DEMO_DIR
from tests.conftest import (
    ARTIFACTS,
    CHROMIUM,
    FIXTURES,
    SIZES,
    TOTEM,
    settle,
    streamlit_server,
)
from tests.rawxml import (
    NS,
    chapter_sums,
    french_number,
    informations,
    nature_sums,
    plan_of,
    real_sums_without_carryover,
    value,
)
from tests.test_balance_peers import history_2024, real_by_chapter
from tests.test_balances import CHAMBERY, GRENOBLE, SAMPLE, raw_rows
from tests.test_browser_state import choose, go_to, shown

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium absent")]
expect = playwright.expect
MONTREUIL = "21930048000015"
CRACH = "21560046100010"
LOTISSEMENT = "21560046100085"
COMBINED = FIXTURES / "scdl_combined" / "crach_lotissement_BP_2022_CA_2021.csv"


def shot(page: object, name: str, size: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"figures_{name}_{size}.png"), full_page=True)


# -- what the page shows -------------------------------------------------------------------
# Per Vega chart: the aria label of each bar (Vega-Lite writes its tooltip there) and of each
# chapter's line of text (its name, with the compact total as tooltip).
CHARTS = """() => [...document.querySelectorAll('.vega-embed')].map(chart => ({
    bars: [...chart.querySelectorAll('path[aria-roledescription="bar"]')]
        .map(bar => bar.getAttribute('aria-label')),
    lines: [...chart.querySelectorAll('g.mark-text.role-mark')].map(group =>
        [...group.querySelectorAll('text')].map(text => text.getAttribute('aria-label')
                                                         || text.textContent)),
}))"""
# A bar's label ends with its tooltip's chapter and exact amount; a line of text's, with its
# chapter and compact total.
CHAPTER_AMOUNT = re.compile(r"Chapitre: (?P<chapter>.+?); Montant: (?P<amount>[^;]+)$")


def exact(text: str) -> Decimal:
    """`2 145 825,21 €` → Decimal (narrow or plain spaces between thousands)."""
    return Decimal(re.sub(r"[\s\u202f\u00a0€]", "", text).replace(",", "."))


UNITS = {"Md€": Decimal(10) ** 9, "M€": Decimal(10) ** 6, "k€": Decimal(10) ** 3, "€": 1}


def agrees(compact: str, value: Decimal) -> bool:
    """Whether `282,5 M€` (or `923,2 k€`, `-2,2 M€`, `4,59 €`) is `value` rounded to the
    figures it shows."""
    figures, unit = compact.replace("\u00a0", "\u202f").rsplit("\u202f", 1)
    decimals = len(figures.split(",")[1]) if "," in figures else 0
    shown_value = exact(figures) * UNITS[unit]
    return abs(shown_value - value) <= UNITS[unit] * Decimal(10) ** -decimals / 2


def chapter_of(label: str) -> str:
    return label.split(" — ", 1)[0]


def charts(page: object) -> list[dict[str, object]]:
    """Each chart's bars, summed by chapter code (a chapter with both sections has two
    bars), and its lines of text: (chapter code, compact total) of each name, and the count
    of each layer of text (names, totals)."""
    out = []
    for chart in page.evaluate(CHARTS):
        bars: dict[str, Decimal] = {}
        for label in chart["bars"]:
            found = CHAPTER_AMOUNT.search(label)
            assert found, label
            code = chapter_of(found["chapter"])
            bars[code] = bars.get(code, Decimal(0)) + exact(found["amount"])
        names = [CHAPTER_AMOUNT.search(text) for text in (chart["lines"] or [[]])[0]]
        assert all(names), chart["lines"]
        out.append({"bars": bars, "count": len(chart["bars"]),
                    "lines": {chapter_of(n["chapter"]): n["amount"] for n in names if n},
                    "texts": [len(layer) for layer in chart["lines"]]})
    return out


# Plotly's Sankey: its nodes' labels and its links (source, target, value) as drawn.
SANKEY = """() => [...document.querySelectorAll('.js-plotly-plot')].map(plot => ({
    labels: plot.data[0].node.label, source: plot.data[0].link.source,
    target: plot.data[0].link.target, value: plot.data[0].link.value}))"""
SECTIONS = ("Fonctionnement", "Investissement")


def sankey(page: object) -> tuple[dict[str, float], dict[str, float]] | None:
    """Explorer's flow diagram when drawn: chapter code → the value of its link into its
    section (receipts), and out of its section (spending)."""
    plots = page.evaluate(SANKEY)
    if not plots:
        return None
    [plot] = plots
    labels = plot["labels"]
    income: dict[str, float] = {}
    spending: dict[str, float] = {}
    for source, target, flow in zip(plot["source"], plot["target"], plot["value"],
                                    strict=True):
        side, node = (income, source) if labels[target] in SECTIONS else (spending, target)
        code = chapter_of(labels[node])
        side[code] = side.get(code, 0.0) + flow
    return income, spending


def heading(page: object) -> str:
    return str(page.locator("[data-testid='stHeading'] h3").first.inner_text())


def metrics(page: object) -> list[str]:
    return list(page.locator("[data-testid='stMetricValue']").all_inner_texts())


def caption_source(page: object) -> str:
    """The file the page says its figures come from (« Source : Montreuil_CA_2023.xml »)."""
    text = page.get_by_text("Source :").first.inner_text()
    return re.search(r"Source : (\S+?)(?: \(fichier déposé|\.$)", text)[1]


# The rows of every table (a grid's screen-reader table, or an HTML table), each row's cells.
TABLES = """() => [...document.querySelectorAll('table')].map(table =>
    [...table.querySelectorAll('tr')].map(row =>
        [...row.querySelectorAll('th, td')].map(cell => cell.innerText.trim())))"""


def drill_down(page: object) -> dict[str, Decimal | None]:
    """Explorer's « Détail d'un chapitre » by nature: code → amount, None where the amount
    is out of view (scrolled into view first: a grid out of view is not drawn, and at 390 px
    its third column is beyond the screen's right edge, not drawn either)."""
    page.get_by_text("Détail d'un chapitre").scroll_into_view_if_needed()
    headed = f"""() => ({TABLES})().filter(rows => rows.length &&
        rows[0].filter(cell => cell).join().startsWith('Code,Libellé'))"""
    page.wait_for_function(f"() => ({headed})().length === 1", timeout=30_000)
    [rows] = page.evaluate(headed)
    amounts = [cell for cell in rows[0] if cell] == ["Code", "Libellé", "Montant"]
    cells = [[cell for cell in row if cell] for row in rows[1:]]
    return {row[0]: exact(row[2]) if amounts else None for row in cells if row}


def order_included(page: object) -> bool:
    return page.get_by_role("switch", name="Inclure les opérations d'ordre").is_checked()


def expected_of(sums: dict[tuple[str, str], Decimal]) -> tuple[dict[str, Decimal],
                                                                 dict[str, Decimal]]:
    return ({c: v for (d, c), v in sums.items() if d == "recette"},
            {c: v for (d, c), v in sums.items() if d == "depense"})


def assert_explorer_shows(page: object, sums: dict[tuple[str, str], Decimal]) -> None:
    """Explorer's metrics, its two chapter charts (bars and lines of text) and nothing else
    are these sums: as many bars as chapters (no row of the previous budget left in a view
    updated in place), each bar's exact amount, each line's compact total, the metrics."""
    income, spending = expected_of(sums)
    drawn = charts(page)
    for chart, wanted in zip(drawn[:2], (income, spending), strict=True):
        assert chart["bars"] == wanted
        assert set(chart["lines"]) == set(wanted)
        assert chart["texts"] == [len(wanted), len(wanted)]  # names and totals, one each
        assert all(agrees(chart["lines"][code], wanted[code]) for code in wanted), \
            chart["lines"]
    flows = sankey(page)
    if flows is not None:  # the flow diagram, once its expander is opened
        for drawn_flows, wanted in zip(flows, (income, spending), strict=True):
            assert set(drawn_flows) == {code for code, v in wanted.items() if v}
            assert all(abs(Decimal(str(v)) - wanted[code]) < Decimal("0.01")
                       for code, v in drawn_flows.items()), drawn_flows
    total_in, total_out = sum(income.values()), sum(spending.values())
    figures = metrics(page)
    assert len(figures) == 3
    assert agrees(figures[0], total_in) and agrees(figures[1], total_out), figures
    assert agrees(figures[2], total_in - total_out), figures


STAGE_WORDS = {"CA": "Compte administratif", "BP": "Budget primitif"}


def assert_explorer_consistent(page: object, url_year: bool = True) -> Path:
    """The document the heading names is the one the pickers show, the URL holds and the
    caption names as source; its figures are that document's. Returns its file."""
    title = heading(page)
    year, stage = shown(page, "Année"), shown(page, "Étape budgétaire").split(" — ")[0]
    assert title.startswith(shown(page, "Collectivité").removesuffix(" (annexe)"))
    assert title.endswith(f"(exercice {year})" if stage == "DM"
                          else f"{STAGE_WORDS[stage]} {year}"), (title, year, stage)
    if url_year:
        assert f"annee={year}" in page.url and f"etape={stage}" in page.url, page.url
    source = TOTEM / caption_source(page)
    include = order_included(page)
    operations = "toutes opérations" if include else "opérations réelles"
    assert page.get_by_text(operations, exact=False).count() >= 1
    assert_explorer_shows(page, chapter_sums(source, include_order=include))
    if not include:  # the drill-down of the chapter chosen, by nature
        direction = "recette" if page.get_by_role("radio", name="Recettes").is_checked() \
            else "depense"
        natures = nature_sums(source, direction, chapter_of(shown(page, "Chapitre")))
        rows = drill_down(page)
        # A grid draws (and its screen-reader table holds) the rows in view: each is one of
        # the document's, with its amount, and the largest come first (ties in any order: a
        # DM's natures are often all 0,00).
        assert rows and all(rows[code] in (natures[code], None) for code in rows), rows
        assert [natures[code] for code in rows] == sorted(natures.values(),
                                                          reverse=True)[:len(rows)], rows
    assert page.locator("[data-testid='stException']").count() == 0
    return source


def pick_now(page: object, label: str, option: str) -> None:
    """Pick an option without waiting for the page to settle, as a user clicking on."""
    box = page.get_by_role("combobox", name=label, exact=True)
    box.click()
    box.fill(option)
    page.get_by_role("option").filter(has_text=option).first.click()


def settled_again(page: object) -> None:
    """Settled after the last input, then once more after a second: a rerun queued behind
    the one just drawn (a fragment's, the page's) has had time to start and end."""
    settle(page)
    page.wait_for_timeout(1000)
    settle(page, rerun=False)


# -- Explorer: changes of budget, year, type, order operations, Back, reload ---------------
def test_explorer_figures_follow_every_change(server: str, page: object, size: str) -> None:
    """Montreuil CA 2023 (16 receipts' chapters, 18 spending's), Crach CA 2021 (10 and 15):
    each chart has as many bars as the budget shown has chapters, whatever came before."""
    page.goto(f"{server}/explorer?siret={MONTREUIL}&etape=CA&annee=2023")
    settle(page)
    assert assert_explorer_consistent(page).name == "Montreuil_CA_2023.xml"
    assert [c["count"] for c in charts(page)][:2] == [16, 18]
    shot(page, "montreuil_2023", size)
    # The flow diagram opened, and kept open for the next budgets: checked with the charts.
    page.get_by_text("Des recettes aux dépenses, par section").click()
    settle(page)
    assert sankey(page) is not None
    assert_explorer_consistent(page)

    # A → B → A before the page settles: the last choice wins, with its own figures.
    pick_now(page, "Collectivité", "CRACH — BUDGET PRINCIPAL")
    pick_now(page, "Collectivité", "VILLE DE MONTREUIL")
    settled_again(page)
    assert heading(page).startswith("VILLE DE MONTREUIL")
    assert assert_explorer_consistent(page).name.startswith("Montreuil_CA_")

    # To Crach: fewer chapters than Montreuil's, not one of Montreuil's rows left.
    choose(page, "Collectivité", "CRACH — BUDGET PRINCIPAL")
    settled_again(page)
    assert assert_explorer_consistent(page).name == "crach_principal_CA_2021.xml"
    assert [c["count"] for c in charts(page)][:2] == [10, 15]
    shot(page, "crach_after_montreuil", size)

    # Back to Montreuil (it has 2021: the year is kept), then the type, then the year.
    choose(page, "Collectivité", "VILLE DE MONTREUIL")
    settled_again(page)
    assert assert_explorer_consistent(page).name == "Montreuil_CA_2021.xml"
    choose(page, "Type de collectivité", "Commune")
    pick_now(page, "Année", "2023")
    settled_again(page)
    assert assert_explorer_consistent(page).name == "Montreuil_CA_2023.xml"

    # Order operations: every chapter of both kinds, then another budget with them.
    page.get_by_text("Inclure les opérations d'ordre").click()
    settled_again(page)
    assert order_included(page)
    assert assert_explorer_consistent(page).name == "Montreuil_CA_2023.xml"
    choose(page, "Collectivité", "CRACH — BUDGET PRINCIPAL")
    settled_again(page)
    assert assert_explorer_consistent(page).name == "crach_principal_CA_2021.xml"
    assert [c["count"] for c in charts(page)][:2] == [14, 19]
    shot(page, "crach_with_order", size)

    # The browser's Back button, then a reload: whatever they show, its figures are its own.
    page.go_back()
    settled_again(page)
    assert_explorer_consistent(page)
    page.reload()
    settle(page)
    assert assert_explorer_consistent(page).name == "crach_principal_CA_2021.xml"

    # A burst: another budget, order operations and another year, each before the last
    # settles; then to another page and back by the sidebar (the same session).
    pick_now(page, "Collectivité", "VILLE DE MONTREUIL")
    page.get_by_text("Inclure les opérations d'ordre").click()
    pick_now(page, "Année", "2023")
    settled_again(page)
    assert assert_explorer_consistent(page).name == "Montreuil_CA_2023.xml"
    go_to(page, "Comprendre un budget", "comprendre", size)
    go_to(page, "Explorer un budget", "explorer", size)
    settled_again(page)
    assert assert_explorer_consistent(page).name == "Montreuil_CA_2023.xml"
    shot(page, "montreuil_back_from_comprendre", size)


def test_a_shared_link_shows_its_budget_over_the_one_chosen_before(server: str,
                                                                  page: object) -> None:
    """A link to another budget, opened in a tab that showed one: the link's budget, year and
    stage, with its figures; then a DM link (Crach 2021 has two), each DM its own figures."""
    page.goto(f"{server}/explorer?siret={MONTREUIL}&etape=CA&annee=2023")
    settle(page)
    page.goto(f"{server}/explorer?siret={CRACH}&etape=BP&annee=2022")
    settle(page)
    assert assert_explorer_consistent(page).name == "crach_principal_BP_2022.xml"
    page.goto(f"{server}/explorer?siret={CRACH}&etape=DM&annee=2021")
    settle(page)
    for dm in ("DM2", "DM3"):
        if dm == "DM3":
            choose(page, "Document", "DM n° 3 du 13/12/2021")
            settled_again(page)
        title = heading(page)
        assert title.endswith({"DM2": "DM n° 2 du 22/11/2021 (exercice 2021)",
                               "DM3": "DM n° 3 du 13/12/2021 (exercice 2021)"}[dm]), title
        source = TOTEM / caption_source(page)
        assert source.name == f"crach_principal_{dm}_2021.xml"
        assert_explorer_shows(page, chapter_sums(source))


# -- two users at once ---------------------------------------------------------------------
@pytest.fixture
def two_users(browser: object) -> Iterator[tuple[object, object]]:
    """Two browser contexts (two visitors: no cookie, storage or session shared), a tab
    each at 1440×900."""
    contexts = [browser.new_context(viewport=SIZES["desktop"]) for _ in range(2)]
    pages = []
    for context in contexts:
        context.add_init_script(OBSERVER)
        pages.append(context.new_page())
    yield pages[0], pages[1]
    for context in contexts:
        context.close()


def test_an_upload_stays_in_its_session_while_another_user_explores(
        server: str, two_users: tuple[object, object]) -> None:
    """One visitor uploads Crach lotissement's DM1 2022 on Données and opens it; another,
    at the same time on the same budget, sees the stored DM only, even through the first
    one's link (its `doc` names the upload); both change budgets at the same moment and each
    gets the figures of the budget it chose."""
    uploader, other = two_users
    other.goto(f"{server}/explorer?siret={LOTISSEMENT}&etape=DM&annee=2022")
    uploader.goto(f"{server}/donnees")
    settle(other)
    settle(uploader)
    dm1 = TOTEM / "crach_lotissement_DM1_2022.xml"
    uploader.locator("input[type='file']").set_input_files(str(dm1))
    link = uploader.get_by_text("Explorer ce document", exact=False)
    link.wait_for(timeout=30_000)
    settle(uploader)
    link.click()
    settle(uploader)
    assert shown(uploader, "Document") == ("DM n° 1 du 04/07/2022 — déposé : "
                                           "crach_lotissement_DM1_2022.xml")
    assert uploader.get_by_text("fichier déposé, non enregistré dans le cache").count() == 1
    assert_explorer_shows(uploader, chapter_sums(dm1))
    shared = uploader.url
    assert "doc=depot_" in shared

    other.reload()
    settle(other)
    for page in (other, None):
        if page is None:  # the uploader's link, in the other visitor's browser
            other.goto(shared)
            settle(other)
        assert other.get_by_role("combobox", name="Document", exact=True).count() == 0
        assert other.get_by_text("déposé").count() == 0
        assert caption_source(other) == "crach_lotissement_DM1_2022.xml"
        assert_explorer_shows(other, chapter_sums(dm1))

    # Both change budget at the same moment, then each reads its own figures.
    pick_now(uploader, "Collectivité", "VILLE DE MONTREUIL")
    pick_now(other, "Collectivité", "CRACH — BUDGET PRINCIPAL")
    settled_again(uploader)
    settled_again(other)
    assert caption_source(uploader).startswith("Montreuil_CA_")
    assert_explorer_consistent(uploader)
    assert caption_source(other).startswith("crach_principal_")
    assert_explorer_consistent(other)
    assert other.get_by_text("déposé").count() == 0


# -- an upload holding several documents ---------------------------------------------------
def scdl_chapter_sums(path: Path, stage: str, plan: str, year: int
                      ) -> dict[tuple[str, str], Decimal]:
    """(direction, chapter) → the stage's amount of the real operations of one document of
    an SCDL file, without the results carried over (001, 002): read with the csv module;
    the chapter is `BGT_CONTNAT`, else the plan de comptes' real chapter of the nature (the
    file names no plan: `plan` is its TOTEM twin's)."""
    accounts, _ = plan_of(plan, year)
    column = "BGT_MTREAL" if stage == "CA" else "BGT_MTPREV"
    out: dict[tuple[str, str], Decimal] = {}
    with path.open(encoding="utf-8", newline="") as file:
        for row in csv.DictReader(file):
            if (row["BGT_NATDEC"] != {"CA": "Compte administratif",
                                      "BP": "Budget primitif"}[stage]
                    or row["BGT_OPBUDG"] != "réel" or row["BGT_NATURE"] in ("001", "002")):
                continue
            direction = "depense" if row["BGT_CODRD"] == "dépense" else "recette"
            chapter = row["BGT_CONTNAT"]
            if not chapter:
                code = row["BGT_NATURE"]
                while code not in accounts:
                    code = code[:-1]
                chapter = accounts[code][0 if direction == "depense" else 1]
            key = (direction, chapter)
            out[key] = out.get(key, Decimal(0)) + Decimal(row[column] or "0")
    return out


def test_each_document_of_an_uploaded_file_opens_as_itself(server: str, page: object,
                                                          size: str) -> None:
    """An SCDL file holding Crach lotissement's BP 2022 and CA 2021: Données offers a link to
    each, and each opens that uploaded document in Explorer, with its own figures. Both were
    kept under one key (`depot_<sha256>_<siret>`): the BP was replaced by the CA, and its link
    showed the stored BP instead."""
    for number, stage, year in ((0, "BP", 2022), (1, "CA", 2021)):
        page.goto(f"{server}/donnees")
        settle(page)
        page.locator("input[type='file']").set_input_files(str(COMBINED))
        links = page.get_by_text("Explorer ce document", exact=False)
        links.nth(1).wait_for(timeout=30_000)
        settle(page)
        if number == 0:
            shot(page, "donnees_two_documents", size)
        links.nth(number).click()
        settle(page)
        assert f"etape={stage}" in page.url and f"annee={year}" in page.url
        assert page.get_by_text("fichier déposé, non enregistré dans le cache").count() == 1
        assert caption_source(page) == COMBINED.name
        assert heading(page).endswith(f"{STAGE_WORDS[stage]} {year}")
        assert_explorer_shows(page, scdl_chapter_sums(COMBINED, stage,
                                                      "M14-M14_COM_500_3500", year))
        shot(page, f"upload_{stage}", size)


# -- Prévu / réalisé and Évolution ---------------------------------------------------------
EXECUTION = re.compile(r"Chapitre: (?P<chapter>.+?); Montant: (?P<kind>Crédits ouverts|Réalisé); "
                       r"€: (?P<amount>[^;]+)$")
EXECUTED = {"VILLE DE MONTREUIL — BUDGET PRINCIPAL MONTREUIL": "Montreuil_CA_{}.xml",
            "CRACH — BUDGET PRINCIPAL": "crach_principal_CA_{}.xml"}


def execution_bars(page: object) -> dict[str, dict[str, Decimal]]:
    """Prévu / réalisé's chart: kind (Crédits ouverts, Réalisé) → chapter code → amount."""
    out: dict[str, dict[str, Decimal]] = {"Crédits ouverts": {}, "Réalisé": {}}
    [chart] = page.evaluate(CHARTS)
    for label in chart["bars"]:
        found = EXECUTION.search(label)
        assert found, label
        out[found["kind"]][chapter_of(found["chapter"])] = exact(found["amount"])
    return out


def assert_execution_shows(page: object, source: Path | None = None) -> Path:
    """Prévu / réalisé's metrics and bars are the crédits ouverts (CredOuv) and réalisé
    (MtReal) of the real operations of the CA its pickers name (or of `source`), by chapter,
    in the direction chosen. Returns the document's file."""
    source = source or TOTEM / EXECUTED[shown(page, "Collectivité")].format(
        shown(page, "Année"))
    direction = "recette" if page.get_by_role("radio", name="Recettes").is_checked() \
        else "depense"
    wanted = {kind: {c: v for (d, c), v in chapter_sums(source, amount=amount).items()
                     if d == direction}
              for kind, amount in (("Crédits ouverts", "CredOuv"), ("Réalisé", "MtReal"))}
    assert execution_bars(page) == wanted
    voted, done = (sum(wanted[kind].values()) for kind in ("Crédits ouverts", "Réalisé"))
    figures = metrics(page)
    assert agrees(figures[0], voted) and agrees(figures[1], done), figures
    assert figures[2] == f"{done / voted * 100:.1f}\u202f%".replace(".", ","), figures
    assert page.locator("[data-testid='stException']").count() == 0
    return source


def test_execution_figures_follow_the_budget_year_and_direction(server: str,
                                                               page: object) -> None:
    page.goto(f"{server}/execution?exe_siret={MONTREUIL}&exe_annee=2023")
    settle(page)
    assert assert_execution_shows(page).name == "Montreuil_CA_2023.xml"
    choose(page, "Collectivité", "CRACH — BUDGET PRINCIPAL")
    settled_again(page)
    assert assert_execution_shows(page).name == "crach_principal_CA_2021.xml"
    page.get_by_text("Recettes", exact=True).click()
    settled_again(page)
    assert assert_execution_shows(page).name == "crach_principal_CA_2021.xml"
    choose(page, "Collectivité", "VILLE DE MONTREUIL")
    pick_now(page, "Année", "2022")
    pick_now(page, "Année", "2023")
    settled_again(page)
    assert assert_execution_shows(page).name == "Montreuil_CA_2023.xml"
    page.reload()
    settle(page)
    assert assert_execution_shows(page).name == "Montreuil_CA_2023.xml"


TOTAL = re.compile(r"Exercice: (?P<year>\d{4}); Montant: [^;]+; Total: (?P<amount>[^;]+);")


def yearly_totals(side: str) -> dict[str, Decimal]:
    """Montreuil's real operations (MtReal) of each CA 2016-2023 without 001/002, summed
    over one side (CodRD `D` or `R`), by year: no chapter needed."""
    return {str(year): sum((v for (_, rd), v in real_sums_without_carryover(
        TOTEM / f"Montreuil_CA_{year}.xml", "MtReal").items() if rd == side), Decimal(0))
        for year in range(2016, 2024)}


def evolution_totals(page: object) -> dict[str, Decimal]:
    """Évolution's total chart: year → exact total, read from its points' aria labels."""
    chart = page.evaluate(CHARTS_POINTS)[0]
    return {found["year"]: exact(found["amount"])
            for found in (TOTAL.search(label) for label in chart) if found}


CHARTS_POINTS = """() => [...document.querySelectorAll('.vega-embed')].map(chart =>
    [...chart.querySelectorAll('path[aria-roledescription="point"]')]
        .map(point => point.getAttribute('aria-label')))"""


def test_evolution_totals_follow_the_direction_and_the_unit(server: str, page: object) -> None:
    """Montreuil's CAs 2016-2023: each year's total spending, then receipts, then spending
    again after « En € par habitant » on and off."""
    page.goto(f"{server}/evolution?evo_siret={MONTREUIL}")
    settle(page)
    spending = yearly_totals("D")
    assert evolution_totals(page) == spending
    page.get_by_text("Recettes", exact=True).click()
    settled_again(page)
    assert evolution_totals(page) == yearly_totals("R")
    page.get_by_text("Dépenses", exact=True).click()
    settled_again(page)
    page.get_by_text("En € par habitant").click()
    settled_again(page)
    # Per inhabitant: each year's total over the population its CA states (PopTot, 2017 to
    # 2023), and the change on the year before written above each point, of the values drawn.
    people = {year: french_number(informations(TOTEM / f"Montreuil_CA_{year}.xml")["PopTot"])
              for year in range(2017, 2024)}
    drawn = evolution_per_head(page)
    for year in range(2018, 2024):
        now, before = (spending[str(y)] / people[y] for y in (year, year - 1))
        shown_value, change = drawn[str(year)]
        assert agrees(shown_value, now), (year, shown_value, now)
        written = f"{float(now / before - 1):+.1%}".replace(".", ",").replace("%", "\u202f%")
        assert change == written, (year, change)
    page.get_by_text("En € par habitant").click()
    settled_again(page)
    assert evolution_totals(page) == spending
    assert page.locator("[data-testid='stException']").count() == 0


# The year-on-year changes written above the total's points: each label's box on screen.
CHANGE_LABELS = """() => [...document.querySelector('.vega-embed')
    .querySelectorAll('g.mark-text text')].filter(label => label.textContent.includes('%'))
    .map(label => { const box = label.getBoundingClientRect();
                    return [box.left, box.top, box.right, box.bottom]; })"""


def test_evolution_change_labels_do_not_overlap(server: str, page: object, size: str) -> None:
    """Montreuil's eight years: each change on the year before reads whole, on a projector
    and on a phone, where eight labels of « +16,8 % » are wider than the space between two
    points unless written upwards."""
    page.goto(f"{server}/evolution?evo_siret={MONTREUIL}")
    settle(page)
    labels = page.evaluate(CHANGE_LABELS)
    shot(page, "evolution_labels", size)
    assert len(labels) == 7  # 2017 to 2023: 2016 has no year before it
    for i, (left, top, right, bottom) in enumerate(labels):
        for other_left, other_top, other_right, other_bottom in labels[i + 1:]:
            apart = (right <= other_left or other_right <= left or bottom <= other_top
                     or other_bottom <= top)
            assert apart, (size, labels)


PER_HEAD = re.compile(r"Exercice: (?P<year>\d{4}); € par habitant: [^;]+; Total: (?P<value>[^;]+); "
                      r"Évolution sur un an: (?P<change>.*)$")


def evolution_per_head(page: object) -> dict[str, tuple[str, str]]:
    """Évolution's total chart in € per inhabitant: year → (value, change written)."""
    chart = page.evaluate(CHARTS_POINTS)[0]
    return {found["year"]: (found["value"], found["change"])
            for found in (PER_HEAD.search(label) for label in chart) if found}


# -- Comprendre ----------------------------------------------------------------------------
def assert_comprendre_shows(page: object) -> Path:
    """Comprendre's four section metrics (real operations without 001/002, the section
    from the vote chapter or the nature's class) and its three largest spending chapters
    (to the euro) are those of the document its heading and caption name."""
    source = TOTEM / {
        "VILLE DE MONTREUIL — BUDGET PRINCIPAL MONTREUIL": "Montreuil_CA_{}.xml",
        "CRACH — BUDGET PRINCIPAL": "crach_principal_CA_{}.xml"}[
        shown(page, "Collectivité")].format(shown(page, "Année"))
    assert heading(page).endswith(f"Compte administratif {shown(page, 'Année')}")
    sections = real_sums_without_carryover(source, "MtReal")
    figures = metrics(page)
    for shown_value, key in zip(figures[:4], (("F", "R"), ("F", "D"), ("I", "R"), ("I", "D")),
                                strict=True):
        assert agrees(shown_value, sections[key]), (figures, sections)
    spending = sorted(((v, c) for (d, c), v in chapter_sums(source).items() if d == "depense"),
                      reverse=True)[:3]
    text = page.locator("[data-testid='stMarkdownContainer'] li").all_inner_texts()
    largest = [line for line in text if re.match(r"\d{2,3} — ", line)]
    assert [chapter_of(line) for line in largest] == [c for _, c in spending]
    assert all(agrees(line.split(" : ")[1].split(" (")[0], v)  # to the euro
               for line, (v, _) in zip(largest, spending, strict=True)), largest
    assert page.locator("[data-testid='stException']").count() == 0
    return source


def test_comprendre_figures_follow_the_budget(server: str, page: object) -> None:
    page.goto(f"{server}/comprendre?siret={MONTREUIL}&etape=CA&annee=2023")
    settle(page)
    assert assert_comprendre_shows(page).name == "Montreuil_CA_2023.xml"
    pick_now(page, "Collectivité", "CRACH — BUDGET PRINCIPAL")
    pick_now(page, "Collectivité", "VILLE DE MONTREUIL")
    settled_again(page)
    assert assert_comprendre_shows(page).name.startswith("Montreuil_CA_")
    choose(page, "Collectivité", "CRACH — BUDGET PRINCIPAL")
    settled_again(page)
    assert assert_comprendre_shows(page).name == "crach_principal_CA_2021.xml"
    page.go_back()
    settled_again(page)
    assert_comprendre_shows(page)


# -- Comparer ------------------------------------------------------------------------------
COMPARED = re.compile(r"Budget: (?P<budget>.+?); Chapitre: (?P<chapter>.+?); "
                      r"(?:Montant|€ par habitant): (?P<amount>[^;]+)$")
CA_2021 = {"VILLE DE MONTREUIL — BUDGET PRINCIPAL MONTREUIL": "Montreuil_CA_2021.xml",
           "CRACH — BUDGET PRINCIPAL": "crach_principal_CA_2021.xml",
           "CRACH — LOTISSEMENT LE BOCENO (annexe)": "crach_lotissement_CA_2021.xml"}


def compared_bars(page: object) -> dict[str, dict[str, Decimal]]:
    """Comparer's chart: budget → chapter code → amount."""
    out: dict[str, dict[str, Decimal]] = {}
    [chart] = page.evaluate(CHARTS)
    for label in chart["bars"]:
        found = COMPARED.search(label)
        assert found, label
        out.setdefault(found["budget"], {})[chapter_of(found["chapter"])] = \
            exact(found["amount"])
    return out


def assert_comparer_shows(page: object, budgets: list[str], direction: str) -> None:
    """Each budget's bars are its CA 2021's real operations by chapter, nothing else."""
    wanted = {name: {c: v for (d, c), v in chapter_sums(TOTEM / CA_2021[name]).items()
                     if d == direction} for name in budgets}
    assert compared_bars(page) == wanted
    assert page.locator("[data-testid='stException']").count() == 0


def test_comparer_figures_follow_the_budgets_direction_and_unit(server: str,
                                                               page: object) -> None:
    montreuil, crach, lotissement = CA_2021
    page.goto(f"{server}/comparer?cmp_etape=CA&cmp_annee=2021&cmp={MONTREUIL},{CRACH}")
    settle(page)
    assert_comparer_shows(page, [montreuil, crach], "depense")
    page.get_by_text("Recettes", exact=True).click()
    settled_again(page)
    assert_comparer_shows(page, [montreuil, crach], "recette")
    # Montreuil out, the lotissement in: Montreuil's bars leave the view updated in place.
    chips = page.locator("[data-testid='stMultiSelect']")
    chips.get_by_role("button", name=re.compile("VILLE DE MONTREUIL")).first.click()
    settled_again(page)
    box = page.get_by_role("combobox", name="Budgets à comparer (2 à 10)")
    box.click()
    box.fill("LOTISSEMENT")
    page.get_by_role("option").filter(has_text="LOTISSEMENT").first.click()
    settled_again(page)
    page.keyboard.press("Escape")
    settled_again(page)
    assert_comparer_shows(page, [crach, lotissement], "recette")
    page.get_by_text("En € par habitant").click()
    settled_again(page)
    # Per inhabitant: each budget's chapters over the population its CA states (PopTot).
    drawn = compared_bars(page)
    assert set(drawn) == {crach, lotissement}
    for name, bars in drawn.items():
        source = TOTEM / CA_2021[name]
        people = french_number(informations(source)["PopTot"])
        wanted = {c: v / people for (d, c), v in chapter_sums(source).items() if d == "recette"}
        assert set(bars) == set(wanted)
        assert all(abs(bars[c] - wanted[c]) <= Decimal("0.005") for c in wanted), (name, bars)
    page.get_by_text("En € par habitant").click()
    settled_again(page)
    assert_comparer_shows(page, [crach, lotissement], "recette")


def test_comparer_opens_on_two_budgets_whatever_another_visitor_uploaded(
        server: str, two_users: tuple[object, object], tmp_path: Path) -> None:
    """One visitor uploads Crach's CA 2021 under its full name « COMMUNE DE CRACH » (the
    real document, `LibelleColl` renamed: its name sorts first) and opens Comparer on the CAs
    of 2021: their default pair leads with their upload. Another visitor opening Comparer on
    the same stage and year gets the default pair of the stored documents, Crach and
    Montreuil, with their figures."""
    uploader, other = two_users
    renamed = tmp_path / "crach_principal_CA_2021.xml"
    renamed.write_bytes((TOTEM / renamed.name).read_bytes().replace(
        b'LibelleColl V="CRACH"', b'LibelleColl V="COMMUNE DE CRACH"'))
    uploader.goto(f"{server}/donnees")
    settle(uploader)
    uploader.locator("input[type='file']").set_input_files(str(renamed))
    link = uploader.get_by_text("Explorer ce document", exact=False)
    link.wait_for(timeout=30_000)
    settle(uploader)
    go_to(uploader, "Comparer", "comparer", "desktop")
    uploader.get_by_role("combobox", name="Étape budgétaire", exact=True).wait_for()
    for label, option in (("Étape budgétaire", "CA — Compte administratif"),
                          ("Année", "2021")):
        if shown(uploader, label) != option:  # Comparer opens where the most budgets are
            choose(uploader, label, option)
    assert "COMMUNE DE CRACH" in uploader.locator("[data-testid='stMultiSelect']").inner_text()

    other.goto(f"{server}/comparer?cmp_etape=CA&cmp_annee=2021")
    settle(other)
    assert "COMMUNE DE CRACH" not in other.locator("[data-testid='stApp']").inner_text()
    montreuil, crach, _ = CA_2021
    chips = other.locator("[data-testid='stMultiSelect']").inner_text()
    assert crach in chips and montreuil.split(" — ")[0] in chips, chips
    assert_comparer_shows(other, [crach, montreuil], "depense")


def corrected(folder: Path) -> Path:
    """Crach's CA 2021 as a collectivité corrects it (the real document, its first real
    spending line of chapter 011 realised 1 000,00 € more), under the same file name."""
    tree = etree.parse(str(TOTEM / "crach_principal_CA_2021.xml"))
    lines = tree.xpath("//d:LigneBudget[not(@calculated='true')]", namespaces=NS)
    line = next(line for line in lines
                if value(line, "OpBudg") == "0" and value(line, "CodRD") == "D"
                and value(line, "ContNat") == "011" and Decimal(value(line, "MtReal") or 0))
    amount = line.find("d:MtReal", NS)
    amount.set("V", str(Decimal(amount.get("V")) + 1000))
    path = folder / "crach_principal_CA_2021.xml"
    tree.write(str(path), encoding="ISO-8859-1", xml_declaration=True)
    return path


def test_a_corrected_upload_replaces_the_first_and_is_the_one_every_page_shows(
        server: str, page: object, tmp_path: Path) -> None:
    """Crach's CA 2021 uploaded, then its corrected version under the same name: Explorer
    lists one uploaded document beside the stored one (both uploads were listed, under one
    name), with the corrected figures; Prévu / réalisé shows the corrected CA and says so
    (it showed the stored one, the first of the year)."""
    fixed = corrected(tmp_path)
    page.goto(f"{server}/donnees")
    settle(page)
    for path in (TOTEM / fixed.name, fixed):
        page.locator("input[type='file']").set_input_files(str(path))
        page.get_by_text("Explorer ce document", exact=False).wait_for(timeout=30_000)
        settle(page)
    page.get_by_text("Explorer ce document", exact=False).click()
    settle(page)
    box = page.get_by_role("combobox", name="Document", exact=True)
    box.click()
    options = page.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    assert options == ["Compte administratif",
                       "Compte administratif — déposé : crach_principal_CA_2021.xml"]
    assert_explorer_shows(page, chapter_sums(fixed))
    go_to(page, "Prévu / réalisé", "execution", "desktop")
    assert (shown(page, "Collectivité"), shown(page, "Année")) == (
        "CRACH — BUDGET PRINCIPAL", "2021")
    assert page.get_by_text("Source : crach_principal_CA_2021.xml (fichier déposé").count() == 1
    assert_execution_shows(page, fixed)


# -- Se comparer (OFGL agrégats) -----------------------------------------------------------
OFGL = FIXTURES / "national" / "ofgl-base-communes_guadeloupe_2024.csv"


def ofgl_rows() -> list[dict[str, str]]:
    """The budgets principaux of the real OFGL export the demo's national accounts hold."""
    with OFGL.open(encoding="utf-8-sig", newline="") as file:
        return [row for row in csv.DictReader(file, delimiter=";")
                if row["Type de budget"] == "Budget principal"]


def assert_se_comparer_shows(page: object) -> None:
    """The commune's € per inhabitant of the agrégat, its group's median, its rank and the
    group's size (the communes of the same strate, or all) are those of the export."""
    name, agregat = shown(page, "Collectivité"), shown(page, "Agrégat")
    group = shown(page, "Comparer avec")
    rows = [r for r in ofgl_rows() if r["Agrégat"] == agregat]
    [own] = [r for r in rows if f"{r['Nom 2024 Commune']} ({r['Code Insee 2024 Département']})"
             == name]
    if group == "Même strate de population":
        rows = [r for r in rows if r["Strate population 2024"] == own["Strate population 2024"]]
    else:
        assert group == "Toutes", group
    values = [float(r["Montant en € par habitant"]) for r in rows]
    mine = float(own["Montant en € par habitant"])
    cards = page.locator("[data-testid='stMetric']").all_inner_texts()[:3]
    (label, value), (median_label, median), (_, rank) = (c.split("\n\n") for c in cards)
    assert label == f"{name} (2024)"
    assert agrees(value.removesuffix("/hab"), Decimal(str(mine)))
    assert median_label == f"Médiane du groupe ({len(values)} collectivités)"
    assert agrees(median.removesuffix("/hab"), Decimal(str(statistics.median(values))))
    assert rank == f"{1 + sum(v > mine for v in values)} / {len(values)}"
    assert page.locator("[data-testid='stException']").count() == 0


def test_se_comparer_figures_follow_the_commune_agregat_and_group(server: str,
                                                                 page: object) -> None:
    page.goto(f"{server}/se-comparer?mode=agregats&niveau=communes&siren_national=219711025"
              "&pairs=strate&agregat=Achats+et+charges+externes")
    settle(page)
    assert_se_comparer_shows(page)
    pick_now(page, "Collectivité", "Les Abymes (971)")
    pick_now(page, "Collectivité", "Baie-Mahault (971)")
    settled_again(page)
    assert shown(page, "Collectivité") == "Baie-Mahault (971)"
    assert_se_comparer_shows(page)
    choose(page, "Agrégat", "Frais de personnel")
    settled_again(page)
    assert_se_comparer_shows(page)
    choose(page, "Comparer avec", "Toutes")
    settled_again(page)
    assert_se_comparer_shows(page)
    choose(page, "Collectivité", "Les Abymes (971)")
    settled_again(page)
    assert (shown(page, "Agrégat"), shown(page, "Comparer avec")) == ("Frais de personnel",
                                                                      "Toutes")
    assert_se_comparer_shows(page)
    page.reload()
    settle(page)
    assert_se_comparer_shows(page)


# -- Se comparer by chapter (DGFiP balances) -----------------------------------------------
@pytest.fixture(scope="module")
def balances_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on the demo data with a cache holding the 20 real balance rows of
    tests/fixtures/balances/ (2024: Grenoble, Chambéry, Annecy, Lyon)."""
    cache = tmp_path_factory.mktemp("cache")
    with BalanceStore(cache / "balances") as store:
        store.import_csv(SAMPLE, "communes")
    yield from streamlit_server(BUDGET_DATA_DIR=str(DEMO_DIR), BUDGET_CACHE_DIR=str(cache))


# What a screen reader hears of a chapter's band (charts.chapter_peers).
PEER = re.compile(r"^(?P<chapter>.+?) : la collectivité (?P<value>[^;]+) ; médiane du groupe "
                  r"(?P<median>[^;]+) ; moitié centrale du groupe de [^;]+ ; (?P<rank>[^;]+)$")


def test_se_comparer_by_chapter_follows_the_commune_and_direction(balances_server: str,
                                                                 page: object) -> None:
    """Grenoble's receipts (chapter 13), Chambéry's receipts (13) then spending (21), among
    the communes of their région, each changed before the last settles: the chart updated in
    place holds the commune's one chapter, its € per inhabitant (raw CSV over the population
    in force in 2024) and the group's median."""
    people = history_2024()
    real = real_by_chapter(raw_rows())
    page.goto(f"{balances_server}/se-comparer?mode=chapitres&chap_pairs=region"
              f"&chap_siren={GRENOBLE[:9]}&chap_sens=Recettes")
    settle(page)
    names = {GRENOBLE[:9]: "GRENOBLE (38185)", CHAMBERY[:9]: "CHAMBERY (73065)"}
    for siren, direction, chapter, quick in ((GRENOBLE[:9], "recette", "13", False),
                                             (CHAMBERY[:9], "recette", "13", True),
                                             (CHAMBERY[:9], "depense", "21", False)):
        if quick:
            pick_now(page, "Commune", names[CHAMBERY[:9]])
            pick_now(page, "Commune", names[GRENOBLE[:9]])
            pick_now(page, "Commune", names[siren])
        elif direction == "depense":
            page.get_by_text("Dépenses", exact=True).click()
        settled_again(page)
        chart = page.evaluate(CHARTS)[0]  # the placement (the maps follow)
        rows = {PEER.search(label)["chapter"] for label in chart["bars"] if PEER.search(label)}
        assert {chapter_of(row) for row in rows} == {chapter}, chart["bars"]
        found = next(PEER.search(label) for label in chart["bars"] if PEER.search(label))
        mine = real[siren, direction, chapter] / people[siren]
        assert agrees(found["value"].removesuffix("/hab"), mine), found["value"]
        # Grenoble, Chambéry, Annecy and Lyon are all of Auvergne-Rhône-Alpes.
        peers = [real[s, direction, chapter] / people[s] for (s, d, c) in real
                 if (d, c) == (direction, chapter)]
        assert agrees(found["median"].removesuffix("/hab"),
                      Decimal(str(statistics.median(peers)))), found["median"]
        assert page.locator("[data-testid='stException']").count() == 0
