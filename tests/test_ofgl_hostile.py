"""OFGL exports altered as a spreadsheet or another tool would (real Guadeloupe 2024 export of
ofgl-base-communes, tests/fixtures/national): refused at their line and column, never stored
half or twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from budget_core.errors import FormatError
from budget_core.national import NationalStore
from budget_core.ofgl import normalise_export
from tests.conftest import FIXTURES

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
