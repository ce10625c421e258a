"""Drawing what budget_core computes: charts and tables, cached by their inputs.

A chart's Vega-Lite spec (`altair_chart`) or Plotly figure (`plotly_chart`) is built once
per set of inputs; its datasets are named by position so that the browser updates a view in
place when only its rows change. Tables are French (`fmt.french_table`): a grid
(`st.dataframe`, sortable) or, for rows already in the order readers want, a static HTML
table (`show_table(..., static=True)`); `chart_data` puts a chart's table and CSV under it.
"""

from __future__ import annotations

import html
import sys
from collections.abc import Callable, Sequence
from typing import Any

import altair as alt
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec

from budget_core import charts
from budget_core.digest import frame_digest
from budget_core.fmt import french_table, md_escape
from budget_core.scdl import csv_safe_bytes


def vega_lite_spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """Streamlit's own conversion, as st.altair_chart makes it (data as Arrow, no theme), for
    `st.vega_lite_chart` to draw a spec kept in a cache."""
    spec: dict[str, Any] = _convert_altair_to_vega_lite_spec(chart)
    return spec


# Frames in a chart's arguments are keyed by their pickle's digest (`digest.frame_digest`):
# Streamlit's own hashing of a frame took 5.7 ms for a table of 27 chapters, at every rerun.
FRAME_KEY = {pd.DataFrame: frame_digest}


@st.cache_data(show_spinner=False, max_entries=256, hash_funcs=FRAME_KEY)
def _chart_spec(module: str, name: str, args: tuple[Any, ...]) -> dict[str, Any]:
    build: Callable[..., alt.TopLevelMixin] = getattr(sys.modules[module], name)
    return _datasets_by_position(vega_lite_spec(build(*args)))


