"""What every page shares: the store, cached queries, the budget picker, error display."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import pandas as pd
import streamlit as st

from app_pages.catalogue import (
    balance_store,
    balances,
    balances_apart,
    catalogue_versions,
    store,
    uploads,
)
from budget_core import balance_catalogue
from budget_core.config import settings
from budget_core.errors import BudgetError
from budget_core.fmt import md_escape
from budget_core.formats import read_uploaded
from budget_core.model import ENTITY_TYPE_LABELS, STAGE_LABELS, STAGES, BudgetDocument
from budget_core.pickers import LIST_AT_MOST, PickerIndex, departement_names
from budget_core.search import search_collectivites
from budget_core.selection import (
    budget_name,
    decision_label,
    documents_of,
    pick_index,
    still_valid,
    superseded,
    upload_key,
)

ALL = "Tous"
CHOOSE = "Choisir"  # every selectbox's placeholder (Streamlit's own is in English)


CHOICE = "choice"  # session state: the last budget, year, stage and document chosen


PARSED = "parsed_upload"  # session state: the last upload's identity and documents


def parsed_upload(name: str, data: bytes) -> list[BudgetDocument]:
    """The documents of an upload, parsed once per session: a rerun of the page (a button
    clicked) reuses them instead of reading 200 MB again (minutes of a core). They are the
    documents `keep_upload` keeps anyway, so this costs no memory of its own."""
    identity = (name, len(data), hashlib.sha256(data).hexdigest())
    last = st.session_state.get(PARSED)
    if last is not None and last[0] == identity:
        return list(last[1])
    documents = read_uploaded(data, name)
    st.session_state[PARSED] = (identity, documents)
    return documents


def keep_upload(document: BudgetDocument) -> str:
    """Keep an uploaded document for this session's pages, in place of the earlier uploads
    it replaces (`selection.superseded`); returns its key."""
    mine = uploads()
    for old in superseded({key: doc.info for key, doc in mine.items()}, document.info):
        del mine[old]
    key = upload_key(document.info)
    mine[key] = document
    return key


@st.cache_data(show_spinner=False, max_entries=64)
def stored_lines(doc_keys: tuple[str, ...], version: tuple[tuple[str, float], ...]) -> pd.DataFrame:
    return store().document_lines(doc_keys)


@st.cache_data(show_spinner=False, max_entries=64)
def _balance_lines(key: str, folder: str, version: tuple[tuple[str, float], ...]
                   ) -> pd.DataFrame:
    siret, year = balance_catalogue.parse_key(key)
    return balance_store(folder).document(siret, year).lines


def lines_for(doc_keys: Iterable[str]) -> pd.DataFrame:
    """The lines of these documents (stored, uploaded or from the balances), each with its
    `doc_key`."""
    keys = list(dict.fromkeys(doc_keys))
    mine = uploads()
    folder, version = str(balances().folder), balances().version()
    parts = [mine[key].lines.assign(doc_key=key) if key in mine else
             _balance_lines(key, folder, version).assign(doc_key=key)
             for key in keys if key in mine or balance_catalogue.is_balance(key)]
    stored = tuple(key for key in keys
                   if key not in mine and not balance_catalogue.is_balance(key))
    if stored or not parts:
        parts.insert(0, stored_lines(stored, store().version()))
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


Summary = TypeVar("Summary")


@st.cache_data(show_spinner=False, max_entries=256)
def _summary(module: str, name: str, doc_keys: tuple[str, ...], options: dict[str, Any],
             version: tuple[tuple[str, float], ...]) -> Any:
    # Keys of uploads name their content (`selection.upload_key`): they may be cached too.
    return getattr(sys.modules[module], name)(lines_for(doc_keys), **options)


def summary(compute: Callable[..., Summary], doc_keys: Iterable[str],
            **options: Any) -> Summary:
    """`compute(lines_for(doc_keys), **options)` for a function of `budget_core` (analysis,
    indicators), cached by the documents and the options: a rerun that changes neither (a
    filter that keeps the document, a widget elsewhere on the page) neither reads the lines
    again nor sums them (by policy: 0.1 s on Montreuil's CA). Keyed by the store's and the
    balances' versions: a balance-derived CA's key stays the same when its year is imported
    again."""
    found: Summary = _summary(compute.__module__, compute.__name__,
                              tuple(dict.fromkeys(doc_keys)), options, catalogue_versions())
    return found


def source_notes(rows: pd.DataFrame) -> None:
    """Say where the figures of these documents (catalogue rows) come from when some are
    the DGFiP's comptes de gestion, and when a published CA shown has its balance too."""
    derived = rows[balance_catalogue.from_balances(rows)]
    if len(derived):
        which = ", ".join(sorted({f"{row['budget_label']} {row['year']}"
                                  for row in derived.to_dict("records")}))
        st.caption(f":material/account_balance: Source : {balance_catalogue.SOURCE}, "
                   f"data.economie.gouv.fr — {md_escape(which)}. Compte administratif "
                   "reconstitué depuis les comptes du comptable public (compte de gestion), "
                   "pas le document voté par la collectivité.")
    published = rows[~balance_catalogue.from_balances(rows)]
    _, both = balance_catalogue.split(balances_apart(), published)
    if len(both):
        years = ", ".join(str(y) for y in sorted(set(both["year"].astype(int))))
        st.caption(f"Les comptes de gestion DGFiP (balance comptable) existent aussi pour "
                   f"{years} : le document publié est montré, la balance n'est pas comptée "
                   "en plus.")


def workshop_mode() -> bool:
    """Mode atelier: hides the filters' help and the tables for projection."""
    return bool(st.sidebar.toggle("Mode atelier (projection)", key="atelier",
                                  bind="query-params"))


def remembered() -> dict[str, Any]:
    """The choice every page starts from (budget, year, stage, document), across pages."""
    choice: dict[str, Any] = st.session_state.setdefault(CHOICE, {})
    return choice


def remembered_siren() -> str | None:
    """The SIREN of the budget last chosen on any page (its SIRET's first nine digits): a
    page that picks a collectivité rather than a budget opens on that one."""
    siret = remembered().get("siret")
    return str(siret)[:9] if siret else None


def url_selectbox(box: st.delta_generator.DeltaGenerator, label: str, options: list[Any],
                  key: str, format_func: Callable[[Any], str] = str, *,
                  shared: str | None = None, fallback: Any = None) -> Any:
    """A selectbox whose raw value (a SIRET, a stage code) is kept in the URL as `?key=value`,
    and, under the name `shared`, remembered for the other pages.

    It shows, in order, the value chosen on this page, the link's, the one last chosen on
    any page, the page's `fallback`, the first option: the first that is still an option.
    Streamlit's own binding writes the displayed label to the URL; links must hold codes.

    The widget's session state is written only when its value must change: a write flags
    the widget as set by the script (`has_one_shot_effect`), and the browser then rebuilds
    it at every run instead of keeping it while nothing in it changes (some 6 ms a
    selectbox, issue 13). The value kept is also its default (`index`), for the first run
    of a page that did not show it (the session state then still holds the other page's).
    """
    if not options:
        return box.selectbox(label, options, key=key, placeholder=CHOOSE)
    index = pick_index(options, st.session_state.get(key), st.query_params.get(key),
                       remembered().get(shared) if shared else None, fallback)
    if st.session_state.get(key) != options[index]:
        st.session_state[key] = options[index]
        index = 0  # the value set above is the widget's: no default beside it
    value = box.selectbox(label, options, index=index, key=key, format_func=format_func,
                          placeholder=CHOOSE)
    write_param(key, str(value))
    if shared:
        remembered()[shared] = value
    return value


def url_multiselect(box: st.delta_generator.DeltaGenerator, label: str, options: list[str],
                    key: str, format_func: Callable[[Any], str], default: list[str],
                    max_selections: int) -> list[str]:
    """A multiselect kept in the URL as codes: `?cmp=21930048000015,21560046100010`.

    Values that are no longer options (Recettes chosen after Dépenses) are dropped; none
    left gives the default. Like `url_selectbox`, its session state is written only when the
    value must change: a write flags the widget as set by the script, and the browser then
    rebuilds it instead of keeping it; the value kept is also its default, for the first run
    of a page that did not show it.
    """
    linked = [code for code in st.query_params.get(key, "").split(",") if code]
    current = st.session_state.get(key)
    valid = still_valid(linked if current is None else current, options, default,
                        max_selections)
    if current != valid:
        st.session_state[key] = valid
    chosen = box.multiselect(label, options, default=None if current != valid else valid,
                             key=key, format_func=format_func,
                             max_selections=max_selections, placeholder=CHOOSE)
    write_param(key, ",".join(chosen))
    return list(chosen)


def write_param(key: str, value: str) -> None:
    """`?key=value` in the URL, written only when it changes: each write sends the browser
    a message, which replaces its history entry and matches the URL again (URLPattern), some
    20 ms of its main thread for the ten a change of budget on Explorer wrote (issue 13)."""
    if st.query_params.get(key) != value:
        st.query_params[key] = value


entity_label = budget_name
NARROW_ABOVE = 30  # collectivités in a picker beyond which a search box narrows the list


def _departement_label(code: str) -> str:
    name = departement_names().get(code)
    return f"{code} — {name}" if name else (code or "Autres (sans département)")


def narrowed(index: PickerIndex, kind: str | None, box: st.delta_generator.DeltaGenerator,
             key: str, wanted: object = None) -> dict[str, str]:
    """value → label of the options a picker lists: all of them when it would list up to
    `NARROW_ABOVE` collectivités; else those a search box finds (by name forgiving accents
    and typos, INSEE code, SIREN, SIRET or postcode, as on Accueil), and, with no search,
    all of them up to `pickers.LIST_AT_MOST` options, else those of one département (the
    balances of all France: some 69 457 budgets), that of `wanted` (the value a link or
    another page chose) at first."""
    if index.collectivites(kind) <= NARROW_ABOVE:
        return index.choices(kind)
    query = box.text_input("Rechercher une collectivité", key=f"{key}_q", bind="query-params",
                           placeholder="nom, code INSEE, SIREN ou code postal")
    if query:
        found = {hit.siren for hit in search_collectivites(query, NARROW_ABOVE,
                                                           index.unindexed)}
        return index.choices(kind, sirens=found)
    if len(index.of_type(kind)) <= LIST_AT_MOST:
        return index.choices(kind)
    departement = url_selectbox(box, "Département", index.departements(kind), f"{key}_dep",
                                _departement_label, fallback=index.departement_of(wanted))
    return index.choices(kind, departement=departement)


def kept(index: PickerIndex, kind: str | None, key: str, default: Sequence[str]
         ) -> dict[str, str]:
    """value → label of what a multiselect over `index` holds (chosen on this page, else
    linked as `?key=a,b`, else `default`) that is still an option of this type: listed beside
    what `narrowed` offers, so that a choice from another département stays chosen."""
    current = st.session_state.get(key)
    linked = [value for value in st.query_params.get(key, "").split(",") if value]
    return (index.choices(kind, values=linked if current is None else current)
            or index.choices(kind, values=default))


def pick_entity(index: PickerIndex, *, key: str = "siret", label: str = "Collectivité",
                container: st.delta_generator.DeltaGenerator | None = None,
                type_container: st.delta_generator.DeltaGenerator | None = None
                ) -> str | None:
    """Type de collectivité (in `type_container`, else above) then budget of a collectivité
    among `index`'s; returns the budget's SIRET."""
    box = container or st
    kind = url_selectbox(type_container or box, "Type de collectivité", [ALL, *index.types],
                         f"{key}_type", lambda t: ENTITY_TYPE_LABELS.get(t, t))
    wanted = (st.session_state.get(key) or st.query_params.get(key)
              or remembered().get("siret"))
    names = narrowed(index, None if kind == ALL else kind, box, key, wanted)
    if not names:
        return None
    return url_selectbox(box, label, list(names), key, names.__getitem__, shared="siret")


def pick_stage(docs: pd.DataFrame, *, key: str = "etape",
               container: st.delta_generator.DeltaGenerator | None = None,
               fallback: str | None = None) -> str | None:
    box = container or st
    held = set(docs["stage"].unique())
    stages = [s for s in STAGES if s in held]
    if not stages:
        return None
    return url_selectbox(box, "Étape budgétaire", stages, key,
                         lambda s: f"{s} — {STAGE_LABELS[s]}", shared="stage",
                         fallback=fallback)


def pick_year(box: st.delta_generator.DeltaGenerator, docs: pd.DataFrame, key: str,
              fallback: int | None = None) -> int | None:
    """The year among those of these documents, latest first."""
    years = sorted({int(y) for y in docs["year"].unique()}, reverse=True)
    return url_selectbox(box, "Année", years, key, shared="year",
                         fallback=fallback) if years else None


def pick_document(index: PickerIndex, *boxes: st.delta_generator.DeltaGenerator
                  ) -> pd.Series | None:
    """Type, budget, stage, year, then the document, in five boxes (containers), among the
    catalogue rows of `index` (by SIRET): a year has several DMs (and a file uploaded in this
    session may stand beside a stored one), each its own document; the « Document » list
    shows only when there is a choice."""
    type_box, entity_box, stage_box, year_box, doc_box = boxes
    siret = pick_entity(index, container=entity_box, type_container=type_box)
    mine = index.rows_of(siret)  # the budget's documents, not a scan of the catalogue
    stage = pick_stage(mine, container=stage_box)
    year = pick_year(year_box, mine[mine["stage"] == stage], "annee")
    if siret is None or stage is None or year is None:
        return None
    found = documents_of(mine, siret, year, stage)
    keys = list(found["doc_key"])
    chosen = keys[0]
    if len(keys) > 1:
        labels = {str(row["doc_key"]): decision_label(row) + (
            f" — déposé : {row['source_file']}" if str(row["doc_key"]) in uploads() else "")
            for row in found.to_dict("records")}
        chosen = url_selectbox(doc_box, "Document", keys, "doc", labels.__getitem__,
                               shared="doc")
    return found[found["doc_key"] == chosen].iloc[0]


DIRECTION_LABELS = {"depense": "Dépenses", "recette": "Recettes"}


def pick_direction(box: st.delta_generator.DeltaGenerator, key: str) -> str:
    """Dépenses or recettes, kept in the URL."""
    return str(box.radio("Sens", list(DIRECTION_LABELS), key=key, horizontal=True,
                         format_func=DIRECTION_LABELS.__getitem__, bind="query-params"))


def french_uploader(instructions: str) -> None:
    """The file uploader's own words in French: Streamlit 1.67 writes « Upload » and
    « 200MB per file » with no parameter to change them. The English text is hidden (also from
    `innerText`) and the French one drawn in its place, on the uploader's `data-testid` hooks;
    the browser test fails if a Streamlit upgrade moves them."""
    dropzone = '[data-testid="stFileUploaderDropzone"]'
    button = f'{dropzone} button [data-testid="stMarkdownContainer"] p'
    hint = '[data-testid="stFileUploaderDropzoneInstructions"] span'
    st.html(f"""<style>
{button}, {hint} {{ visibility: hidden; font-size: 0; }}
{button}::after, {hint}::after {{ visibility: visible; font-size: 0.875rem; }}
{button}::after {{ content: "Choisir un fichier"; font-size: 1rem; }}
{hint}::after {{ content: "{instructions}"; color: #31333F; }}
</style>""")


def upload_widget(label: str, key: str, *, kinds: Sequence[str] = ("xml", "csv"),
                  what: str = "Document TOTEM (.xml) ou CSV SCDL (.csv)",
                  smaller: str = "Déposez le document d'un seul budget et d'une seule année."
                  ) -> tuple[str, bytes] | None:
    """An upload within the size limit (`BUDGET_MAX_UPLOAD_MB`): (file name, content), or
    None. `smaller` says how to make a file that fits.

    Streamlit's own `server.maxUploadSize` (.streamlit/config.toml) stops larger files first.
    """
    limit = settings().max_upload_mb
    french_uploader(f"{limit} Mo au plus • XML, CSV")
    upload = st.file_uploader(label, type=list(kinds), key=key,
                              help=f"{what}, {limit} Mo au plus.")
    if upload is None:
        return None
    if upload.size > limit * 1_000_000:
        st.error(f"Fichier trop volumineux ({upload.size / 1e6:.1f} Mo) : {limit} Mo au plus. "
                 + smaller)
        return None
    return upload.name, upload.getvalue()


def show_error(exc: BudgetError) -> None:
    st.error(md_escape(exc.french()), icon=":material/warning:")
