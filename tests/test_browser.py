"""End to end in a real headless Chromium against `streamlit run` on 127.0.0.1.

What users see, page by page at 1440×900 and 390×844 on the demo data: bars that show, no
English, no American number, no traceback. Screenshots of every page at both sizes are saved
in test-artifacts/ (kept by CI as artefacts); `python tools/readme_screenshots.py` copies the
README's from there to docs/screenshots/. The server and the Chromium are tests/conftest.py's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from budget_core.analysis import by_chapter
from budget_core.fmt import compact_euros
from tests.conftest import ARTIFACTS, CHROMIUM, FIXTURES, TOTEM, parsed, settle
from tests.test_browser_state import choose

pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium absent")]


# The plot area of every chart with axes: the box of its grid lines (a legend or axis fitted
# into a fixed height once squeezed Évolution's plot to 0 px).
PLOT_SIZES = """() => [...document.querySelectorAll('.vega-embed svg .role-axis-grid')].map(
    grid => { const box = grid.getBoundingClientRect(); return [box.width, box.height]; })"""

# Every visible piece of text whose colour (its opacity blended over the first opaque
# background behind it) reaches less than 4.5:1 against that background (WCAG 2 AA), with
# Vega's SVG text read from its fill. Material icons are graphics (3:1) and left out.
LOW_CONTRAST = """() => {
    const rgba = text => {
        const m = text.match(/rgba?\\(([^)]+)\\)/);
        if (!m) return null;
        const [r, g, b, a = 1] = m[1].split(',').map(Number);
        return {r, g, b, a};
    };
    const luminance = c => ['r', 'g', 'b'].map(k => {
        const v = c[k] / 255;
        return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    }).reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
    const background = el => {
        for (let e = el; e; e = e.parentElement) {
            const c = rgba(getComputedStyle(e).backgroundColor);
            if (c && c.a > 0.5) return c;
        }
        return {r: 255, g: 255, b: 255, a: 1};
    };
    const low = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
        const node = walker.currentNode, el = node.parentElement, style = getComputedStyle(el);
        if (!node.textContent.trim() || style.visibility !== 'visible'
            || el.getBoundingClientRect().width < 2
            || el.closest("[data-testid='stIconMaterial']")) continue;
        const colour = rgba(el instanceof SVGElement ? style.fill : style.color);
        if (!colour) continue;
        const back = background(el);
        const alpha = colour.a * parseFloat(style.opacity)
            * (el instanceof SVGElement ? parseFloat(style.fillOpacity || 1) : 1);
        if (alpha === 0) continue;  // hidden, as Vega hides overlapping tick labels
        const seen = {};
        for (const k of ['r', 'g', 'b']) seen[k] = colour[k] * alpha + back[k] * (1 - alpha);
        const [light, dark] = [luminance(seen), luminance(back)].sort((x, y) => y - x);
        const ratio = (light + 0.05) / (dark + 0.05);
        if (ratio < 4.5) low.push(`${ratio.toFixed(1)}:1 ${node.textContent.trim().slice(0, 40)}`);
    }
    return low;
}"""


def test_shared_link_filter_change_and_csv_download(server: str, page: object) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(f"{server}/explorer?siret=21930048000015&etape=CA&annee=2022")
    settle(page)
    table = by_chapter(parsed(TOTEM / "Montreuil_CA_2022.xml").lines)
    income = compact_euros(table.loc[table["direction"] == "recette", "amount"].sum())
    metrics = page.locator("[data-testid='stMetricValue']")
    metrics.first.wait_for()
    assert metrics.first.inner_text().replace("\u202f", " ") == income.replace("\u202f", " ")

    page.get_by_text("Inclure les opérations d'ordre").click()
    settle(page)
    assert "ordre=true" in page.url
    assert metrics.first.inner_text().replace("\u202f", " ") != income.replace("\u202f", " ")

    page.get_by_text("Données du graphique (tableau et CSV)").first.click()
    settle(page)  # opening it reruns the page, which draws the button anew: click that one
    # The chapters' button (the policies' expander, below, stays closed), once the expander
    # has opened; a minute for the file, as a loaded machine once took over 30 s.
    button = page.get_by_role("button", name="Télécharger ces données (CSV)").first
    button.wait_for(state="visible", timeout=60_000)
    with page.expect_download(timeout=60_000) as download:
        button.click()
    saved = ARTIFACTS / "explorer.csv"
    download.value.save_as(saved)
    assert saved.read_text(encoding="utf-8-sig").startswith("sens,section,chapitre,libelle")


# Every page on the demo data, with the number of « par chapitre » bar charts it draws.
PAGES = {
    "accueil": ("", 0),
    "accueil-url": ("accueil", 0),  # the home page's name, which people type: no 404
    # the search: homonyms with their département; communes with no document in the demo
    "accueil-recherche": ("?q=st+denis", 0),
    "accueil-sans-document": ("?q=56470", 0),
    "explorer": ("explorer?siret=21930048000015&etape=CA&annee=2022", 2),
    "explorer-atelier": ("explorer?siret=21930048000015&etape=CA&annee=2022&atelier=true", 2),
    "comprendre": ("comprendre?siret=21930048000015&etape=CA&annee=2022", 0),
    "comparer": ("comparer?cmp_etape=CA&cmp_annee=2021&cmp=21930048000015,21560046100010", 1),
    "se-comparer": ("se-comparer", 0),
    "evolution": ("evolution?evo_siret=21930048000015", 0),
    "execution": ("execution?exe_siret=21930048000015&exe_annee=2022", 1),
    "publier": ("publier", 0),
    "donnees": ("donnees", 0),
}
SIZES = {"1440x900": {"width": 1440, "height": 900}, "390x844": {"width": 390, "height": 844}}
# Streamlit's English a user could see; the few it does not let us change are in the README.
ENGLISH = re.compile(r"\b(Deploy|Upload|Browse|Choose|empty|Page not found|flow|per file|"
                     r"Drag and drop|No options|No results|Download|Show data|Running|None)\b")
# 116,313,558 or 37046820.62: thousands by commas, or a decimal point before cents.
US_NUMBER = re.compile(r"\d,\d{3}(?!\d)|\d\.\d{2}\b")

# The visible text of the whole document (header, sidebar, main area, dialogs), Vega's and
# Plotly's SVG text included; the skip link for keyboards, drawn 1 px wide off-screen and
# listed in the README among the strings Streamlit does not let us change, is left out.
VISIBLE_TEXT = """() => {
    const skip = document.querySelector("[data-testid='stSkipToContent']");
    if (skip) skip.style.display = 'none';
    const text = document.body.innerText;
    if (skip) skip.style.display = '';
    return text;
}"""
# Vega draws with its SVG renderer in Streamlit 1.67: each bar is a <path> in a `mark-rect`
# group, laid out at the chart's real size. For each chart titled « ... par chapitre », the
# widest bar and the chart's own width, in rendered pixels (getBoundingClientRect). A title
# on several lines (charts._title, on a phone) is a <tspan> a line: read with spaces between.
BAR_WIDTHS = """() => [...document.querySelectorAll('.vega-embed')].flatMap(embed => {
    const svg = embed.querySelector('svg');
    if (!svg) return [{canvas: true}];
    const title = [...svg.querySelectorAll('.role-title-text')].map(t => {
        const lines = [...t.querySelectorAll('tspan')].map(line => line.textContent);
        return lines.length ? lines.join(' ') : t.textContent;
    });
    if (!title.some(t => t.includes('par chapitre'))) return [];
    const bars = [...svg.querySelectorAll('g.mark-rect.role-mark path')];
    if (!bars.length) return [];
    return [{title: title.join(' '), chart: svg.getBoundingClientRect().width,
             widest: Math.max(...bars.map(b => b.getBoundingClientRect().width))}];
})"""


def open_at(page: object, url: str, size: str) -> None:
    """Load `url` in the tab at that viewport size and wait for Streamlit to settle."""
    page.set_viewport_size(SIZES[size])
    page.goto(url)
    settle(page)


def full_screenshot(page: object, path: Path) -> None:
    """The whole page: Streamlit scrolls inside its main area, so the viewport is made as
    tall as that area for the shot (Playwright's full_page sees one screen only)."""
    size = page.viewport_size
    height = page.evaluate("() => document.querySelector(\"[data-testid='stMain']\")"
                           ".scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": max(height, size["height"])})
    settle(page, rerun=False)  # charts re-fit their container
    page.screenshot(path=str(path))
    page.set_viewport_size(size)


