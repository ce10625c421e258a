"""Altair charts of the app, French formatted and readable on a projector.

Each function takes a small frame from `budget_core.analysis` and returns an `alt.Chart`;
the pages only display them. Colours: the Okabe-Ito palette (colour-blind safe).
"""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd
import plotly.graph_objects as go

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
             "#000000"]
SECTION_COLOUR = {"fonctionnement": "#0072B2", "investissement": "#E69F00"}
SECTION_COLOURS = alt.Scale(domain=list(SECTION_COLOUR), range=list(SECTION_COLOUR.values()))
FRENCH = alt.Locale(number=alt.NumberLocale(decimal=",", thousands="\u00a0", grouping=[3],
                                            currency=["", "\u00a0€"]))
EUROS = "$,.0f"
LEGEND_ROW = 36  # px a row of a vertical legend takes (14 px labels), with room to spare


def _finish(chart: alt.Chart | alt.LayerChart | alt.FacetChart) -> alt.Chart:
    return chart.configure(locale=FRENCH).configure_axis(
        labelFontSize=14, titleFontSize=15, labelLimit=380).configure_legend(
        labelFontSize=14, titleFontSize=14).configure_title(fontSize=18)


def _prepare(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """Amount columns as floats for Vega, other Arrow columns as plain objects, and the
    `chapitre` label (`012 — Charges de personnel...`) every chart shows."""
    out = frame.copy()
    for column in columns:
        out[column] = out[column].astype(float)
    for column in out.columns:
        if isinstance(out[column].dtype, pd.ArrowDtype) and column not in columns:
            out[column] = out[column].astype(object)
    out["chapitre"] = out["chapter_code"] + " — " + out["chapter_label"]
    return out


def chapter_bars(frame: pd.DataFrame, title: str) -> alt.Chart:
    """Horizontal bars, one per chapter, coloured by section (frame of analysis.by_chapter)."""
    data = _prepare(frame, "amount")
    chart = alt.Chart(data, title=title).mark_bar().encode(
        x=alt.X("amount:Q", title="Montant", axis=alt.Axis(format=EUROS)),
        y=alt.Y("chapitre:N", sort="-x", title=None),
        color=alt.Color("section:N", scale=SECTION_COLOURS, title="Section"),
        tooltip=[alt.Tooltip("chapitre:N", title="Chapitre"),
                 alt.Tooltip("section:N", title="Section"),
                 alt.Tooltip("amount:Q", title="Montant", format=EUROS)],
    ).properties(height=max(120, 34 * len(data)))
    return _finish(chart)


def compare_bars(frame: pd.DataFrame, value: str, title: str) -> alt.Chart:
    """Grouped bars: one group per chapter, one bar per budget (frame of analysis.compare).

    Bars are side by side (yOffset by budget), never stacked: two budgets of one collectivité
    (principal and annexe) are two bars of two colours with their own names.
    """
    data = _prepare(frame, value)
    axis_format = EUROS if value == "amount" else "$,.2f"
    budgets = list(dict.fromkeys(data["budget"]))
    colours = alt.Scale(domain=budgets, range=OKABE_ITO[:len(budgets)])
    chart = alt.Chart(data, title=title).mark_bar().encode(
        x=alt.X(f"{value}:Q", title="€" if value == "amount" else "€ par habitant",
                axis=alt.Axis(format=axis_format)),
        # Labels cut at 200 px (the tooltip has them whole): bars keep the width on a phone.
        y=alt.Y("chapitre:N", title=None, sort="-x", axis=alt.Axis(labelLimit=200)),
        yOffset=alt.YOffset("budget:N", sort=budgets),
        color=alt.Color("budget:N", title="Budget", scale=colours,
                        legend=alt.Legend(orient="bottom", direction="vertical",
                                          labelLimit=600)),
        tooltip=[alt.Tooltip("budget:N", title="Budget"),
                 alt.Tooltip("chapitre:N", title="Chapitre"),
                 alt.Tooltip(f"{value}:Q", title="Montant", format=axis_format)],
    ).properties(height=max(160, 22 * len(data)) + LEGEND_ROW * (len(budgets) + 1))
    return _finish(chart)


def _nomenclature_marks(changes: list[tuple[int, str, str]]) -> list[alt.Chart]:
    """A dashed rule and its label (`M14 → M57`) at each year the nomenclature changes."""
    if not changes:
        return []
    marks = pd.DataFrame([{"year": y, "label": f"{a} → {b}"} for y, a, b in changes])
    rule = alt.Chart(marks).mark_rule(strokeDash=[6, 4], color="#D55E00").encode(x="year:O")
    text = alt.Chart(marks).mark_text(align="left", dx=4, dy=-6, color="#D55E00",
                                      fontSize=14).encode(x="year:O", text="label:N")
    return [rule, text]


def _per_head(value: str) -> tuple[str, str]:
    """Axis unit and number format of an amount or of an amount per inhabitant."""
    return ("€ par habitant", "$,.2f") if value == "per_inhabitant" else ("Montant", EUROS)


def evolution_total(totals: pd.DataFrame, changes: list[tuple[int, str, str]], title: str,
                    value: str = "amount") -> alt.Chart:
    """The total by year (analysis.yearly_totals), its change on the previous year written
    above each point, with a rule where the nomenclature changes."""
    unit, number = _per_head(value)
    data = _prepare(totals.assign(chapter_code="Total", chapter_label="tous chapitres"), value)
    data["year"] = data["year"].astype(int)
    data["evolution"] = [f"{c:+.1%}".replace(".", ",") if pd.notna(c) else ""
                         for c in data["change"]]
    base = alt.Chart(data).encode(x=alt.X("year:O", title="Exercice"),
                                  y=alt.Y(f"{value}:Q", title=unit,
                                          axis=alt.Axis(format=number)))
    line = base.mark_line(point=True, color="#000000", strokeWidth=3).encode(
        tooltip=[alt.Tooltip("year:O", title="Exercice"),
                 alt.Tooltip(f"{value}:Q", title="Total", format=number),
                 alt.Tooltip("evolution:N", title="Évolution sur un an")])
    labels = base.mark_text(dy=-12, fontSize=13, color="#000000").encode(text="evolution:N")
    return _finish(alt.layer(line, labels, *_nomenclature_marks(changes), title=title)
                   .properties(height=260))


def evolution_lines(frame: pd.DataFrame, changes: list[tuple[int, str, str]], title: str,
                    value: str = "amount") -> alt.Chart:
    """Lines by chapter over the years (analysis.evolution, with `per_inhabitant` when
    `value` is it), with a rule where the nomenclature changes."""
    unit, number = _per_head(value)
    data = _prepare(frame, value)
    data["year"] = data["year"].astype(int)
    lines = alt.Chart(data).mark_line(point=True).encode(
        x=alt.X("year:O", title="Exercice"),
        y=alt.Y(f"{value}:Q", title=unit, axis=alt.Axis(format=number)),
        color=alt.Color("chapitre:N", title="Chapitre", scale=alt.Scale(range=OKABE_ITO),
                        legend=alt.Legend(orient="bottom", direction="vertical",
                                          labelLimit=600)),
        tooltip=[alt.Tooltip("year:O", title="Exercice"),
                 alt.Tooltip("chapitre:N", title="Chapitre"),
                 alt.Tooltip("nomenclature:N", title="Nomenclature"),
                 alt.Tooltip(f"{value}:Q", title=unit, format=number)],
    )
    # The view is fitted to its height legend included (autosize "fit"): room for one legend
    # row per chapter below a 380 px plot.
    return _finish(alt.layer(lines, *_nomenclature_marks(changes), title=title)
                   .properties(height=380 + LEGEND_ROW * (data["chapitre"].nunique() + 1)))


def execution_bars(frame: pd.DataFrame, title: str) -> alt.Chart:
    """Voted (crédits ouverts) and realised side by side by chapter (analysis.execution)."""
    data = _prepare(frame, "cred_ouv", "mt_real")
    long = data.melt(id_vars=["chapitre"], value_vars=["cred_ouv", "mt_real"],
                     var_name="kind", value_name="montant")
    long["kind"] = long["kind"].map({"cred_ouv": "Crédits ouverts", "mt_real": "Réalisé"})
    chart = alt.Chart(long, title=title).mark_bar().encode(
        x=alt.X("montant:Q", title="Montant", axis=alt.Axis(format=EUROS)),
        y=alt.Y("chapitre:N", title=None, sort="-x"),
        yOffset="kind:N",
        color=alt.Color("kind:N", title="", scale=alt.Scale(range=["#56B4E9", "#0072B2"])),
        tooltip=[alt.Tooltip("chapitre:N", title="Chapitre"),
                 alt.Tooltip("kind:N", title="Montant"),
                 alt.Tooltip("montant:Q", title="€", format=EUROS)],
    ).properties(height=max(160, 40 * len(data)))
    return _finish(chart)


def money_flow_sankey(links: pd.DataFrame, title: str) -> go.Figure:
    """Sankey of where the money comes from and goes (links of analysis.money_flows)."""
    # A chapter can be on both sides (16: borrowing and repaying): nodes are (side, label).
    income = links["direction"] == "recette"
    sources = list(zip(income.map({True: "recette", False: "section"}), links["source"],
                       strict=True))
    targets = list(zip(income.map({True: "section", False: "depense"}), links["target"],
                       strict=True))
    nodes = list(dict.fromkeys([*sources, *targets]))
    index = {node: i for i, node in enumerate(nodes)}
    colours = [SECTION_COLOUR.get(label.lower(), "#999999") for _, label in nodes]
    values = links["value"].astype(float)
    figure = go.Figure(go.Sankey(
        valueformat=",.0f", valuesuffix=" €",
        node={"label": [label for _, label in nodes], "color": colours, "pad": 12},
        link={"source": [index[s] for s in sources], "target": [index[t] for t in targets],
              "value": list(values)},
    ))
    figure.update_layout(title=title, font_size=14, separators=", ",
                         height=max(420, 26 * len(nodes)))
    return figure


def choropleth(shapes: dict[str, Any], values: dict[str, float], title: str, legend: str,
               *, share: bool = True) -> alt.Chart:
    """Map of a value by territory code (`properties.code` of the shapes): a share from 0 to
    1 (in %), or an amount (€)."""
    features = [{**feature, "properties": {**feature["properties"],
                                           "valeur": values.get(feature["properties"]["code"])}}
                for feature in shapes["features"]]
    chart = alt.Chart(alt.Data(values=features), title=title).mark_geoshape(
        stroke="white", strokeWidth=0.4).encode(
        color=alt.Color("properties.valeur:Q", title=legend,
                        scale=alt.Scale(scheme="blues", domain=[0, 1]) if share
                        else alt.Scale(scheme="blues"),
                        legend=alt.Legend(format=".0%" if share else EUROS)),
        tooltip=[alt.Tooltip("properties.nom:N", title="Territoire"),
                 alt.Tooltip("properties.code:N", title="Code"),
                 alt.Tooltip("properties.valeur:Q", title=legend,
                             format=".0%" if share else ",.2f")],
    ).project("mercator").properties(height=520)
    return _finish(chart)
