"""The DGFiP « balances comptables » (data.economie.gouv.fr): import, download, queries.

Layout under `<cache>/balances` (Hive partitions, readable as one table by DuckDB, Spark or
Trino; the partition keys are not repeated inside the files):
- `level=<level>/year=<Y>/part-0.parquet`: every account row of a level and year
  (balance_csv.ROW_SCHEMA without `year`), sorted by siren, ident, compte so that a budget's
  rows are a few row groups found by their min/max statistics;
- `_chapters/level=<level>/year=<Y>/part-0.parquet`: real and order amounts of every budget
  by chapter, computed once at import (the peers' medians read this, not the accounts);
- `_parts/level=<level>/year=<Y>/ndept=<code>.parquet`: the département parts of a download
  (balance_download.py), from which the year is rebuilt; `_tmp/`: work files. Folders
  starting with `_` or `.` are ignored by Spark and Trino, and by the globs here.
A year is written beside the old one and swapped in by two renames: a reader sees the old
year or the new one (for the instant between the renames, none), never half of one.

Datasets (Opendatasoft ids, checked in public code calling data.economie.gouv.fr; not against
a live answer here): communes, one per year `balances-comptables-des-communes-en-<Y>`
(2010-2025); `balances-comptables-des-groupements-a-fiscalite-propre-depuis-2010`,
`balances-comptables-des-departements`, `balances-comptables-des-regions-` (sic, the trailing
dash is in the id), `balances-comptables-des-syndicats-depuis-2010`,
`balances-comptables-des-etablissements-publics-locaux-depuis-2010` hold every year: a year
is asked with `where=exer="<Y>"` (the field is text in the communes datasets; not confirmed
in the multi-year ones).
"""

from __future__ import annotations

import contextlib
import shutil
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from budget_core import balance_budget
from budget_core.balance_csv import batches
from budget_core.errors import BudgetError, CacheError
from budget_core.fsutil import held_lock
from budget_core.model import DIRECTIONS, SECTIONS, BudgetDocument
from budget_core.nomenclature import Plan
from budget_core.population import commune_strates, population_by_year
from budget_core.store import connect

LEVELS = {
    "communes": "balances-comptables-des-communes-en-{year}",
    "gfp": "balances-comptables-des-groupements-a-fiscalite-propre-depuis-2010",
    "departements": "balances-comptables-des-departements",
    "regions": "balances-comptables-des-regions-",
    "syndicats": "balances-comptables-des-syndicats-depuis-2010",
    "epl": "balances-comptables-des-etablissements-publics-locaux-depuis-2010",
}
PUBLISH_MEMORY = "512MB"  # DuckDB's memory while a year is sorted and aggregated
LISTED = 20  # broken rows listed by name in a report (all are counted)
# The same rule as balance_budget.measure_amount, in SQL for the national aggregate.
AMOUNT_SQL = """CASE WHEN m.kind = 'reel' AND m.direction = 'depense' THEN r.obnetdeb - r.oobdeb
    WHEN m.kind = 'reel' THEN r.obnetcre - r.oobcre
    WHEN m.direction = 'depense' THEN r.oobdeb ELSE r.oobcre END"""
MAPPING = pa.schema([(n, pa.string()) for n in ("nomen", "compte", "kind", "direction",
                                                "section", "chapter_code")])


def dataset_id(level: str, year: int) -> str:
    if level not in LEVELS:
        raise BudgetError(f"niveau « {level} » inconnu pour les balances comptables.",
                          hint=f"Niveaux possibles : {', '.join(LEVELS)}.")
    return LEVELS[level].format(year=year)


@dataclass
class ImportReport:
    """What an import or a download added, and the rows breaking the balance identity."""

    level: str
    years: list[int] = field(default_factory=list)
    rows: int = 0
    broken: int = 0
    broken_rows: list[str] = field(default_factory=list)  # the first LISTED, named
    parts: list[str] = field(default_factory=list)  # départements held (downloads)

    def french(self) -> str:
        text = (f"{self.level} : {self.rows} lignes de balance, exercice(s) "
                f"{', '.join(map(str, self.years)) or 'aucun'}")
        if self.parts:
            text += f" ; {len(self.parts)} département(s) en cache"
        if self.broken:
            text += (f"\n{self.broken} ligne(s) ne vérifient pas sd − sc = solde d'entrée + "
                     "opérations : gardées mais jamais comptées (" +
                     "; ".join(self.broken_rows) + (" ; …" if self.broken > LISTED else "") +
                     ")")
        return text


