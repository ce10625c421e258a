"""Chart specs: labels above the bars, French texts from fmt, colours that read on white."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pandas as pd
import pytest

from budget_core import analysis, charts, maps
from tests.test_maps import said

S = "\u202f"


def chapters() -> pd.DataFrame:
    return pd.DataFrame({
        "direction": ["depense"] * 3, "section": ["fonctionnement", "investissement",
                                                  "fonctionnement"],
        "chapter_code": ["011", "21", "012"],
        "chapter_label": ["Charges à caractère général", "Immobilisations corporelles",
                          "Charges de personnel et frais assimilés"],
        "amount": [Decimal("47400000.10"), Decimal("27000000"), Decimal("112913558.50")]})


def layers(spec: dict) -> tuple[dict, dict, dict]:
    bars, names, amounts = spec["layer"]
    return bars, names, amounts


def rows(spec: dict, layer: dict) -> list[dict]:
    """The rows a layer draws (Altair moves data shared by all layers to the top)."""
    return spec["datasets"][(layer.get("data") or spec["data"])["name"]]


def test_chapter_labels_sit_above_full_width_bars() -> None:
    spec = charts.chapter_bars(chapters(), "Dépenses").to_dict()
    bars, names, amounts = layers(spec)
    assert bars["mark"]["type"] == "bar" and names["mark"]["type"] == "text"
    # No label column beside the bars: the y axis is hidden, the names span the width but
    # the 90 px the amounts take at the right end of the same line.
    assert bars["encoding"]["y"]["axis"] is None
    assert names["mark"]["limit"] == {"expr": "width - 90"}
    assert (amounts["mark"]["align"], amounts["encoding"]["x"]) == ("right", {"value": "width"})
    # Largest first, the order given as data (`rang`): the spec holds no chapter's name, so
    # another budget's chapters keep the same spec and Streamlit updates the chart in place.
    assert bars["encoding"]["y"]["sort"] == {"field": "rang", "op": "min"}
    drawn = rows(spec, names)
    assert [(r["rang"], r["chapitre"]) for r in drawn] == [
        (0, "012 — Charges de personnel et frais assimilés"),
        (1, "011 — Charges à caractère général"), (2, "21 — Immobilisations corporelles")]
    assert {r["chapitre"]: r["rang"] for r in rows(spec, bars)} == {
        r["chapitre"]: r["rang"] for r in drawn}
    assert [r["chiffres"] for r in drawn] == [f"112,9{S}M€", f"47,4{S}M€", f"27{S}M€"]
    assert drawn[0]["montant"] == f"112{S}913{S}558,50{S}€"
    assert bars["encoding"]["x"]["axis"]["labelExpr"] == charts.COMPACT_EUROS


def test_a_row_with_both_sections_has_one_line_of_text_with_its_total() -> None:
    """A public policy spends in both sections: its two bars stack under one label and one
    amount, the row's total (two amounts at the same place were drawn over each other)."""
    frame = chapters().assign(chapter_code=["2", "2", "0"],
                              chapter_label=["Enseignement", "Enseignement", "Services"])
    spec = charts.chapter_bars(frame, "Dépenses par politique publique").to_dict()
    bars, names, amounts = layers(spec)
    assert len(rows(spec, bars)) == 3
    assert rows(spec, names) == rows(spec, amounts)
    assert [(r["chapitre"], r["chiffres"]) for r in rows(spec, names)] == [
        ("0 — Services", f"112,9{S}M€"), ("2 — Enseignement", f"74,4{S}M€")]


def test_execution_bars_pair_voted_and_done_under_one_label() -> None:
    frame = chapters().assign(cred_ouv=[Decimal(100), Decimal(300), Decimal(2000)],
                              mt_real=[Decimal(50), Decimal(30), Decimal("1500.5")])
    spec = charts.execution_bars(frame, "Exécution").to_dict()
    bars, names, _ = layers(spec)
    assert bars["encoding"]["yOffset"]["field"] == "kind"
    labels = rows(spec, names)
    assert (labels[0]["chapitre"], labels[0]["chiffres"]) == (
        "012 — Charges de personnel et frais assimilés", f"1,5{S}k€ sur 2{S}k€")
    assert len(rows(spec, bars)) == 6


