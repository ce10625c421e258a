"""Altair charts of the app, French formatted and readable on a projector and a phone.

Each function takes a small frame from `budget_core.analysis` and returns an `alt.Chart`;
the pages only display them. Numbers: tooltips carry text made by `budget_core.fmt`, axes use
the same rules in Vega's expression language (`COMPACT_EUROS`). Colours: the Okabe-Ito hues
(colour-blind safe), darkened where needed so that each reaches 4.5:1 against white.
"""

from __future__ import annotations

import json
import textwrap
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, TypeVar

import altair as alt
import pandas as pd
import plotly.graph_objects as go

from budget_core import fmt

TEXT = "#31333F"  # Streamlit's text colour, 12.5:1 on white
PALETTE = ["#0072B2", "#B84F00", "#007A5A", "#A64D8A", "#8C6D00", "#000000", "#5F6B76",
           "#3B3B98"]
SECTION_COLOUR = {"fonctionnement": "#0072B2", "investissement": "#B84F00"}
SECTION_COLOURS = alt.Scale(domain=list(SECTION_COLOUR), range=list(SECTION_COLOUR.values()))
EXECUTION_COLOUR = {"Crédits ouverts": "#8C6D00", "Réalisé": "#0072B2"}
PEER_COLOUR = {"La collectivité": "#B84F00", "Médiane du groupe": "#0072B2"}
FRENCH = alt.Locale(number=alt.NumberLocale(decimal=",", thousands=fmt.NNBSP, grouping=[3],
                                            currency=["", f"{fmt.NNBSP}€"], minus="-"))
EUROS = "$,.2f"
# fmt.compact_euros in Vega's expression language, for axis ticks: « 116,3 M€ ».
COMPACT_EUROS = " : ".join(
    [f"abs(datum.value) >= {size} ? format(datum.value / {size}, ',.1~f') + "
     f"'{fmt.NNBSP}{unit}'" for size, unit in fmt.UNITS]
    + [f"format(datum.value, ',.0f') + '{fmt.NNBSP}€'"])
BAR = 18  # px: thickness of one bar
# A long bar chart's colour key above the bars, where it is read before them.
KEY_ON_TOP = alt.Legend(orient="top", direction="horizontal")
LABEL = 24  # px: the line of text above a chapter's bars
# The bars of a chapter split by a group (budget, voted or done) in the order of the rows:
# `_labelled_bars` ranks the groups in an `ordre` column.
GROUP_ORDER = alt.EncodingSortField("ordre", op="min")
# A title in bold 18 px type takes about 8.3 px a character (« Dépenses par politique publique
# (fonct… »: 38 characters cut at 317 px in a 390 px window, where the plot is some 360 px
# wide): a title is split when it needs more than the plot's width at 9.5 px a character, on
# lines of 34 characters, which a phone's plot holds.
TITLE_CHARACTER = 9.5
TITLE_LINE = 34


def euro_axis(**options: Any) -> alt.Axis:
    """An amount axis: few ticks, compact French labels, none overlapping."""
    return alt.Axis(labelExpr=COMPACT_EUROS, labelOverlap=True, tickCount=4, **options)


Drawn = TypeVar("Drawn", bound=alt.Chart | alt.LayerChart | alt.FacetChart)


def finished(chart: Drawn) -> Drawn:
    """The look every chart shares: French numbers, dark text, legends below the plot (a
    legend at the side takes half of a phone's width), the container's width."""
    # Fit the width only: a height is the plot's (Streamlit would otherwise fit legends and
    # axes into it, and a legend below squeezed Évolution's plot to nothing).
    fitted = chart.properties(autosize=alt.AutoSizeParams(type="fit-x", contains="padding"))
    if isinstance(chart.title, str):
        fitted = fitted.properties(title=_title(chart.title))
    return fitted.configure(locale=FRENCH).configure_axis(
        labelFontSize=14, titleFontSize=15, labelColor=TEXT, titleColor=TEXT,
        labelLimit=160).configure_legend(
        labelFontSize=14, titleFontSize=14, labelColor=TEXT, titleColor=TEXT,
        orient="bottom", direction="vertical", labelLimit=320).configure_title(
        fontSize=18, color=TEXT, anchor="start")