def reads_right(page: object, shot: str, bar_charts: int,
                plot_ok: Callable[[float, float], bool] = lambda w, h: w >= 100 and h >= 100
                ) -> str:
    """What every page must show once settled (`settle`: every chart drawn): no error, no
    English, French numbers, `bar_charts` « par chapitre » charts whose bars show, plots of a
    readable size (`plot_ok(width, height)`), contrast, checked at the tab's viewport size; then
    (whatever they found) a full screenshot `shot` in test-artifacts/. Returns the visible
    text."""
    try:
        assert page.locator("[data-testid='stException']").count() == 0
        text = page.evaluate(VISIBLE_TEXT)
        assert "Traceback" not in text
        assert ENGLISH.findall(text) == []
        assert US_NUMBER.findall(text) == []
        charts = page.evaluate(BAR_WIDTHS)
        assert len(charts) == bar_charts, charts
        for chart in charts:
            assert chart["widest"] >= chart["chart"] / 4, chart
        for width, height in page.evaluate(PLOT_SIZES):
            assert plot_ok(width, height), (width, height)
        assert page.evaluate(LOW_CONTRAST) == []
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        full_screenshot(page, ARTIFACTS / f"{shot}.png")
    return str(text)


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("name", list(PAGES))
def test_what_users_see(server: str, page: object, name: str, size: str) -> None:
    path, bar_charts = PAGES[name]
    open_at(page, f"{server}/{path}", size)
    reads_right(page, f"{name}_{size}", bar_charts)


