"""Content digests of frames, the app's cache keys for charts (budget_core/digest.py)."""

from __future__ import annotations

import pickle
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pytest

from budget_core import analysis
from budget_core.config import DEMO_DIR
from budget_core.digest import frame_digest
from budget_core.store import Store

MONTREUIL = "21930048000015"


@pytest.fixture(scope="module")
def chapters() -> pd.DataFrame:
    """Montreuil's spending by chapter, as Explorer charts it (Arrow text and decimals)."""
    store = Store(DEMO_DIR)
    docs = store.documents()
    key = docs[(docs["siret"] == MONTREUIL) & (docs["stage"] == "CA")]["doc_key"].iloc[0]
    table = analysis.by_chapter(store.document_lines((key,)), include_order=False)
    return table[table["direction"] == "depense"]


def test_the_same_figures_read_again_give_the_same_key(chapters: pd.DataFrame) -> None:
    """A page's frames come out of `st.cache_data`, which unpickles a copy at each rerun:
    two copies, filtered alike, are keyed alike (the chart's spec is found again)."""
    first, second = (pickle.loads(pickle.dumps(chapters)) for _ in range(2))
    assert frame_digest(first[first["section"] != ""]) == \
        frame_digest(second[second["section"] != ""])


def test_a_frame_computed_fresh_and_its_cached_copy_give_the_same_key(
        chapters: pd.DataFrame) -> None:
    """The first run computes a page's frames, later reruns get them back from
    `st.cache_data` (an unpickled copy): the same figures, but objects shared otherwise (a
    dtype, a type). A pickle records which objects are shared, so the two keys differed and
    Explorer's, Comparer's, Évolution's and Prévu / réalisé's charts were built again at the
    second run (and the third) of every view, each a duplicate entry in the spec cache; an
    Arrow dtype also pickles the answers it caches once a chart has asked them."""
    cached = pickle.loads(pickle.dumps(chapters))
    assert cached.equals(chapters)
    assert pickle.dumps(cached) != pickle.dumps(chapters)  # the trap: same figures, other bytes
    assert frame_digest(cached) == frame_digest(chapters)
    # A dtype's cache: filled in the frame a chart has read, not in the copy made before.
    amounts = pd.DataFrame({"amount": pd.array(list(chapters["amount"]), dtype=pd.ArrowDtype(
        pa.decimal128(38, 2)))})
    copy = pickle.loads(pickle.dumps(amounts))
    assert amounts["amount"].dtype.numpy_dtype is not None  # what building a chart asks
    assert pickle.dumps(amounts) != pickle.dumps(copy)
    assert frame_digest(amounts) == frame_digest(copy)


def test_one_cent_a_label_a_type_or_an_order_more_gives_another_key(
        chapters: pd.DataFrame) -> None:
    first = chapters.index[0]
    one_cent = chapters.copy()
    one_cent.loc[first, "amount"] = one_cent.loc[first, "amount"] + Decimal("0.01")
    relabelled = chapters.copy()
    relabelled.loc[first, "chapter_label"] = relabelled.loc[first, "chapter_label"] + " "
    as_float = chapters.assign(amount=chapters["amount"].astype(float))
    keys = {frame_digest(frame) for frame in (
        chapters, one_cent, relabelled, as_float, chapters.iloc[::-1],
        chapters.rename(columns={"amount": "montant"}), chapters.reset_index(drop=True))}
    assert len(keys) == 7