class BalanceStore:
    """The balances folder. Holds one DuckDB connection: `close()` it (or `with`)."""

    def __init__(self, folder: Path, *, threads: int | None = None,
                 lock_timeout: float = 600.0) -> None:
        self.folder = folder
        self.threads = threads
        self.lock_timeout = lock_timeout
        self._con: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.Lock()

    def __enter__(self) -> BalanceStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None

    # -- paths -----------------------------------------------------------------------------
    def year_dir(self, level: str, year: int, kind: str = "") -> Path:
        """The year's folder of account rows (`kind` "") or of `_chapters` / `_parts`."""
        base = self.folder / kind if kind else self.folder
        return base / f"level={level}" / f"year={year}"

    def years(self, level: str) -> list[int]:
        return sorted(int(p.parent.name.split("=")[1]) for p in
                      (self.folder / f"level={level}").glob("year=*/part-0.parquet"))

    def version(self) -> tuple[tuple[str, float], ...]:
        """What changes when a year is imported or replaced (for caches of query results)."""
        return tuple(sorted((str(p), p.stat().st_mtime) for p in
                            self.folder.glob("level=*/year=*/part-0.parquet")))

    # -- writing ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def _writing(self) -> Iterator[Path]:
        """The write lock, and a fresh work folder removed afterwards."""
        with held_lock(self.folder / ".lock", self.lock_timeout, CacheError(
                "les balances sont en cours d'écriture par un autre processus.",
                source=str(self.folder),
                hint="Attendez la fin de l'import en cours puis réessayez.")):
            self._recover()
            work = self.folder / "_tmp" / uuid.uuid4().hex
            work.mkdir(parents=True)
            try:
                yield work
            finally:
                shutil.rmtree(work, ignore_errors=True)

    def _recover(self) -> None:
        """Undo what a writer killed mid-way (SIGKILL, power cut) left; the lock is held, so
        no writer is running. Its work folder (the year's pieces, sorted copy and DuckDB
        spill: as big as the year) was never removed; killed between the two renames of
        `_swap`, the year's folder is missing and its previous copy is `.year=<Y>.old-…`."""
        for stale in (self.folder / "_tmp").glob("*"):
            shutil.rmtree(stale, ignore_errors=True)
        for old in sorted(self.folder.glob("**/.year=*.old-*")):
            target = old.with_name(old.name[1:].split(".old-", 1)[0])
            if target.exists():
                shutil.rmtree(old, ignore_errors=True)
            else:
                old.rename(target)

    def import_csv(self, path: Path, level: str, name: str = "") -> ImportReport:
        """Load an export already downloaded (any number of years): each year it holds
        replaces that year of the level."""
        dataset_id(level, 0)  # an unknown level is refused before reading
        report = ImportReport(level)
        with self._writing() as work:
            pieces = convert_csv(path, name or path.name, work)
            for year in sorted(pieces):
                self._publish(level, year, [pieces[year]], work, report)
        report.years = sorted(pieces)
        return report

    def publish_parts(self, level: str, year: int, parts: Sequence[Path]) -> ImportReport:
        """Rebuild a year from parquet parts (a download's départements) and swap it in."""
        report = ImportReport(level, years=[year])
        with self._writing() as work:
            self._publish(level, year, parts, work, report)
        return report

    def _publish(self, level: str, year: int, pieces: Sequence[Path], work: Path,
                 report: ImportReport) -> None:
        """Sort the pieces into the year's file, aggregate its chapters, swap both in."""
        rows_new, chapters_new = work / f"rows-{year}", work / f"chapters-{year}"
        rows_new.mkdir()
        chapters_new.mkdir()
        con = connect(self.threads)
        try:
            # Sorting a year (7 M rows) spills to disk past PUBLISH_MEMORY instead of growing.
            con.execute(f"SET temp_directory = {_literal(work / 'spill')}")
            con.execute(f"SET memory_limit = '{PUBLISH_MEMORY}'")
            con.execute("SET enable_progress_bar = false")
            files = [str(p) for p in pieces]
            con.read_parquet(files).create_view("r0")
            con.execute(
                "COPY (SELECT * EXCLUDE (year) FROM r0 ORDER BY siren, ident, compte) TO "
                f"{_literal(rows_new / 'part-0.parquet')} (FORMAT parquet, COMPRESSION zstd, "
                "ROW_GROUP_SIZE 100000)")
            _count(con, report)
            pairs = con.execute("SELECT DISTINCT nomen, compte FROM r0").fetchall()
            con.register("m", _mapping(pairs, year))
            con.execute(f"""COPY (SELECT r.siren, r.ident, r.cbudg, m.section, m.direction,
                    m.chapter_code,
                    {_total("reel")} AS real_amount, {_total("ordre")} AS order_amount
                FROM r0 AS r JOIN m ON r.nomen = m.nomen AND r.compte = m.compte
                WHERE r.balanced GROUP BY ALL
                HAVING real_amount <> 0 OR order_amount <> 0
                ORDER BY chapter_code, direction, siren)
                TO {_literal(chapters_new / 'part-0.parquet')} (FORMAT parquet,
                COMPRESSION zstd, ROW_GROUP_SIZE 100000)""")
        except duckdb.Error as exc:
            raise CacheError(f"écriture des balances impossible ({exc}).",
                             source=str(self.folder)) from exc
        finally:
            con.close()
        _swap(self.year_dir(level, year, "_chapters"), chapters_new)
        _swap(self.year_dir(level, year), rows_new)

    # -- reading ---------------------------------------------------------------------------
    def query(self, sql: str, params: Sequence[object] = ()) -> pd.DataFrame:
        """SQL over the views `balances` (account rows, with `level` and `year`) and
        `chapters` (per budget and chapter); exact decimals kept (Arrow dtypes)."""
        with self._lock:
            if self._con is None:
                self._con = self._open()
            con = self._con
        if con is None:
            return pd.DataFrame()
        cursor = con.cursor()
        try:
            result = cursor.sql(sql, params=list(params)).to_arrow_table()
            return result.to_pandas(types_mapper=pd.ArrowDtype)
        except duckdb.Error as exc:
            raise CacheError(f"requête impossible sur les balances ({exc}).",
                             source=str(self.folder)) from exc
        finally:
            cursor.close()

    def _open(self) -> duckdb.DuckDBPyConnection | None:
        if not any(self.folder.glob("level=*/year=*/part-0.parquet")):
            return None
        con = connect(self.threads)
        try:
            for view, base in (("balances", self.folder),
                               ("chapters", self.folder / "_chapters")):
                glob = _literal(base / "level=*" / "year=*" / "part-0.parquet")
                con.execute(f"CREATE VIEW {view} AS SELECT * FROM read_parquet({glob}, "
                            "hive_partitioning = true, "
                            "hive_types = {'level': VARCHAR, 'year': SMALLINT})")
        except duckdb.Error as exc:  # `_chapters` gone (a copy that skipped `_` folders)
            con.close()
            raise CacheError("balances en cache incomplètes ou illisibles ("
                             f"{str(exc).splitlines()[0][:200]}).",
                             source=str(self.folder),
                             hint="Importez ou téléchargez de nouveau l'exercice : python -m "
                                  "budget_core balances import <export.csv>.") from exc
        for name, frame in (("strates", commune_strates()),
                            ("populations", population_by_year())):
            # tables, not registered frames: cursors see them
            con.from_arrow(pa.Table.from_pandas(frame, preserve_index=False)).create(name)
        return con

    def budget_rows(self, siret: str, year: int) -> pd.DataFrame:
        """Every account row of one budget and year (any level)."""
        return self.query("SELECT * FROM balances WHERE year = ? AND siren = ? AND ident = ? "
                          "ORDER BY compte", [year, siret[:9], siret])

    def principal(self, siren: str, year: int) -> str | None:
        """The SIRET of a SIREN's budget principal that year (cbudg 1), if held."""
        found = self.query("SELECT DISTINCT ident FROM balances WHERE year = ? AND siren = ? "
                           "AND cbudg = '1' ORDER BY ident", [year, siren])
        return str(found["ident"].iloc[0]) if len(found) else None

    def document(self, siret: str, year: int) -> BudgetDocument:
        """One budget of one year as a canonical CA document (see balance_budget)."""
        rows = self.budget_rows(siret, year)
        if rows.empty:
            raise BudgetError(f"aucune balance du budget {siret} pour {year} dans le cache.",
                              source=str(self.folder),
                              hint="Téléchargez l'exercice : python -m budget_core balances "
                                   "download --year " + str(year))
        principal = rows if rows["cbudg"].iloc[0] == "1" else self.query(
            "SELECT lbudg FROM balances WHERE year = ? AND siren = ? AND cbudg = '1' LIMIT 1",
            [year, siret[:9]])
        name = str((principal if len(principal) else rows)["lbudg"].iloc[0])
        level = str(rows["level"].iloc[0])
        return balance_budget.document(rows.drop(columns=["level"]), name,
                                       dataset_id(level, year))

    def peer_median(self, level: str, year: int, chapter: str, direction: str,
                    strate: int) -> pd.DataFrame:
        """The median real amount per inhabitant of a chapter among the budgets principaux
        of a population strate (communes holding that chapter, of one inhabitant at least:
        no amount per inhabitant otherwise, as in `balance_peers`), and how many they are."""
        return self.query(
            "SELECT median(c.real_amount / s.population) AS median, count(*) AS peers "
            "FROM chapters c JOIN strates s ON c.siren = s.siren WHERE c.level = ? AND "
            "c.year = ? AND c.chapter_code = ? AND c.direction = ? AND c.cbudg = '1' "
            "AND s.strate = ? AND s.population > 0", [level, year, chapter, direction, strate])


