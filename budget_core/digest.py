"""A content digest of a frame, for the app's cache keys.

Streamlit's `st.cache_data` keys a call by hashing its arguments, and hashes a pandas frame
column by column through `pandas.util.hash_pandas_object`, which converts Arrow-backed text
and decimal columns to Python objects first: 5.7 ms for a 27-row table of chapters, paid at
every rerun for every chart whose spec is cached by its data. Its pickle holds every value,
the dtypes, the index and the column names, so equal pickles mean equal frames; hashing the
pickle takes 0.35 ms for the same table. Two equal frames made by different operations may
pickle differently (Arrow buffers laid out otherwise): that costs a cache miss, never a wrong
hit. A page's frames come out of `st.cache_data`, unpickled alike at each rerun.
"""

from __future__ import annotations

import hashlib
import pickle
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the CLI imports budget_core without loading pandas
    import pandas as pd


def frame_digest(frame: pd.DataFrame) -> str:
    """A SHA-256 of everything `frame` holds (values, dtypes, index, column names)."""
    return hashlib.sha256(pickle.dumps(frame, protocol=pickle.HIGHEST_PROTOCOL)).hexdigest()
