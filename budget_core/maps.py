"""Maps of the embedded shapes (`coverage`) as Vega-Lite specs, named by the territories'
codes: the pages pass codes and values, never the GeoJSON itself, and draw the spec with
`st.vega_lite_chart`.

A map is two parts. Its drawing — the shapes, the legend, the colours — is a spec made once
per territory and legend (`_drawn`), the same dictionary at every run. Its values are a table
of its own, the named dataset `VALUES` (code, value, value in French), that the spec joins to
the shapes by code (a Vega-Lite `lookup`). Streamlit's browser rebuilds a Vega view whenever the
spec's JSON changes, but only swaps its data when the spec is the same: a change of stage or
year on the publication map, or of agrégat on « Se comparer », no longer parses, compiles and
draws the map anew. So nothing that changes with the values is in the spec: the pages write
the title above the map, and Vega reads the highest share a share's colours run to from the
values themselves (`_HIGHEST_SHARE`).

Altair validates every coordinate of the geometry it is given: a map made by Altair took 0.6
to 1 s for the 96 départements, 2 to 6 s for the 727 communes of the Moselle. So Altair makes
the spec of a map (`choropleth`) once per legend and kind, with no shape (`_blank`), and a
drawing is that spec with its features put in. The features are the shapes' own dictionaries,
rounded once per process (below) and shared by every map, never copied.

Streamlit writes a map's spec to JSON, reads it back and writes it again at every run that
draws it, and sends it: the shapes keep 3 decimals of a degree (`PRECISION`), at most 0.0005°
(about 50 m) from the shipped ones, a quarter of a pixel on the most detailed map drawn (a
département's communes: about 1° of latitude in 520 px), and the spec of every département
is less than half as long (261 KB instead of 599 KB).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from typing import Any

import altair as alt

from budget_core import charts, coverage, fmt

Spec = dict[str, Any]
PRECISION = 3  # decimals of a degree kept in the shapes drawn
# The fill of a territory without a value (None or NaN): Vega-Lite leaves out a shape whose
# colour field is empty, and a map of a département's communes, three of them with a value,
# drew those three alone in white, framed as if they were the département.
NO_VALUE = "#d9d9d9"
VALUES = "valeurs"  # the named dataset of a map's values, joined to its shapes by code
# A share's colours run from 0 to the highest share of the values (Vega reads them), to 100 %
# when all are 0: 0,4 % among 0 % would otherwise be as pale as 0 %.
_HIGHEST_SHARE = f"extent(pluck(data('{VALUES}'), 'valeur'))[1] || 1"


def departements(values: Mapping[str, fmt.Number | None], legend: str,
                 share: bool = True) -> Spec:
    """The départements that have a value (of those the embedded map holds: metropolitan
    France), coloured by it; `share`: a share from 0 to 1, else an amount in €."""
    return _with_values(_drawn(None, frozenset(values), legend, share), values, share)


def communes(departement: str, values: Mapping[str, fmt.Number | None], legend: str,
             share: bool = True) -> Spec:
    """Every commune of a département the embedded shapes hold
    (`coverage.commune_map_departements`), coloured by its value (by INSEE code), grey
    (`NO_VALUE`) without one."""
    return _with_values(_drawn(departement, None, legend, share), values, share)


def codes(spec: Spec) -> list[str]:
    """The codes of the territories a map draws."""
    return [feature["properties"]["code"] for feature in spec["data"]["values"]]


@functools.lru_cache(maxsize=16)
def _shapes(departement: str | None) -> tuple[dict[str, Any], ...]:
    """The features of France's départements (None) or of one département's communes, their
    coordinates rounded to `PRECISION` decimals, made once per process."""
    shapes = (coverage.departements_shapes() if departement is None
              else coverage.communes_shapes(departement))
    return tuple({**feature, "geometry": {**feature["geometry"], "coordinates": _rounded(
        feature["geometry"]["coordinates"])}} for feature in shapes["features"])


def _rounded(coordinates: list[Any]) -> list[Any]:
    """Nested lists of positions (a polygon's rings, a multipolygon's polygons) rounded."""
    if coordinates and isinstance(coordinates[0], int | float):
        return [round(value, PRECISION) for value in coordinates]
    return [_rounded(part) for part in coordinates]


@functools.lru_cache(maxsize=32)
def _drawn(departement: str | None, kept: frozenset[str] | None, legend: str,
           share: bool) -> Spec:
    """The drawing of a map: `_blank` with the features of France's départements (None) or
    of one département's communes, those of `kept` only if given. The same dictionary for
    the same arguments: its JSON, what Streamlit's browser compares, is the same."""
    features = [feature for feature in _shapes(departement)
                if kept is None or feature["properties"]["code"] in kept]
    return {**_blank(legend, share), "data": {"values": features}}


