"""The demo store shipped in the package is what `build_demo()` makes of the fixtures.

Compared by content, not bytes: parquet files embed writer metadata and are not
byte-for-byte reproducible. A plan or a reader that changes without the demo being rebuilt
(`python -m budget_core demo`) fails here.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from filelock import FileLock

from budget_core.config import DEMO_DIR
from budget_core.demo import build_demo


def assert_same_rows(shipped: Path, fresh: Path) -> None:
    """Same columns, types and rows, in the same order (the differing cells are shown)."""
    pd.testing.assert_frame_equal(pq.read_table(shipped).to_pandas(),
                                  pq.read_table(fresh).to_pandas(), obj=shipped.name)


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo store built once per run, by whichever worker asks first: the others wait on
    the lock and read it. An xdist worker's temporary folder is in the run's (its parent);
    without workers the run's is getbasetemp() itself (its parent holds earlier runs)."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    target, built = root / "demo-rebuilt", root / "demo-rebuilt.done"
    with FileLock(root / "demo-rebuilt.lock"):
        if not built.exists():
            build_demo(target=target)
            built.touch()
    return target


def test_catalogue_lists_the_same_documents(rebuilt: Path) -> None:
    assert_same_rows(DEMO_DIR / "documents.parquet", rebuilt / "documents.parquet")


def test_every_document_has_the_same_lines(rebuilt: Path) -> None:
    shipped = sorted(p.name for p in (DEMO_DIR / "lines").glob("*.parquet"))
    assert shipped == sorted(p.name for p in (rebuilt / "lines").glob("*.parquet"))
    for name in shipped:
        assert_same_rows(DEMO_DIR / "lines" / name, rebuilt / "lines" / name)


def test_national_store_has_the_same_rows(rebuilt: Path) -> None:
    shipped = sorted(p.relative_to(DEMO_DIR) for p in (DEMO_DIR / "national").rglob("*.parquet"))
    assert shipped == sorted(p.relative_to(rebuilt)
                             for p in (rebuilt / "national").rglob("*.parquet"))
    assert shipped
    for path in shipped:
        assert_same_rows(DEMO_DIR / path, rebuilt / path)
