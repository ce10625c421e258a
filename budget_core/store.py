"""The local store of parsed budgets: parquet files of canonical lines + a document catalogue.

Layout of a store folder:
- `lines/<doc_key>.parquet`: the lines of one document (written atomically);
- `documents.parquet`: one row per document (who, year, stage, source, line count), written
  last, atomically: a reader sees the previous catalogue or the new one, never a half one;
- `.lock`: every writer (a sync, an upload added from the app, the demo builder) holds it
  while it reads the catalogue, writes files and writes the catalogue, so two writers never
  lose each other's documents.
A store may read other stores beneath it (`also`, read-only: the embedded demo under the
user's cache), its own documents winning over theirs.
Queries go through DuckDB over the parquet files (parameterised SQL, never f-strings of values).
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import fields
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from budget_core.errors import CacheError
from budget_core.fsutil import atomic_write_bytes, held_lock
from budget_core.linetable import LINE_SCHEMA
from budget_core.model import BudgetDocument, DocumentInfo

DOCUMENT_COLUMNS = ("doc_key", "siret", "siren", "entity_name", "entity_type", "insee",
                    "budget_kind", "budget_label", "year", "stage", "nomenclature",
                    "declinaison", "plan_year",
                    "source_file", "source_sha256", "source_format", "line_count", "warnings",
                    "decision_number", "decision_date", "population")
# Columns added after the first catalogues were written, with what an older catalogue means.
LATER_COLUMNS = {"decision_number": "", "decision_date": "", "population": None}


def document_key(siret: str, year: int, stage: str, sha256: str) -> str:
    """Identity of a budget document in the store.

    A new file for the same budget, year and stage replaces the old one (a corrected CA),
    except decisions modificatives: a year has several (DM1, DM2...), each its own document.
    """
    key = f"{siret}_{year}_{stage}"
    return f"{key}_{sha256[:16]}" if stage == "DM" else key


def catalogue_rows(documents: Iterable[tuple[BudgetDocument, str]]) -> pd.DataFrame:
    """Catalogue rows of parsed documents under the given keys (the store's, or an upload's
    kept in a session without being stored)."""
    return document_rows((document.info, key, len(document.lines),
                          "\n".join(document.warnings)) for document, key in documents)


def document_rows(infos: Iterable[tuple[DocumentInfo, str, int, str]]) -> pd.DataFrame:
    """Catalogue rows from (info, key, line count, warnings): also of documents whose lines
    are computed only when opened (the DGFiP balances)."""
    rows = []
    names = [field.name for field in fields(DocumentInfo)]  # plain values: no deep copy
    for info, key, line_count, warnings in infos:
        row = {**{name: getattr(info, name) for name in names}, "doc_key": key,
               "siren": info.siren,
               "line_count": line_count, "warnings": warnings}
        rows.append({name: row[name] for name in DOCUMENT_COLUMNS})
    return pd.DataFrame(rows, columns=list(DOCUMENT_COLUMNS)).astype({"population": "Int64"})


def _parquet_bytes(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    return buffer.getvalue()


def connect(threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection running `threads` threads (None: every core)."""
    return duckdb.connect(config={"threads": threads} if threads else {})


