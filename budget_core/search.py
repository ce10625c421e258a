"""Find any collectivité of France — commune, EPCI, département, région — by name, INSEE code,
SIREN, SIRET or postcode, and say whether the store holds documents for it.

Names forgive accents, case, hyphens and apostrophes, « St »/« Ste » and typos; an old name
leads to today's collectivité (a commune déléguée to its commune nouvelle, « Marseille 1er
Arrondissement » to Marseille, « Bas-Rhin » to the Collectivité européenne d'Alsace). Ranking:
exact name, then names starting with the query, then names holding every word of the query,
then names the query starts with (« Montreuil-sous-Bois » → Montreuil), then, when no name
holds the query as typed, close spellings (rapidfuzz); at equal rank the bigger population
first. A département code at the end of the
query (« Saint-Denis (974) », « saint denis 93 ») keeps that département's only.

The index, `data/collectivites.csv.gz` (built by `tools/build_search_index.py` from the COG
2026 of @etalab/decoupage-administratif and the départements' and régions' SIRENs), is read on
the first search and kept for the process.
"""

from __future__ import annotations

import bisect
import functools
import heapq
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from importlib import resources
from typing import NamedTuple, TypeVar

import pandas as pd
from rapidfuzz import fuzz, process

from budget_core.model import ENTITY_TYPE_LABELS

MAX_QUERY = 200  # characters read from a query: a name is never longer
# Results given at most: rapidfuzz fails on a negative limit (C++ vector error) and on one past
# a C long (`search --limit -1` and `--limit 99999999999999999999` were tracebacks).
MAX_RESULTS = 1000
# Close spellings: normalized Indel similarity of the whole names (`fuzz.ratio`): « Grenble »
# → Grenoble 93, « Montpelier » → Montpellier 95. (WRatio would also score short names found
# inside the query, « Mont » in « Montpelier », at 90.)
FUZZY_CUTOFF = 80
# A word misspelt inside a longer name (« saint malo aglomeration » → CA du Pays de Saint Malo
# Agglomération: 96): the best alignment of the query within names at least as long as it.
PARTIAL_CUTOFF = 90
# Ranks of a name match, best first.
EXACT, PREFIX, WORDS, LONGER, FUZZY = 4, 3, 2, 1, 0
ALIAS_LABELS = {"departement": "département", "region": "région"}
NOT_WORD = re.compile(r"[^a-z0-9]+")
WORD_FORMS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}
# EPCI names start with their type's initials (« CC du Pays de Redon »): the words are
# searched too (« communauté de communes du pays de redon »).
EPCI_FORMS = {"cc": "communaute de communes", "ca": "communaute d agglomeration",
              "cu": "communaute urbaine"}
DEPARTEMENT_AT_END = re.compile(r"^(?P<name>.*\D)[\s,(]+(?P<dep>\d\d|2[AB]|97\d)\)?\s*$",
                                re.IGNORECASE)


def fold(text: str) -> str:
    """`Saint-Étienne`, `st etienne`, `ST-ÉTIENNE` → `saint etienne`: lower case without
    accents, every other sign a space, « St »/« Ste » written out."""
    plain = unicodedata.normalize("NFKD", str(text).lower().replace("œ", "oe")
                                  .replace("æ", "ae")).encode("ascii", "ignore").decode()
    return " ".join(WORD_FORMS.get(word, word) for word in NOT_WORD.sub(" ", plain).split())


@dataclass(frozen=True)
class Collectivite:
    """A search result: who it is, and how many documents of it the store holds."""

    kind: str  # commune, epci, departement, region (or a catalogue type: syndicat...)
    name: str
    siren: str
    code: str  # INSEE code of a commune, COG code of a département or région
    departement: str  # code, or codes joined by ", " (the CeA: « 67, 68 »)
    population: int | None  # population municipale (départements, régions: their communes')
    detail: str = ""  # the EPCI's type (CC, CA, CU, METRO)
    found_by: str = ""  # the other name or code it was found by, in French
    documents: int = 0  # documents of this SIREN in the catalogue searched with it

    def label(self) -> str:
        """`Saint-Denis (974)`, `Bretagne (région)`: homonyms told apart."""
        where = self.departement or ("région" if self.kind == "region" else "")
        return f"{self.name} ({where})" if where else self.name

    def kind_label(self) -> str:
        return ENTITY_TYPE_LABELS.get(self.kind, self.kind)