def _title(text: str) -> str | alt.TitleParams:
    """A title whole where the plot is wide enough for it, else on lines of `TITLE_LINE`
    characters: Vega cuts a title at the plot's width (« Dépenses par politique publique
    (fonct… » at 390 px). Chosen by Vega from the plot's width, so one spec reads whole on a
    phone and on one line on a projector."""
    lines = textwrap.wrap(text, TITLE_LINE)
    if len(lines) < 2:
        return text
    split, whole = (json.dumps(t, ensure_ascii=False) for t in (lines, text))
    return alt.TitleParams(text=alt.ExprRef(
        f"width < {TITLE_CHARACTER * len(text)} ? {split} : {whole}"))


def _description(title: str) -> str:
    """What a screen reader says of the chart (Vega's default is « Vega visualization »)."""
    return f"{title} : le tableau des données suit le graphique."


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


def _labelled_bars(bars: pd.DataFrame, labels: pd.DataFrame, value: str, colour: alt.Color,
                   tooltip: Sequence[alt.Tooltip], title: str, group: str | None = None,
                   figures: int = 90) -> alt.LayerChart:
    """Horizontal bars with each chapter's line of text above them, so the bars have the
    chart's whole width at any screen size (a label beside a bar takes half of it).

    `labels` has one row per chapter in the order drawn: `chapitre` on the left, cut to leave
    `figures` pixels to `chiffres` on the right (the amounts stay readable on a phone);
    `bars` one row per bar, several per chapter when `group` splits them."""
    # The order is data (`rang`), not a list of names in the spec: a chart whose rows alone
    # change (another budget) keeps the same spec, and Streamlit's frontend puts the new rows
    # into the Vega view it has instead of compiling and drawing a new one.
    rank = {name: i for i, name in enumerate(labels["chapitre"])}
    labels = labels.assign(rang=range(len(labels)))
    bars = bars.assign(rang=bars["chapitre"].map(rank))
    if group:  # the groups in the order of the rows, as the colour key lists them
        groups = {name: i for i, name in enumerate(dict.fromkeys(bars[group]))}
        bars = bars.assign(ordre=bars[group].map(groups))
    per_row = bars[group].nunique() if group else 1
    band = BAR * per_row
    step = band + LABEL
    gap = LABEL / step
    y = alt.Y("chapitre:N", sort=alt.EncodingSortField("rang", op="min"), axis=None,
              scale=alt.Scale(paddingInner=gap, paddingOuter=gap))
    drawn = alt.Chart(bars).mark_bar().encode(
        x=alt.X(f"{value}:Q", title=None, axis=euro_axis()), y=y, color=colour,
        tooltip=list(tooltip))
    if group:
        drawn = drawn.encode(yOffset=alt.YOffset(f"{group}:N", sort=GROUP_ORDER))
    line: dict[str, Any] = {"baseline": "bottom", "dy": -band / 2 - 3, "fontSize": 14,
                            "color": TEXT}
    names = alt.Chart(labels).mark_text(
        align="left", limit=alt.ExprRef(f"width - {figures}"), **line).encode(
        x=alt.value(0), y=y, text="chapitre:N",
        tooltip=[alt.Tooltip("chapitre:N", title="Chapitre"),
                 alt.Tooltip("chiffres:N", title="Montant")])
    amounts = alt.Chart(labels).mark_text(align="right", **line).encode(
        x=alt.value("width"), y=y, text="chiffres:N")
    # The step is the chapter's (a step would otherwise size each bar of a group).
    return alt.LayerChart(layer=[drawn, names, amounts], title=title).properties(
        height=alt.Step(step, **{"for": "position"}), description=_description(title))


