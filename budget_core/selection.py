"""What the pickers offer, how a document is named, and what a choice becomes when the
options change.

The pages of the app share one selection (collectivité, year, stage, document): each page
starts from the last choice that still applies there, and a choice that no longer applies
falls back to a default instead of lingering. Nothing here imports Streamlit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date

import pandas as pd

from budget_core.model import STAGE_LABELS, STAGES, DocumentInfo
from budget_core.store import document_key


def pick_index(options: Sequence[object], *wanted: object) -> int:
    """Index of the first wanted value (a link's, then the last choice) still in the options.

    Values are compared as text, as a URL holds them (`?annee=2023` is the option 2023).
    None, or a value that is no longer an option, is skipped; nothing left gives 0.
    """
    by_text = {str(option): i for i, option in enumerate(options)}
    for value in wanted:
        if value is not None and str(value) in by_text:
            return by_text[str(value)]
    return 0


def still_valid(chosen: Iterable[str], options: Sequence[str], default: Sequence[str],
                limit: int | None = None) -> list[str]:
    """The chosen values that are still options, once each and at most `limit` of them;
    the default when none of them is.

    Switching Évolution from Dépenses to Recettes must not keep spending chapters chosen, and
    a link repeating a SIRET eleven times, or listing 51 of them, must not break the page.
    """
    allowed = set(options)
    kept = [value for value in dict.fromkeys(chosen) if value in allowed]
    return (kept or [value for value in dict.fromkeys(default) if value in allowed])[:limit]


def french_date(iso: str) -> str:
    """`2021-11-22` → `22/11/2021`; text that is not an ISO date is returned as is."""
    try:
        return date.fromisoformat(iso).strftime("%d/%m/%Y")
    except ValueError:
        return iso


def decision_label(row: Mapping[str, object]) -> str:
    """How a document names itself among those of its year: « DM n° 2 du 22/11/2021 ».

    A DM is named by its number and date (BlocBudget NumDec, DteDec); other stages have one
    document a year and are named by their stage.
    """
    stage = str(row["stage"])
    number = str(row.get("decision_number") or "")
    when = str(row.get("decision_date") or "")
    if stage != "DM":
        return STAGE_LABELS.get(stage, stage)
    name = f"DM n° {number}" if number and number != "0" else "DM"
    if when:
        return f"{name} du {french_date(when)}"
    return name if name != "DM" else f"DM ({str(row['doc_key'])[-6:]})"


def document_label(row: Mapping[str, object]) -> str:
    """`Compte administratif 2021`, `DM n° 3 du 13/12/2021 (exercice 2021)`."""
    if row["stage"] == "DM":
        return f"{decision_label(row)} (exercice {row['year']})"
    return f"{decision_label(row)} {row['year']}"


def ordered(catalogue: pd.DataFrame) -> pd.DataFrame:
    """Documents in reading order: by year, stage (BP → CFU), then decision number and date.

    One row or none is already in order, and returned as it is (read it, never modify it):
    sorting it cost 1.7 ms, twice at each change of budget on Explorer (issue 13)."""
    if len(catalogue) < 2:
        return catalogue
    rank = {stage: i for i, stage in enumerate(STAGES)}
    number = pd.to_numeric(catalogue["decision_number"], errors="coerce").fillna(0)
    return catalogue.assign(_rank=catalogue["stage"].map(rank), _number=number).sort_values(
        ["year", "_rank", "_number", "decision_date", "doc_key"]).drop(
        columns=["_rank", "_number"])


def documents_of(catalogue: pd.DataFrame, siret: str, year: int, stage: str) -> pd.DataFrame:
    """The documents of one budget, year and stage: one, or several DMs in their order."""
    chosen = catalogue[(catalogue["siret"] == siret) & (catalogue["year"] == year)
                       & (catalogue["stage"] == stage)]
    return ordered(chosen)


def series_documents(catalogue: pd.DataFrame) -> pd.DataFrame:
    """The documents Évolution follows: budgets with two years or more of a stage, one
    document a year (the session's upload rather than the stored one: `uploads_first`). A
    year has one BP, CA or CFU but several DMs: a series of DMs would sum documents."""
    docs = uploads_first(catalogue[catalogue["stage"] != "DM"]).drop_duplicates(
        ["siret", "stage", "year"]).sort_index()
    years_per_budget = docs.groupby(["siret", "stage"])["year"].nunique()
    several = years_per_budget[years_per_budget >= 2].index.get_level_values("siret")
    return docs[docs["siret"].isin(several)]


UPLOAD_PREFIX = "depot_"  # document keys of files uploaded in a session, never stored


def upload_key(info: DocumentInfo) -> str:
    """The key of an uploaded document in a session: the file's content (its SHA-256) and
    the document's place in it (SIRET, year, stage). An SCDL file holds one document per
    SIRET, year and stage: keyed by the file and the SIRET alone, a budget's BP and CA in
    one file were one key, the last read replacing the other, and the link to the first
    opened the second or the stored one. Naming the content, the key may key caches."""
    return (f"{UPLOAD_PREFIX}{info.source_sha256[:16]}_{info.siret}_{info.year}_"
            f"{info.stage}")


def superseded(uploaded: Mapping[str, DocumentInfo], info: DocumentInfo) -> list[str]:
    """The keys of a session's earlier uploads that an upload of `info` replaces: those of
    the same budget, year and stage from another file (a corrected CA uploaded again), as
    the store replaces a stored document (`store.document_key`); each DM stays its own
    document. Both kept, Explorer listed two documents under one name (the same file name)
    and the pages that show one document a year showed the first."""
    identity = document_key(info.siret, info.year, info.stage, info.source_sha256)
    own = upload_key(info)
    return [key for key, other in uploaded.items() if key != own
            and document_key(other.siret, other.year, other.stage,
                             other.source_sha256) == identity]


def uploads_first(rows: pd.DataFrame) -> pd.DataFrame:
    """Catalogue rows with the session's uploads first, in their order otherwise: where a
    page shows one document of a budget, year and stage (Prévu / réalisé, Évolution), the
    one the user uploaded wins over the stored one of the cache."""
    uploaded = rows["doc_key"].astype(str).str.startswith(UPLOAD_PREFIX)
    return pd.concat([rows[uploaded], rows[~uploaded]])


def reference(row: Mapping[str, object] | pd.Series) -> str:
    """What names a document among those of one year and stage, in a link: the budget's SIRET,
    or the document key for a DM (a budget has several DMs a year) and for an uploaded file
    (it may stand beside the stored document of the same budget)."""
    key = str(row["doc_key"])
    return key if row["stage"] == "DM" or key.startswith(UPLOAD_PREFIX) else str(row["siret"])


def comparable(catalogue: pd.DataFrame, stage: str | None, year: int | None
               ) -> pd.DataFrame:
    """The documents of one stage and year in reading order, each with its `ref`
    (`reference`, vectorised: Comparer lists some 69 457 of them at the scale of France)."""
    same = ordered(catalogue[(catalogue["stage"] == stage) & (catalogue["year"] == year)])
    by_key = (same["stage"] == "DM") | same["doc_key"].astype(str).str.startswith(UPLOAD_PREFIX)
    return same.assign(ref=same["doc_key"].where(by_key, same["siret"]).astype(str))


def budget_name(row: Mapping[str, object]) -> str:
    """`CRACH — LOTISSEMENT LE BOCENO (annexe)`: a budget is a SIRET (IdEtab)."""
    return str(budget_labels(pd.DataFrame([dict(row)])).iloc[0])


def budget_labels(catalogue: pd.DataFrame) -> pd.Series:
    """`budget_name` of every row at once: a picker over the DGFiP balances lists some
    70 000 budgets, which a row-by-row `apply` names in about 2 s."""
    annex = (catalogue["budget_kind"] == "annexe").map({True: " (annexe)", False: ""})
    return (catalogue["entity_name"].astype(str) + " — "
            + catalogue["budget_label"].astype(str) + annex)


def budget_names(catalogue: pd.DataFrame) -> dict[str, str]:
    """`CRACH — BUDGET PRINCIPAL — DM n° 2 du 22/11/2021` by document key: two budgets of
    one collectivité, or two DMs of one budget, never share a name. Budgets of two
    collectivités named alike (homonyms; every budget of the synthetic France-scale
    balances is « COMMUNE — COMMUNE ») get their SIRET: a multiselect tells its values
    apart by their names, and two equal names left a budget shown as chosen in the browser
    that the page no longer compared."""
    names = dict(zip(catalogue["doc_key"].astype(str), budget_labels(catalogue), strict=True))
    for record in catalogue[catalogue["stage"] == "DM"].to_dict("records"):
        row = {str(key): value for key, value in record.items()}
        names[str(row["doc_key"])] += f" — {decision_label(row)}"
    labels = pd.Series(names, dtype=object)
    alike = labels.duplicated(keep=False).to_numpy()
    if alike.any():
        sirets = catalogue["siret"].astype(str).to_numpy()[alike]
        names.update(zip(labels.index[alike], labels[alike] + " — SIRET " + sirets,
                         strict=True))
    return names


def richest(catalogue: pd.DataFrame) -> tuple[str | None, int | None]:
    """The stage and year where the most budgets can be compared (ties: the latest year, the
    executed stage), where Comparer opens when nothing was chosen before."""
    if catalogue.empty:
        return None, None
    rank = {stage: i for i, stage in enumerate(STAGES)}
    counts = catalogue.groupby(["stage", "year"])["siret"].nunique().reset_index()
    counts["_rank"] = counts["stage"].map(rank)
    best = counts.sort_values(["siret", "year", "_rank"]).iloc[-1]
    return str(best["stage"]), int(best["year"])


def default_comparison(catalogue: pd.DataFrame, first: str | None = None) -> list[str]:
    """Two documents worth comparing: the budget last chosen (SIRET `first`) or the first
    budget principal, then a budget principal of another collectivité of the same type (else
    of any type, else any other budget). Keys of `reference`."""
    if catalogue.empty:
        return []
    rows = catalogue.assign(_first=catalogue["siret"] != first,
                            _annex=catalogue["budget_kind"] != "principal").sort_values(
        ["_first", "_annex", "entity_name", "doc_key"])
    lead = rows.iloc[0]
    others = rows[rows["doc_key"] != lead["doc_key"]]
    elsewhere = others[others["siren"] != lead["siren"]]
    for candidates in (elsewhere[(elsewhere["entity_type"] == lead["entity_type"])
                                 & ~elsewhere["_annex"]], elsewhere[~elsewhere["_annex"]],
                       others):
        if not candidates.empty:
            return [reference(lead), reference(candidates.iloc[0])]
    return [reference(lead)]
