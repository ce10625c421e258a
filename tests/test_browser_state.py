"""The choice that follows the user and the DMs kept apart, seen in a real Chromium.

Uses the `server`, `page` and `size` fixtures of tests/conftest.py (streamlit run on the demo
data, a Chromium tab, each test at both sizes).
Screenshots at 1440×900 and 390×844 go to test-artifacts/ (state_*.png).
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest

from budget_core.fmt import euros
from tests.conftest import ARTIFACTS, CHROMIUM, TOTEM, settle
from tests.rawxml import budget_lines, value

playwright = pytest.importorskip("playwright.sync_api")
MONTREUIL = "21930048000015"
CRACH = "21560046100010"
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium absent")]
expect = playwright.expect
def shot(page: object, name: str, size: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"state_{name}_{size}.png"), full_page=True)


def shown(page: object, label: str) -> str:
    """What a selectbox shows (its combobox input holds the chosen option's text)."""
    return str(page.get_by_role("combobox", name=label, exact=True).input_value())


def choose(page: object, label: str, option: str) -> None:
    """Open a selectbox and pick an option by its text, as a user does."""
    box = page.get_by_role("combobox", name=label, exact=True)
    box.click()
    box.fill(option)
    page.get_by_role("option").filter(has_text=option).first.click()
    settle(page)


def go_to(page: object, title: str, path: str, size: str) -> None:
    """Follow the sidebar navigation, as a user does (the URL loses its parameters)."""
    nav = page.locator("[data-testid='stSidebarNav']")
    expand = page.locator("[data-testid='stExpandSidebarButton']")
    # Collapsed in an earlier tab of the context (at 390 px), the sidebar stays collapsed at
    # 1440 px: its links are then out of the viewport, not hidden.
    if expand.is_visible() or not nav.is_visible():
        expand.click()
    nav.get_by_text(title, exact=True).click()
    page.wait_for_url(f"**/{path}*", timeout=30_000)
    settle(page)
    if size == "mobile" and nav.is_visible():  # the sidebar covers a phone's page
        page.locator("[data-testid='stSidebarCollapseButton'] button").click()
        nav.wait_for(state="hidden")
        settle(page, rerun=False)  # its slide over


def test_the_choice_is_kept_across_pages(server: str, page: object, size: str) -> None:
    page.goto(f"{server}/explorer?siret={MONTREUIL}&etape=CA&annee=2023")
    settle(page)
    montreuil = "VILLE DE MONTREUIL — BUDGET PRINCIPAL MONTREUIL"
    assert shown(page, "Collectivité") == montreuil
    shot(page, "explorer", size)
    go_to(page, "Prévu / réalisé", "execution", size)
    assert (shown(page, "Collectivité"), shown(page, "Année")) == (montreuil, "2023")
    assert f"exe_siret={MONTREUIL}" in page.url and "exe_annee=2023" in page.url
    shot(page, "execution", size)
    go_to(page, "Évolution", "evolution", size)
    assert shown(page, "Collectivité") == montreuil
    assert shown(page, "Étape budgétaire") == "CA — Compte administratif"
    chips = page.locator("[data-testid='stMultiSelect']")
    assert "011 — Charges à caractère général" in chips.inner_text()
    page.locator("[data-testid='stRadio']").get_by_text("Recettes", exact=True).click()
    # The rerun may start after a first `settle` on a busy machine: wait for what it shows.
    expect(chips).to_contain_text("73 — Impôts et taxes", timeout=30_000)
    settle(page)
    assert "011 — Charges à caractère général" not in chips.inner_text()
    shot(page, "evolution", size)
    go_to(page, "Comprendre un budget", "comprendre", size)
    assert (shown(page, "Collectivité"), shown(page, "Année")) == (montreuil, "2023")
    shot(page, "comprendre", size)


def chapter_from_csv(page: object, chapter: str) -> Decimal:
    """The spending of a chapter in the CSV the page lets the user download."""
    button = page.get_by_text("Télécharger ces données (CSV)").first  # the chapters'
    if not button.is_visible():  # in its expander, closed until opened once
        page.get_by_text("Données du graphique (tableau et CSV)").first.click()
        settle(page)  # opening it reruns the page, which draws the button anew: click that one
        button.wait_for(state="visible", timeout=30_000)
    with page.expect_download() as download:
        button.click()
    text = download.value.path().read_bytes().decode("utf-8-sig")
    [row] = [row for row in csv.DictReader(io.StringIO(text))
             if row["chapitre"] == chapter and row["sens"] == "depense"]
    return Decimal(row["montant"].replace("\u202f", "").replace(" ", "").replace(",", "."))


def voted_in_chapter(name: str, chapter: str) -> Decimal:
    return sum((Decimal(value(line, "MtPrev") or "0")
                for line in budget_lines(TOTEM / f"crach_principal_{name}_2021.xml")
                if value(line, "ContNat") == chapter), Decimal(0))


def test_each_dm_is_its_own_document(server: str, page: object, size: str) -> None:
    page.goto(f"{server}/explorer?siret={CRACH}&etape=DM&annee=2021")
    settle(page)
    assert shown(page, "Document") == "DM n° 2 du 22/11/2021"
    assert page.get_by_text("DM n° 2 du 22/11/2021 (exercice 2021)").count() == 1
    if size == "desktop":
        assert chapter_from_csv(page, "014") == voted_in_chapter("DM2", "014") == \
            Decimal("1595.00")
    choose(page, "Document", "DM n° 3 du 13/12/2021")
    page.get_by_text("DM n° 3 du 13/12/2021 (exercice 2021)").wait_for(timeout=30_000)
    assert "doc=21560046100010_2021_DM_" in page.url
    if size == "desktop":
        assert chapter_from_csv(page, "014") == voted_in_chapter("DM3", "014") == \
            Decimal("562.00")
    shot(page, "explorer_dm3", size)


def test_an_upload_opens_in_explorer_in_one_click(server: str, page: object, size: str) -> None:
    page.goto(f"{server}/donnees")
    settle(page)
    page.locator("input[type='file']").set_input_files(
        str(TOTEM / "crach_lotissement_DM1_2022.xml"))
    link = page.get_by_text("Explorer ce document", exact=False)
    link.wait_for(timeout=30_000)
    shot(page, "donnees_upload", size)
    link.click()
    settle(page)
    assert "/explorer" in page.url
    assert shown(page, "Document") == ("DM n° 1 du 04/07/2022 — déposé : "
                                       "crach_lotissement_DM1_2022.xml")
    assert page.get_by_text("fichier déposé, non enregistré dans le cache").count() == 1
    assert page.locator("[data-testid='stException']").count() == 0
    shot(page, "explorer_upload", size)


def test_comparer_groups_two_budgets_of_crach(server: str, page: object, size: str) -> None:
    page.goto(f"{server}/comparer?cmp_etape=BP&cmp_annee=2022"
              "&cmp=21560046100010,21560046100085")
    settle(page)
    chosen = page.locator("[data-testid='stMultiSelect']").inner_text()
    assert "CRACH — BUDGET PRINCIPAL" in chosen
    assert "CRACH — LOTISSEMENT LE BOCENO (annexe)" in chosen
    assert page.get_by_text("Télécharger ces données (CSV)").count() == 1
    assert page.locator("[data-testid='stException']").count() == 0
    shot(page, "comparer", size)


def subheader(page: object) -> str:
    return str(page.locator("[data-testid='stHeading'] h3").first.inner_text())


@pytest.mark.parametrize("path", ["explorer", "comprendre"])
def test_a_filter_that_keeps_the_budget_keeps_the_page_one_that_changes_it_redraws_it(
        server: str, page: object, size: str, path: str) -> None:
    """The filters rerun alone (a fragment) while the budget stays chosen; another budget
    reruns the page: its title and figures follow."""
    page.goto(f"{server}/{path}?siret={MONTREUIL}&etape=CA&annee=2023")
    settle(page)
    montreuil = "VILLE DE MONTREUIL — BUDGET PRINCIPAL MONTREUIL — Compte administratif 2023"
    assert subheader(page) == montreuil
    figures = page.locator("[data-testid='stMetricValue']").all_inner_texts()
    choose(page, "Type de collectivité", "Commune")
    assert (subheader(page), shown(page, "Collectivité")) == (
        montreuil, "VILLE DE MONTREUIL — BUDGET PRINCIPAL MONTREUIL")
    assert page.locator("[data-testid='stMetricValue']").all_inner_texts() == figures
    choose(page, "Collectivité", "CRACH — BUDGET PRINCIPAL")
    # Crach's budget principal holds a CA for 2021 only (crach_principal_CA_2021.xml).
    expect(page.locator("[data-testid='stHeading'] h3").first).to_have_text(
        "CRACH — BUDGET PRINCIPAL — Compte administratif 2021", timeout=30_000)
    assert f"siret={CRACH}" in page.url and "annee=2021" in page.url
    assert page.locator("[data-testid='stMetricValue']").all_inner_texts() != figures
    assert page.locator("[data-testid='stException']").count() == 0
    shot(page, f"{path}_filters", size)


def spent_by_nature(path: Path, chapter: str) -> dict[str, Decimal]:
    """Real spending of a chapter by nature, as the document's own lines sum it."""
    sums: dict[str, Decimal] = {}
    for line in budget_lines(path):
        if (value(line, "ContNat"), value(line, "CodRD"), value(line, "OpBudg")) == (
                chapter, "D", "0"):
            nature = value(line, "Nature") or ""
            sums[nature] = sums.get(nature, Decimal(0)) + Decimal(value(line, "MtReal") or "0")
    return sums


TABLE_ROWS = """(table) => [...table.querySelectorAll('tbody tr')].map(
    (row) => [...row.querySelectorAll('td')].map((cell) => cell.innerText.trim()))"""


def test_the_chapter_detail_follows_a_change_of_budget_with_its_csv(
        server: str, page: object, size: str) -> None:
    """« Détail d'un chapitre » after a change of budget: an HTML table (read by a screen
    reader as drawn), largest first, each nature's amount the document's own sum written
    the French way, labels as the plan writes them, its header in view when its rows are
    scrolled, and a CSV of the same rows exact to the cent."""
    page.goto(f"{server}/explorer?siret={MONTREUIL}&etape=CA&annee=2022&chapitre=011")
    settle(page)
    choose(page, "Collectivité", "CRACH — BUDGET PRINCIPAL")
    expect(page.locator("[data-testid='stHeading'] h3").first).to_have_text(
        "CRACH — BUDGET PRINCIPAL — Compte administratif 2021", timeout=30_000)
    raw = spent_by_nature(TOTEM / "crach_principal_CA_2021.xml", "011")
    detail = page.locator("[data-testid='stHtml'] table").last
    rows = detail.evaluate(TABLE_ROWS)
    assert sorted(code for code, _, _ in rows) == sorted(raw)
    assert [amount for _, _, amount in rows] == [euros(raw[code], 2) for code, _, _ in rows]
    assert [raw[code] for code, _, _ in rows] == sorted(raw.values(), reverse=True)
    labels = {code: label for code, label, _ in rows}
    assert labels["6281"] == "Concours divers (cotisations)"  # the plan's words
    assert labels["60612"] == "Energie - Electricité"
    header = detail.locator("thead th").first
    detail.evaluate("(table) => table.parentElement.scrollTo(0, 10000)")  # its last rows
    assert header.is_visible() and header.bounding_box()["y"] >= \
        detail.evaluate("(table) => table.parentElement.getBoundingClientRect().top") - 1
    with page.expect_download() as download:
        page.get_by_role("button", name="Télécharger ce détail (CSV)").click()
    text = download.value.path().read_bytes().decode("utf-8-sig")
    saved = {row["Code"]: Decimal(row["Montant"]) for row in csv.DictReader(io.StringIO(text))}
    assert saved == raw
    shot(page, "explorer_detail", size)