def convert_csv(path: Path, name: str, folder: Path) -> dict[int, Path]:
    """Stream a CSV into one parquet piece per year (in `folder`)."""
    writers: dict[int, pq.ParquetWriter] = {}
    paths: dict[int, Path] = {}
    try:
        for batch in batches(path, name):
            table = pa.Table.from_batches([batch])
            for year in pc.unique(table["year"]).to_pylist():
                if year not in writers:
                    paths[year] = folder / f".piece-{year}-{uuid.uuid4().hex}.parquet"
                    writers[year] = pq.ParquetWriter(paths[year], table.schema,
                                                     compression="zstd")
                writers[year].write_table(table.filter(pc.equal(table["year"], year)))
    except BaseException:
        for year, writer in writers.items():
            writer.close()
            paths[year].unlink(missing_ok=True)
        raise
    for writer in writers.values():
        writer.close()
    return paths


def _mapping(pairs: list[tuple[str, str]], year: int) -> pa.Table:
    """(nomen, compte) → chapter per kind of operation, from the plans (balance_budget)."""
    rows: list[tuple[str, ...]] = []
    plans: dict[str, Plan | None] = {}
    for nomen, compte in pairs:
        if nomen not in plans:
            try:
                plans[nomen] = balance_budget.plan_of(nomen, year)
            except BudgetError:  # a norme without a shipped plan: its rows get no chapter
                plans[nomen] = None
        plan = plans[nomen]
        if plan is None:
            continue
        for kind, direction, code, section, _ in balance_budget.account_chapters(plan, compte):
            rows.append((nomen, compte, kind, DIRECTIONS[direction], SECTIONS[section], code))
    return pa.Table.from_pylist([dict(zip(MAPPING.names, r, strict=True)) for r in rows],
                                schema=MAPPING)


