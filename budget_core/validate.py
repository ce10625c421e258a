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
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from budget_core.csvfile import MAX_HEADER_BYTES, CsvBytes, scan_csv
from budget_core.errors import BudgetError
from budget_core.formats import sniff
from budget_core.fsutil import Opener, bytes_opener, file_opener, reading
from budget_core.numbers import FIRST_YEAR, ZERO, is_siret, last_plausible_year, plausible_year
from budget_core.scdlwrite import SCHEMA_VERSION
from budget_core.summary import Summary, scdl_summaries, totem_summary

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


# Problems listed per kind: a 1 GB file with a bad SIRET on every row would otherwise hold
# millions of them; the others are counted (`unlisted`), never lost.
MAX_LISTED = 1_000
SCHEMA_STOPPED = ("Vérification du schéma arrêtée après 1 000 problèmes : corrigez-les puis "
                  "validez à nouveau pour voir la suite.")


@dataclass
class ValidationReport:
    source: str
    problems: list[Problem] = field(default_factory=list)
    documents: int = 0
    schema: str = f"scdl/budget {SCHEMA_VERSION}"
    unlisted: dict[str, int] = field(default_factory=dict)  # kind → problems not listed
    unlisted_errors: bool = False  # whether a problem not listed is an error
    schema_stopped: bool = False  # frictionless stopped at MAX_LISTED problems

    def __post_init__(self) -> None:
        self._listed: dict[str, int] = {}
        for problem in self.problems:
            self._listed[problem.kind] = self._listed.get(problem.kind, 0) + 1

    @property
    def valid(self) -> bool:
        return not self.unlisted_errors and not any(p.severity == ERROR for p in self.problems)

    def add(self, problem: Problem) -> None:
        """List the problem, or count it once MAX_LISTED of its kind are listed."""
        listed = self._listed.get(problem.kind, 0)
        if listed < MAX_LISTED:
            self.problems.append(problem)
            self._listed[problem.kind] = listed + 1
        else:
            self.unlisted[problem.kind] = self.unlisted.get(problem.kind, 0) + 1
            self.unlisted_errors = self.unlisted_errors or problem.severity == ERROR

    def grouped(self) -> dict[str, list[Problem]]:
        groups: dict[str, list[Problem]] = {}
        for kind in KINDS:
            found = [p for p in self.problems if p.kind == kind]
            if found:
                groups[kind] = found
        return groups

    def as_dict(self) -> dict[str, object]:
        return {"fichier": self.source, "valide": self.valid, "schema": self.schema,
                "documents": self.documents, "schema_arrete": self.schema_stopped,
                "problemes": {kind: {"que_faire": KINDS[kind],
                                     "liste": [asdict(p) for p in problems],
                                     "non_listes": self.unlisted.get(kind, 0)}
                              for kind, problems in self.grouped().items()}}

    def french(self) -> str:
        head = "valide" if self.valid else "NON valide"
        lines = [f"{self.source} : {head} ({self.schema}, {self.documents} document(s))"]
        if self.schema_stopped:
            lines.append(SCHEMA_STOPPED)
        for kind, problems in self.grouped().items():
            count = len(problems) + self.unlisted.get(kind, 0)
            lines.append(f"\n{kind} ({count}) — {KINDS[kind]}")
            for problem in problems[:50]:
                where = f"ligne {problem.row}, " if problem.row else ""
                column = f"{problem.column} : " if problem.column else ""
                lines.append(f"  [{problem.severity}] {where}{column}{problem.message}")
            if count > 50:
                lines.append(f"  … et {count - 50} autre(s)")
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


def _schema_problems(read: Path, report: ValidationReport) -> None:
    """What frictionless finds in the rows as the reader read them (see _value_problems): it
    reads the file a row at a time and stops after MAX_LISTED problems."""
    from frictionless import Detector, Resource, Schema, system  # 0.2 s: for SCDL files only
    from frictionless import validate as frictionless_validate

    from budget_core.scdl import schema_descriptor

    schema = Schema.from_descriptor(schema_descriptor())
    with system.use_context(trusted=True):
        # schema_sync: columns are matched by name, not position (a missing column is named)
        resource = Resource(path=str(read), format="csv", encoding="utf-8", schema=schema,
                            detector=Detector(schema_sync=True))
        found = frictionless_validate(resource, limit_errors=MAX_LISTED)
    for row, column, kind, note, cell in found.flatten(
            ["rowNumber", "fieldName", "type", "note", "cell"]):
        if kind == "constraint-error" and '"required"' in str(note):
            kind = "missing-cell"
        report.add(Problem(FRICTIONLESS_KINDS.get(kind, "valeur invalide"),
                           _french_note(kind, str(note), cell, column), ERROR, row,
                           column or None))
    report.schema_stopped = any(warning.startswith("reached error limit")
                                for task in found.tasks for warning in task.warnings)


