"""The store under several writers, changing files and the demo beneath the user's cache."""

from __future__ import annotations

import itertools
import multiprocessing
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest

from budget_core.cache import Cache
from budget_core.config import DEMO_DIR, settings
from budget_core.errors import CacheError
from budget_core.formats import read_documents
from budget_core.http import Http, make_session
from budget_core.sources.udata import UdataSource
from budget_core.store import Store
from tests.conftest import FIXTURES, TOTEM, TOTEM_FILES, parsed
from tests.portal_server import PortalServer, running


def add_one_by_one(folder: str, paths: list[str]) -> None:
    store = Store(Path(folder))
    for path in paths:
        store.add(read_documents(Path(path)))


@pytest.mark.slow
def test_concurrent_writers_lose_no_document(tmp_path: Path) -> None:
    """Three processes add the 19 real TOTEM documents into one store, one at a time each:
    every document is catalogued and every catalogued document has its lines."""
    context = multiprocessing.get_context("spawn")
    shares = [[str(p) for p in TOTEM_FILES[i::3]] for i in range(3)]
    writers = [context.Process(target=add_one_by_one, args=(str(tmp_path), share))
               for share in shares]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=300)
        assert writer.exitcode == 0
    catalogue = Store(tmp_path).documents()
    expected = {parsed(p).info.source_sha256 for p in TOTEM_FILES}
    assert set(catalogue["source_sha256"]) == expected
    assert all((tmp_path / "lines" / f"{key}.parquet").exists() for key in catalogue["doc_key"])
    assert len(list((tmp_path / "lines").glob("*.parquet"))) == len(catalogue)


@pytest.fixture
def server() -> Iterator[PortalServer]:
    yield from running()


def sync(cache: Cache, server: PortalServer) -> list[str]:
    summary = cache.sync([UdataSource("udata", server.url)],
                         Http(make_session(retries=0), timeout=5))
    assert not summary.failed
    return summary.updated


def test_a_url_whose_content_goes_a_b_a_holds_only_a(tmp_path: Path,
                                                     server: PortalServer) -> None:
    a = (TOTEM / "crach_principal_CA_2021.xml").read_bytes()  # CA 2021
    b = (TOTEM / "crach_principal_BP_2022.xml").read_bytes()  # BP 2022, another document
    cache = Cache(tmp_path)
    server.udata_files = ["budget.xml"]
    stages = []
    for content in (a, b, a):
        server.publish("budget.xml", content)
        sync(cache, server)
        stages.append(sorted(zip(cache.store.documents()["year"],
                                 cache.store.documents()["stage"], strict=True)))
    assert stages == [[(2021, "CA")], [(2022, "BP")], [(2021, "CA")]]


def test_a_sync_repairs_a_document_whose_lines_went_missing(tmp_path: Path,
                                                            server: PortalServer) -> None:
    server.publish("budget.xml", (TOTEM / "crach_principal_CA_2021.xml").read_bytes())
    server.udata_files = ["budget.xml"]
    cache = Cache(tmp_path)
    sync(cache, server)
    [lines] = list(cache.store.lines_dir.glob("*.parquet"))
    lines.unlink()  # a writer killed between the catalogue and its files, or a hand
    assert sync(cache, server) == [f"{server.url}/files/budget.xml"]
    assert lines.exists()
    assert sync(cache, server) == []  # repaired once, then unchanged


def test_adding_to_the_cache_never_hides_the_demo(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """What the Données page does: add an uploaded document to the user's store."""
    monkeypatch.setenv("BUDGET_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("BUDGET_DATA_DIR", raising=False)
    demo = Store(DEMO_DIR).documents()
    demo_catalogue = (DEMO_DIR / "documents.parquet").read_bytes()
    store = settings().store()
    assert store.add(read_documents(FIXTURES / "scdl_expected" / "crach_lotissement_BP_2022.csv"))
    shown = settings().store().documents()
    # The uploaded CSV is the same budget, year and stage as a demo document: it takes its
    # place; every other demo document is still there, and the demo folder was not written.
    [mine] = shown.loc[shown["store_dir"] == str(tmp_path / "store"), "doc_key"]
    assert set(shown["doc_key"]) == set(demo["doc_key"])
    assert mine in set(demo["doc_key"])
    assert (DEMO_DIR / "documents.parquet").read_bytes() == demo_catalogue
    lines = settings().store().lines(list(shown["siret"].unique()), [2022], ["BP"])
    files = set(lines["source_file"])  # each document from its own store
    assert {"crach_lotissement_BP_2022.csv", "crach_principal_BP_2022.xml"} <= files
    assert "crach_lotissement_BP_2022.xml" not in files


def hammer(writer: Callable[[], None], reader: Callable[[], object],
           seconds: float = 3.0) -> list[Exception]:
    """Run `writer` in a loop in a thread while `reader` runs in a loop here; the reader's
    errors."""
    stop = threading.Event()

    def write() -> None:
        while not stop.is_set():
            writer()

    thread = threading.Thread(target=write)
    thread.start()
    errors: list[Exception] = []
    ends = time.monotonic() + seconds
    try:
        while time.monotonic() < ends:
            try:
                reader()
            except CacheError as exc:
                errors.append(exc)
    finally:
        stop.set()
        thread.join(30)
    return errors


def test_a_reader_sees_one_catalogue_or_the_other_never_half_of_each(tmp_path: Path) -> None:
    """pyarrow opens a catalogue twice when read by path (footer, then data): a writer's
    rename in between gave « Column cannot have more than one dictionary » to ~5 % of reads."""
    store = Store(tmp_path)
    store.add(read_documents(TOTEM / "crach_principal_CA_2021.xml"))
    small = store.documents().drop(columns=["store_dir"])
    big = pd.concat([small] * 2000, ignore_index=True)
    turn = itertools.cycle([small, big])
    assert hammer(lambda: store._write_catalogue(next(turn)), store.documents) == []


def test_a_reader_survives_a_writer_replacing_documents(tmp_path: Path) -> None:
    """A writer swaps Crach's DM2 for its DM3 and back (`replaces`): a reader holding the
    previous catalogue used to find its lines file deleted (263 of 503 reads failed)."""
    store = Store(tmp_path)
    dm2, dm3 = (read_documents(TOTEM / f"crach_principal_{dm}_2021.xml")
                for dm in ("DM2", "DM3"))
    store.add(dm2)
    shas = itertools.cycle([(dm3, dm2[0].info.source_sha256), (dm2, dm3[0].info.source_sha256)])

    def swap() -> None:
        documents, replaced = next(shas)
        store.add(documents, replaces=replaced)

    assert hammer(swap, lambda: store.query("SELECT count(*) FROM lines")) == []