def _literal(path: Path) -> str:
    """A path as an SQL string literal (DuckDB's COPY TO and SET take no parameters)."""
    return "'" + str(path).replace("'", "''") + "'"


def _total(kind: str) -> str:
    """The SQL sum of a chapter's amounts of one kind (reel, ordre), zero when none."""
    return (f"CAST(coalesce(sum({AMOUNT_SQL}) FILTER (WHERE m.kind = '{kind}'), 0) "
            "AS DECIMAL(18, 2))")


def _count(con: duckdb.DuckDBPyConnection, report: ImportReport) -> None:
    """Add the year's rows, and those breaking the identity, to the report."""
    counted = con.execute("SELECT count(*), count(*) FILTER (WHERE NOT balanced) FROM r0"
                          ).fetchone()
    rows, broken = counted if counted else (0, 0)
    report.rows += rows
    report.broken += broken
    listed = con.execute("SELECT year, ident, compte FROM r0 WHERE NOT balanced "
                         "ORDER BY ident, compte LIMIT ?", [LISTED]).fetchall()
    report.broken_rows += [f"{year} {ident} compte {compte}" for year, ident, compte in listed]
    del report.broken_rows[LISTED:]


def _swap(target: Path, new: Path) -> None:
    """Put `new` where `target` is, keeping the old one until the new one is in place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex}")
    if target.exists():
        target.rename(old)
    new.rename(target)
    shutil.rmtree(old, ignore_errors=True)
