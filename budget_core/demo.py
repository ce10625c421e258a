"""The embedded demo dataset: real documents parsed into a store shipped inside the package.

Built from the real files of the repository's `tests/fixtures/` (see fixtures/PROVENANCE.md)
by `python -m budget_core demo`, so the app and the CLI open offline on a fresh clone or a
fresh install. An installed package reads the shipped store; rebuilding it needs the fixture
documents, which only a checkout has (or a folder laid out the same, given with `--sources`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from budget_core.config import CHECKOUT, DEMO_DIR
from budget_core.errors import BudgetError
from budget_core.formats import read_documents
from budget_core.national import NationalStore
from budget_core.store import Store

NATIONAL_FILE = Path("national") / "ofgl-base-communes_guadeloupe_2024.csv"


def default_sources() -> Path | None:
    """`tests/fixtures` of a checkout of the repository, None for an installed package."""
    return CHECKOUT / "tests" / "fixtures" if CHECKOUT is not None else None


def demo_sources(fixtures: Path) -> list[Path]:
    """The real documents the demo is made of: every TOTEM fixture and one SCDL file."""
    return [*sorted((fixtures / "totem").glob("*.xml")),
            fixtures / "scdl_expected" / "morbihan_CA_2021.csv"]


def build_demo(target: Path = DEMO_DIR, sources: Path | None = None) -> Store:
    """(Re)build the demo store from the real fixture documents."""
    fixtures = sources or default_sources()
    if fixtures is None or not (fixtures / NATIONAL_FILE).exists():
        raise BudgetError(
            "les documents sources du jeu de démonstration sont introuvables"
            + (f" dans « {fixtures} »." if fixtures else "."),
            hint="Lancez la commande depuis une copie du dépôt (git clone), ou donnez "
                 "le dossier tests/fixtures avec --sources.")
    shutil.rmtree(target / "lines", ignore_errors=True)
    (target / "documents.parquet").unlink(missing_ok=True)
    store = Store(target)
    for path in demo_sources(fixtures):
        store.add(read_documents(path))
    national = fixtures / NATIONAL_FILE
    shutil.rmtree(target / "national", ignore_errors=True)
    with NationalStore(target / "national") as national_store:
        national_store.add_export("communes", national.read_bytes(), national.name)
    return store
