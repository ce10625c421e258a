"""Hostile and odd variants of the real DGFiP balance rows (tests/fixtures/balances, 2024 sample
of data.economie.gouv.fr): each is refused with a French message naming the file, the line and
the column, and the year already held stays whole.

The variants are what other exports and editors produce: a spreadsheet's decimal comma or
exponent, pandas' `NaN` / `NULL` for a missing amount, a column written twice (`EXER` and `exer`
in an export re-saved with capitals), a NUL byte, a year written as a date or on five digits,
a Latin-1 re-save.
"""

from __future__ import annotations

import functools
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock

from budget_core.balance_download import download
from budget_core.balances import BalanceStore
from budget_core.errors import BudgetError, CacheError, FormatError, PortalError
from budget_core.http import Http, make_session
from tests.conftest import FIXTURES
from tests.portal_server import running

SAMPLE = FIXTURES / "balances" / "balance-comptable-communes-2024_sample20.csv"
HEAD, *ROWS = SAMPLE.read_text(encoding="utf-8").splitlines()
COLUMNS = HEAD.split(";")


def with_value(row: str, column: str, value: str) -> str:
    cells = row.split(";")
    cells[COLUMNS.index(column)] = value
    return ";".join(cells)


@pytest.fixture
def held(tmp_path: Path) -> Iterator[BalanceStore]:
    """A store holding the 20 real rows of 2024."""
    with BalanceStore(tmp_path / "balances", threads=1) as store:
        store.import_csv(SAMPLE, "communes")
        yield store


def write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "hostile.csv"
    path.write_bytes(text.encode(encoding))
    return path


def still_whole(store: BalanceStore) -> None:
    assert store.years("communes") == [2024]
    assert int(store.query("SELECT count(*) AS n FROM balances")["n"].iloc[0]) == len(ROWS)


@pytest.mark.parametrize(("value", "why"), [
    ("2.7254181e5", "exposant"),            # a spreadsheet's scientific notation
    ("NaN", "NaN"),                         # pandas' missing value
    ("NULL", "NULL"),                       # a database dump's missing value
    ("N/A", "N/A"),
    ("272541.815", "deux décimales"),
    ("272541,81", "virgule"),               # a French spreadsheet's re-save
    ("12345678901234567.00", "hors limites"),  # beyond decimal128(18, 2)
])
def test_an_amount_that_is_not_euros_and_cents_is_refused_at_its_line(
        held: BalanceStore, tmp_path: Path, value: str, why: str) -> None:
    path = write(tmp_path, "\n".join([HEAD, *ROWS[:5], with_value(ROWS[5], "becre", value)]))
    with pytest.raises(FormatError, match=why) as caught:
        held.import_csv(path, "communes")
    assert caught.value.source == "hostile.csv"
    assert caught.value.where == "ligne 7, colonne becre"
    still_whole(held)


def test_an_empty_amount_is_still_a_zero(held: BalanceStore, tmp_path: Path) -> None:
    """The DGFiP writes 0.0 for none; an empty cell (a CSV re-saved) means the same."""
    path = write(tmp_path, "\n".join([HEAD, with_value(ROWS[0], "bedeb", "")]))
    held.import_csv(path, "communes")
    assert str(held.query("SELECT bedeb FROM balances")["bedeb"].iloc[0]) == "0.00"


@pytest.mark.parametrize("value", ["1899", "99999", "20x4", "", "3024"])
def test_an_implausible_year_is_refused_not_truncated(held: BalanceStore, tmp_path: Path,
                                                      value: str) -> None:
    """`99999` was read as 9999 (its first four characters) and `1899` stored as a year."""
    path = write(tmp_path, "\n".join([HEAD, ROWS[0], with_value(ROWS[1], "exer", value)]))
    with pytest.raises(FormatError, match="exercice") as caught:
        held.import_csv(path, "communes")
    assert caught.value.where == "ligne 3, colonne exer"
    still_whole(held)