def _value_problems(opener: Opener, name: str, scanned: CsvBytes, read: Path,
                    report: ValidationReport) -> None:
    """Header, SIRET keys and years, row by row (the schema only checks their shape); and the
    rows as the SCDL reader reads them, written to `read` as a UTF-8 CSV with LF line ends,
    header names as the schema spells them: frictionless checks exactly what the reader
    reads, whatever the file's encoding and line ends, and a lower-case header is said once,
    not as 22 columns « absentes »."""
    from budget_core.scdl import scdl_rows  # pandas: for SCDL files only

    columns, notes, rows = scdl_rows(opener, name, scanned)
    for note in notes:
        report.add(Problem("en-tête", note))
    with read.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row_number, values in rows:
            writer.writerow(values.values())
            siret = values.get("BGT_SIRET", "")
            if is_siret(siret) and not siret_checksum_ok(siret):
                report.add(Problem("SIRET", f"clé de contrôle du SIRET « {siret} » fausse.",
                                   ERROR, row_number, "BGT_SIRET"))
            elif not siret.isascii():
                report.add(Problem("SIRET", f"SIRET « {siret} » : seuls les chiffres 0-9 "
                                   "sont des chiffres.", ERROR, row_number, "BGT_SIRET"))
            year = values.get("BGT_ANNEE", "")
            if year and plausible_year(year) is None:
                report.add(Problem("année", f"exercice « {year} » hors de {FIRST_YEAR}–"
                                   f"{last_plausible_year()} ou pas en chiffres 0-9.",
                                   ERROR, row_number, "BGT_ANNEE"))


SECTIONS_CHECKED = {"fonctionnement": "de fonctionnement",
                    "investissement": "d'investissement"}


def budget_problems(summaries: Iterable[Summary]) -> Iterator[Problem]:
    """The rules of a budget that no table schema can say, on each document's sums (its
    lines are not needed: a big file's are summed as they are read, never kept)."""
    for summary in summaries:
        info, sums = summary.info, summary.sums
        label = f"{info.stage} {info.year} ({info.siret})"
        if info.stage in ("BP", "BS", "DM"):
            for section, name in SECTIONS_CHECKED.items():
                # A budget balances with the previous year's restes à réaliser (MtRARPrec)
                # added to the new credits (MtPrev): Crach's BP 2022 votes 261 663,98 € more
                # investment income than spending in MtPrev alone, exactly what its reported
                # restes à réaliser take back.
                gap = sums.voted.get((section, "recette"), ZERO) - \
                    sums.voted.get((section, "depense"), ZERO)
                if gap < 0:
                    yield Problem("équilibre", f"{label} : section {name} en déséquilibre, "
                                  f"dépenses supérieures aux recettes de {-gap} € (restes à "
                                  "réaliser inclus).")
                elif gap > 0:
                    yield Problem("équilibre", f"{label} : section {name} votée en "
                                  f"suréquilibre de {gap} € (restes à réaliser inclus ; admis "
                                  "en investissement, à justifier en fonctionnement).", WARNING)
        for left, left_dir, right, right_dir in ORDER_PAIRS:
            a = sums.order.get((left, left_dir), ZERO)
            b = sums.order.get((right, right_dir), ZERO)
            if a != b:
                yield Problem("opérations d'ordre", f"{label} : {left} en dépense ({a} €) ≠ "
                              f"{right} en recette ({b} €).")
        if summary.duplicate_lines:
            yield Problem("lignes en double", f"{label} : {summary.duplicate_lines} ligne(s) "
                          "identique(s) à une autre ligne, montants compris (comptées chacune "
                          "dans les totaux).", WARNING)
        for nature, source_line in sums.unknown:
            yield Problem("nature inconnue", f"nature {nature} absente du plan "
                          f"{info.declinaison} {info.plan_year}.", WARNING, source_line,
                          "BGT_NATURE")


def validate_bytes(data: bytes, name: str) -> ValidationReport:
    """Validate bytes already in memory (an upload): read in place, never copied."""
    return _validate(bytes_opener(data), name)


def validate_file(path: Path) -> ValidationReport:
    """Validate a file, read a MB at a time: its size does not change the memory needed."""
    return _validate(file_opener(path), path.name)


def _validate(opener: Opener, name: str) -> ValidationReport:
    report = ValidationReport(name)
    try:
        with reading(name):  # a missing file, a disk error: the problem « fichier »
            _check(opener, name, report)
    except BudgetError as exc:  # unreadable: nothing more to check
        report.add(Problem("fichier", exc.french()))
    return report


def _check(opener: Opener, name: str, report: ValidationReport) -> None:
    with opener() as handle:  # what the file is, from its first MB
        is_totem = sniff(handle.read(MAX_HEADER_BYTES), handle.seek(0, io.SEEK_END), name)
    if is_totem:  # checked as it is read: neither pandas, pyarrow nor frictionless loaded
        report.schema = "TOTEM (DocumentBudgetaire)"
        with opener() as handle:
            summaries = [totem_summary(handle, name, hashed=False)]  # no SHA-256 reported
    else:
        import tempfile  # with random, 1.5 ms to load: for SCDL files only

        scanned = scan_csv(opener, name)
        with tempfile.TemporaryDirectory(prefix="budget-validate-") as folder:
            read = Path(folder) / "lignes_lues.csv"
            _value_problems(opener, name, scanned, read, report)
            _schema_problems(read, report)
        summaries = scdl_summaries(opener, name)
    report.documents = len(summaries)
    for problem in budget_problems(summaries):
        report.add(problem)
