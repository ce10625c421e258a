"""Maps of the embedded shapes (`coverage`), named by the territories' codes: the pages pass
codes and values, never the GeoJSON itself, so the chart's spec can be cached by small
arguments (hashing a map's GeoJSON at each rerun would cost more than drawing a bar chart).

Building and converting a map is the slowest thing a page draws: 1.1 s for the départements,
5 to 6 s for the 727 communes of the Moselle (Altair validates every feature), at every rerun
that draws it when it is not cached.
"""

from __future__ import annotations

import altair as alt

from budget_core import charts, coverage


def departements(values: dict[str, float], title: str, legend: str,
                 share: bool = True) -> alt.Chart:
    """The départements that have a value (of those the embedded map holds: metropolitan
    France), coloured by it; `share`: a share from 0 to 1, else an amount in €."""
    features = [feature for feature in coverage.departements_shapes()["features"]
                if feature["properties"]["code"] in values]
    return charts.choropleth({"features": features}, values, title, legend, share=share)


def communes(departement: str, values: dict[str, float], title: str, legend: str,
             share: bool = True) -> alt.Chart:
    """Every commune of a département the embedded shapes hold
    (`coverage.commune_map_departements`), coloured by its value (by INSEE code)."""
    return charts.choropleth(coverage.communes_shapes(departement), values, title, legend,
                             share=share)