def chapter_bars(frame: pd.DataFrame, title: str) -> alt.LayerChart:
    """Horizontal bars, one per chapter (or public policy), coloured by section and stacked
    when a row has both sections (frame of analysis.by_chapter or by_policy): one line of text
    per row, with the row's total, in order of totals."""
    data = _prepare(frame, "amount")
    data["montant"] = data["amount"].map(lambda v: fmt.euros(v, 2))
    totals = data.groupby("chapitre", sort=False)["amount"].sum().reset_index()
    rows = totals.sort_values("amount", ascending=False, kind="stable")
    rows["chiffres"] = rows["amount"].map(fmt.compact_euros)
    rows["montant"] = rows["amount"].map(lambda v: fmt.euros(v, 2))
    colour = alt.Color("section:N", scale=SECTION_COLOURS, title="Section", legend=KEY_ON_TOP)
    tooltip = [alt.Tooltip("chapitre:N", title="Chapitre"),
               alt.Tooltip("section:N", title="Section"),
               alt.Tooltip("montant:N", title="Montant")]
    return finished(_labelled_bars(data, rows, "amount", colour, tooltip, title))


def compare_bars(frame: pd.DataFrame, value: str, title: str) -> alt.LayerChart:
    """Grouped bars: one group per chapter, one bar per budget (frame of analysis.compare),
    each chapter's name on a line above its bars, largest chapters first.

    Bars are side by side (yOffset by budget), never stacked: two budgets of one collectivité
    (principal and annexe) are two bars of two colours with their own names. The key names
    them above the bars, on two lines (collectivité, then budget) that the chart's whole width
    holds: beside chapter names at the left, it had a third of a phone's width and cut them.
    """
    data = _prepare(frame, value)
    data["montant"] = data[value].map(lambda v: fmt.euros(v, 2))
    totals = data.groupby("chapitre", sort=False)[value].sum().reset_index()
    rows = totals.sort_values(value, ascending=False, kind="stable").assign(chiffres="")
    # Colours in the order of the rows (`GROUP_ORDER`), the names read from the data: the
    # spec holds no budget's name, so other budgets (as many) are new rows in the same view.
    colour = alt.Color("budget:N", title="Budget", sort=GROUP_ORDER,
                       scale=alt.Scale(range=PALETTE),
                       legend=alt.Legend(orient="top", direction="vertical",
                                         labelExpr="split(datum.label, ' — ')",
                                         labelLimit=alt.ExprRef("width - 30")))
    tooltip = [alt.Tooltip("budget:N", title="Budget"),
               alt.Tooltip("chapitre:N", title="Chapitre"),
               alt.Tooltip("montant:N", title="€ par habitant" if value == "per_inhabitant"
                           else "Montant")]
    unit = " (€ par habitant)" if value == "per_inhabitant" else ""
    return finished(_labelled_bars(data, rows, value, colour, tooltip, title + unit,
                                  group="budget", figures=0))


def _nomenclature_marks(changes: list[tuple[int, str, str]]) -> list[alt.Chart]:
    """A dashed rule and its label (`M14 → M57`) at each year the nomenclature changes."""
    if not changes:
        return []
    marks = pd.DataFrame([{"year": y, "label": f"{a} → {b}"} for y, a, b in changes])
    rule = alt.Chart(marks).mark_rule(strokeDash=[6, 4], color="#B84F00").encode(x="year:O")
    text = alt.Chart(marks).mark_text(align="left", dx=4, dy=-6, color="#B84F00",
                                      fontSize=14).encode(x="year:O", text="label:N")
    return [rule, text]


PER_HEAD = "€ par habitant"
# Which of the two a chart of `_drawn` rows draws, for Vega's expressions: the domain of its
# opacity scale, read from the rows (`unite`), so that the spec is the same for both.
_PER_HEAD_DRAWN = f"domain('opacity')[0] == '{PER_HEAD}'"
_UNIT = alt.Opacity("unite:N", scale=alt.Scale(range=[1]), legend=None)
# The value axis: amounts compact (« 116,3 M€ »), amounts per inhabitant in whole euros. (No
# title: Vega's cannot come from rows, and its axis `description` takes no expression.)
_VALUE = alt.Y("valeur:Q", title=None, axis=alt.Axis(
    labelExpr=f"{_PER_HEAD_DRAWN} ? format(datum.value, '$,.0f') : {COMPACT_EUROS}",
    labelOverlap=True, tickCount=4))


