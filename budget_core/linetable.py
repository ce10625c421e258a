"""The canonical lines as an Arrow table, then a pandas frame: what the app and the store hold.

`LINE_SCHEMA` is `model.LINE_COLUMNS` in Arrow types. `LineBuilder` maps lines (it is a
`mapping.LineMapper`) and keeps them as Python lists for at most BATCH_LINES lines, then as an
Arrow record batch, so memory grows with the compact Arrow size of a document, not with Python
objects. Kept apart from `mapping` so that what only streams lines (`convert`, `inspect`,
`validate` of a TOTEM document) never loads pyarrow nor pandas.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pyarrow as pa

from budget_core.mapping import CONSTANT_COLUMNS, MAPPED_COLUMNS, Line, LineMapper, RawLine
from budget_core.model import (
    AMOUNT_PRECISION,
    AMOUNT_SCALE,
    AMOUNT_TYPE_NAME,
    LINE_COLUMNS,
    DocumentInfo,
)
from budget_core.nomenclature import Plan

AMOUNT_TYPE = pa.decimal128(AMOUNT_PRECISION, AMOUNT_SCALE)
ARROW_TYPES = {"string": pa.string(), "int16": pa.int16(), "int32": pa.int32(),
               "bool": pa.bool_(), AMOUNT_TYPE_NAME: AMOUNT_TYPE}
LINE_SCHEMA = pa.schema([pa.field(name, ARROW_TYPES[type_]) for name, type_, _ in LINE_COLUMNS])
# Columns that vary from line to line, in the schema's order.
VARYING_COLUMNS = tuple(name for name in LINE_SCHEMA.names if name not in CONSTANT_COLUMNS)
BATCH_LINES = 50_000


class LineBuilder(LineMapper):
    """Maps lines and collects them into the canonical frame."""

    def __init__(self, info: DocumentInfo, plan: Plan) -> None:
        super().__init__(info, plan)
        self.columns: dict[str, list[object]] = {name: [] for name in VARYING_COLUMNS}
        self.batches: list[pa.RecordBatch] = []

    def add(self, raw: RawLine, amounts: dict[str, Decimal | None], source_line: int) -> None:
        self.append(self.map(raw, amounts, source_line))

    def append(self, line: Line) -> None:
        """Keep a line already mapped (by this builder)."""
        columns = self.columns
        for name, value in zip(MAPPED_COLUMNS, line.mapped, strict=True):
            columns[name].append(value)
        for name, value in line.amounts.items():
            columns[name].append(value)
        columns["amount"].append(line.amounts.get(self.amount_column))
        columns["source_line"].append(line.source_line)
        if len(columns["source_line"]) >= BATCH_LINES:
            self._flush()

    def _flush(self) -> None:
        count = len(self.columns["source_line"])
        if not count:
            return
        constants = {**self.constants, "source_sha256": self.info.source_sha256}
        arrays = [
            pa.array([constants[name]] * count, type=type_) if name in CONSTANT_COLUMNS
            else pa.array(self.columns[name], type=type_)
            for name, type_ in zip(LINE_SCHEMA.names, LINE_SCHEMA.types, strict=True)
        ]
        self.batches.append(pa.RecordBatch.from_arrays(arrays, schema=LINE_SCHEMA))
        self.columns = {name: [] for name in VARYING_COLUMNS}

    def frame(self, source_sha256: str | None = None) -> pd.DataFrame:
        """The canonical lines frame (the SHA-256 may be known only once the file is read)."""
        if source_sha256 is not None:
            self.info.source_sha256 = source_sha256
        self._flush()
        table = pa.Table.from_batches(self.batches, schema=LINE_SCHEMA)
        if source_sha256 is not None:
            index = LINE_SCHEMA.get_field_index("source_sha256")
            table = table.set_column(index, "source_sha256",
                                     pa.array([source_sha256] * len(table), pa.string()))
        return table.to_pandas(types_mapper=pd.ArrowDtype)
