"""National aggregated accounts (OFGL, data.ofgl.fr) for every commune, EPCI, département, région.

Downloaded through the Opendatasoft Explore v2.1 **exports** endpoint (never `/records`), one
file per level and year (`refine` on the year), so a year or a level loads alone and an
interrupted download resumes at the next missing year. Each export is normalised to one
canonical column set and stored as `national/<level>/year=<Y>.parquet` (atomic write); queries
run with DuckDB over those files without loading them into pandas.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from budget_core.errors import CacheError, PortalError
from budget_core.fsutil import atomic_write_bytes
from budget_core.http import Http
from budget_core.model import EXECUTED_STAGES, LEVELS
from budget_core.ods_export import dataset_fields, download_export, export_url
from budget_core.ofgl import CONSOLIDATED, PRINCIPAL, SCHEMA, export_query, normalise_export
from budget_core.population import fiscal_regimes
from budget_core.store import connect

YEAR_FIELD = "exer"  # the year facet of the ofgl-base-* datasets, used with `refine`
# The rows compared: a budget principal, or a collectivité's consolidated accounts when the
# year was imported from a consolidated export (one kind per year file, never both).
MAIN = f"budget_type IN ('{PRINCIPAL}', '{CONSOLIDATED}')"
# Columns that can group peers (each only where the level's export fills it).
PEER_COLUMNS = ("strate", "departement_code", "region_code", "epci_siren", "legal_form",
                "fiscal_regime", "overseas", "rural", "mountain", "touristic", "income_band",
                "qpv", "rural_urban", "ctu")

# The words for each of PEER_COLUMNS, OFGL's own included (its comparator's).
CRITERION_LABELS = {
    "strate": "Même strate de population", "departement_code": "Même département",
    "region_code": "Même région", "epci_siren": "Même intercommunalité",
    "legal_form": "Même nature juridique (CC, CA, CU, métropole…)",
    "fiscal_regime": "Même régime fiscal (EPCI)",
    "overseas": "Même situation (outre-mer ou non)",
    "rural": "Même classement rural (commune rurale ou non)",
    "mountain": "Même classement montagne (commune de montagne ou non)",
    "touristic": "Même classement touristique (commune touristique ou non)",
    "income_band": "Même tranche de revenu par habitant",
    "qpv": "Même présence d'un quartier prioritaire (QPV) ou non",
    "rural_urban": "Même caractère rural ou urbain (départements)",
    "ctu": "Même statut (collectivité unique ou de Corse, ou non)"}

Progress = Callable[[str, int, int], None]


class NationalStore:
    """The national accounts folder. Holds DuckDB connections: `close()` it, or use it as a
    context manager (`with NationalStore(folder) as store:`)."""

    def __init__(self, folder: Path, *, threads: int | None = None) -> None:
        """`threads`: DuckDB threads per query; None lets DuckDB use every core."""
        self.folder = folder
        self.threads = threads
        # One DuckDB connection per level and file set, opened once: a filter change in the
        # app then costs a query, not a connection and a parquet footer read (~40 ms). A set
        # superseded by a new year stays open until close(): a query may still be using it.
        self._connections: dict[tuple[str, tuple[int, ...]], duckdb.DuckDBPyConnection] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> NationalStore:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Close every connection; a later query opens a new one."""
        with self._lock:
            for con in self._connections.values():
                con.close()
            self._connections.clear()

    def _connection(self, level: str) -> duckdb.DuckDBPyConnection | None:
        years = tuple(self.years(level))
        if not years:
            return None
        key = (level, years)
        with self._lock:
            if key not in self._connections:
                con = connect(self.threads)
                con.read_parquet([str(self.path(level, y)) for y in years],  # older files: fewer
                                 union_by_name=True).create_view("ofgl")  # columns
                self._connections[key] = con
            return self._connections[key]

    def path(self, level: str, year: int) -> Path:
        return self.folder / level / f"year={year}.parquet"

    def download(self, http: Http, portal: str, level: str, years: Sequence[int],
                 progress: Progress | None = None) -> list[int]:
        """Fetch the years not yet stored (resume), each through one export. Returns them."""
        dataset = LEVELS[level]
        fetched: list[int] = []
        missing = [year for year in years if not self.path(level, year).exists()]
        # The dataset's own field names, for `select` (None: the full labelled export).
        query = export_query(level, dataset_fields(http, portal, dataset)) if missing else None
        for number, year in enumerate(years, start=1):
            if progress:
                progress(level, number, len(years))
            if year not in missing:
                continue
            # Only the columns read and the budgets principaux (a communes year is about
            # 2.8 M rows, 0.85 GB as a full labelled CSV: over the download cap); the labels
            # stay in the header (use_labels), which the reader maps.
            url = export_url(portal, dataset, refine=f"{YEAR_FIELD}:{year}", use_labels=True,
                             select=query.select if query else (),
                             where=query.where if query else "")
            path = download_export(http, url, self.folder / "tmp")
            try:
                table = normalise_export(path.read_bytes(), f"{dataset} {year}", level)
            finally:
                path.unlink()
            others = sorted(set(table["year"].to_pylist()) - {year})
            if others:  # the portal ignored `refine`: every year would be stored as this one
                raise PortalError(f"l'export de {year} contient d'autres exercices ("
                                  f"{', '.join(map(str, others[:5]))}) : le portail n'a pas "
                                  "appliqué le filtre « refine », rien n'est gardé.",
                                  source=url, hint="Réessayez plus tard, ou téléchargez "
                                                   "l'export et importez-le (il est alors "
                                                   "réparti par exercice).")
            self._write(level, year, table)
            fetched.append(year)
        return fetched

    def add_export(self, level: str, data: bytes, name: str) -> list[int]:
        """Store an export already on disk (split by year). Returns the years written."""
        table = normalise_export(data, name, level)
        years = sorted({int(y) for y in table["year"].to_pylist() if y is not None})
        for year in years:
            self._write(level, year, table.filter(pc.equal(table["year"], year)))
        return years

    def _write(self, level: str, year: int, table: pa.Table) -> None:
        """One year of a level, sorted by agrégat then SIREN: a query on one agrégat reads
        only the row groups holding it (parquet min/max statistics)."""
        if level == "gfp":  # peers by fiscal regime: from the COG when the export lacks it
            regimes = fiscal_regimes()
            filled = [given or regimes.get(siren) for given, siren in
                      zip(table["fiscal_regime"].to_pylist(), table["siren"].to_pylist(),
                          strict=True)]
            index = table.schema.get_field_index("fiscal_regime")
            table = table.set_column(index, "fiscal_regime", pa.array(filled, pa.string()))
        ordered = table.sort_by([("agregat", "ascending"), ("siren", "ascending")])
        buffer = io.BytesIO()
        pq.write_table(ordered, buffer, compression="zstd", row_group_size=100_000)
        atomic_write_bytes(self.path(level, year), buffer.getvalue())

    def version(self) -> tuple[tuple[str, int], ...]:
        """What changes when a year's file is downloaded (each is replaced whole), for caches
        of query results, as `Store.version` and `BalanceStore.version`."""
        return tuple((str(path.relative_to(self.folder)), path.stat().st_mtime_ns)
                     for path in sorted(self.folder.glob("*/year=*.parquet")))

    def years(self, level: str) -> list[int]:
        return sorted(int(p.stem.split("=")[1]) for p in (self.folder / level).glob(
            "year=*.parquet"))

    def query(self, level: str, sql: str, params: Sequence[object] = ()) -> pd.DataFrame:
        """SQL over the level's files as the view `ofgl` (parameters in `params`)."""
        con = self._connection(level)
        if con is None:
            return pd.DataFrame(columns=SCHEMA.names)
        cursor = con.cursor()  # one cursor per query: safe across the app's threads
        try:
            return cursor.execute(sql, list(params)).df()
        except duckdb.Error as exc:
            raise CacheError(f"requête impossible sur les comptes nationaux ({exc}).",
                             source=str(self.folder)) from exc
        finally:
            cursor.close()

    def entity(self, level: str, siren: str) -> pd.DataFrame:
        """All rows of one entity's budget principal (or consolidated accounts), every year."""
        return self.query(level, f"SELECT * FROM ofgl WHERE siren = ? AND {MAIN} "
                          "ORDER BY year, agregat", [siren])

    def entities(self, level: str) -> pd.DataFrame:
        """Every entity of the level (siren, name, departement_code, its largest population
        over the years), by name: what a picker lists."""
        return self.query(level, "SELECT DISTINCT siren, name, departement_code, "
                          f"max(population) AS population FROM ofgl WHERE {MAIN} "
                          "GROUP BY ALL ORDER BY name")

    def peer_columns(self, level: str) -> list[str]:
        """The PEER_COLUMNS the level's stored rows fill: a criterion its exports leave empty
        (no strate for régions) groups no one, rather than everyone."""
        if not self.years(level):
            return []
        counts = self.query(level, "SELECT " + ", ".join(
            f"count({column}) AS {column}" for column in PEER_COLUMNS) + " FROM ofgl")
        return [column for column in PEER_COLUMNS if counts[column].iloc[0] > 0]

    def departement_medians(self, level: str, agregat: str, year: int) -> pd.DataFrame:
        """Median € per inhabitant of the agrégat in each département (`code`, `value`);
        none for régions (no département). An EPCI across départements counts under its
        own list of codes (« 11,31,81 »), which no map shape has."""
        return self.query(level, "SELECT departement_code AS code, median(per_inhabitant) "
                          f"AS value FROM ofgl WHERE agregat = ? AND year = ? AND {MAIN} "
                          "AND departement_code IS NOT NULL GROUP BY ALL", [agregat, year])

    def commune_values(self, agregat: str, year: int, departement: str) -> pd.DataFrame:
        """€ per inhabitant of the agrégat for each commune of a département (`code` = INSEE,
        `value`)."""
        return self.query("communes", "SELECT insee AS code, per_inhabitant AS value FROM ofgl "
                          f"WHERE agregat = ? AND year = ? AND departement_code = ? AND {MAIN}",
                          [agregat, year, departement])

    def placement(self, level: str, siren: str, agregat: str, peer_column: str | None,
                  custom: Sequence[str] = ()) -> pd.DataFrame:
        """The entity against its peers, per year: its € per inhabitant, the peers' median,
        quartiles, its rank (1 = highest) and the group size.

        Peers: same value of `peer_column` (one of PEER_COLUMNS) that year, or the `custom`
        SIRENs when given. A year where the entity has no value for the criterion has no
        group (no row): an empty value is no criterion, not one shared with everyone.
        """
        if custom:
            peers = "list_contains(?, p.siren)"
            args: list[object] = [list(custom)]
        elif peer_column:
            if peer_column not in PEER_COLUMNS:
                raise ValueError(peer_column)
            peers = f"p.{peer_column} = e.{peer_column}"
            args = []
        else:
            peers = "TRUE"
            args = []
        sql = f"""
            WITH e AS (SELECT * FROM ofgl WHERE siren = ? AND agregat = ? AND {MAIN}),
                 p AS (SELECT * FROM ofgl WHERE agregat = ? AND {MAIN})
            SELECT year, value, quartiles[2] AS median, quartiles[1] AS q1,
                   quartiles[3] AS q3, peers, rank FROM (
                SELECT e.year, any_value(e.per_inhabitant) AS value,
                       quantile_cont(p.per_inhabitant, [0.25, 0.5, 0.75]) AS quartiles,
                       count(p.per_inhabitant) AS peers,
                       1 + count(p.per_inhabitant) FILTER (
                           WHERE p.per_inhabitant > e.per_inhabitant) AS rank
                FROM e JOIN p ON p.year = e.year AND {peers}
                GROUP BY e.year) ORDER BY year
        """
        return self.query(level, sql, [siren, agregat, agregat, *args])


def own_accounts(catalogue: pd.DataFrame, siren: str, year: int) -> pd.DataFrame:
    """The stored documents an entity's OFGL figures can be checked against: its budget
    principal's executed accounts (CA or CFU) of that year, rows of the store's catalogue."""
    return catalogue[(catalogue["siren"] == siren) & catalogue["stage"].isin(EXECUTED_STAGES)
                     & (catalogue["budget_kind"] == "principal") & (catalogue["year"] == year)]
