"""A budget's chapters from whichever source holds it: the document store, else the balances.

The store's executed documents (CA, CFU) come first: they are the ordonnateur's own
accounts. The DGFiP balances (the comptable's accounts, every budget of France) answer for
the budgets the store does not hold; when they hold the document's budget-year too, the
answer says so (`also`): every figure is from one source, named.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from budget_core.balance_budget import chapter_view
from budget_core.balances import BalanceStore
from budget_core.errors import BudgetError
from budget_core.model import EXECUTED_STAGES
from budget_core.store import Store


@dataclass(frozen=True)
class Chapters:
    siret: str
    year: int
    source: str  # "documents" or "balances"
    detail: str  # which document or dataset, in French
    view: pd.DataFrame  # balance_budget.chapter_view columns
    also: str = ""  # in French: the other source holding this budget-year, not counted


def chapters(identifier: str, year: int, store: Store, balances: BalanceStore) -> Chapters:
    """The chapters of a SIRET (that budget) or a SIREN (its budget principal) in `year`."""
    if not (identifier.isascii() and identifier.isdigit() and len(identifier) in (9, 14)):
        raise BudgetError(f"« {identifier} » n'est ni un SIRET (14 chiffres) ni un SIREN "
                          "(9 chiffres).", hint="Donnez le SIRET d'un budget ou le SIREN "
                                                "d'une collectivité.")
    catalogue = store.documents()
    held = catalogue[catalogue["stage"].isin(EXECUTED_STAGES) & (catalogue["year"] == year)
                     & ((catalogue["siret"] == identifier) | (
                         (catalogue["siren"] == identifier)
                         & (catalogue["budget_kind"] == "principal")))]
    if len(held):
        row = held.sort_values("stage").iloc[-1]  # a CFU, which replaces the CA, first
        lines = store.document_lines([row["doc_key"]])
        also = (f"la balance comptable DGFiP (comptes de gestion) de ce budget pour {year} est "
                "aussi en cache : ses montants ne sont ni montrés ni comptés en plus"
                if len(balances.budget_rows(str(row["siret"]), year)) else "")
        return Chapters(str(row["siret"]), year, "documents",
                        f"{row['stage']} {year}, {row['source_file']}", chapter_view(lines),
                        also)
    siret = identifier if len(identifier) == 14 else balances.principal(identifier, year)
    if siret is None:
        raise BudgetError(f"aucun budget principal du SIREN {identifier} pour {year}, ni "
                          "dans les documents ni dans les balances en cache.",
                          hint="Téléchargez les balances de l'exercice : python -m "
                               f"budget_core balances download --year {year}")
    document = balances.document(siret, year)
    return Chapters(siret, year, "balances", f"{document.info.source_file} (DGFiP)",
                    chapter_view(document.lines))
