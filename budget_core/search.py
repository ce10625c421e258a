"""Find budgets in the catalogue by name, SIREN, SIRET or INSEE code, forgiving accents."""

from __future__ import annotations

import unicodedata

import pandas as pd


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", str(text).lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def find_budgets(catalogue: pd.DataFrame, query: str, limit: int = 20) -> pd.DataFrame:
    """The newest document of each budget that matches every word of the query."""
    words = fold(query).replace("-", " ").split()
    if not words or catalogue.empty:
        return catalogue.iloc[0:0]
    haystack = (catalogue["entity_name"] + " " + catalogue["budget_label"] + " "
                + catalogue["siret"] + " " + catalogue["insee"].fillna("")).map(fold)
    haystack = haystack.str.replace("-", " ")
    match = pd.Series(True, index=catalogue.index)
    for word in words:
        match &= haystack.str.contains(word, regex=False)
    found = catalogue[match].sort_values(["entity_name", "year"], ascending=[True, False])
    return found.drop_duplicates("siret").head(limit)