class Store:
    """A folder of parsed budgets, queried with DuckDB (`threads` per query, None: every
    core)."""

    def __init__(self, folder: Path, *, also: Sequence[Path] = (),
                 lock_timeout: float = 120.0, threads: int | None = None) -> None:
        self.folder = folder
        self.threads = threads
        self.lines_dir = folder / "lines"
        self.catalogue_path = folder / "documents.parquet"
        self.beneath = tuple(Store(path) for path in also if path.resolve() != folder.resolve())
        self.lock_timeout = lock_timeout

    def exists(self) -> bool:
        return self.catalogue_path.exists() or any(s.exists() for s in self.beneath)

    def version(self) -> tuple[tuple[str, float], ...]:
        """What changes when any catalogue read is rewritten (for caches of query results)."""
        return tuple((str(s.catalogue_path), s.catalogue_path.stat().st_mtime
                      if s.catalogue_path.exists() else 0.0) for s in (*self.beneath, self))

    # -- writing ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """The store's write lock (blocking, up to `lock_timeout` seconds)."""
        with held_lock(self.folder / ".lock", self.lock_timeout, CacheError(
                f"le cache est occupé par une autre écriture depuis plus de "
                f"{self.lock_timeout:.0f} s.", source=str(self.folder),
                hint="Attendez la fin de la synchronisation en cours puis réessayez.")):
            yield

    def add(self, documents: Iterable[BudgetDocument], *, replaces: str = "") -> int:
        """Store documents (replacing an earlier version of the same budget). Returns count.

        `replaces`: the SHA-256 of a source file these documents supersede (the previous
        content of the same URL): its documents leave the store even where the new file
        holds other budgets or years."""
        with self.writing():
            return self._add(list(documents), replaces)

    def _add(self, documents: list[BudgetDocument], replaces: str) -> int:
        catalogue = self._own_documents()
        if replaces and not catalogue.empty:
            catalogue = catalogue[catalogue["source_sha256"] != replaces]
        rows = []
        for document in documents:
            info = document.info
            table = pa.Table.from_pandas(document.lines, schema=LINE_SCHEMA,
                                         preserve_index=False)
            key = document_key(info.siret, info.year, info.stage, info.source_sha256)
            atomic_write_bytes(self.lines_dir / f"{key}.parquet", _parquet_bytes(table))
            rows.append((document, key))
        if not rows:
            if replaces:
                self._write_catalogue(catalogue)
                self._remove_orphans(catalogue)
            return 0
        new = catalogue_rows(rows)
        if not catalogue.empty:
            catalogue = catalogue[~catalogue["doc_key"].isin(new["doc_key"])]
        new = new.drop_duplicates("doc_key", keep="last")
        merged = pd.concat([catalogue, new], ignore_index=True) if not catalogue.empty else new
        self._write_catalogue(merged)
        self._remove_orphans(merged)
        return len(rows)

    def _write_catalogue(self, catalogue: pd.DataFrame) -> None:
        table = pa.Table.from_pandas(catalogue.reset_index(drop=True), preserve_index=False)
        atomic_write_bytes(self.catalogue_path, _parquet_bytes(table))

    def _remove_orphans(self, catalogue: pd.DataFrame) -> None:
        keep = {f"{key}.parquet" for key in catalogue["doc_key"]}
        for path in self.lines_dir.glob("*.parquet"):
            if path.name not in keep:
                path.unlink()

    # -- reading ---------------------------------------------------------------------------
    def infos(self, siren: str) -> list[DocumentInfo]:
        """The headers of every stored document of a collectivity (for its metadata sheet)."""
        catalogue = self.documents()
        rows = catalogue[catalogue["siren"] == siren]
        names = [f.name for f in fields(DocumentInfo)]
        return [DocumentInfo(**{n: row[n] for n in names}) for row in rows.to_dict("records")]

    def documents(self) -> pd.DataFrame:
        """The catalogue: one row per stored document, those beneath included, with the
        folder holding each one's lines (`store_dir`)."""
        frames = [frame.assign(store_dir=str(store.folder))
                  for store in (*self.beneath, self)
                  if not (frame := store._own_documents()).empty]
        if not frames:
            return pd.DataFrame(columns=[*DOCUMENT_COLUMNS, "store_dir"])
        merged = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        return merged.drop_duplicates("doc_key", keep="last").reset_index(drop=True)

    def missing(self, sha256: str) -> bool:
        """Whether the documents of a source file are absent, or listed with no lines file."""
        catalogue = self._own_documents()
        keys = catalogue.loc[catalogue["source_sha256"] == sha256, "doc_key"]
        return keys.empty or not all((self.lines_dir / f"{key}.parquet").exists()
                                     for key in keys)

    def _own_documents(self) -> pd.DataFrame:
        if not self.catalogue_path.exists():
            return pd.DataFrame(columns=list(DOCUMENT_COLUMNS))
        try:
            # The bytes once: reading by path opens the file twice (footer, then data), and a
            # writer's rename in between would give half of each catalogue.
            catalogue = pq.read_table(io.BytesIO(self.catalogue_path.read_bytes())).to_pandas()
        except (OSError, pa.ArrowInvalid) as exc:
            raise CacheError(f"catalogue illisible ({exc}).", source=str(self.catalogue_path),
                             hint="Reconstruisez le cache avec « python -m budget_core demo » "
                                  "ou une synchronisation.") from exc
        for column, missing in LATER_COLUMNS.items():
            if column not in catalogue:
                catalogue[column] = missing
        return catalogue.astype({"population": "Int64"})

    def query(self, sql: str, params: Sequence[object] = (),
              documents: pd.DataFrame | None = None) -> pd.DataFrame:
        """Run SQL where the view `lines` holds the stored lines, each with the `doc_key` of
        its document (the name of its file). Values go in `params`.

        `documents` (rows of the catalogue) limits the files read: each document is its own
        parquet file, so the catalogue prunes by entity, year and stage before DuckDB reads.
        Only files the catalogue lists are read: it is written last, so lines of a document
        whose writing was interrupted are never seen.
        """
        chosen = self.documents() if documents is None else documents
        attempts = 0
        while True:
            try:
                return self._run(chosen, sql, params)
            except duckdb.Error as exc:
                attempts += 1
                if attempts == 3 or not isinstance(exc, duckdb.IOException):
                    raise self._failed(exc) from exc
                # A writer replaced documents since the catalogue was read and removed their
                # old files: the same documents, from the catalogue as it is now.
                fresh = self.documents()
                chosen = fresh[fresh["doc_key"].isin(chosen["doc_key"])]

    def _failed(self, exc: duckdb.Error) -> CacheError:
        return CacheError(f"requête impossible sur le cache ({exc}).", source=str(self.folder),
                          hint="Réessayez ; si l'erreur persiste, relancez une synchronisation, "
                               "qui répare les documents dont le fichier manque.")

    def _run(self, chosen: pd.DataFrame, sql: str, params: Sequence[object]) -> pd.DataFrame:
        folders = chosen["store_dir"] if "store_dir" in chosen else [str(self.folder)] * len(
            chosen)
        files = [str(Path(folder) / "lines" / f"{key}.parquet")
                 for folder, key in zip(folders, chosen["doc_key"], strict=True)]
        if not files:
            return pd.DataFrame(columns=[*LINE_SCHEMA.names, "doc_key"])
        con = connect(self.threads)
        try:
            con.read_parquet(files, filename=True).project(
                "* EXCLUDE (filename), parse_filename(filename, true) AS doc_key"
            ).create_view("lines")
            # Arrow keeps DECIMAL(18,2) exact; .df() would turn amounts into floats.
            return con.sql(sql, params=list(params)).to_arrow_table().to_pandas(
                types_mapper=pd.ArrowDtype)
        finally:
            con.close()

    def document_lines(self, doc_keys: Sequence[str]) -> pd.DataFrame:
        """The lines of these documents, each tagged with its `doc_key`.

        A document is the unit a user picks: two DMs of the same budget and year are two
        documents, never summed unless the caller asks for both.
        """
        catalogue = self.documents()
        wanted = catalogue[catalogue["doc_key"].isin(doc_keys)]
        return self.query("SELECT * FROM lines ORDER BY doc_key, source_line",
                          documents=wanted)

    def lines(self, sirets: Sequence[str], years: Sequence[int], stages: Sequence[str],
              budget_kinds: Sequence[str] = ("principal", "annexe")) -> pd.DataFrame:
        """Every stored line of these budgets (exact decimals kept as DECIMAL(18,2))."""
        catalogue = self.documents()
        wanted = catalogue[catalogue["siret"].isin(sirets) & catalogue["year"].isin(years)
                           & catalogue["stage"].isin(stages)
                           & catalogue["budget_kind"].isin(budget_kinds)]
        return self.query(
            "SELECT * FROM lines WHERE list_contains(?, siret) AND list_contains(?, year) "
            "AND list_contains(?, stage) AND list_contains(?, budget_kind) "
            "ORDER BY siret, year, stage, source_line",
            [list(sirets), [int(y) for y in years], list(stages), list(budget_kinds)],
            documents=wanted)
