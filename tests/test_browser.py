"""End to end in a real headless Chromium against `streamlit run` on 127.0.0.1.

Screenshots of each page are saved in test-artifacts/ (kept by CI as artefacts).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from budget_core.analysis import by_chapter
from budget_core.config import DEMO_DIR
from budget_core.fmt import euros
from tests.conftest import FIXTURES, TOTEM, parsed

playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium absent")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "BUDGET_DATA_DIR": str(DEMO_DIR),
           "BUDGET_MAX_UPLOAD_MB": "3"}  # small, to test the limit with a real document
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless=true",
         f"--server.port={port}", "--server.address=127.0.0.1",
         "--browser.gatherUsageStats=false", "--server.fileWatcherType=none"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if requests.get(f"{url}/_stcore/health", timeout=1).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.5)
        else:
            process.kill()
            output = process.stdout.read() if process.stdout else ""
            pytest.fail(f"streamlit did not start: {output}")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture(scope="module")
def page(server: str) -> Iterator[object]:
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        context = browser.new_context(viewport={"width": 1400, "height": 1000},
                                      accept_downloads=True)
        yield context.new_page()
        browser.close()


def settle(page: object) -> None:
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']",
                           timeout=30_000)
    page.wait_for_timeout(500)


def test_shared_link_filter_change_and_csv_download(server: str, page: object) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(f"{server}/explorer?siret=21930048000015&etape=CA&annee=2022")
    settle(page)
    table = by_chapter(parsed(TOTEM / "Montreuil_CA_2022.xml").lines)
    income = euros(table.loc[table["direction"] == "recette", "amount"].sum())
    metrics = page.locator("[data-testid='stMetricValue']")
    metrics.first.wait_for()
    assert metrics.first.inner_text().replace("\u202f", " ") == income.replace("\u202f", " ")
    page.screenshot(path=str(ARTIFACTS / "explorer.png"), full_page=True)

    page.get_by_text("Inclure les opérations d'ordre").click()
    settle(page)
    assert "ordre=true" in page.url
    assert metrics.first.inner_text().replace("\u202f", " ") != income.replace("\u202f", " ")

    with page.expect_download() as download:
        page.get_by_text("Télécharger ces données (CSV)").click()
    saved = ARTIFACTS / "explorer.csv"
    download.value.save_as(saved)
    assert saved.read_text(encoding="utf-8-sig").startswith("sens,section,chapitre,libelle")


@pytest.mark.parametrize("path", ["accueil", "comparer", "se-comparer", "evolution",
                                  "execution", "publier", "donnees"])
def test_every_page_renders_without_error(server: str, page: object, path: str) -> None:
    page.goto(f"{server}/{path}")
    settle(page)
    assert page.locator("[data-testid='stException']").count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{path}.png"), full_page=True)


def test_comparison_link_holds_sirets_not_names(server: str, page: object) -> None:
    page.goto(f"{server}/comparer?cmp_etape=CA&cmp_annee=2021"
              "&cmp=21930048000015,21560046100010")
    settle(page)
    assert "cmp=21930048000015%2C21560046100010" in page.url
    chosen = page.locator("[data-testid='stMultiSelect']").inner_text()
    assert "VILLE DE MONTREUIL — BUDGET PRINCIPAL MONTREUIL" in chosen
    assert "CRACH — BUDGET PRINCIPAL" in chosen


def test_upload_is_explored_at_once_and_a_bad_one_explained(server: str, page: object,
                                                            tmp_path: Path) -> None:
    page.goto(f"{server}/donnees")
    settle(page)
    page.locator("input[type='file']").set_input_files(str(TOTEM / "mohon_CFU_2023.xml"))
    page.get_by_text("COMMUNE DE MOHON (M57) — COMMUNE DE MOHON 260 — CFU 2023").wait_for(
        timeout=30_000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "donnees_upload.png"), full_page=True)
    broken = tmp_path / "budget_tronque.xml"
    data = (TOTEM / "crach_principal_BP_2022.xml").read_bytes()
    broken.write_bytes(data[: len(data) // 2])
    page.goto(f"{server}/donnees")
    settle(page)
    page.locator("input[type='file']").set_input_files(str(broken))
    alert = page.locator("[data-testid='stAlert']").filter(has_text="budget_tronque.xml")
    alert.wait_for(timeout=30_000)
    assert "XML mal formé" in alert.inner_text()
    assert page.locator("[data-testid='stException']").count() == 0


def test_publisher_validates_and_anonymises_an_upload(server: str, page: object) -> None:
    page.goto(f"{server}/publier")
    settle(page)
    page.locator("input[type='file']").set_input_files(
        str(FIXTURES / "scdl_expected" / "crach_lotissement_BP_2022.csv"))
    page.get_by_text("crach_lotissement_BP_2022.csv : non valide").wait_for(timeout=30_000)
    assert page.get_by_text("cellule obligatoire vide — 21").count() == 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "publier_valider.png"), full_page=True)

    page.locator("input[type='file']").set_input_files(str(TOTEM / "crach_principal_CA_2021.xml"))
    page.get_by_role("tab", name="Anonymiser").click()
    page.get_by_text("22 champ(s) occulté(s)").wait_for(timeout=30_000)
    with page.expect_download() as download:
        page.get_by_text("Télécharger le document anonymisé").click()
    masked = download.value.path().read_bytes()
    assert masked.startswith(b"<?xml") and b"Occultation Article L311-7 CRPA" in masked


def test_an_upload_over_the_limit_gets_a_french_message(server: str, page: object) -> None:
    page.goto(f"{server}/donnees")
    settle(page)
    page.locator("input[type='file']").set_input_files(str(TOTEM / "Montreuil_CA_2023.xml"))
    alert = page.locator("[data-testid='stAlert']").filter(has_text="Fichier trop volumineux")
    alert.wait_for(timeout=30_000)
    assert "3,9 Mo" in alert.inner_text().replace(".", ",") and "3 Mo au plus" in \
        alert.inner_text()
