"""The embedded demo dataset: real documents parsed into a store shipped with the repository.

Built from the real files of `tests/fixtures/` (see fixtures/PROVENANCE.md) by
`python -m budget_core demo`, so the app opens offline on a fresh clone.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from budget_core.config import DEMO_DIR, ROOT
from budget_core.formats import read_documents
from budget_core.national import NationalStore
from budget_core.store import Store

FIXTURES = ROOT / "tests" / "fixtures"
DEMO_SOURCES = (*sorted((FIXTURES / "totem").glob("*.xml")),
                FIXTURES / "scdl_expected" / "morbihan_CA_2021.csv")
NATIONAL_SOURCE = FIXTURES / "national" / "ofgl-base-communes_guadeloupe_2024.csv"


def build_demo(target: Path = DEMO_DIR) -> Store:
    """(Re)build the demo store from the real fixture documents."""
    shutil.rmtree(target / "lines", ignore_errors=True)
    (target / "documents.parquet").unlink(missing_ok=True)
    store = Store(target)
    for path in DEMO_SOURCES:
        store.add(read_documents(path))
    shutil.rmtree(target / "national", ignore_errors=True)
    NationalStore(target / "national").add_export("communes", NATIONAL_SOURCE.read_bytes(),
                                                  NATIONAL_SOURCE.name)
    return store