def test_a_year_written_as_a_date_is_read_as_its_year(held: BalanceStore,
                                                      tmp_path: Path) -> None:
    """A multi-year dataset may export `exer` as a date (public harvesters keep [:4])."""
    path = write(tmp_path, "\n".join([HEAD, with_value(ROWS[0], "exer", "2023-01-01")]))
    assert held.import_csv(path, "communes").years == [2023]


@pytest.mark.parametrize("head", [HEAD + ";sc", HEAD + ";EXER", HEAD.replace("cbudg", "budget")
                                  + ";cbudg"])
def test_a_column_written_twice_is_refused(held: BalanceStore, tmp_path: Path,
                                           head: str) -> None:
    """`sc` twice was read silently (one of the two, unsaid); `budget` is `cbudg`'s old name."""
    path = write(tmp_path, "\n".join([head, ROWS[0] + ";0.0"]))
    with pytest.raises(FormatError, match="deux fois") as caught:
        held.import_csv(path, "communes")
    assert caught.value.source == "hostile.csv"
    still_whole(held)


def test_a_header_error_names_the_file_not_a_column(held: BalanceStore,
                                                    tmp_path: Path) -> None:
    """The message said « Fichier « fonction » » (the loop's variable shadowed the name)."""
    path = write(tmp_path, "\n".join([HEAD + ";fonction", ROWS[0] + ";01"]))
    with pytest.raises(FormatError) as caught:
        held.import_csv(path, "communes")
    assert caught.value.source == "hostile.csv"


def test_a_nul_byte_is_refused(held: BalanceStore, tmp_path: Path) -> None:
    path = write(tmp_path, "\n".join([HEAD, ROWS[0], ROWS[1].replace("GRENOBLE", "GRE\0NOBLE")]))
    with pytest.raises(FormatError, match="NUL") as caught:
        held.import_csv(path, "communes")
    assert caught.value.where == "ligne 3, colonne lbudg"
    still_whole(held)


def test_a_latin1_file_is_refused_in_french(held: BalanceStore, tmp_path: Path) -> None:
    rows = [ROWS[0].replace("GRENOBLE", "SAINT-ÉGRÈVE")]
    path = write(tmp_path, "\n".join([HEAD, *rows]), encoding="latin-1")
    with pytest.raises(FormatError, match="UTF-8"):
        held.import_csv(path, "communes")
    still_whole(held)


def ignoring_where(export: Callable[[str, dict[str, str]], Any], dataset: str,
                   params: dict[str, str]) -> Any:
    return export(dataset, {k: v for k, v in params.items() if k != "where"})


def test_a_portal_ignoring_the_where_filter_never_counts_a_year_four_times(
        tmp_path: Path) -> None:
    """Every part came back holding the whole year (4 départements × 20 rows = 80 rows kept):
    a portal that drops `where` (an older API version, a proxy cutting the query) silently
    quadrupled every amount. The part must hold only its département."""
    dataset = "balances-comptables-des-communes-en-2024"
    for server in running():
        server.ods_tables[dataset] = SAMPLE.read_bytes()
        server.ods_export = functools.partial(  # type: ignore[method-assign]
            ignoring_where, server.ods_export)
        with BalanceStore(tmp_path / "balances", threads=1) as store:
            http = Http(make_session(retries=0), timeout=10)
            with pytest.raises(PortalError, match="d'autres départements"):
                download(store, http, server.url, "communes", 2024)
            assert store.years("communes") == []
            assert not list((store.folder / "_parts").rglob("*.parquet"))


@pytest.mark.parametrize("year", [-5, 0, 2009, 99999])
def test_a_year_without_balances_is_refused_before_any_request(tmp_path: Path,
                                                               year: int) -> None:
    """`balances download --year -5` asked the portal for the dataset
    « balances-comptables-des-communes-en--5 » (and waited for its answer)."""
    for server in running():
        with BalanceStore(tmp_path / "balances", threads=1) as store, \
                pytest.raises(BudgetError, match="exercice"):
            download(store, Http(make_session(retries=0), timeout=10), server.url,
                     "communes", year)
        assert server.requests == []