def test_sankey_hover_texts_are_french() -> None:
    links = pd.DataFrame({"source": ["73 — Impôts et taxes", "Fonctionnement"],
                          "target": ["Fonctionnement", "012 — Charges de personnel"],
                          "value": [Decimal("116313558.25"), Decimal("1906439")],
                          "direction": ["recette", "depense"]})
    sankey = charts.money_flow_sankey(links, "Flux").data[0]
    assert list(sankey.link.customdata) == [
        f"73 — Impôts et taxes → Fonctionnement : 116{S}313{S}558,25{S}€",
        f"Fonctionnement → 012 — Charges de personnel : 1{S}906{S}439,00{S}€"]
    assert f"Fonctionnement : recettes 116{S}313{S}558,25{S}€, dépenses 1{S}906{S}439,00{S}€" \
        in sankey.node.customdata
    assert sankey.node.hovertemplate == "%{customdata}<extra></extra>"


def test_map_tooltips_carry_french_text() -> None:
    shapes = {"features": [{"type": "Feature", "geometry": None,
                            "properties": {"code": "56", "nom": "Morbihan"}},
                           {"type": "Feature", "geometry": None,
                            "properties": {"code": "29", "nom": "Finistère"}}]}
    spec = maps.choropleth(shapes, {"56": 1 / 249}, "communes").to_dict()
    texts = [row["texte"] for row in spec["datasets"][maps.VALUES]]
    assert texts == [f"0,4{S}%", "—"]
    assert [t["title"] for t in spec["encoding"]["tooltip"]] == ["Territoire", "Code", "communes"]
    # What a screen reader says of each territory: its name, code and share in French.
    assert said(spec, "56") == f"Morbihan (56), communes : 0,4{S}%"


def contrast(colour: str) -> float:
    """WCAG 2 contrast ratio against white."""
    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    luminance = 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
    return 1.05 / (luminance + 0.05)


@pytest.mark.parametrize("colour", sorted({charts.TEXT, *charts.PALETTE,
                                           *charts.SECTION_COLOUR.values(),
                                           *charts.EXECUTION_COLOUR.values()}))
def test_every_colour_reads_on_white(colour: str) -> None:
    assert contrast(colour) >= 4.5


def test_a_title_a_phone_cannot_hold_is_split_into_lines_there_and_whole_elsewhere() -> None:
    """Explorer's « Dépenses par politique publique (fonction) » was cut at 390 px (« (fonct… »,
    its plot some 360 px wide in a 374 px SVG); at 1440 px its plot is over 800 px wide."""
    title = "Dépenses par politique publique (fonction)"
    expr = charts.chapter_bars(chapters(), title).to_dict()["title"]["text"]["expr"]
    needed, lines, whole = re.fullmatch(r"width < ([\d.]+) \? (\[.*\]) : (\".*\")",
                                        expr).groups()
    assert 374 < float(needed) < 800
    assert json.loads(lines) == ["Dépenses par politique publique", "(fonction)"]
    assert json.loads(whole) == title
    # A title that holds in a phone's plot stays one line of text.
    assert charts.chapter_bars(chapters(), "Dépenses réelles par chapitre").to_dict()[
        "title"] == "Dépenses réelles par chapitre"


def test_the_chapter_placement_s_spec_depends_on_its_rows_alone() -> None:
    """Two communes' placements (other chapters, another order, another count) give the same
    spec once the rows are set apart: no title, no list of chapters, a step per row."""
    def placed(codes: list[str]) -> pd.DataFrame:
        n = len(codes)
        return pd.DataFrame({"chapter_code": codes, "chapter_label": ["Libellé"] * n,
                             "value": [10.0] * n, "median": [8.0] * n, "q1": [5.0] * n,
                             "q3": [12.0] * n, "rank": [1] * n, "peers": [3] * n})

    def without_rows(spec: dict) -> str:
        """The spec but its datasets, named by their order (as the app names them)."""
        text = json.dumps({key: value for key, value in spec.items() if key != "datasets"})
        for position, name in enumerate(spec["datasets"]):
            text = text.replace(name, f"rows-{position}")
        return text

    first = charts.chapter_peers(placed(["011", "012", "65"])).to_dict()
    second = charts.chapter_peers(placed(["13", "74"])).to_dict()
    assert first["datasets"] != second["datasets"]
    assert without_rows(first) == without_rows(second)
    assert "title" not in first and first["height"] == {"step": charts.BAR + charts.LABEL}


