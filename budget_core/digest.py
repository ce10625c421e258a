"""A content digest of a frame, for the app's cache keys.

Streamlit's `st.cache_data` keys a call by hashing its arguments, and hashes a pandas frame
column by column through `pandas.util.hash_pandas_object`, which converts Arrow-backed text
and decimal columns to Python objects first: 5.7 ms for a 27-row table of chapters, paid at
every rerun for every chart whose spec is cached by its data. Its pickle holds every value,
the dtypes, the index and the column names, so equal pickles mean equal frames; hashing the
pickle takes 0.35 ms for the same table.

The pickle is written without its memo (`Pickler.fast`): a memoized pickle also records
which of its objects are one and the same (a dtype shared by two columns, a type object), and
that differs between a frame a page has just computed and the same frame given back by
`st.cache_data` (an unpickled copy): equal figures, two keys, every chart of a view built
again at its second and third runs. An Arrow dtype also pickles what it has cached once
asked (`kind`, `numpy_dtype`), which a chart's first build fills: it is pickled as its Arrow
type alone. The bytes then depend on the values only.
Two equal frames made by different operations may still pickle differently (Arrow buffers
laid out otherwise): that costs a cache miss, never a wrong hit.
"""

from __future__ import annotations

import hashlib
import io
import pickle
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the CLI imports budget_core without loading pandas
    import pandas as pd


class _ValuesPickler(pickle.Pickler):
    """A pickle of the values only: no memo (which objects are shared), and an Arrow dtype
    by its Arrow type alone, without the answers it caches once asked (`kind`,
    `numpy_dtype`: filled when a chart reads the frame, so in the first run's frame and not
    yet in the cached copy)."""

    def reducer_override(self, obj: Any) -> Any:
        import pandas as pd  # a frame is being pickled: pandas is loaded

        if isinstance(obj, pd.ArrowDtype):
            return pd.ArrowDtype, (obj.pyarrow_dtype,)
        return NotImplemented


def frame_digest(frame: pd.DataFrame) -> str:
    """A SHA-256 of everything `frame` holds (values, dtypes, index, column names)."""
    buffer = io.BytesIO()
    pickler = _ValuesPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.fast = True  # no memo: which objects are shared is not part of the key
    pickler.dump(frame)
    return hashlib.sha256(buffer.getbuffer()).hexdigest()