def test_a_users_short_departement_code_is_the_portals_three_letter_one(
        tmp_path: Path) -> None:
    """`--departement 38` was refused (« un code ndept s'écrit sur 3 caractères »): the
    user's code is the one on a postcode; the portal's is 038."""
    dataset = "balances-comptables-des-communes-en-2024"
    for server in running():
        server.ods_tables[dataset] = SAMPLE.read_bytes()
        with BalanceStore(tmp_path / "balances", threads=1) as store:
            report = download(store, Http(make_session(retries=0), timeout=10), server.url,
                              "communes", 2024, departements=[" 38 "])
        assert report.parts == ["038"] and report.rows == 5


def test_what_a_killed_import_left_is_cleaned_by_the_next_writer(held: BalanceStore,
                                                                  tmp_path: Path) -> None:
    """Observed after `kill -9` of `balances import` on a 1 M-row export, at 3, 12 and 20 s:
    the year held stayed whole, but each killed import left its work folder in `_tmp`
    (pieces, sorted copy, DuckDB spill: the size of the year, 7 M rows for the communes),
    never removed. Killed between the two renames that swap a year in, the year's folder is
    missing and its previous copy hidden as `.year=2024.old-<hex>`: the year was gone."""
    stale = held.folder / "_tmp" / "9bca069309d245adbace2bf3e6644b5a"
    (stale / "rows-2024").mkdir(parents=True)
    (stale / ".piece-2024-91a7318350854e70b228b854d3b9c361.parquet").write_bytes(b"x" * 1000)
    year = held.year_dir("communes", 2024)
    year.rename(year.with_name(".year=2024.old-e7fe1edc036a4ff8895ee80754d0a6a3"))
    chapters = held.year_dir("communes", 2024, "_chapters")
    leftover = chapters.with_name(".year=2024.old-855f92dff7d74f45855e0bfa2fc8825b")
    leftover.mkdir()
    path = write(tmp_path, "\n".join([HEAD, with_value(ROWS[0], "exer", "2023")]))
    assert held.import_csv(path, "communes").years == [2023]
    assert list((held.folder / "_tmp").iterdir()) == []
    assert held.years("communes") == [2023, 2024]
    assert not leftover.exists() and chapters.exists()
    assert not list(held.folder.glob("**/.year=*"))


def test_a_utf16_export_is_named_as_such(held: BalanceStore, tmp_path: Path) -> None:
    """A spreadsheet's « Unicode text » save: the message listed 28 « unknown columns » full
    of NUL characters, and named the file « sc »."""
    path = write(tmp_path, "\ufeff" + "\n".join([HEAD, ROWS[0]]), encoding="utf-16")
    with pytest.raises(FormatError, match="UTF-16") as caught:
        held.import_csv(path, "communes")
    assert caught.value.source == "hostile.csv" and "\0" not in str(caught.value)
    still_whole(held)


def test_a_header_without_line_break_gives_a_short_message(held: BalanceStore,
                                                           tmp_path: Path) -> None:
    """2 MB of `a;` and no line break: the message listed 500 000 column names."""
    path = write(tmp_path, "a;" * 1_000_000)
    with pytest.raises(FormatError, match="autre") as caught:
        held.import_csv(path, "communes")
    assert len(str(caught.value)) < 2000
    still_whole(held)