def _drawn(data: pd.DataFrame, value: str) -> pd.DataFrame:
    """`data` with the value drawn (`value`: `amount` or `per_inhabitant`) as `valeur`, its
    unit as `unite` and its text as `texte` (« 2 114,16 €/hab » per inhabitant).

    Évolution's charts draw either from the same spec: « En € par habitant » gives the Vega
    views the browser has new rows, not new specs to compile and draw (issue 13). The page
    writes the unit in the title above the chart (a Vega axis title cannot come from rows)."""
    per_head = value == "per_inhabitant"
    return data.assign(valeur=data[value], unite=PER_HEAD if per_head else "Montant",
                       texte=data[value].map(lambda v: fmt.euros(v, 2) + (
                           "/hab" if per_head and pd.notna(v) else "")))


# « +16,8 % » in 13 px type is about 50 px wide: where the points are closer than that (eight
# years on a phone), each change is written upwards from its point instead of across it.
# Chosen by Vega from the plot's width and the years drawn, so one spec serves every screen.
_UPWARDS = "width / length(domain('x')) < 56"


def _upwards_or(across: str, upwards: str) -> alt.ExprRef:
    """A text property: `upwards` where changes are written upwards, else `across`."""
    return alt.ExprRef(f"{_UPWARDS} ? {upwards} : {across}")


def evolution_total(totals: pd.DataFrame, changes: list[tuple[int, str, str]],
                    value: str = "amount") -> alt.LayerChart | alt.FacetChart:
    """The total by year (analysis.yearly_totals), the change on the previous year of the
    value drawn (the total, or the € per inhabitant) written above each point, with a rule
    where the nomenclature changes.

    No title (the page writes it above the chart) and nothing that depends on the direction
    or the unit (`_drawn`): Recettes after Dépenses are new rows for the Vega view the
    browser has, not a new view to compile and draw (issue 13)."""
    data = _drawn(_prepare(totals.assign(chapter_code="Total", chapter_label="tous chapitres"),
                           value), value)
    data["year"] = data["year"].astype(int)
    change = "change_per_inhabitant" if value == "per_inhabitant" else "change"
    data["evolution"] = [fmt.percent(c, signed=True) if pd.notna(c) else "" for c in data[change]]
    # What a screen reader says of each point (Vega's own label would name the unit).
    data["description"] = [f"Exercice: {year}; {unit}: {text}; Total: {fmt.euros(v, 2)}; "
                           f"Évolution sur un an: {evolution}" for year, unit, text, v, evolution
                           in data[["year", "unite", "texte", "valeur", "evolution"]].itertuples(
                               index=False)]
    base = alt.Chart(data).encode(x=alt.X("year:O", title="Exercice"), y=_VALUE)
    line = base.mark_line(point=True, strokeWidth=3).encode(
        color=alt.value("#000000"), opacity=_UNIT, description="description:N",
        tooltip=[alt.Tooltip("year:O", title="Exercice"),
                 alt.Tooltip("valeur:Q", title="Total", format=EUROS),
                 alt.Tooltip("evolution:N", title="Évolution sur un an")])
    labels = base.mark_text(
        fontSize=13, color="#000000", angle=_upwards_or("0", "270"),
        align=_upwards_or("'center'", "'left'"), baseline=_upwards_or("'alphabetic'", "'middle'"),
        dx=_upwards_or("0", "8"), dy=_upwards_or("-12", "0"),  # dx: along the text, unturned
    ).encode(text="evolution:N")
    return finished(alt.layer(line, labels, *_nomenclature_marks(changes)).properties(
        height=260, description=_description("Total par exercice")))


