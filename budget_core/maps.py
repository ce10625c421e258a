"""Maps of the embedded shapes (`coverage`) as Vega-Lite specs, named by the territories'
codes: the pages pass codes and values, never the GeoJSON itself, and draw the spec with
`st.vega_lite_chart`.

Altair validates every coordinate of the geometry it is given: a map made by Altair took 0.6
to 1 s for the 96 départements, 2 to 6 s for the 727 communes of the Moselle. So Altair makes
the spec of a map (`choropleth`) once per legend and kind, with no shape (`_blank`), and a map
is that spec with its features, their values, its title and, for shares, its colour domain put in
(`_filled`: 0.3 ms and 3 ms for those two maps). The features are new dictionaries around the
shapes' geometry, rounded once per process (below) and shared by every map, never copied.

Streamlit writes a map's spec to JSON, reads it back and writes it again at every run that
draws it, and sends it: the shapes keep 3 decimals of a degree (`PRECISION`), at most 0.0005°
(about 50 m) from the shipped ones, a quarter of a pixel on the most detailed map drawn (a
département's communes: about 1° of latitude in 520 px), and the spec of every département
is less than half as long (261 KB instead of 599 KB).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import altair as alt

from budget_core import charts, coverage, fmt

Spec = dict[str, Any]
PRECISION = 3  # decimals of a degree kept in the shapes drawn


def departements(values: dict[str, float], title: str, legend: str,
                 share: bool = True) -> Spec:
    """The départements that have a value (of those the embedded map holds: metropolitan
    France), coloured by it; `share`: a share from 0 to 1, else an amount in €."""
    features = [feature for feature in _shapes(None) if feature["properties"]["code"] in values]
    return _filled(_blank(legend, share), features, values, title, share)


def communes(departement: str, values: dict[str, float], title: str, legend: str,
             share: bool = True) -> Spec:
    """Every commune of a département the embedded shapes hold
    (`coverage.commune_map_departements`), coloured by its value (by INSEE code)."""
    return _filled(_blank(legend, share), list(_shapes(departement)), values, title, share)


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


@functools.lru_cache(maxsize=16)
def _blank(legend: str, share: bool) -> Spec:
    """The spec of `choropleth` with no shape and no title: nothing else in it depends
    on the shapes. Never changed: `_filled` makes new dictionaries where a map differs.
    (Made with Altair's active theme, whose default view size the map never uses: Streamlit
    draws it at the container's width, and its height is the spec's.)"""
    spec: Spec = choropleth({"features": []}, {}, "", legend, share=share).to_dict()
    return spec


def _filled(blank: Spec, features: list[dict[str, Any]], values: dict[str, float], title: str,
            share: bool) -> Spec:
    """`blank` as `choropleth({"features": features}, values, title, ...)` makes it:
    the same spec but for the features drawn, their values, the title and a share's colour
    domain (0 to the highest share)."""
    spec = {**blank, "title": title, "data": {"values": territory_features(
        {"features": features}, values, share=share)}}
    if share:
        color = blank["encoding"]["color"]
        spec["encoding"] = {**blank["encoding"], "color": {
            **color, "scale": {**color["scale"], "domain": share_domain(values)}}}
    return spec


def territory_features(shapes: dict[str, Any], values: dict[str, float], *,
                       share: bool) -> list[dict[str, Any]]:
    """The shapes' features, each with its value (`valeur`) and the value in French
    (`texte`): what a choropleth draws."""
    def text(value: float | None) -> str:
        return fmt.percent(value) if share else fmt.euros(value, 2)

    return [{**feature, "properties": {**feature["properties"], "valeur": value,
                                       "texte": text(value)}}
            for feature in shapes["features"]
            for value in [values.get(feature["properties"]["code"])]]


def share_domain(values: Mapping[str, float | None]) -> list[float]:
    """A map of shares runs from 0 to the highest one: 3 % among 0 % would be as pale as 0 %
    on 0–100 %."""
    return [0, max((v for v in values.values() if v is not None), default=0) or 1]


def choropleth(shapes: dict[str, Any], values: dict[str, float], title: str, legend: str,
               *, share: bool = True) -> alt.Chart:
    """Map of a value by territory code (`properties.code` of the shapes): a share from 0 to
    1 (in %), or an amount (€)."""
    features = territory_features(shapes, values, share=share)
    labels = (f"format(datum.value * 100, ',.1~f') + '{fmt.NNBSP}%'" if share
              else charts.COMPACT_EUROS)
    chart = alt.Chart(alt.Data(values=features), title=title).mark_geoshape(
        stroke="white", strokeWidth=0.4).encode(
        color=alt.Color("properties.valeur:Q", title=legend,
                        scale=alt.Scale(scheme="blues", domain=share_domain(values)) if share
                        else alt.Scale(scheme="blues"),
                        legend=alt.Legend(labelExpr=labels, direction="horizontal",
                                          gradientLength=280, labelOverlap=True)),
        tooltip=[alt.Tooltip("properties.nom:N", title="Territoire"),
                 alt.Tooltip("properties.code:N", title="Code"),
                 alt.Tooltip("properties.texte:N", title=legend)],
    ).project("mercator").properties(height=520)
    return charts.finished(chart)