@functools.lru_cache(maxsize=16)
def _blank(legend: str, share: bool) -> Spec:
    """The spec of `choropleth` with no shape and no value. Never changed: `_drawn` and
    `_with_values` make new dictionaries around it. (Made with Altair's active theme, whose
    default view size the map never uses: Streamlit draws it at the container's width, and
    its height is the spec's.)"""
    spec: Spec = choropleth({"features": []}, {}, legend, share=share).to_dict()
    del spec["datasets"]
    return spec


def _with_values(drawn: Spec, values: Mapping[str, fmt.Number | None], share: bool) -> Spec:
    """`drawn` as `choropleth` makes it for those values: the same spec and its values."""
    return {**drawn, "datasets": {VALUES: territory_values(codes(drawn), values, share=share)}}


def territory_values(drawn: Iterable[str], values: Mapping[str, fmt.Number | None], *,
                     share: bool) -> list[dict[str, Any]]:
    """For each territory drawn (by code), its value (`valeur`, None if it has none) and the
    value in French (`texte`): the table a map joins to its shapes. The value drawn is a
    float: Streamlit's browser reads an Arrow decimal as its unscaled integer, and a map of
    exact amounts coloured 12,34 € as 1 234 € (its text, made here, said 12,34 €)."""
    def text(value: fmt.Number | None) -> str:
        return fmt.percent(value) if share else fmt.euros(value, 2)

    return [{"code": code, "valeur": None if value is None else float(value),
             "texte": text(value)}
            for code in drawn for value in [values.get(code)]]


def choropleth(shapes: dict[str, Any], values: Mapping[str, fmt.Number | None], legend: str,
               *, share: bool = True) -> alt.Chart:
    """Map of a value by territory code (`properties.code` of the shapes): a share from 0 to
    1 (in %), or an amount (€). The values are the named dataset `VALUES`, joined to the
    shapes by code."""
    drawn = [feature["properties"]["code"] for feature in shapes["features"]]
    # A Vega string as JSON writes it (quotes, backslashes and line breaks escaped): quotes
    # alone escaped let « a\'b » end the string, and the map was not drawn.
    said = json.dumps(f", {legend} : ")
    # Two decimals at most, trailing zeros cut: a share's colours that run to 0,11 % (one
    # commune of the Pas-de-Calais's 887) step by 0,02 %, which one decimal wrote « 0 % 0 %
    # 0 % 0,1 % 0,1 % 0,1 % ». The smallest highest share of a map of départements is about
    # 1/900 (its steps: 0,02 %); of communes, 0 or 1.
    labels = (f"format(datum.value * 100, ',.2~f') + '{fmt.NNBSP}%'" if share
              else charts.COMPACT_EUROS)
    chart = alt.Chart(alt.Data(values=shapes["features"])).mark_geoshape(
        stroke="white", strokeWidth=0.4).transform_lookup(
        lookup="properties.code", from_=alt.LookupData(
            data=alt.NamedData(name=VALUES), key="code", fields=["valeur", "texte"]),
    ).encode(
        color=alt.Color("valeur:Q", title=f"{legend} (en gris : sans valeur)",
                        scale=alt.Scale(scheme="blues", domainMin=0,
                                        domainMax=alt.ExprRef(_HIGHEST_SHARE)) if share
                        else alt.Scale(scheme="blues"),
                        legend=alt.Legend(labelExpr=labels, direction="horizontal",
                                          gradientLength=280, labelOverlap=True,
                                          titleLimit=340)),  # whole at 390 px
        tooltip=[alt.Tooltip("properties.nom:N", title="Territoire"),
                 alt.Tooltip("properties.code:N", title="Code"),
                 alt.Tooltip("texte:N", title=legend)],
        description="description:N",
    ).transform_calculate(  # what a screen reader says of a territory
        description=f"datum.properties.nom + ' (' + datum.properties.code + ')' + {said} "
                    "+ datum.texte",
    ).project("mercator").properties(
        height=520, datasets={VALUES: territory_values(drawn, values, share=share)})
    return charts.finished(chart).configure_scale(invalid={"color": {"value": NO_VALUE}})