def test_comparison_link_holds_sirets_not_names(server: str, page: object) -> None:
    page.goto(f"{server}/comparer?cmp_etape=CA&cmp_annee=2021"
              "&cmp=21930048000015,21560046100010")
    settle(page)
    assert "cmp=21930048000015%2C21560046100010" in page.url
    chosen = page.locator("[data-testid='stMultiSelect']").inner_text()
    assert "VILLE DE MONTREUIL — BUDGET PRINCIPAL MONTREUIL" in chosen
    assert "CRACH — BUDGET PRINCIPAL" in chosen


def test_search_typed_on_accueil_opens_explorer(server: str, page: object) -> None:
    """Typed as users type it (no capital, no hyphen), Crach's INSEE code aside: the first
    result lists its budgets, and its link opens Explorer on the budget principal."""
    page.goto(server)
    settle(page)
    box = page.get_by_label("Rechercher une collectivité", exact=False)
    box.fill("crach")
    box.press("Enter")
    settle(page)
    assert "q=crach" in page.url
    documents = len(list(TOTEM.glob("crach_*.xml")))
    page.get_by_text(f"Crach (56) — {documents} documents").wait_for()
    page.get_by_role("link", name="CRACH — BUDGET PRINCIPAL — 2022 BP").click()
    settle(page)
    assert "/explorer?" in page.url and "siret=21560046100010" in page.url
    page.get_by_text("CRACH — BUDGET PRINCIPAL — Budget primitif 2022").wait_for()


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


def test_publication_map_opens_where_someone_has_published(server: str, page: object) -> None:
    open_at(page, f"{server}/publier", "1440x900")
    page.get_by_role("tab", name="Carte de publication").click()
    metric = page.locator("[data-testid='stMetric']").filter(has_text="ayant publié")
    metric.wait_for(timeout=30_000)
    # Montreuil's CA 2023 is in the demo data: one of the 39 communes of the Seine-Saint-
    # Denis (COG 2026: Saint-Denis and Pierrefitte-sur-Seine merged in 2025).
    assert "1 sur 39" in metric.inner_text()
    assert "0,0" not in metric.inner_text()
    settle(page, rerun=False)  # the map drawn in its tab
    full_screenshot(page, ARTIFACTS / "publier-carte_1440x900.png")
    assert ENGLISH.findall(page.evaluate(VISIBLE_TEXT)) == []


