"""The installed package: a wheel built from the tracked files, installed with its pinned
dependencies in a clean virtual environment, works with no checkout of the repository.

What a user gets from `pip install budget-explorer` (or the wheel CI builds): the `budget`
command, the shipped plans de comptes, SCDL schema, portal registry and demo store, and a
cache in the user's cache folder rather than beside the sources.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import TOTEM
from tests.rawxml import sums_by_direction_and_order

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def tracked_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                            check=True).stdout.decode()
    return [name for name in listed.split("\0")
            if name and not name.startswith(("tests/", "docs/", "bench/"))]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    """(bin folder of a clean venv holding the wheel, environment for it), outside the
    checkout: the sources are copied first so no build artefact lands in the repository."""
    base = tmp_path_factory.mktemp("package")
    source = base / "src"
    for name in tracked_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    dist = base / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "-o", str(dist),
                    str(source)], check=True, capture_output=True)
    [wheel] = dist.glob("*.whl")
    venv.create(base / "venv", with_pip=True)
    bin_dir = base / "venv" / ("Scripts" if os.name == "nt" else "bin")
    subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheel),
                    "-c", str(ROOT / "requirements.txt")], check=True, capture_output=True)
    home = base / "home"
    home.mkdir()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("BUDGET_", "PYTHON", "VIRTUAL_ENV"))}
    env |= {"HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache")}
    yield bin_dir, env


def budget(installed: tuple[Path, dict[str, str]], *args: str,
           check: bool = True) -> subprocess.CompletedProcess[str]:
    bin_dir, env = installed
    return subprocess.run([str(bin_dir / "budget"), *args], capture_output=True, text=True,
                          env=env, cwd=bin_dir.parent.parent, check=check)


def test_inspect_from_the_wheel_gives_the_documents_own_sums(
        installed: tuple[Path, dict[str, str]]) -> None:
    document = TOTEM / "Montreuil_CA_2022.xml"
    [described] = json.loads(budget(installed, "inspect", str(document), "--json").stdout)
    ours: dict[tuple[str, str], Decimal] = {}
    for total in described["totaux"]:
        key = ("D" if total["sens"] == "depense" else "R",
               "1" if total["operations"] == "ordre" else "0")
        ours[key] = ours.get(key, Decimal(0)) + Decimal(total["montant"])
    # The document's own réalisé, read with plain XPath, carried-over results included
    # (inspect totals every budget line of the stage, as the document does).
    assert ours == sums_by_direction_and_order(document, "MtReal")


def test_convert_and_validate_use_the_shipped_plans_and_schema(
        installed: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    out = tmp_path / "crach.csv"
    budget(installed, "convert", str(TOTEM / "crach_principal_CA_2021.xml"), "-o", str(out))
    assert budget(installed, "validate", str(out)).returncode == 0


def test_the_demo_store_ships_in_the_package_and_the_cache_is_the_users(
        installed: tuple[Path, dict[str, str]]) -> None:
    bin_dir, env = installed
    shown = budget(installed, "cache").stdout
    assert f"Cache {env['XDG_CACHE_HOME']}/budget-explorer" in shown
    assert f"{bin_dir.parent}/lib/" in shown and "budget_core/data/demo (20 documents)" in shown
    rebuild = budget(installed, "demo", check=False)
    assert rebuild.returncode == 1
    assert "introuvables" in rebuild.stderr and "Traceback" not in rebuild.stderr


def test_the_library_runs_without_streamlit(installed: tuple[Path, dict[str, str]]) -> None:
    bin_dir, env = installed
    probe = subprocess.run(
        [str(bin_dir / "python"), "-c",
         "import importlib.util, budget_core.cli, budget_core.charts;"
         "print(importlib.util.find_spec('streamlit') is None)"],
        capture_output=True, text=True, env=env, check=True)
    assert probe.stdout.strip() == "True"
