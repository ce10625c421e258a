"""The canonical budget line: one schema for every source (TOTEM XML, SCDL CSV).

A parsed document is a `BudgetDocument`: its header (`DocumentInfo`) and its lines as a pandas
DataFrame whose columns are exactly `LINE_COLUMNS` (as an Arrow schema: `linetable.LINE_SCHEMA`,
so the same contract holds in parquet and DuckDB). This module imports neither pandas nor
pyarrow: what only streams lines (`convert`, `inspect`) or parses arguments stays light.
Amounts are exact decimals (`decimal128(18, 2)`): totals equal the document's figures to the
cent, never a float rounding away.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a frame is built where pandas is loaded already (linetable)
    import pandas as pd

# Stages (étapes budgétaires) by TOTEM NatDec code.
STAGE_BY_NATDEC = {"01": "BP", "02": "DM", "03": "BS", "09": "CA", "10": "CFU"}
STAGES = ("BP", "BS", "DM", "CA", "CFU")
STAGE_LABELS = {
    "BP": "Budget primitif",
    "BS": "Budget supplémentaire",
    "DM": "Décision modificative",
    "CA": "Compte administratif",
    "CFU": "Compte financier unique",
}
# Stages whose main amount is what was spent or received, not what was planned.
EXECUTED_STAGES = ("CA", "CFU")

ENTITY_TYPES = ("commune", "epci", "departement", "region", "syndicat", "autre")
ENTITY_TYPE_LABELS = {
    "commune": "Commune",
    "epci": "Intercommunalité (EPCI)",
    "departement": "Département",
    "region": "Région",
    "syndicat": "Syndicat",
    "autre": "Autre établissement",
}

# OFGL aggregated accounts (data.ofgl.fr), one dataset per level of collectivité.
LEVELS = {"communes": "ofgl-base-communes", "gfp": "ofgl-base-gfp",
          "departements": "ofgl-base-departements", "regions": "ofgl-base-regions"}

SECTIONS = {"F": "fonctionnement", "I": "investissement"}
DIRECTIONS = {"D": "depense", "R": "recette"}
CARRYOVER_NATURES = ("001", "002")  # résultats reportés: not spending nor income of the year

# Amounts are decimal128(AMOUNT_PRECISION, AMOUNT_SCALE): 16 digits, then cents.
AMOUNT_PRECISION, AMOUNT_SCALE = 18, 2
AMOUNT_TYPE_NAME = f"decimal128({AMOUNT_PRECISION}, {AMOUNT_SCALE})"
CENT = Decimal("0.01")

# The amounts a budget line carries, TOTEM element → canonical column.
AMOUNT_FIELDS = {
    "MtBudgPrec": "mt_budg_prec",
    "MtRARPrec": "mt_rar_prec",
    "MtPropNouv": "mt_prop_nouv",
    "MtPrev": "mt_prev",
    "CredOuv": "cred_ouv",
    "MtReal": "mt_real",
    "MtRAR3112": "mt_rar_3112",
}

# name, Arrow type (as pyarrow names it: `budget_core.linetable.LINE_SCHEMA` is built from
# it), meaning. The order is the column order of every lines frame.
LINE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("siret", "string", "SIRET of the budget (IdEtab), 14 digits"),
    ("siren", "string", "SIREN of the collectivity: first 9 digits of its SIRET"),
    ("entity_name", "string", "Name of the collectivity (LibelleColl)"),
    ("entity_type", "string", "commune, epci, departement, region, syndicat or autre"),
    ("insee", "string", "INSEE code of the collectivity when the document gives it"),
    ("budget_kind", "string", "principal or annexe (CodTypBud P/A)"),
    ("budget_label", "string", "Label of the budget (LibelleEtab)"),
    ("year", "int16", "Exercice"),
    ("stage", "string", "BP, BS, DM, CA or CFU"),
    ("nomenclature", "string", "Norme: M14, M57, M4, M52, M71..."),
    ("declinaison", "string", "Déclinaison: M14_COM_SUP3500, M57_A, M43_D..."),
    ("plan_year", "int16", "Year of the DGFiP plan used to map natures (nearest available)"),
    ("section", "string", "fonctionnement or investissement"),
    ("direction", "string", "depense or recette"),
    ("operation_kind", "string", "reel (OpBudg 0) or ordre (OpBudg 1)"),
    ("carryover", "bool", "True for 001/002: results carried over, not the year's money"),
    ("chapter_code", "string", "Chapitre by nature (011, 65, 040...)"),
    ("chapter_label", "string", "Label of the chapter in the plan"),
    ("chapter_source", "string", "document (ContNat), plan, plan_parent or unknown"),
    ("vote_chapter", "string", "Chapter as voted in the document (ContNat), e.g. 4581001"),
    ("nature_code", "string", "Article (compte par nature)"),
    ("nature_label", "string", "Label of the nature in the plan (or the document's)"),
    ("nature_known", "bool", "False when the nature is in no account of the plan"),
    ("fonction_code", "string", "Fonction (présentation fonctionnelle), empty if none"),
    ("fonction_label", "string", "Label of the fonction in the plan"),
    ("operation_code", "string", "Opération d'équipement, empty if none"),
    ("specialised", "bool", "Article spécialisé (ArtSpe); null when the document does not say"),
    *((column, AMOUNT_TYPE_NAME, f"Amount {name} of the document") for name, column in
      AMOUNT_FIELDS.items()),
    ("amount", AMOUNT_TYPE_NAME, "Main amount of the stage: mt_real for CA/CFU, mt_prev otherwise"),
    ("source_file", "string", "File name the line comes from"),
    ("source_sha256", "string", "SHA-256 of that file"),
    ("source_line", "int32", "Line number of the LigneBudget (XML) or row (CSV)"),
)
COLUMN_NAMES = tuple(name for name, _, _ in LINE_COLUMNS)
AMOUNT_COLUMNS = (*AMOUNT_FIELDS.values(), "amount")


@dataclass
class DocumentInfo:
    """What a document is: who, which budget, which year and stage, which nomenclature."""

    siret: str
    entity_name: str
    entity_type: str
    budget_kind: str
    budget_label: str
    year: int
    stage: str
    nomenclature: str
    declinaison: str
    insee: str = ""
    plan_year: int | None = None
    source_file: str = ""
    source_sha256: str = ""
    source_format: str = ""  # "totem" or "scdl"
    # What names a decision among others of its year (BlocBudget NumDec, DteDec): a year has
    # several DMs, each its own document.
    decision_number: str = ""
    decision_date: str = ""  # ISO date, as the document writes it
    # The document's own population (InformationsGenerales PopTot), None when it gives none.
    population: int | None = None

    @property
    def siren(self) -> str:
        return self.siret[:9]


@dataclass
class BudgetDocument:
    info: DocumentInfo
    lines: pd.DataFrame
    calculated_lines_skipped: int = 0
    warnings: list[str] = field(default_factory=list)
    # lines that are exact copies of another line of the document, amounts included
    duplicate_lines: int = 0


def main_amount_column(stage: str) -> str:
    """The amount that tells what a stage is about: realised for CA/CFU, voted otherwise."""
    return "mt_real" if stage in EXECUTED_STAGES else "mt_prev"


def entity_type_of(siret: str, nat_cepl: str = "") -> str:
    """Collectivity type from the document's NatCEPL text, else from the SIREN's prefix.

    INSEE gives public bodies SIRENs starting 21 (communes), 22 (départements), 23 (régions),
    24 (groupements), 25 (syndicats and other local public bodies).
    """
    text = nat_cepl.lower()
    for needle, kind in (("syndicat", "syndicat"), ("commune", "commune"), ("ville", "commune"),
                         ("intercommunal", "epci"), ("communaut", "epci"),
                         ("métropole", "epci"), ("metropole", "epci"),
                         ("département", "departement"), ("departement", "departement"),
                         ("région", "region"), ("region", "region")):
        if needle in text:
            return kind
    prefix = {"21": "commune", "22": "departement", "23": "region", "24": "epci",
              "25": "syndicat"}
    return prefix.get(siret[:2], "autre")