def test_the_chapter_placement_says_each_mark_in_french() -> None:
    """What a screen reader hears of each band and point: the chapter, whose figure, in
    French, and the rank; not the row's position (« ligne: 0 ») nor an unrounded float. The
    names and ranks written above the rows are in it, so they are not said twice."""
    placed = pd.DataFrame({"chapter_code": ["13"], "chapter_label": ["Subventions"],
                           "value": [4.25891], "median": [2.1], "q1": [0.0577],
                           "q3": [4.25891], "rank": [1], "peers": [2]})
    spec = charts.chapter_peers(placed).to_dict()
    band, marks, names, ranks = spec["layer"]
    [row] = rows(spec, band)
    assert row["dit"] == (f"13 — Subventions : la collectivité 4,26{S}€/hab ; médiane du "
                          f"groupe 2,10{S}€/hab ; moitié centrale du groupe de 0,06{S}€/hab à "
                          f"4,26{S}€/hab ; 1re sur 2")
    assert sorted(r["dit"] for r in rows(spec, marks)) == [
        f"13 — Subventions, la collectivité : 4,26{S}€/hab (1re sur 2)",
        f"13 — Subventions, médiane du groupe : 2,10{S}€/hab (1re sur 2)"]
    assert band["encoding"]["description"] == marks["encoding"]["description"] == {
        "field": "dit", "type": "nominal"}
    assert names["mark"]["aria"] is False and ranks["mark"]["aria"] is False


def test_peer_chart_names_its_colours_in_a_legend_and_shows_a_single_year() -> None:
    placed = pd.DataFrame({"year": [2024], "value": [339.28], "median": [301.5],
                           "q1": [250.0], "q3": [410.25], "rank": [2], "peers": [3]})
    spec = charts.peer_placement(placed).to_dict()
    band, lines = spec["layer"]
    assert band["mark"]["type"] == "bar"  # a quartile bar, visible with one year
    colour = lines["encoding"]["color"]
    assert dict(zip(colour["scale"]["domain"], colour["scale"]["range"], strict=True)) == {
        "La collectivité": "#B84F00", "Médiane du groupe": "#0072B2"}
    assert "color" not in lines["mark"]  # the points take the legend's colours
    assert lines["encoding"]["shape"]["scale"]["range"] == ["circle", "diamond"]
    [row] = rows(spec, band)
    assert (row["value_texte"], row["q3_texte"]) == (f"339,28{S}€/hab", f"410,25{S}€/hab")


def test_another_budgets_chapters_keep_the_same_spec() -> None:
    """Explorer's bar charts at a change of budget: other chapters, other amounts, other
    order, yet the same Vega-Lite spec once Streamlit's datasets are named by position
    (`drawing._datasets_by_position`), so the browser updates the chart's rows in place
    instead of compiling and drawing a new chart."""
    from app_pages.drawing import _datasets_by_position, vega_lite_spec

    other = chapters().iloc[[2, 0]].assign(amount=[Decimal(5), Decimal("900.5")],
                                           chapter_code=["65", "011"])

    def without_rows(frame: pd.DataFrame) -> dict:
        spec = _datasets_by_position(vega_lite_spec(charts.chapter_bars(frame, "Dépenses")))
        return {key: value for key, value in spec.items() if key != "datasets"}

    assert without_rows(chapters()) == without_rows(other)


def test_evolution_says_each_point_in_french_whatever_the_unit() -> None:
    """Évolution's total chart in € per inhabitant: each point's label for a screen reader
    names the unit, the value to the cent and the change (none for the first year), and a
    year of unknown population says « — », not « —/hab »; the same spec draws the amounts."""
    spending = pd.DataFrame({"year": [2022, 2023, 2022, 2023], "direction": ["depense"] * 4,
                             "chapter_code": ["011", "011", "012", "012"],
                             "chapter_label": ["Charges", "Charges", "Personnel", "Personnel"],
                             "nomenclature": ["M57"] * 4,
                             "amount": [Decimal("100"), Decimal("150.5"), Decimal("50"),
                                        Decimal("50")]})
    totals = analysis.yearly_totals(spending, {2022: 10, 2023: None})
    per_head = charts.evolution_total(totals, [], "per_inhabitant").to_dict()
    [rows] = [r for r in per_head["datasets"].values() if "description" in r[0]]
    assert [r["description"] for r in rows] == [
        f"Exercice: 2022; € par habitant: 15,00{S}€/hab; Total: 15,00{S}€; "
        "Évolution sur un an: ",
        "Exercice: 2023; € par habitant: —; Total: —; Évolution sur un an: "]
    amounts = charts.evolution_total(totals, [], "amount").to_dict()
    [rows] = [r for r in amounts["datasets"].values() if "description" in r[0]]
    assert rows[1]["description"] == (f"Exercice: 2023; Montant: 200,50{S}€; Total: "
                                      f"200,50{S}€; Évolution sur un an: +33,7{S}%")
    # One spec for both once the datasets are named by position, as the app names them.
    from app_pages.drawing import _datasets_by_position, vega_lite_spec

    def without_rows(value: str) -> dict:
        spec = _datasets_by_position(vega_lite_spec(charts.evolution_total(totals, [], value)))
        return {key: spec[key] for key in spec if key != "datasets"}

    assert without_rows("per_inhabitant") == without_rows("amount")