def evolution_lines(frame: pd.DataFrame, changes: list[tuple[int, str, str]],
                    value: str = "amount") -> alt.LayerChart | alt.FacetChart:
    """Lines by chapter over the years (analysis.evolution, with `per_inhabitant` when
    `value` is it), with a rule where the nomenclature changes. No title nor anything that
    depends on the direction or the unit, as `evolution_total`."""
    data = _drawn(_prepare(frame, value), value)
    data["year"] = data["year"].astype(int)
    data["description"] = [f"Exercice: {year}; {unit}: {text}; Chapitre: {chapter}; "
                           f"Nomenclature: {kind}" for year, unit, text, chapter, kind
                           in data[["year", "unite", "texte", "chapitre", "nomenclature"]]
                           .itertuples(index=False)]
    lines = alt.Chart(data).mark_line(point=True).encode(
        x=alt.X("year:O", title="Exercice"), y=_VALUE, opacity=_UNIT,
        color=alt.Color("chapitre:N", title="Chapitre", scale=alt.Scale(range=PALETTE),
                        legend=alt.Legend(orient="bottom", direction="vertical",
                                          labelLimit=600)),
        description="description:N",
        tooltip=[alt.Tooltip("year:O", title="Exercice"),
                 alt.Tooltip("chapitre:N", title="Chapitre"),
                 alt.Tooltip("nomenclature:N", title="Nomenclature"),
                 alt.Tooltip("texte:N", title="Montant")],
    )
    # A 380 px plot: `finished` fits the width only, the legend goes below it.
    return finished(alt.layer(lines, *_nomenclature_marks(changes)).properties(
        height=380, description=_description("Chaque chapitre par exercice")))


def execution_bars(frame: pd.DataFrame, title: str) -> alt.LayerChart:
    """Voted (crédits ouverts) and realised side by side by chapter (analysis.execution)."""
    data = _prepare(frame, "cred_ouv", "mt_real").sort_values("cred_ouv", ascending=False)
    data["chiffres"] = (data["mt_real"].map(fmt.compact_euros) + " sur "
                        + data["cred_ouv"].map(fmt.compact_euros))
    long = data.melt(id_vars=["chapitre"], value_vars=["cred_ouv", "mt_real"],
                     var_name="kind", value_name="montant")
    long["kind"] = long["kind"].map({"cred_ouv": "Crédits ouverts", "mt_real": "Réalisé"})
    long["texte_montant"] = long["montant"].map(lambda v: fmt.euros(v, 2))
    colour = alt.Color("kind:N", title=None, sort=list(EXECUTION_COLOUR),
                       scale=alt.Scale(domain=list(EXECUTION_COLOUR),
                                       range=list(EXECUTION_COLOUR.values())),
                       legend=KEY_ON_TOP)
    tooltip = [alt.Tooltip("chapitre:N", title="Chapitre"),
               alt.Tooltip("kind:N", title="Montant"),
               alt.Tooltip("texte_montant:N", title="€")]
    return finished(_labelled_bars(long, data, "montant", colour, tooltip, title, group="kind",
                                  figures=170))