def _datasets_by_position(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec with its datasets named by their order (`data-0`, `data-1`…), not by the
    hash of their content as Streamlit names them: a chart whose data alone changes (another
    collectivité, same agrégat) keeps the same spec, and Streamlit's frontend puts the new
    rows into the Vega view it has instead of compiling and drawing a new one."""
    names = {old: f"data-{i}" for i, old in enumerate(spec.get("datasets", {}))}

    def renamed(node: Any) -> Any:
        if isinstance(node, dict):
            if isinstance(node.get("name"), str) and node["name"] in names:
                return {**node, "name": names[node["name"]]}
            return {key: renamed(value) for key, value in node.items()}
        if isinstance(node, list):
            return [renamed(value) for value in node]
        return node

    out: dict[str, Any] = renamed({key: value for key, value in spec.items()
                                   if key != "datasets"})
    out["datasets"] = {names[old]: data for old, data in spec.get("datasets", {}).items()}
    return out


def altair_chart(build: Callable[..., alt.TopLevelMixin], *args: Any, key: str,
                 box: st.delta_generator.DeltaGenerator | None = None) -> None:
    """`st.altair_chart(build(*args))` for a function of `budget_core.charts`, its Vega-Lite
    spec cached by the inputs (small frames): building and validating an Altair chart takes
    about 0.2 s at each rerun that draws it. (Maps need no cache: `budget_core.maps` puts new
    values into a spec made once.)"""
    (box or st).vega_lite_chart(_chart_spec(build.__module__, build.__name__, args), key=key)


@st.cache_resource(show_spinner=False, max_entries=64, hash_funcs=FRAME_KEY)
def _figure(name: str, args: tuple[Any, ...]) -> go.Figure:
    # A resource, not a copy: st.plotly_chart only reads the figure (to JSON).
    build: Callable[..., go.Figure] = getattr(charts, name)
    return build(*args)


def plotly_chart(build: Callable[..., go.Figure], *args: Any, key: str,
                 config: dict[str, Any]) -> None:
    """`st.plotly_chart(build(*args))` for a function of `budget_core.charts`, the figure
    kept by its inputs: Plotly validates every property it is given as it builds one."""
    st.plotly_chart(_figure(build.__name__, args), key=key, config=config)


# A static table's look, near Streamlit's `st.table` in the app's (light) theme; past
# STATIC_HEIGHT its rows scroll under a header kept in view.
STATIC_HEIGHT = 400  # px
_STATIC_CSS = f"""<style>
.tableau-fixe {{ max-height: {STATIC_HEIGHT}px; overflow: auto; margin-bottom: 0.5rem;
  border: 1px solid rgba(49, 51, 63, 0.1); border-radius: 0.5rem; }}
.tableau-fixe table {{ width: 100%; border-collapse: collapse; font-size: 0.875rem; }}
.tableau-fixe th {{ position: sticky; top: 0; background: #fff; font-weight: 400;
  color: rgba(49, 51, 63, 0.75); text-align: left; }}
.tableau-fixe th, .tableau-fixe td {{ padding: 0.25rem 0.5rem; vertical-align: top;
  border-bottom: 1px solid rgba(49, 51, 63, 0.1); }}
.tableau-fixe .nombre {{ text-align: right; white-space: nowrap; }}
</style>"""
_CELL = "\x1f"  # between cells in the Styler's text: whitespace, so gone from every cell


def show_table(frame: pd.DataFrame, *, money: Sequence[str] = (), counts: Sequence[str] = (),
               shares: Sequence[str] = (),
               box: st.delta_generator.DeltaGenerator | None = None,
               static: bool = False) -> None:
    """A French table (`fmt.french_table`), or a sentence where Streamlit would say
    « empty ».

    `static`: an HTML table instead of Streamlit's grid, for rows already in the order
    readers want, redrawn at each change of what they show. The grid draws on a canvas and
    refreshes the hidden table it keeps for screen readers 200 ms after its data changes
    (glide-data-grid's debounce): the last thing the browser drew at a change of budget on
    Explorer (issue 13). An HTML table is read as drawn; it has no sort, search or download
    of its own (a page adds its CSV beside it). It is one `st.html` element: `st.table`
    renders each cell as Markdown, 30 ms more per change of a 40-row table."""
    box = box or st.container()
    if frame.empty:
        box.caption("Aucune ligne.")
        return
    with box:
        _draw_french_table(frame, tuple(money), tuple(counts), tuple(shares), static)


@st.cache_data(show_spinner=False, max_entries=128, hash_funcs=FRAME_KEY)
def _draw_french_table(frame: pd.DataFrame, money: tuple[str, ...], counts: tuple[str, ...],
                       shares: tuple[str, ...], static: bool) -> None:
    # Drawn inside the cache: on a hit Streamlit replays the element it recorded (into the
    # container the call is made in) instead of making the Styler again and rendering it
    # cell by cell (30 ms for a drill-down of 65 natures, at every rerun that shows it).
    if static:
        st.html(_STATIC_CSS + static_table(frame, money, counts, shares))
    else:
        st.dataframe(french_table(frame, money=money, counts=counts, shares=shares),
                     hide_index=True, width="stretch")


def static_table(frame: pd.DataFrame, money: Sequence[str], counts: Sequence[str],
                 shares: Sequence[str]) -> str:
    """`fmt.french_table`'s text of `frame` as an HTML table (escaped), numbers to the
    right."""
    numbers = {*money, *counts, *shares}
    one_line = {column: frame[column].map(lambda v: " ".join(str(v).split()),
                                           na_action="ignore")
                for column in frame.columns if column not in numbers
                and not pd.api.types.is_numeric_dtype(frame[column])}
    text = french_table(frame.assign(**one_line), money=money, counts=counts, shares=shares
                        ).hide(axis="index").to_string(delimiter=_CELL)
    header, *rows = (line.split(_CELL) for line in text.splitlines())
    kinds = [' class="nombre"' if column in numbers else "" for column in frame.columns]

    def cells(tag: str, values: list[str], scope: str = "") -> str:
        return "".join(f"<{tag}{scope}{kind}>{html.escape(value)}</{tag}>"
                       for kind, value in zip(kinds, values, strict=True))

    head = cells("th", header, ' scope="col"')
    body = "".join(f"<tr>{cells('td', row)}</tr>" for row in rows)
    return (f'<div class="tableau-fixe"><table><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")


def chart_data(frame: pd.DataFrame, file_name: str, key: str, *, money: Sequence[str] = (),
               counts: Sequence[str] = (), shares: Sequence[str] = (),
               title: str = "Données du graphique", static: bool = False) -> None:
    """Under a chart, its data: a French table (what a screen reader can read; `static`:
    see `show_table`) and the same rows as CSV, exact to the cent.

    Made when the expander is opened (which reruns the page, or its fragment), not at every
    rerun while it is closed: a French table is a pandas Styler that Streamlit renders cell
    by cell, the largest part of a page's run once its sums and charts are cached."""
    with st.expander(f"{title} (tableau et CSV)", key=f"{key}_ouvert",
                     on_change="rerun") as shown:
        if shown.open:
            show_table(frame, money=money, counts=counts, shares=shares, static=static)
            st.download_button("Télécharger ces données (CSV)", csv_safe_bytes(frame),
                               file_name=file_name, mime="text/csv", key=key)


def chart_title(text: str) -> None:
    """A chart's title as a line of text above it: it wraps on a phone where a Vega title is
    cut, and the chart's spec stays the same when only the title changes (the browser then
    swaps the chart's data instead of drawing it anew: `maps`)."""
    st.markdown(f"**{md_escape(text)}**")
