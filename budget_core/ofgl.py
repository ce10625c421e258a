"""OFGL exports (data.ofgl.fr, `ofgl-base-<level>` datasets) read into one canonical table.

Each level labels its columns its own way: the entity's name is « Nom 2024 Commune » for
communes, « Nom 2024 EPCI » for intercommunalités, « Nom 2024 Département », « Nom 2024 Région »;
a département has a strate and « Rural / Urbain », a région neither. Every header is looked up
in its level's table, years removed (« Strate population 2024 » → « Strate population ») and
case ignored (OFGL writes « Compte 2024 Disponible » and « Compte 2024 disponible »): a header no
table knows is refused by name rather than silently dropped, and so is a level's missing name
or amount column.

Where the headers are confirmed (real exports, labels, `;`, UTF-8 with BOM):
- communes: the `ofgl-base-communes` export of Guadeloupe 2024
  (tests/fixtures/national/ofgl-base-communes_guadeloupe_2024.csv);
- régions: data.ofgl.fr's own catalogue entry of `ofgl-base-regions` (field labels, August
  2024; tests/fixtures/national/ods_catalog_ofgl-base-regions_fields.json), and the
  `ofgl-base-regions-consolidee` export of Occitanie 2022-2023;
- départements: the `ofgl-base-departements-consolidee` export of Haute-Garonne 2022-2023;
- EPCI: the `ofgl-base-gfp-consolidee` export of Haute-Garonne 2016 (as published in 2025).
The consolidated datasets share the per-budget ones' descriptive headers (checked on the
communes: identical but for « Siret Budget », « Type de budget », « Nomenclature » on one side
and « Montant BP », « Montant BA », « Montant flux BP-BA » on the other). A consolidated export
is read as one row per collectivité, budget « Budget consolidé » (budgets principal and
annexes added, cross flows removed, as OFGL computes them).

A download asks its columns by API field name (`export_query`), read from the dataset's
catalogue record, never written here. That the record pairs names and labels as the reader
expects is checked on data.ofgl.fr's record of `ofgl-base-regions` (`reg_is_ctu` for « CTU ou
Collectivité de Corse », `type_de_budget`, `euros_par_habitant`…); public clients select
`ofgl-base-communes-consolidee` by such names and read the answers (`exer, com_name, siren,
insee, agregat, montant, euros_par_habitant, ptot, rural, montagne, touristique, qpv,
epci_name`: dragmakex/h-genai data/explore_ofgl_api.ipynb @ 11b856b1, a recorded answer;
`outre_mer, categ, reg_code, dep_code`: dataforgoodfr/13_eclaireur_public
back/scripts/datasets/ofgl_urls.csv @ 87495806). No record of the per-budget communes, EPCI
or départements datasets was found: their names are whatever the portal declares.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from budget_core.errors import FormatError
from budget_core.numbers import (
    FIRST_YEAR,
    MAX_INTEGER_DIGITS,
    last_plausible_year,
    year_error,
)

CONSOLIDATED = "Budget consolidé"

# Headers every level shares (labels without their year).
_COMMON = {
    "Exercice": "year", "Outre-mer": "overseas", "Catégorie": "category",
    "Code Siren Collectivité": "siren", "Siret Budget": "siret",
    "Libellé Budget": "budget_label", "Type de budget": "budget_type",
    "Nomenclature": "nomenclature", "Agrégat": "agregat", "Montant": "amount",
    "Population totale": "population", "Montant en € par habitant": "per_inhabitant",
    "Code Insee Région": "region_code", "Nom Région": "region_name",
}
_DEPARTEMENT = {"Code Insee Département": "departement_code",
                "Nom Département": "departement_name"}
_WITHIN_EPCI = {"Code Siren EPCI": "epci_siren", "Nom EPCI": "epci_name"}
# OFGL's own peer criteria, as its data.ofgl.fr comparator offers them.
_COMMUNE_PEERS = {"Strate population": "strate", "Commune rurale": "rural",
                  "Commune de montagne": "mountain", "Commune touristique": "touristic",
                  "Tranche revenu par habitant": "income_band", "Présence QPV": "qpv"}
HEADERS: dict[str, dict[str, str]] = {
    "communes": {**_COMMON, **_DEPARTEMENT, **_WITHIN_EPCI, **_COMMUNE_PEERS,
                 "Code Insee Commune": "commune_code", "Nom Commune": "commune_name",
                 "Code Insee Collectivité": "insee"},
    "gfp": {**_COMMON, **_DEPARTEMENT, **_WITHIN_EPCI, "Strate population": "strate",
            "Nature juridique abrégée": "legal_form",
            "Mode de financement abrégé": "fiscal_regime",
            "Tranche revenu par habitant": "income_band", "Présence QPV": "qpv"},
    "departements": {**_COMMON, **_DEPARTEMENT, "Strate population": "strate",
                     "Rural / Urbain": "rural_urban"},
    "regions": {**_COMMON, "CTU ou Collectivité de Corse": "ctu"},
}
# The entity's name: the level's name column, unless the row's own code differs from the
# code of today's geography it carries (a CC of 2016 merged since: « Nom 2024 EPCI » names
# its successor), where the budget's label is the name it had that year.
NAMES = {"communes": ("commune_name", "insee", "commune_code"),
         "gfp": ("epci_name", "siren", "epci_siren"),
         "departements": ("departement_name", "", ""), "regions": ("region_name", "", "")}
# Known headers the app does not keep: OFGL's own display helpers, sums in millions, the
# consolidated datasets' parts and their identity columns of a past year (« siren_23 »).
IGNORED = {"Montant en millions", "Compte Disponible", "code_type_budget", "annee_join",
           "Population totale du dernier exercice", "Montant BP", "Montant BA",
           "Montant flux BP-BA"}
IGNORED_PATTERN = re.compile(r"ordre_analyse\d_section\d|(siren|nom|categ)_\d{2}")
REQUIRED = ("year", "siren", "agregat", "per_inhabitant")
# Columns stored but read by nothing once stored (another level's names, the budget's
# identity and plan, the category): an export asks them only as its level's own name.
UNREAD = {"region_name", "departement_name", "epci_name", "category", "siret", "nomenclature"}
PRINCIPAL = "Budget principal"  # the budgets the app compares (with CONSOLIDATED: national.MAIN)

SCHEMA = pa.schema([
    ("year", pa.int16()), ("region_code", pa.string()), ("region_name", pa.string()),
    ("departement_code", pa.string()), ("departement_name", pa.string()),
    ("epci_siren", pa.string()), ("epci_name", pa.string()), ("strate", pa.string()),
    ("category", pa.string()), ("siren", pa.string()), ("insee", pa.string()),
    ("name", pa.string()), ("siret", pa.string()), ("budget_label", pa.string()),
    ("budget_type", pa.string()), ("nomenclature", pa.string()), ("agregat", pa.string()),
    ("amount", pa.float64()), ("population", pa.float64()), ("per_inhabitant", pa.float64()),
    ("legal_form", pa.string()), ("fiscal_regime", pa.string()), ("overseas", pa.string()),
    ("rural", pa.string()), ("mountain", pa.string()), ("touristic", pa.string()),
    ("income_band", pa.string()), ("qpv", pa.string()), ("rural_urban", pa.string()),
    ("ctu", pa.string()),
])
NUMERIC = {"year", "amount", "population", "per_inhabitant"}


def _key(label: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"\b(19|20)\d{2}\b", "", label)).strip().casefold()


def column_map(level: str, labels: list[str], name: str) -> dict[str, str]:
    """Each header of a level's export → its canonical column (ignored ones left out).

    Raises FormatError naming an unknown header, or the level's columns the export lacks.
    """
    if level not in HEADERS:
        raise FormatError(f"niveau OFGL « {level} » inconnu.", source=name,
                          hint=f"Niveaux possibles : {', '.join(HEADERS)}.")
    known = {_key(label): column for label, column in HEADERS[level].items()}
    ignored = {_key(label) for label in IGNORED}
    mapping: dict[str, str] = {}
    for label in labels:
        key = _key(label)
        if key in known and known[key] in mapping.values():
            # « Montant » twice was read as one of the two, unsaid
            raise FormatError(f"colonne « {label} » écrite deux fois dans l'export OFGL "
                              "(une seule des deux serait lue).", source=name,
                              where="ligne 1", hint="Retirez la colonne en double, ou "
                                                    "téléchargez de nouveau l'export.")
        if key in known:
            mapping[label] = known[key]
        elif key not in ignored and not IGNORED_PATTERN.fullmatch(label):
            raise FormatError(f"colonne « {label} » inconnue dans un export OFGL de niveau "
                              f"« {level} ».", source=name,
                              hint="Vérifiez que l'export est bien celui de ce niveau "
                                   "(ofgl-base-communes, -gfp, -departements, -regions), "
                                   "téléchargé avec use_labels=true ; sinon, signalez ce "
                                   "nouvel en-tête.")
    wanted = {*REQUIRED, NAMES[level][0]}
    missing = sorted(wanted - set(mapping.values()))
    if missing:
        labels_of = {column: label for label, column in HEADERS[level].items()}
        raise FormatError("export OFGL sans les colonnes "
                          + ", ".join(f"« {labels_of[m]} »" for m in missing)
                          + f" attendues au niveau « {level} ».", source=name,
                          hint="Demandez l'export avec use_labels=true et ces colonnes, "
                               "au niveau choisi.")
    return mapping


@dataclass(frozen=True)
class ExportQuery:
    """What an export asks: the API field names to `select`, and `where` the budgets
    principaux only (the budget type's own field name)."""

    select: tuple[str, ...]
    budget_field: str

    @property
    def where(self) -> str:
        return f'{self.budget_field}="{PRINCIPAL}"'


def export_query(level: str, fields: list[tuple[str, str]]) -> ExportQuery | None:
    """The columns an export of `level` needs, named as the dataset's catalogue record names
    them (`fields`: (API name, label) pairs, ods_export.dataset_fields), or None when the
    record lacks one of the level's required columns or the budget type (a consolidated
    dataset): the full labelled export is then asked, as before.

    `select=` takes API names, not the labels the reader maps, and each dataset has its own
    (« reg_code » for the label « Code Insee 2022 Région » of ofgl-base-regions): they are read
    from the portal's own catalogue at download time rather than written here. Labels are
    matched as the reader matches them (years and case ignored)."""
    known = {_key(label): column for label, column in HEADERS[level].items()}
    own_name = NAMES[level][0]
    select, budget_field, found = [], "", set()
    for name, label in fields:
        column = known.get(_key(label))
        if not name or column is None or column in found:
            continue
        if column == "budget_type":
            budget_field = name
        if column not in UNREAD or column == own_name:
            select.append(name)
            found.add(column)
    if not {*REQUIRED, own_name, "budget_type"} <= found:
        return None
    return ExportQuery(tuple(select), budget_field)


def _labels(data: bytes) -> list[str]:
    head = data[:65536].decode("utf-8-sig", errors="replace").split("\n", 1)[0]
    return next(csv.reader(io.StringIO(head.rstrip("\r")), delimiter=";"), [])


def normalise_export(data: bytes, name: str, level: str) -> pa.Table:
    """An OFGL CSV export of a level (`;`, UTF-8 with BOM, label headers) → the canonical
    table. Codes stay text (leading zeros); an empty amount is null, never zero."""
    labels = _labels(data)
    mapping = column_map(level, labels, name)
    consolidated = "montant bp" in {_key(label) for label in labels}
    if not consolidated and "budget_type" not in mapping.values():
        raise FormatError("export OFGL sans « Type de budget » ni montants consolidés.",
                          source=name, hint="Ajoutez la colonne « Type de budget » à l'export.")
    try:
        table = pacsv.read_csv(
            io.BytesIO(data), parse_options=pacsv.ParseOptions(delimiter=";"),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(labels, pa.string()),
                include_columns=list(mapping), strings_can_be_null=True))
    except pa.ArrowInvalid as exc:
        raise FormatError(f"export OFGL illisible ({exc}).", source=name) from exc
    if table.num_rows == 0:  # checking its years failed with an IndexError (a traceback)
        raise FormatError("export OFGL sans aucune ligne (seulement l'en-tête) : rien n'est "
                          "gardé.", source=name,
                          hint="Vérifiez l'exercice et le niveau demandés ; un export "
                               "téléchargé filtre les budgets principaux (« Type de budget » "
                               "= « Budget principal ») : si le portail les nomme autrement, "
                               "signalez-le.")
    columns: dict[str, pa.Array | pa.ChunkedArray] = {}
    for label in table.column_names:
        target = mapping[label]
        column = table[label]
        try:
            columns[target] = column.cast(SCHEMA.field(target).type) if target in NUMERIC \
                else column
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise _not_a_number(column, label, name) from exc
    _check_values(columns, mapping, name)
    if consolidated:
        columns["budget_type"] = pa.array([CONSOLIDATED] * table.num_rows, pa.string())
    columns["name"] = _names(columns, level)
    arrays = [columns.get(f.name, pa.nulls(table.num_rows, f.type)) for f in SCHEMA]
    return pa.Table.from_arrays(arrays, schema=SCHEMA)


