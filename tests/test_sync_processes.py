"""Two real `sync` processes on one cache, and a sync killed at random points: the cache stays
consistent (lock + atomic rename + catalogue committed per file), and a new sync completes."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from budget_core.cache import Cache
from tests.conftest import FIXTURES, TOTEM
from tests.portal_server import PortalServer, running

ROOT = Path(__file__).resolve().parent.parent
FILES = {"crach_principal_CA_2021.xml": TOTEM / "crach_principal_CA_2021.xml",
         "crach_lotissement_BP_2022.xml": TOTEM / "crach_lotissement_BP_2022.xml",
         "mohon_CFU_2023.xml": TOTEM / "mohon_CFU_2023.xml",
         "Montreuil_CA_2022.xml": TOTEM / "Montreuil_CA_2022.xml",
         "morbihan_CA_2021.csv": FIXTURES / "scdl_expected" / "morbihan_CA_2021.csv"}


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[tuple[PortalServer, dict[str, str]]]:
    for server in running():
        for name, path in FILES.items():
            server.publish(name, path.read_bytes())
        server.udata_files = list(FILES)
        (tmp_path / "portals.toml").write_text(
            f'replace = true\n[[portal]]\nname = "local"\nkind = "udata"\nurl = "{server.url}"'
            '\nqueries = []\n', encoding="utf-8")
        env = {**os.environ, "BUDGET_CACHE_DIR": str(tmp_path / "cache"),
               "BUDGET_PORTALS": str(tmp_path / "portals.toml")}
        yield server, env


def start_sync(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "budget_core", "sync", "--timeout", "10"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def slow_down(server: PortalServer) -> None:
    for name in FILES:
        server.faults[f"/files/{name}"] = ["delay"]


def assert_consistent(cache: Cache) -> None:
    """Every catalogued file is whole, every stored document readable and catalogued."""
    resources = cache.resources()
    for row in resources[resources["sha256"].notna()].itertuples():
        raw = cache.raw_path(row.sha256)
        assert raw.exists() and hashlib.sha256(raw.read_bytes()).hexdigest() == row.sha256
    documents = cache.store.documents()
    for key in documents["doc_key"]:
        pq.read_table(cache.store.lines_dir / f"{key}.parquet")
    for raw in cache.raw_dir.rglob("*"):
        if raw.is_file():
            assert hashlib.sha256(raw.read_bytes()).hexdigest() == raw.name


def test_a_second_sync_process_is_refused_while_the_first_runs(
        portal: tuple[PortalServer, dict[str, str]]) -> None:
    server, env = portal
    slow_down(server)
    first = start_sync(env)
    deadline = time.monotonic() + 20
    while not server.hits and time.monotonic() < deadline:
        time.sleep(0.05)
    second = start_sync(env)
    _, error = second.communicate(timeout=60)
    assert second.returncode == 1
    assert "une synchronisation est déjà en cours" in error
    out, _ = first.communicate(timeout=120)
    assert first.returncode == 0 and "5 nouveau(x)" in out


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_sync_killed_at_a_random_point_leaves_a_consistent_cache(
        portal: tuple[PortalServer, dict[str, str]], seed: int) -> None:
    server, env = portal
    slow_down(server)
    rng = random.Random(seed)
    target = rng.randint(1, len(FILES))
    process = start_sync(env)
    deadline = time.monotonic() + 30
    while (sum(n for path, n in server.hits.items() if path.startswith("/files/")) < target
           and time.monotonic() < deadline):
        time.sleep(0.02)
    time.sleep(rng.uniform(0, 0.4))  # during a download, a parse or a write
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    cache = Cache(Path(env["BUDGET_CACHE_DIR"]))
    assert_consistent(cache)
    done = len(cache.store.documents())
    again = start_sync(env)
    out, error = again.communicate(timeout=120)
    assert again.returncode == 0, error
    assert_consistent(cache)
    assert len(cache.store.documents()) == 5
    assert set(cache.resources()["status"]) == {"ok"}
    assert done <= 5 and "0 en échec" in out