MAP_DRAWN = """() => { const map = document.querySelector('.vega-embed');
    return {said: [...map.querySelectorAll('path[aria-label]')].map(
                p => p.getAttribute('aria-label').replaceAll('\\u202f', ' ')),
            legend: [...map.querySelectorAll('.role-legend-label text')].map(
                t => t.textContent.replaceAll('\\u202f', ' ')),
            kept: map.querySelector('svg').dataset.kept || ''}; }"""


def test_publication_map_swaps_its_values_in_the_map_drawn(server: str, page: object) -> None:
    """Another year for the same région: the map's spec is the same, so the browser swaps its
    values in the view drawn instead of drawing the map anew (`maps`), and what it draws
    follows them: each département's share (what a screen reader says of it) and the legend,
    which runs to the highest share (to 100 % when nobody has published)."""
    open_at(page, f"{server}/publier?carte_etape=CA&carte_annee=2021&carte_region=53"
                  "&carte_departement=56", "1440x900")
    page.get_by_role("tab", name="Carte de publication").click()
    settle(page, rerun=False)
    # Crach is the one commune of the Morbihan's 249 whose CA 2021 is in the demo data
    # (tests/test_maps.py counts them in the shipped COG table): 1 / 249 = 0,4 %.
    drawn = page.evaluate(MAP_DRAWN)
    assert drawn["said"] == ["Côtes-d'Armor (22), communes : 0,0 %",
                             "Finistère (29), communes : 0,0 %",
                             "Ille-et-Vilaine (35), communes : 0,0 %",
                             "Morbihan (56), communes : 0,4 %"]
    assert drawn["legend"][0] == "0 %" and drawn["legend"][-1] == "0,4 %"
    page.evaluate("() => { document.querySelector('.vega-embed svg').dataset.kept = 'oui'; }")

    choose(page, "Année", "2022")  # no CA 2022 in Bretagne
    drawn = page.evaluate(MAP_DRAWN)
    assert drawn["said"] == [f"{name}, communes : 0,0 %" for name in (
        "Côtes-d'Armor (22)", "Finistère (29)", "Ille-et-Vilaine (35)", "Morbihan (56)")]
    assert drawn["legend"][0] == "0 %" and drawn["legend"][-1] == "100 %"
    assert drawn["kept"] == "oui"  # the same view: its values swapped

    choose(page, "Année", "2021")
    assert page.evaluate(MAP_DRAWN)["said"][-1] == "Morbihan (56), communes : 0,4 %"
    full_screenshot(page, ARTIFACTS / "publier-carte-2021_1440x900.png")


def test_sankey_hover_is_french(server: str, page: object) -> None:
    """Plotly's own hover said « incoming flow count » and « 116,313,558 € »."""
    open_at(page, f"{server}/{PAGES['explorer'][0]}", "1440x900")
    page.get_by_text("Des recettes aux dépenses, par section (diagramme de flux)").click()
    settle(page)  # the expander reruns the page, which draws the Sankey in it
    full_screenshot(page, ARTIFACTS / "explorer-flux_1440x900.png")
    hover_text = ("() => [...document.querySelectorAll('.hoverlayer')]"
                  ".map(h => h.textContent).join(' ').trim()")
    for kind in (".sankey-link", ".sankey-node"):
        page.mouse.move(0, 0)  # the previous label gone: the next one is this mark's
        page.wait_for_function(f"() => !({hover_text})()")
        mark = page.locator(kind).first
        mark.scroll_into_view_if_needed()
        mark.hover(force=True)
        text = page.wait_for_function(hover_text).json_value()
        assert re.search(r" : .*\d{1,3}(\u202f\d{3})*,\d{2}\u202f€", text), text
        assert ENGLISH.findall(text) == [] and US_NUMBER.findall(text) == []
