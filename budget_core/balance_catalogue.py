"""The budgets of the DGFiP balances as catalogue rows beside the published documents.

Every budget and year the balances folder holds is a CA reconstituted from the comptes de
gestion (`balances.BalanceStore.document`). Its catalogue row is made without building the
document (one grouped query over the account rows), under the key `dgfip_<SIRET>_<year>`;
its lines are computed when a page opens it. Where a published CA or CFU of the same budget
and year is loaded, the published document is shown and the balance's row is set apart
(`split`): a budget-year is never counted twice.
"""

from __future__ import annotations

import pandas as pd

from budget_core.balance_budget import SOURCE_FORMAT, document_info
from budget_core.balances import BalanceStore, dataset_id
from budget_core.model import EXECUTED_STAGES
from budget_core.store import DOCUMENT_COLUMNS, document_rows

PREFIX = "dgfip_"
SOURCE = "comptes de gestion DGFiP (balance comptable)"
# One row per budget and year; the collectivité is named after its budget principal.
BUDGETS_SQL = """
    WITH b AS (SELECT level, year, siren, ident, any_value(lbudg) AS lbudg,
                      any_value(cbudg) AS cbudg, any_value(ctype) AS ctype,
                      any_value(nomen) AS nomen, any_value(ndept) AS ndept,
                      any_value(insee) AS insee, count(*) AS accounts
               FROM balances GROUP BY ALL),
         p AS (SELECT level, year, siren, min(lbudg) AS entity_name FROM b
               WHERE cbudg = '1' GROUP BY ALL)
    SELECT b.*, coalesce(p.entity_name, b.lbudg) AS entity_name
    FROM b LEFT JOIN p USING (level, year, siren) ORDER BY siren, ident, year"""


def key_of(siret: str, year: int) -> str:
    return f"{PREFIX}{siret}_{year}"


def parse_key(key: str) -> tuple[str, int]:
    """(SIRET, year) of a balance document's key."""
    siret, year = key.removeprefix(PREFIX).rsplit("_", 1)
    return siret, int(year)


def is_balance(key: str) -> bool:
    return key.startswith(PREFIX)


def catalogue(store: BalanceStore) -> pd.DataFrame:
    """A catalogue row (`store.DOCUMENT_COLUMNS`) for every budget and year of the balances;
    `line_count` is the number of account rows (the lines are computed when opened)."""
    budgets = store.query(BUDGETS_SQL)
    if budgets.empty:
        return pd.DataFrame(columns=list(DOCUMENT_COLUMNS)).astype({"population": "Int64"})
    records = budgets.astype(object).to_dict("records")
    return document_rows(
        (document_info(row, str(row["entity_name"]), dataset_id(str(row["level"]),
                                                                 int(row["year"]))),
         key_of(str(row["ident"]), int(row["year"])), int(row["accounts"]), "")
        for row in records)


def split(balances: pd.DataFrame, published: pd.DataFrame) -> tuple[pd.DataFrame,
                                                                      pd.DataFrame]:
    """(shown, set apart): the balance rows of budget-years with no published CA or CFU
    among `published` (catalogue rows), and those with one."""
    executed = published[published["stage"].isin(EXECUTED_STAGES)]
    held = pd.MultiIndex.from_arrays([executed["siret"].astype(str),
                                      executed["year"].astype(int)])
    hidden = pd.MultiIndex.from_arrays([balances["siret"].astype(str),
                                        balances["year"].astype(int)]).isin(held)
    return balances[~hidden], balances[hidden]


def from_balances(rows: pd.DataFrame) -> pd.Series:
    """Which catalogue rows are balance-derived documents."""
    return rows["source_format"] == SOURCE_FORMAT