class _Row(NamedTuple):
    """A row of the index (`tools/build_search_index.py` says what each column holds)."""

    kind: str
    siren: str
    name: str
    code: str
    departement: str
    region: str
    population: str
    postcodes: str
    detail: str


@dataclass(frozen=True)
class _Hit:
    entity: int
    rank: int
    own_name: bool
    score: float
    found_by: str


class CollectiviteIndex:
    """Names and codes of a table of collectivités (the index's columns), ready to search."""

    def __init__(self, table: pd.DataFrame) -> None:
        text = table.reindex(columns=list(_Row._fields)).fillna("").astype(str)
        rows = [_Row(*values) for values in zip(*(text[c].tolist() for c in _Row._fields),
                                                strict=True)]
        entities = [r for r in rows if r.kind != "alias"]  # results made when found
        self.by_siren = {e.siren: i for i, e in enumerate(entities)}
        by_code: dict[str, list[tuple[int, str]]] = defaultdict(list)
        by_postcode: dict[str, list[int]] = defaultdict(list)
        names: list[tuple[str, int, str]] = []  # folded name or variant, entity, found by
        for r in rows:
            if r.siren in self.by_siren:
                entity = self.by_siren[r.siren]
                found_by = (f"{ALIAS_LABELS.get(r.detail, r.detail)} {r.name}"
                            if r.kind == "alias" else "")  # "" for an entity's own name
                if r.code:
                    by_code[r.code].append((entity, found_by))
                for postcode in r.postcodes.split():
                    by_postcode[postcode].append(entity)
                names += [(name, entity, found_by) for name in _variants(r)]
        exact: dict[str, list[int]] = defaultdict(list)
        tokens: dict[str, set[int]] = defaultdict(set)
        for i, (name, _, _) in enumerate(names):
            exact[name].append(i)
            for token in name.split():
                tokens[token].add(i)
        by_length = sorted(range(len(names)), key=lambda i: len(names[i][0]))
        # Everything is kept in tuples (of text and numbers), not lists, sets or named tuples:
        # the index lives as long as the process, and Streamlit runs a full garbage collection
        # after every rerun, which walks every list, set and named tuple (146,000 of them here,
        # 0.07 to 0.2 s a rerun, on every page, once a search had built the index) but stops
        # walking a tuple of text and numbers once it has seen it.
        self.entities = tuple(tuple(r) for r in entities)
        self.population = tuple(int(r.population or 0) for r in entities)
        self.names = tuple(name for name, _, _ in names)
        self.name_entity = tuple(entity for _, entity, _ in names)
        self.name_found_by = tuple(found_by for _, _, found_by in names)
        self.name_population = tuple(self.population[e] for e in self.name_entity)
        self.by_code = _frozen(by_code)
        self.by_postcode = _frozen(by_postcode)
        self.exact = _frozen(exact)
        self.tokens = _frozen(tokens)
        self.sorted_tokens = tuple(sorted(tokens))
        self.sorted_names = tuple(sorted((name, i) for i, name in enumerate(self.names)))
        self.by_length = tuple(by_length)
        self.lengths = tuple(len(self.names[i]) for i in by_length)
        self.names_by_length = tuple(self.names[i] for i in by_length)

    def entity(self, number: int) -> _Row:
        return _Row._make(self.entities[number])

    def each_entity(self) -> Iterator[_Row]:
        """Every collectivité of the index (not its aliases), as named rows made on demand."""
        return map(_Row._make, self.entities)

    def _with_prefix(self, prefix: str) -> list[int]:
        start = bisect.bisect_left(self.sorted_names, (prefix, -1))
        found = []
        for name, i in self.sorted_names[start:]:
            if not name.startswith(prefix):
                break
            found.append(i)
        return found

    def _holding_words(self, words: list[str]) -> set[int]:
        """Names where each word of the query starts a word of the name."""
        found: set[int] | None = None
        for word in sorted(words, key=len, reverse=True):
            start = bisect.bisect_left(self.sorted_tokens, word)
            ids: set[int] = set()
            for token in self.sorted_tokens[start:]:
                if not token.startswith(word):
                    break
                ids.update(self.tokens[token])
            found = ids if found is None else found & ids
            if not found:
                return set()
        return found or set()

    def name_hits(self, query: str, limit: int, departement: str | None = None) -> list[_Hit]:
        """Names matching the query at each rank; at a rank, only the `limit` × 4 biggest
        collectivités (« saint » starts 4 271 names)."""
        folded = fold(query)
        if not folded:
            return []
        words = folded.split()
        longer = [i for end in range(len(words) - 1, 0, -1)
                  for i in self.exact.get(" ".join(words[:end]), ())]
        ranked: dict[int, int] = {}
        for rank, ids in ((EXACT, self.exact.get(folded, ())), (PREFIX, self._with_prefix(folded)),
                          (WORDS, self._holding_words(words)), (LONGER, longer)):
            kept = [i for i in ids if i not in ranked and self._in(i, departement)]
            for i in heapq.nlargest(limit * 4, kept, key=self.name_population.__getitem__):
                ranked[i] = rank
        hits = [self._hit(i, rank, 100.0) for i, rank in ranked.items()]
        if not any(hit.rank >= WORDS for hit in hits):  # no name holds the query as typed
            hits += [self._hit(i, FUZZY, score) for i, score in self._close(folded, limit).items()
                     if i not in ranked and self._in(i, departement)]
        return hits

    def _in(self, name: int, departement: str | None) -> bool:
        entity = self.entity(self.name_entity[name])
        return departement is None or departement in entity.departement.split(", ")

    def _close(self, folded: str, limit: int) -> dict[int, float]:
        """Names spelt close to the query: whole names, then, for a query of several words,
        the query within longer names. A whole name scores 2·common / (both lengths), so
        only names from 2/3 to 3/2 of the query's length can reach 80: only those are read."""
        size = len(folded)
        close: dict[int, float] = {}
        spans = [(fuzz.ratio, FUZZY_CUTOFF, -(-2 * size // 3), 3 * size // 2)]
        if " " in folded:
            spans.append((fuzz.partial_ratio, PARTIAL_CUTOFF, size, max(self.lengths, default=0)))
        for scorer, cutoff, shortest, longest in spans:
            start = bisect.bisect_left(self.lengths, shortest)
            end = bisect.bisect_right(self.lengths, longest)
            for _, score, j in process.extract(folded, self.names_by_length[start:end],
                                               scorer=scorer, processor=None,
                                               limit=limit * 3, score_cutoff=cutoff):
                i = self.by_length[start + j]
                close[i] = max(score, close.get(i, 0.0))
        return close

    def _hit(self, name: int, rank: int, score: float) -> _Hit:
        found_by = self.name_found_by[name]
        return _Hit(self.name_entity[name], rank, not found_by, score, found_by)

    def code_hits(self, code: str) -> list[_Hit]:
        """A SIREN, the SIREN of a SIRET, an INSEE or COG code, a postcode's communes."""
        if re.fullmatch(r"\d{14}", code):
            code = code[:9]
        if re.fullmatch(r"\d{9}", code):
            return [_Hit(self.by_siren[code], EXACT, True, 100.0, "")] if (
                code in self.by_siren) else []
        hits = [_Hit(entity, EXACT, not found_by, 100.0, found_by)
                for entity, found_by in self.by_code.get(code, ())]
        hits += [_Hit(entity, PREFIX, True, 100.0, f"code postal {code}")
                 for entity in self.by_postcode.get(code, ())]
        return hits

    def ranked(self, hits: list[_Hit]
               ) -> list[tuple[tuple[int, bool, float, int, str], Collectivite]]:
        """One result per collectivité, by its best hit, with its sort key."""
        best: dict[int, _Hit] = {}
        for hit in hits:
            known = best.get(hit.entity)
            if known is None or self._key(hit) < self._key(known):
                best[hit.entity] = hit
        return [(self._key(hit), self._result(hit)) for hit in best.values()]

    def _key(self, hit: _Hit) -> tuple[int, bool, float, int, str]:
        return (-hit.rank, not hit.own_name, -hit.score, -self.population[hit.entity],
                self.entity(hit.entity).name)

    def _result(self, hit: _Hit) -> Collectivite:
        r = self.entity(hit.entity)
        return Collectivite(kind=r.kind, name=r.name, siren=r.siren, code=r.code,
                            departement=r.departement, population=self.population[hit.entity]
                            or None, detail=r.detail, found_by=hit.found_by)


def _variants(row: _Row) -> list[str]:
    """A row's folded name, and, for an EPCI written « CC ... », its name spelt out."""
    folded = fold(row.name)
    first, _, rest = folded.partition(" ")
    if row.kind == "epci" and first in EPCI_FORMS:
        return [folded, f"{EPCI_FORMS[first]} {rest}"]
    return [folded]


Key = TypeVar("Key")
Item = TypeVar("Item")


def _frozen(lists: Mapping[Key, Iterable[Item]]) -> dict[Key, tuple[Item, ...]]:
    """Each list (or set) of the mapping as a tuple, in its order."""
    return {key: tuple(items) for key, items in lists.items()}


@functools.cache
def national_index() -> CollectiviteIndex:
    """Every commune, EPCI, département and région (read once per process)."""
    path = resources.files("budget_core.data").joinpath("collectivites.csv.gz")
    with resources.as_file(path) as file:
        return CollectiviteIndex(pd.read_csv(file, dtype=str, keep_default_na=False,
                                             compression="gzip"))


def catalogue_index(catalogue: pd.DataFrame, known: CollectiviteIndex) -> CollectiviteIndex:
    """The collectivités of the catalogue that the national index does not hold (syndicats,
    other établissements), searchable the same way."""
    firsts = catalogue.drop_duplicates("siren")
    missing = firsts[[siren not in known.by_siren for siren in firsts["siren"]]]
    return CollectiviteIndex(pd.DataFrame({
        "kind": missing["entity_type"], "siren": missing["siren"],
        # a document without a name (SCDL without BGT_NOM) is still found, by its SIREN
        "name": [name if isinstance(name, str) and name.strip() else f"SIREN {siren}"
                 for name, siren in zip(missing["entity_name"], missing["siren"],
                                        strict=True)],
        "code": missing["insee"].fillna(""),
        "departement": "", "region": "", "population": "", "postcodes": "", "detail": ""}))


def search_collectivites(query: str, limit: int = 20,
                         catalogue: pd.DataFrame | None = None) -> list[Collectivite]:
    """The collectivités a user means by `query`, best first, at most `limit`, each with the
    number of documents `catalogue` holds for its SIREN. Nothing found, or a query that is no
    name nor code, gives an empty list; `limit` is taken from 0 to MAX_RESULTS."""
    query = str(query)[:MAX_QUERY].strip()
    limit = max(0, min(int(limit), MAX_RESULTS))
    if not limit:
        return []
    indexes = [national_index()]
    if catalogue is not None and not catalogue.empty:
        indexes.append(catalogue_index(catalogue, indexes[0]))
    code = re.sub(r"[\s.]", "", query).upper()
    departement = None
    if re.fullmatch(r"\d{14}|\d{9}|\d{5}|2[AB]\d{3}|\d\d|2[AB]|97\d", code):
        found = [index.ranked(index.code_hits(code)) for index in indexes]
    else:
        match = DEPARTEMENT_AT_END.match(query)
        if match and match["dep"].upper() in indexes[0].by_code:
            query, departement = match["name"], match["dep"].upper()
        found = [index.ranked(index.name_hits(query, limit, departement))
                 for index in indexes]
    results = [r for _, r in sorted((pair for part in found for pair in part),
                                    key=lambda pair: pair[0])]
    counts = (catalogue.groupby("siren").size() if catalogue is not None
              else pd.Series(dtype=int))
    return [replace(r, documents=int(counts.get(r.siren, 0))) for r in results[:limit]]


def budgets_of(catalogue: pd.DataFrame, siren: str) -> pd.DataFrame:
    """The newest document of each budget (SIRET) of a collectivité: where its links lead."""
    mine = catalogue[catalogue["siren"] == siren]
    newest = mine.sort_values(["budget_kind", "budget_label", "year"],
                              ascending=[False, True, False])
    return newest.drop_duplicates("siret")
