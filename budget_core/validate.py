"""Validate a budget file before publishing it: the SCDL schema, then the budget's own rules.

1. An SCDL CSV is checked with frictionless against the official Table Schema shipped with
   the package (`scdl/budget` 0.8.3), plus what the schema names but frictionless does not
   run: the SIRET checksum (Luhn) and a plausible year.
2. Any readable budget (SCDL or TOTEM) is checked for what a schema cannot express: a voted
   budget (BP, BS, DM) balanced by section, order operations balanced between and within
   sections (042 = 040, 040 = 042, 041, 043, 023 = 021), natures unknown to the plan.
Problems come grouped by kind, in French, with line numbers and how to fix them.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from budget_core.csvfile import MAX_HEADER_BYTES
from budget_core.errors import BudgetError, FormatError
from budget_core.formats import read_head, sniff
from budget_core.fsutil import read_file, reading
from budget_core.numbers import FIRST_YEAR, ZERO, is_siret, last_plausible_year, plausible_year
from budget_core.scdlwrite import SCHEMA_VERSION
from budget_core.summary import Summary, document_summary, totem_summary

# Kinds of problem, in the order a publisher should fix them, with what to do.
KINDS = {
    "fichier": "Le fichier ne peut pas être lu.",
    "en-tête": "Écrivez chaque nom de colonne exactement comme le schéma (BGT_… en majuscules).",
    "colonne manquante": "Ajoutez la colonne avec exactement ce nom d'en-tête.",
    "cellule obligatoire vide": "Remplissez la cellule : le schéma l'exige.",
    "valeur invalide": "Corrigez la valeur selon le format attendu par le schéma.",
    "SIRET": "Vérifiez le SIRET (14 chiffres, clé de contrôle) dans le répertoire SIRENE.",
    "année": "L'exercice doit être une année sur 4 chiffres, passée ou en cours.",
    "équilibre": "Un budget voté est équilibré par section (L1612-4 du CGCT) : vérifiez les "
                 "montants ou l'étape déclarée.",
    "opérations d'ordre": "Chaque opération d'ordre a sa contrepartie : 042 ↔ 040, 041 et "
                          "043 équilibrés, 023 = 021.",
    "nature inconnue": "Vérifiez le compte et la nomenclature (M14, M57...) de l'exercice.",
    "lignes en double": "Vérifiez que le fichier n'a pas été exporté ou concaténé deux fois ; "
                        "supprimez les copies si ce sont des erreurs.",
}
ERROR, WARNING = "erreur", "avertissement"
ORDER_PAIRS = (("042", "depense", "040", "recette"), ("040", "depense", "042", "recette"),
               ("041", "depense", "041", "recette"), ("043", "depense", "043", "recette"),
               ("023", "depense", "021", "recette"))


@dataclass
class Problem:
    kind: str
    message: str
    severity: str = ERROR
    row: int | None = None
    column: str | None = None


@dataclass
class ValidationReport:
    source: str
    problems: list[Problem] = field(default_factory=list)
    documents: int = 0
    schema: str = f"scdl/budget {SCHEMA_VERSION}"

    @property
    def valid(self) -> bool:
        return not any(p.severity == ERROR for p in self.problems)

    def grouped(self) -> dict[str, list[Problem]]:
        groups: dict[str, list[Problem]] = {}
        for kind in KINDS:
            found = [p for p in self.problems if p.kind == kind]
            if found:
                groups[kind] = found
        return groups

    def as_dict(self) -> dict[str, object]:
        return {"fichier": self.source, "valide": self.valid, "schema": self.schema,
                "documents": self.documents,
                "problemes": {kind: {"que_faire": KINDS[kind],
                                     "liste": [asdict(p) for p in problems]}
                              for kind, problems in self.grouped().items()}}

    def french(self) -> str:
        head = "valide" if self.valid else "NON valide"
        lines = [f"{self.source} : {head} ({self.schema}, {self.documents} document(s))"]
        for kind, problems in self.grouped().items():
            lines.append(f"\n{kind} ({len(problems)}) — {KINDS[kind]}")
            for problem in problems[:50]:
                where = f"ligne {problem.row}, " if problem.row else ""
                column = f"{problem.column} : " if problem.column else ""
                lines.append(f"  [{problem.severity}] {where}{column}{problem.message}")
            if len(problems) > 50:
                lines.append(f"  … et {len(problems) - 50} autre(s)")
        return "\n".join(lines)


def siret_checksum_ok(siret: str) -> bool:
    """Luhn key of a SIRET (INSEE's rule, with La Poste's exception)."""
    if not is_siret(siret):
        return False
    total = 0
    for index, digit in enumerate(reversed(siret)):
        value = int(digit) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    # La Poste's establishments (SIREN 356000000) use another key: digit sum multiple of 5.
    return total % 10 == 0 or (siret.startswith("356000000") and sum(map(int, siret)) % 5 == 0)


FRICTIONLESS_KINDS = {"missing-label": "colonne manquante", "missing-cell":
                      "cellule obligatoire vide", "constraint-error": "valeur invalide",
                      "type-error": "valeur invalide"}


def _french_note(kind: str, note: str, cell: object, column: str | None) -> str:
    """frictionless notes say `constraint "enum" is "[...]"`: say it in French."""
    if kind == "missing-label":
        return f"colonne {column} absente de l'en-tête."
    if kind == "missing-cell" or '"required"' in note:
        return "cellule vide alors que le schéma l'exige."
    constraint = re.match(r'constraint "(\w+)" is "(.*)"', note)
    if constraint:
        name, expected = constraint.groups()
        if name == "enum":
            return f"« {cell} » n'est pas une valeur admise (valeurs : {expected})."
        if name == "pattern":
            return f"« {cell} » ne suit pas le format attendu ({expected})."
        return f"« {cell} » ne respecte pas la contrainte {name} = {expected}."
    if kind == "type-error":
        return f"« {cell} » n'est pas du type attendu ({note})."
    return note


def _schema_problems(data: bytes) -> list[Problem]:
    """What frictionless finds in the rows as the reader read them (see _value_problems)."""
    from frictionless import Detector, Resource, Schema, system  # 0.2 s: for SCDL files only
    from frictionless import validate as frictionless_validate

    from budget_core.scdl import schema_descriptor

    schema = Schema.from_descriptor(schema_descriptor())
    with system.use_context(trusted=True):
        # schema_sync: columns are matched by name, not position (a missing column is named)
        resource = Resource(data=data, format="csv", schema=schema,
                            detector=Detector(schema_sync=True))
        report = frictionless_validate(resource)
    problems = []
    for row, column, kind, note, cell in report.flatten(
            ["rowNumber", "fieldName", "type", "note", "cell"]):
        if kind == "constraint-error" and '"required"' in str(note):
            kind = "missing-cell"
        problems.append(Problem(FRICTIONLESS_KINDS.get(kind, "valeur invalide"),
                                _french_note(kind, str(note), cell, column), ERROR, row,
                                column or None))
    return problems


def _value_problems(data: bytes, name: str) -> tuple[list[Problem], bytes]:
    """Header, SIRET keys and years, row by row (the schema only checks their shape); and the
    rows as the SCDL reader reads them, as a UTF-8 CSV with LF line ends, header names as the
    schema spells them: frictionless checks exactly what the reader reads, whatever the
    file's encoding and line ends, and a lower-case header is said once, not as 22 columns
    « absentes »."""
    from budget_core.scdl import scdl_rows

    columns, notes, rows = scdl_rows(data, name)
    problems = [Problem("en-tête", note) for note in notes]
    read = io.StringIO()
    writer = csv.writer(read, lineterminator="\n")
    writer.writerow(columns)
    for row_number, values in rows:
        writer.writerow(values.values())
        siret = values.get("BGT_SIRET", "")
        if is_siret(siret) and not siret_checksum_ok(siret):
            problems.append(Problem("SIRET", f"clé de contrôle du SIRET « {siret} » fausse.",
                                    ERROR, row_number, "BGT_SIRET"))
        elif not siret.isascii():
            problems.append(Problem("SIRET", f"SIRET « {siret} » : seuls les chiffres 0-9 "
                                    "sont des chiffres.", ERROR, row_number, "BGT_SIRET"))
        year = values.get("BGT_ANNEE", "")
        if year and plausible_year(year) is None:
            problems.append(Problem("année", f"exercice « {year} » hors de {FIRST_YEAR}–"
                                    f"{last_plausible_year()} ou pas en chiffres 0-9.",
                                    ERROR, row_number, "BGT_ANNEE"))
    return problems, read.getvalue().encode("utf-8")


def budget_problems(summaries: Iterable[Summary]) -> list[Problem]:
    """The rules of a budget that no table schema can say."""
    problems: list[Problem] = []
    for summary in summaries:
        info, sums = summary.info, summary.sums
        label = f"{info.stage} {info.year} ({info.siret})"
        if info.stage in ("BP", "BS", "DM"):
            for section, name in (("fonctionnement", "de fonctionnement"),
                                  ("investissement", "d'investissement")):
                # A budget balances with the previous year's restes à réaliser (MtRARPrec)
                # added to the new credits (MtPrev): Crach's BP 2022 votes 261 663,98 € more
                # investment income than spending in MtPrev alone, exactly what its reported
                # restes à réaliser take back.
                gap = sums.voted.get((section, "recette"), ZERO) - \
                    sums.voted.get((section, "depense"), ZERO)
                if gap < 0:
                    problems.append(Problem("équilibre", f"{label} : section {name} en "
                                            f"déséquilibre, dépenses supérieures aux recettes "
                                            f"de {-gap} € (restes à réaliser inclus)."))
                elif gap > 0:
                    problems.append(Problem("équilibre", f"{label} : section {name} "
                                            f"votée en suréquilibre de {gap} € (restes à "
                                            "réaliser inclus ; admis en investissement, à "
                                            "justifier en fonctionnement).", WARNING))
        for left, left_dir, right, right_dir in ORDER_PAIRS:
            a = sums.order.get((left, left_dir), ZERO)
            b = sums.order.get((right, right_dir), ZERO)
            if a != b:
                problems.append(Problem("opérations d'ordre", f"{label} : {left} en dépense "
                                        f"({a} €) ≠ {right} en recette ({b} €)."))
        if summary.duplicate_lines:
            problems.append(Problem("lignes en double", f"{label} : {summary.duplicate_lines} "
                                    "ligne(s) identique(s) à une autre ligne, montants compris "
                                    "(comptées chacune dans les totaux).", WARNING))
        for nature, source_line in sums.unknown:
            problems.append(Problem("nature inconnue", f"nature {nature} absente du "
                                    f"plan {info.declinaison} {info.plan_year}.", WARNING,
                                    source_line, "BGT_NATURE"))
    return problems


def _unreadable(name: str, exc: BudgetError, report: ValidationReport | None = None
                ) -> ValidationReport:
    """The report of a file that cannot be read (further)."""
    report = report or ValidationReport(name)
    report.problems.append(Problem("fichier", exc.french()))
    return report


def _totem_report(name: str, summarise: Callable[[], Summary]) -> ValidationReport:
    report = ValidationReport(name, schema="TOTEM (DocumentBudgetaire)")
    try:
        summary = summarise()
    except BudgetError as exc:
        return _unreadable(name, exc, report)
    report.documents = 1
    report.problems += budget_problems([summary])
    return report


def _scdl_report(data: bytes, name: str) -> ValidationReport:
    from budget_core.scdl import parse_scdl_bytes  # pandas and frictionless: for SCDL only

    report = ValidationReport(name)
    try:
        problems, read = _value_problems(data, name)
        report.problems += problems + _schema_problems(read)
        documents = parse_scdl_bytes(data, name=name)
    except BudgetError as exc:  # empty or unreadable: nothing more to check
        return _unreadable(name, exc, report)
    report.documents = len(documents)
    report.problems += budget_problems(document_summary(d) for d in documents)
    return report


def validate_bytes(data: bytes, name: str) -> ValidationReport:
    try:
        totem = sniff(data[:MAX_HEADER_BYTES], len(data), name)
    except BudgetError as exc:
        return _unreadable(name, exc)
    if totem:
        return _totem_report(name, lambda: totem_summary(io.BytesIO(data), name))
    return _scdl_report(data, name)


def validate_file(path: Path) -> ValidationReport:
    """A TOTEM document is checked as it is read (bounded memory); an SCDL file is read whole."""
    name = path.name
    try:
        totem = sniff(*read_head(path, name), name)  # before reading a huge file whole
        if not totem:
            return _scdl_report(read_file(path), name)
    except FormatError as exc:
        return _unreadable(name, exc)

    def summarise() -> Summary:
        with reading(name), path.open("rb") as raw:
            return totem_summary(raw, name)

    return _totem_report(name, summarise)
