"""OFGL exports altered as a spreadsheet or another tool would (real Guadeloupe 2024 export of
ofgl-base-communes, tests/fixtures/national): refused at their line and column, never stored
half or twice."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from budget_core.errors import FormatError, PortalError
from budget_core.http import Http, make_session
from budget_core.national import NationalStore
from budget_core.ofgl import normalise_export
from tests.conftest import FIXTURES
from tests.portal_server import api_names, running

COMMUNES = FIXTURES / "national" / "ofgl-base-communes_guadeloupe_2024.csv"
HEAD, *ROWS = COMMUNES.read_text(encoding="utf-8-sig").split("\n")
LABELS = HEAD.split(";")


def export(rows: list[str], head: str = HEAD) -> bytes:
    return ("\ufeff" + "\n".join([head, *rows]) + "\n").encode("utf-8")


def with_value(row: str, label: str, value: str) -> str:
    cells = row.split(";")
    cells[LABELS.index(label)] = value
    return ";".join(cells)


def test_a_label_written_twice_is_refused() -> None:
    """« Montant » twice was read silently (one of the two)."""
    data = export([r + ";1" for r in ROWS[:3]], HEAD + ";Montant")
    with pytest.raises(FormatError, match="« Montant » écrite deux fois"):
        normalise_export(data, "x.csv", "communes")


@pytest.mark.parametrize("value", ["", "1899", "2999"])
def test_a_row_without_a_plausible_year_is_refused_at_its_line(tmp_path: Path,
                                                               value: str) -> None:
    """An empty « Exercice » row was dropped by NationalStore.add_export without a word; 1899
    was stored as `year=1899.parquet`."""
    data = export([*ROWS[:2], with_value(ROWS[2], "Exercice", value)])
    with NationalStore(tmp_path, threads=1) as store:
        with pytest.raises(FormatError, match=f"exercice « {value} » invalide") as caught:
            store.add_export("communes", data, "x.csv")
        assert caught.value.where == "ligne 4, colonne « Exercice »"
        assert store.years("communes") == []


@pytest.mark.parametrize("value", ["inf", "-inf", "Infinity"])
def test_an_infinite_per_inhabitant_value_is_refused(value: str) -> None:
    """`inf` parsed as a float and went into the peers' quartiles and ranks."""
    data = export([ROWS[0], with_value(ROWS[1], "Montant en € par habitant", value)])
    with pytest.raises(FormatError, match="nombre fini") as caught:
        normalise_export(data, "x.csv", "communes")
    assert caught.value.where == "ligne 3, colonne « Montant en € par habitant »"


def test_an_unknown_level_is_a_french_error() -> None:
    """A KeyError ('cantons') from the library."""
    with pytest.raises(FormatError, match="niveau OFGL « cantons » inconnu"):
        normalise_export(COMMUNES.read_bytes(), "x.csv", "cantons")


def ignoring(name: str, export: Callable[[str, dict[str, str]], Any], dataset: str,
             params: dict[str, str]) -> Any:
    """The server's export as a portal answering without the parameter `name`."""
    return export(dataset, {k: v for k, v in params.items() if k != name})


def test_a_portal_ignoring_refine_never_stores_every_year_as_one(tmp_path: Path) -> None:
    """The OFGL export of one year is asked with `refine=exer:<Y>`; a portal that drops it
    answered every year, stored whole as `year=2023.parquet` then again as 2024: each year's
    rows counted twice in every median and rank."""
    for server in running():
        head, *rows = COMMUNES.read_bytes().split(b"\n")
        server.ods_tables["ofgl-base-communes"], server.ods_labels["ofgl-base-communes"] = \
            api_names(b"\n".join([head, *rows, *[b"2023" + r[4:] for r in rows if r]]))
        server.ods_export = functools.partial(  # type: ignore[method-assign]
            ignoring, "refine", server.ods_export)
        with NationalStore(tmp_path, threads=1) as store:
            http = Http(make_session(retries=0), timeout=10)
            with pytest.raises(PortalError, match="d'autres exercices"):
                store.download(http, server.url, "communes", [2023])
            assert store.years("communes") == []


def test_an_export_with_a_header_and_no_row_is_refused_and_nothing_stored(
        tmp_path: Path) -> None:
    """A download asks `where=<budget type>="Budget principal"`: a portal writing that value
    otherwise (« Principal ») answers the header alone. Checking its years crashed with
    pyarrow's IndexError (a traceback in the app); an empty year stored would have been
    taken as loaded, and never asked again."""
    for server in running():
        data = COMMUNES.read_bytes().replace(b";Budget principal;", b";Principal;")
        assert b"Budget principal" not in data
        server.ods_tables["ofgl-base-communes"], server.ods_labels["ofgl-base-communes"] = \
            api_names(data)
        with NationalStore(tmp_path, threads=1) as store:
            http = Http(make_session(retries=0), timeout=10)
            with pytest.raises(FormatError, match="sans aucune ligne"):
                store.download(http, server.url, "communes", [2024])
            assert store.years("communes") == []
    with pytest.raises(FormatError, match="sans aucune ligne"):
        normalise_export(export([]), "en-tete.csv", "communes")