def money_flow_sankey(links: pd.DataFrame, title: str) -> go.Figure:
    """Sankey of where the money comes from and goes (links of analysis.money_flows).

    Hover texts are made here in French (Plotly's own would say « incoming flow count » and
    format numbers the American way)."""
    # A chapter can be on both sides (16: borrowing and repaying): nodes are (side, label).
    income = links["direction"] == "recette"
    sources = list(zip(income.map({True: "recette", False: "section"}), links["source"],
                       strict=True))
    targets = list(zip(income.map({True: "section", False: "depense"}), links["target"],
                       strict=True))
    nodes = list(dict.fromkeys([*sources, *targets]))
    index = {node: i for i, node in enumerate(nodes)}
    colours = [SECTION_COLOUR.get(label.lower(), "#5F6B76") for _, label in nodes]
    into: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    out_of: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for source, target, value in zip(sources, targets, links["value"], strict=True):
        out_of[source] += Decimal(value)
        into[target] += Decimal(value)

    def hover(node: tuple[str, str]) -> str:
        side, label = node
        if side == "section":
            return (f"{label} : recettes {fmt.euros(into[node], 2)}, dépenses "
                    f"{fmt.euros(out_of[node], 2)}")
        return f"{label} : {fmt.euros(out_of[node] if side == 'recette' else into[node], 2)}"

    figure = go.Figure(go.Sankey(
        node={"label": [label for _, label in nodes], "color": colours, "pad": 12,
              "customdata": [hover(node) for node in nodes],
              "hovertemplate": "%{customdata}<extra></extra>"},
        link={"source": [index[s] for s in sources], "target": [index[t] for t in targets],
              "value": list(links["value"].astype(float)),
              "customdata": [f"{s[1]} → {t[1]} : {fmt.euros(v, 2)}"
                             for s, t, v in zip(sources, targets, links["value"], strict=True)],
              "hovertemplate": "%{customdata}<extra></extra>"},
    ))
    figure.update_layout(title=title, font_size=14, font_color=TEXT,
                         height=max(420, 26 * len(nodes)))
    return figure


def peer_placement(placed: pd.DataFrame) -> alt.LayerChart:
    """An entity's value per inhabitant against its peers' median and 1st–3rd quartile, by
    year (frame of NationalStore.placement). Points and a quartile bar show even a single
    year; the legend names the colours. The page writes the title above the chart (it wraps
    on a phone, and another agrégat leaves the spec as it was)."""
    data = placed.copy()
    data["year"] = data["year"].astype(int)
    for column in ("value", "median", "q1", "q3"):
        data[f"{column}_texte"] = data[column].map(lambda v: f"{fmt.euros(v, 2)}/hab")
    # The entity drawn last, over the median when they are equal (it then shows inside the
    # median's wider diamond).
    long = data.melt(id_vars=["year", "value_texte", "median_texte"],
                     value_vars=["median", "value"], var_name="serie", value_name="montant")
    long["serie"] = long["serie"].map({"value": "La collectivité",
                                       "median": "Médiane du groupe"})
    x = alt.X("year:O", title="Exercice")
    band = alt.Chart(data).mark_bar(size=28, opacity=0.25, color=PEER_COLOUR[
        "Médiane du groupe"]).encode(
        x=x, y=alt.Y("q1:Q", title="€ par habitant"), y2="q3:Q",
        tooltip=[alt.Tooltip("year:O", title="Exercice"),
                 alt.Tooltip("q1_texte:N", title="1er quartile"),
                 alt.Tooltip("q3_texte:N", title="3e quartile")])
    series = list(PEER_COLOUR)
    lines = alt.Chart(long).mark_line(point=alt.OverlayMarkDef(
        filled=False, size=160, strokeWidth=2.5)).encode(
        x=x, y=alt.Y("montant:Q", title="€ par habitant"),
        color=alt.Color("serie:N", title=None, scale=alt.Scale(
            domain=series, range=list(PEER_COLOUR.values()))),
        shape=alt.Shape("serie:N", title=None, scale=alt.Scale(
            domain=series, range=["circle", "diamond"])),
        strokeDash=alt.StrokeDash("serie:N", title=None, scale=alt.Scale(
            domain=series, range=[[1, 0], [6, 3]])),
        tooltip=[alt.Tooltip("year:O", title="Exercice"),
                 alt.Tooltip("value_texte:N", title="La collectivité"),
                 alt.Tooltip("median_texte:N", title="Médiane du groupe")])
    return finished(alt.LayerChart(layer=[band, lines]).properties(
        height=360, description=_description("La collectivité parmi son groupe, par exercice")))