def test_a_killed_download_leaves_nothing_and_two_downloads_never_share_a_year(
        tmp_path: Path) -> None:
    """A download killed while fetching a part left `.download-*.part` (the part's CSV, up to
    the HTTP cap of 500 MB) and `.piece-*.parquet` in the parts folder, never removed; two
    downloads of one year fetched the same parts side by side."""
    dataset = "balances-comptables-des-communes-en-2024"
    for server in running():
        server.ods_tables[dataset] = SAMPLE.read_bytes()
        with BalanceStore(tmp_path / "balances", threads=1) as store:
            folder = store.year_dir("communes", 2024, "_parts")
            folder.mkdir(parents=True)
            left = [folder / ".download-k2j3h4.part", folder / ".piece-2024-9f8e.parquet"]
            for path in left:
                path.write_bytes(b"x" * 1000)
            http = Http(make_session(retries=0), timeout=10)
            with FileLock(folder / ".download.lock", timeout=0), \
                    pytest.raises(CacheError, match="déjà en cours de téléchargement"):
                download(store, http, server.url, "communes", 2024, departements=["038"])
            report = download(store, http, server.url, "communes", 2024, departements=["038"])
            assert report.rows == 5
            assert not any(path.exists() for path in left)


@pytest.mark.parametrize(("row", "said"), [
    (lambda: with_value(ROWS[0], "lbudg", "A" * 3_000_000), "dépasse 1 Mo"),
    (lambda: with_value(ROWS[0], "lbudg", '"GRENOBLE'), "colonnes au lieu des 28"),
    (lambda: ROWS[0] + ";en trop", "29 colonnes au lieu des 28"),
])
def test_a_broken_row_is_said_in_french(held: BalanceStore, tmp_path: Path,
                                        row: Callable[[], str], said: str) -> None:
    """pyarrow's « straddling object straddles two block boundaries (try to increase block
    size?) » was shown as is, with a hint about amounts."""
    path = write(tmp_path, "\n".join([HEAD, row(), *ROWS[1:3]]))
    with pytest.raises(FormatError, match=said) as caught:
        held.import_csv(path, "communes")
    assert "montants" not in str(caught.value)
    still_whole(held)


def test_a_trailing_separator_is_named(held: BalanceStore, tmp_path: Path) -> None:
    """`…;sd;sc;` (a tool that ends every line with the separator) was refused as
    « colonnes inconnues :  » with nothing after the colon."""
    path = write(tmp_path, "\n".join([HEAD + ";", ROWS[0] + ";"]))
    with pytest.raises(FormatError, match="sans nom : un « ; » en fin de ligne"):
        held.import_csv(path, "communes")
    still_whole(held)


def test_a_balances_folder_without_its_chapters_is_a_french_error(held: BalanceStore,
                                                                  tmp_path: Path) -> None:
    """A copy of the folder that skipped `_` folders (as Spark-style tools do, by design of
    the layout) lost `_chapters`: opening the views raised DuckDB's IOException, a
    traceback from `chapters 213801855 --year 2024`."""
    shutil.rmtree(held.folder / "_chapters")
    with BalanceStore(held.folder, threads=1) as copy, \
            pytest.raises(CacheError, match="de nouveau l'exercice"):
        copy.principal("213801855", 2024)


def test_an_empty_part_is_written_whole_then_named(tmp_path: Path) -> None:
    """A département without budgets that year is a part of no rows: it was written in place
    (`ndept=001.parquet` directly), so a kill mid-write left a truncated part that every
    later download skipped (it exists) and every rebuild failed to read. It is now written
    under a temporary name and renamed; nothing of it is left."""
    dataset = "balances-comptables-des-communes-en-2024"
    for server in running():
        server.ods_tables[dataset] = SAMPLE.read_bytes()
        with BalanceStore(tmp_path / "balances", threads=1) as store:
            report = download(store, Http(make_session(retries=0), timeout=10), server.url,
                              "communes", 2024, departements=["001", "038"])
            assert report.parts == ["001", "038"] and report.rows == 5
            folder = store.year_dir("communes", 2024, "_parts")
            assert sorted(p.name for p in folder.iterdir() if p.name != ".download.lock") == [
                "ndept=001.parquet", "ndept=038.parquet"]
