"""The embedded demo dataset: real documents parsed into a store shipped inside the package.

Built from the real files of the repository's `tests/fixtures/` (see fixtures/PROVENANCE.md)
by `python -m budget_core demo`, so the app and the CLI open offline on a fresh clone or a
fresh install. An installed package reads the shipped store; rebuilding it needs the fixture
documents, which only a checkout has (or a folder laid out the same, given with `--sources`).
"""

from __future__ import annotations

import os
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
    """(Re)build the demo store from the real fixture documents.

    Built in a folder beside `target`, which replaces it once whole: a source that cannot be
    read (a `--sources` folder lacking a document), an error or Ctrl-C leaves the previous
    demo as it was. It was emptied first: the app then opened on what was rebuilt so far."""
    fixtures = sources or default_sources()
    if fixtures is None or not (fixtures / NATIONAL_FILE).exists():
        raise BudgetError(
            "les documents sources du jeu de démonstration sont introuvables"
            + (f" dans « {fixtures} »." if fixtures else "."),
            hint="Lancez la commande depuis une copie du dépôt (git clone), ou donnez "
                 "le dossier tests/fixtures avec --sources.")
    suffix = os.urandom(6).hex()
    built, previous = (target.with_name(f".{target.name}.{what}-{suffix}")
                       for what in ("new", "old"))
    try:
        store = Store(built)
        for path in demo_sources(fixtures):
            store.add(read_documents(path))
        national = fixtures / NATIONAL_FILE
        with NationalStore(built / "national") as national_store:
            national_store.add_export("communes", national.read_bytes(), national.name)
        if target.exists():
            target.replace(previous)
        built.replace(target)
    finally:
        shutil.rmtree(built, ignore_errors=True)
        shutil.rmtree(previous, ignore_errors=True)
    return Store(target)
