"""The local cache of published budgets (`data_cache/`): raw files, catalogue, parsed store.

Layout:
- `raw/<sha256[:2]>/<sha256>`: each downloaded file once, named by its content hash (never by
  anything from the portal, so no URL can write outside the cache);
- `catalogue.sqlite`: every published resource (where it came from, when fetched, ETag and
  Last-Modified, checksum, parse status and error, what it holds);
- `store/`: the parsed lines (`budget_core.store.Store`) the app queries.

A sync takes a lock file, commits the catalogue after each resource (an interrupted sync
resumes where it stopped), downloads conditionally (304 or same hash: nothing re-parsed), and
never replaces a good copy by a failed download or an unreadable file.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from budget_core.errors import BudgetError, CacheError
from budget_core.formats import read_documents
from budget_core.fsutil import held_lock
from budget_core.http import Http
from budget_core.model import BudgetDocument
from budget_core.population import regions_by_siren
from budget_core.sources.base import PublishedResource, Source
from budget_core.store import Store

SCHEMA = """
CREATE TABLE IF NOT EXISTS resources (
    key TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    origins TEXT NOT NULL,
    dataset_id TEXT, dataset_title TEXT, resource_id TEXT, title TEXT,
    url TEXT NOT NULL, format TEXT, schema TEXT, organization TEXT, siren TEXT,
    portal_last_modified TEXT, portal_checksum TEXT, filesize INTEGER,
    etag TEXT, http_last_modified TEXT, sha256 TEXT, size INTEGER,
    status TEXT NOT NULL, error TEXT, fetched_at TEXT, checked_at TEXT,
    documents TEXT
)
"""
COLUMNS = ("key", "source", "origins", "dataset_id", "dataset_title", "resource_id", "title",
           "url", "format", "schema", "organization", "siren", "portal_last_modified",
           "portal_checksum", "filesize", "etag", "http_last_modified", "sha256", "size",
           "status", "error", "fetched_at", "checked_at", "documents")

Progress = Callable[[int, int, PublishedResource], None]


@dataclass
class SyncFilter:
    """Which documents a sync keeps (a resource is downloaded to know what it holds)."""

    year: int | None = None
    entity_type: str | None = None
    region: str | None = None

    def keep(self, document: BudgetDocument, regions: dict[str, str]) -> bool:
        info = document.info
        return ((self.year is None or info.year == self.year)
                and (self.entity_type is None or info.entity_type == self.entity_type)
                and (self.region is None or regions.get(info.siren) == self.region))


@dataclass
class SyncSummary:
    new: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    def french(self) -> str:
        lines = [f"{len(self.new)} nouveau(x), {len(self.updated)} mis à jour, "
                 f"{len(self.unchanged)} inchangé(s), {len(self.failed)} en échec"]
        lines += [f"  échec : {what} — {why}" for what, why in self.failed]
        return "\n".join(lines)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def unexpected(exc: Exception) -> str:
    """What a sync says of an error no check of ours anticipated, in a portal's answer or a
    file: it costs that portal or that file, and is worth reporting to the maintainers."""
    return (f"réponse ou fichier d'une forme inattendue ({type(exc).__name__}) : ignoré, la "
            "synchronisation continue. Signalez-le aux mainteneurs du projet avec l'adresse.")


def merge_duplicates(resources: Iterable[PublishedResource]) -> list[PublishedResource]:
    """One record per file URL; a file harvested by several portals keeps all its origins."""
    merged: dict[str, PublishedResource] = {}
    for resource in resources:
        known = merged.get(resource.key)
        if known is None:
            merged[resource.key] = resource
        else:
            origins = tuple(dict.fromkeys((*known.origins, *resource.origins)))
            merged[resource.key] = PublishedResource(**{**known.__dict__, "origins": origins})
    return list(merged.values())


class Cache:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.raw_dir = folder / "raw"
        self.tmp_dir = folder / "tmp"
        self.db_path = folder / "catalogue.sqlite"
        self.store = Store(folder / "store")

    # -- catalogue ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        self.folder.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.db_path, timeout=30)
        try:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute(SCHEMA)
            yield con
            con.commit()
        except sqlite3.Error as exc:
            raise CacheError(f"catalogue du cache illisible ({exc}).", source=str(self.db_path),
                             hint="Supprimez catalogue.sqlite puis relancez la "
                                  "synchronisation.") from exc
        finally:
            con.close()

    def resources(self) -> pd.DataFrame:
        """The catalogue of every resource ever seen, with its status."""
        if not self.db_path.exists():
            return pd.DataFrame(columns=list(COLUMNS))
        with self._db() as con:
            return pd.read_sql_query("SELECT * FROM resources ORDER BY source, url", con)

    def _row(self, con: sqlite3.Connection, key: str) -> dict[str, object] | None:
        cursor = con.execute("SELECT * FROM resources WHERE key = ?", (key,))
        found = cursor.fetchone()
        return dict(zip(COLUMNS, found, strict=True)) if found else None

    def _save(self, con: sqlite3.Connection, resource: PublishedResource,
              **values: object) -> None:
        row = {
            "key": resource.key, "source": resource.source,
            "origins": json.dumps(list(resource.origins)), "dataset_id": resource.dataset_id,
            "dataset_title": resource.dataset_title, "resource_id": resource.resource_id,
            "title": resource.title, "url": resource.url, "format": resource.format,
            "schema": resource.schema, "organization": resource.organization,
            "siren": resource.siren, "portal_last_modified": resource.last_modified,
            "portal_checksum": resource.checksum, "filesize": resource.filesize,
            "checked_at": _now(), **values,
        }
        names = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        updates = ", ".join(f"{name} = excluded.{name}" for name in row if name != "key")
        con.execute(f"INSERT INTO resources ({names}) VALUES ({marks}) "
                    f"ON CONFLICT(key) DO UPDATE SET {updates}", list(row.values()))
        con.commit()

    # -- sync --------------------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Only one sync at a time on a cache folder (another one gets a clear error; a
        killed sync never leaves it locked: see `held_lock`)."""
        with held_lock(self.folder / "sync.lock", 0, CacheError(
                "une synchronisation est déjà en cours sur ce cache.", source=str(self.folder),
                hint="Attendez qu'elle se termine puis relancez.")):
            yield

    def raw_path(self, sha256: str) -> Path:
        return self.raw_dir / sha256[:2] / sha256

    def sync(self, sources: Iterable[Source], http: Http, *, only: SyncFilter | None = None,
             progress: Progress | None = None) -> SyncSummary:
        only = only or SyncFilter()
        summary = SyncSummary()
        with self.lock():
            for stale in self.tmp_dir.glob(".download-*"):
                stale.unlink()  # left by an interrupted sync: never a good copy
            found: list[PublishedResource] = []
            for source in sources:
                try:  # what a portal listed before failing is kept
                    for resource in source.resources(http):
                        found.append(resource)
                except BudgetError as exc:
                    summary.failed.append((f"portail {source.name}", exc.french()))
                except Exception as exc:  # untrusted answers: one portal only
                    summary.failed.append((f"portail {source.name}", unexpected(exc)))
                summary.failed.extend((f"portail {source.name}", problem)
                                      for problem in source.problems)
            resources = merge_duplicates(found)
            regions = regions_by_siren() if only.region else {}
            with self._db() as con:
                for number, resource in enumerate(resources, start=1):
                    if progress:
                        progress(number, len(resources), resource)
                    try:
                        self._sync_one(con, resource, http, only, regions, summary)
                    except Exception as exc:  # one file only, never the sync
                        self._save(con, resource, status="failed", error=unexpected(exc))
                        summary.failed.append((resource.url, unexpected(exc)))
        return summary

    def _sync_one(self, con: sqlite3.Connection, resource: PublishedResource, http: Http,
                  only: SyncFilter, regions: dict[str, str], summary: SyncSummary) -> None:
        previous = self._row(con, resource.key)
        good = previous is not None and previous["sha256"] and self.raw_path(
            str(previous["sha256"])).exists()
        try:
            download = http.download(
                resource.url, self.tmp_dir,
                etag=str(previous["etag"] or "") if good and previous else "",
                last_modified=str(previous["http_last_modified"] or "")
                if good and previous else "",
                expected_size=resource.filesize, expected_checksum=resource.checksum)
        except BudgetError as exc:
            self._save(con, resource, status="failed", error=exc.french())
            summary.failed.append((resource.url, exc.french()))
            return
        if download.path is None or (good and previous and
                                     download.sha256 == previous["sha256"]):
            if download.path is not None:
                download.path.unlink()
            self._save(con, resource, status="ok", error=None)
            if previous and self._repair(previous, resource, only, regions):
                summary.updated.append(resource.url)
            else:
                summary.unchanged.append(resource.url)
            return
        twin = con.execute("SELECT key, origins FROM resources WHERE sha256 = ? AND key != ?",
                           (download.sha256, resource.key)).fetchone()
        if twin is not None and self.raw_path(download.sha256).exists():
            # The same file under another URL (a portal harvesting another): one copy, the
            # other resource gains this origin.
            download.path.unlink()
            origins = list(dict.fromkeys([*json.loads(twin[1]), *resource.origins]))
            con.execute("UPDATE resources SET origins = ? WHERE key = ?",
                        (json.dumps(origins), twin[0]))
            self._save(con, resource, status="duplicate", error=None, sha256=download.sha256,
                       etag=download.etag, http_last_modified=download.last_modified,
                       size=download.size, fetched_at=_now())
            summary.unchanged.append(resource.url)
            return
        try:
            documents = self._parse(download.path, resource)
        except BudgetError as exc:
            download.path.unlink()
            self._save(con, resource, status="parse_error", error=exc.french())
            summary.failed.append((resource.url, exc.french()))
            return
        target = self.raw_path(download.sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        download.path.replace(target)
        kept = [d for d in documents if only.keep(d, regions)]
        # The documents of the URL's previous content leave the store with it, unless another
        # URL still publishes that same file.
        before = str(previous["sha256"] or "") if previous else ""
        shared = before and con.execute("SELECT 1 FROM resources WHERE sha256 = ? AND key != ?",
                                        (before, resource.key)).fetchone()
        self.store.add(kept, replaces="" if shared else before)
        self._save(con, resource, status="ok", error=None, etag=download.etag,
                   http_last_modified=download.last_modified, sha256=download.sha256,
                   size=download.size, fetched_at=_now(), documents=json.dumps([
                       {"siret": d.info.siret, "year": d.info.year, "stage": d.info.stage,
                        "entity": d.info.entity_name, "kept": d in kept} for d in documents],
                       ensure_ascii=False))
        (summary.updated if previous and previous["sha256"] else summary.new).append(
            resource.url)

    def _repair(self, previous: dict[str, object], resource: PublishedResource,
                only: SyncFilter, regions: dict[str, str]) -> bool:
        """Store again the documents of an unchanged file whose lines went missing (a writer
        interrupted, a file deleted by hand). True when something was repaired."""
        sha = str(previous["sha256"] or "")
        listed = json.loads(str(previous["documents"] or "[]"))
        if not sha or not any(d.get("kept") for d in listed) or not self.store.missing(sha):
            return False
        try:
            documents = self._parse(self.raw_path(sha), resource)
        except BudgetError:
            return False  # the next change of the file will store it again
        self.store.add([d for d in documents if only.keep(d, regions)])
        return True

    @staticmethod
    def _parse(path: Path, resource: PublishedResource) -> list[BudgetDocument]:
        name = resource.url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1] or resource.title
        return read_documents(path, name=name)