# A number as OFGL's exports write it: a point before the decimals, an exponent at times
# (« Montant en € par habitant » 5.701571408753887e-05 in the real Guadeloupe export).
LARGEST = float(10 ** MAX_INTEGER_DIGITS)
OFGL_NUMBER = r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"


def _not_a_number(column: pa.ChunkedArray, label: str, name: str) -> FormatError:
    """The first value of `column` that is no number, at its line (the header is line 1)."""
    ok = pc.fill_null(pc.match_substring_regex(column, OFGL_NUMBER), True)
    index = pc.index(ok, False).as_py()
    value = column[index].as_py() if index >= 0 else ""
    why = " (virgule décimale : un export OFGL écrit un point)" if "," in value else ""
    return FormatError(f"valeur non numérique « {value} »{why}.", source=name,
                       where=f"ligne {index + 2}, colonne « {label} »" if index >= 0 else None,
                       hint="Importez l'export tel que téléchargé de data.ofgl.fr : un tableur "
                            "qui l'a enregistré de nouveau a pu réécrire ses nombres.")


def _check_values(columns: dict[str, pa.Array | pa.ChunkedArray], mapping: dict[str, str],
                  name: str) -> None:
    """A row without a plausible year was dropped silently by the store (an empty
    « Exercice ») or stored as its own year file (1899); `inf` (a float's text) went into the
    peers' medians and ranks. Each is refused at its line (the header is line 1)."""
    label_of = {target: label for label, target in mapping.items()}
    year = columns["year"]
    ok = pc.fill_null(pc.and_(pc.greater_equal(year, FIRST_YEAR),
                              pc.less_equal(year, last_plausible_year())), False)
    if not pc.all(ok).as_py():
        index = pc.index(ok, False).as_py()
        raise year_error(str(year[index].as_py() or ""), source=name,
                         where=f"ligne {index + 2}, colonne « {label_of['year']} »")
    for target in ("amount", "population", "per_inhabitant"):
        if target not in columns:
            continue
        # Finite, and under 10^16 as the documents' amounts (`numbers.MAX_INTEGER_DIGITS`):
        # « 99999999999999999999.99 » was stored as 1e20 €.
        plausible = pc.fill_null(pc.less(pc.abs(columns[target]), LARGEST), True)
        if not pc.all(plausible).as_py():
            index = pc.index(plausible, False).as_py()
            value = columns[target][index].as_py()
            why = ("un nombre fini est attendu" if value != value or abs(value) == float("inf")
                   else f"hors limites : au plus {MAX_INTEGER_DIGITS} chiffres avant la virgule")
            raise FormatError(f"valeur « {value} » : {why}.", source=name,
                              where=f"ligne {index + 2}, colonne « {label_of[target]} »",
                              hint="Téléchargez de nouveau l'export OFGL.")


def _names(columns: dict[str, pa.Array | pa.ChunkedArray],
           level: str) -> pa.Array | pa.ChunkedArray:
    """The level's name, or the budget's label where the row's own code is not the current
    geography's (see NAMES)."""
    source, own, current = NAMES[level]
    names = columns[source]
    if own in columns and current in columns and "budget_label" in columns:
        same = pc.fill_null(pc.equal(columns[own], columns[current]), True)
        names = pc.if_else(same, names, columns["budget_label"])
    return names