def chapter_peers(placed: pd.DataFrame) -> alt.LayerChart:
    """A commune's € per inhabitant in each chapter against its peers' median and 1st–3rd
    quartile band (frame of balance_peers.placement), each chapter's name and rank on a line
    above its row (the whole width stays for the values on a phone).

    Nothing in the spec depends on the commune, the group or the direction: rows are placed
    by their position (`ligne`), not by a list of chapters, the height is a step per row and
    the page writes the title above the chart. Another commune is then new rows for the Vega
    view the browser has, not a new view to compile and draw."""
    data = _prepare(placed, "value", "median", "q1", "q3")
    for column in ("value", "median", "q1", "q3"):
        data[f"{column}_texte"] = data[column].map(lambda v: f"{fmt.euros(v, 2)}/hab")
    data["chiffres"] = [fmt.rank(int(r), int(n)) for r, n in zip(data["rank"], data["peers"],
                                                                  strict=True)]
    data["ligne"] = range(len(data))
    # What a screen reader says of each mark (Vega's default read the row's position,
    # « ligne: 0 », and unrounded floats); the names and ranks above the rows are in it.
    data["dit"] = [f"{c} : la collectivité {value} ; médiane du groupe {median} ; moitié "
                   f"centrale du groupe de {q1} à {q3} ; {rank}"
                   for c, value, median, q1, q3, rank in zip(
                       data["chapitre"], data["value_texte"], data["median_texte"],
                       data["q1_texte"], data["q3_texte"], data["chiffres"], strict=True)]
    step = BAR + LABEL
    gap = LABEL / step
    y = alt.Y("ligne:O", axis=None, scale=alt.Scale(paddingInner=gap, paddingOuter=gap))
    x = alt.X("montant:Q", title="€ par habitant", axis=euro_axis())
    tooltip = [alt.Tooltip("chapitre:N", title="Chapitre"),
               alt.Tooltip("value_texte:N", title="La collectivité"),
               alt.Tooltip("median_texte:N", title="Médiane du groupe"),
               alt.Tooltip("q1_texte:N", title="1er quartile"),
               alt.Tooltip("q3_texte:N", title="3e quartile"),
               alt.Tooltip("chiffres:N", title="Rang")]
    band = alt.Chart(data).mark_bar(height=BAR, opacity=0.25, color=PEER_COLOUR[
        "Médiane du groupe"]).encode(x=alt.X("q1:Q", title="€ par habitant", axis=euro_axis()),
                                     x2="q3:Q", y=y, tooltip=tooltip,
                                     description="dit:N")
    texts = [f"{column}_texte" for column in ("value", "median", "q1", "q3")]
    long = data.melt(id_vars=["ligne", "chapitre", *texts, "chiffres"],
                     value_vars=["median", "value"], var_name="serie", value_name="montant")
    long["serie"] = long["serie"].map({"value": "La collectivité",
                                       "median": "Médiane du groupe"})
    long["dit"] = [f"{c}, {serie.lower()} : {value if serie == 'La collectivité' else median}"
                   f" ({rank})" for c, serie, value, median, rank in zip(
                       long["chapitre"], long["serie"], long["value_texte"],
                       long["median_texte"], long["chiffres"], strict=True)]
    series = list(PEER_COLOUR)
    marks = alt.Chart(long).mark_point(filled=True, size=170, opacity=1).encode(
        x=x, y=y, tooltip=tooltip, description="dit:N",
        color=alt.Color("serie:N", title=None, scale=alt.Scale(
            domain=series, range=list(PEER_COLOUR.values()))),
        shape=alt.Shape("serie:N", title=None, scale=alt.Scale(
            domain=series, range=["circle", "diamond"])))
    line: dict[str, Any] = {"baseline": "bottom", "dy": -BAR / 2 - 3, "fontSize": 14,
                            "color": TEXT, "aria": False}  # said with the marks
    names = alt.Chart(data).mark_text(align="left", limit=alt.ExprRef("width - 110"),
                                      **line).encode(x=alt.value(0), y=y, text="chapitre:N")
    ranks = alt.Chart(data).mark_text(align="right", **line).encode(
        x=alt.value("width"), y=y, text="chiffres:N")
    return finished(alt.LayerChart(layer=[band, marks, names, ranks]).properties(
        height=alt.Step(step), description=_description(
            "Chaque chapitre de la commune parmi les communes de son groupe")))
