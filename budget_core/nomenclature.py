"""DGFiP plans de comptes: which chapter a nature (account) belongs to, per year and nomenclature.

A plan (`planDeCompte.xml`, one per year × norme × déclinaison) lists the chapters (code, label,
section F/I) and the accounts, each account naming its chapter for real spending (DR), real
income (RR) and for order operations between sections (DOES/ROES: 040/042) or within a section
(DOIS/ROIS: 041/043). The plans the library needs are shipped compressed in
`budget_core/data/plans/` (built by `tools/build_plans.py`), so nothing depends on `../shared`.
"""

from __future__ import annotations

import functools
import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from budget_core.errors import FormatError, NomenclatureError
from budget_core.xmlsafe import safe_parser

# The package's own folder, as config.PACKAGE finds it: importlib.resources would load
# zipfile and its readers (9 ms at every start of a command) to reach the same files.
PLANS = Path(__file__).parent / "data" / "plans"

# Order-operation kinds as TOTEM writes them in TypOpBudg: 1 within a section, 2 between sections.
WITHIN_SECTION = "1"
BETWEEN_SECTIONS = "2"


# Chapter and Account are named tuples, not frozen dataclasses: a plan holds up to 3 000
# accounts, built at every start of a command, and a frozen dataclass takes 15 times as long
# to build (one object.__setattr__ per field).
class Chapter(NamedTuple):
    code: str
    label: str
    section: str  # "F" fonctionnement, "I" investissement
    kind: str  # TypeChapitre: G global, C spécialisé, L sans réalisation (virements, imprévus)


class Account(NamedTuple):
    """One nature of the plan and the chapter it belongs to, per kind of operation."""

    code: str
    label: str
    dr: str = ""
    does: str = ""
    dois: str = ""
    rr: str = ""
    roes: str = ""
    rois: str = ""

    def chapter(self, direction: str, order: bool, order_kind: str | None) -> str:
        """The chapter of this nature for a line: direction 'D'/'R', real or order operation."""
        if direction == "D":
            real, between, within = self.dr, self.does, self.dois
        else:
            real, between, within = self.rr, self.roes, self.rois
        if not order:
            return real
        if order_kind == WITHIN_SECTION:
            return within or between
        if order_kind == BETWEEN_SECTIONS:
            return between or within
        return between or within


@dataclass
class Plan:
    norme: str
    declinaison: str
    year: int
    chapters: dict[str, Chapter] = field(default_factory=dict)
    accounts: dict[str, Account] = field(default_factory=dict)
    fonctions: dict[str, str] = field(default_factory=dict)

    def account(self, nature: str) -> tuple[Account | None, bool]:
        """The account of a nature, else of its nearest parent; the flag says exact match.

        Documents sometimes use a sub-account finer than the plan (e.g. `65888` where the
        plan stops at `6588`): the parent names the right chapter.
        """
        if nature in self.accounts:
            return self.accounts[nature], True
        code = nature
        while len(code) > 1:
            code = code[:-1]
            if code in self.accounts:
                return self.accounts[code], False
        return None, False

    def fonction_label(self, code: str) -> str:
        """Label of a fonction code; M57 functional codes like `93020` are in the plan too."""
        return self.fonctions.get(code, "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "norme": self.norme,
            "declinaison": self.declinaison,
            "year": self.year,
            "chapters": [[c.code, c.label, c.section, c.kind] for c in self.chapters.values()],
            "accounts": [
                [a.code, a.label, a.dr, a.does, a.dois, a.rr, a.roes, a.rois]
                for a in self.accounts.values()
            ],
            "fonctions": self.fonctions,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        return cls(
            norme=data["norme"],
            declinaison=data["declinaison"],
            year=int(data["year"]),
            chapters={row[0]: Chapter(*row) for row in data["chapters"]},
            accounts={row[0]: Account(*row) for row in data["accounts"]},
            fonctions=dict(data["fonctions"]),
        )


def parse_plan_xml(path: Path) -> Plan:
    """Read a DGFiP `planDeCompte.xml` (UTF-8 or ISO-8859-1) into a Plan."""
    from lxml import etree  # 5 ms to load: for building plans, not for every command

    try:
        root = etree.parse(str(path), safe_parser()).getroot()
    except etree.XMLSyntaxError as exc:
        raise FormatError(f"plan de comptes illisible ({exc}).", source=str(path),
                          hint="Vérifiez que le fichier est un planDeCompte.xml complet.") from exc
    if etree.QName(root).localname != "Nomenclature":
        raise FormatError("ce fichier n'est pas un plan de comptes DGFiP (racine "
                          f"<{etree.QName(root).localname}>).", source=str(path))
    plan = Plan(root.get("Norme", ""), root.get("Declinaison", ""), int(root.get("Exer", "0")))
    for el in root.iterfind("Nature/Chapitres/Chapitre"):
        code = el.get("Code", "")
        plan.chapters[code] = Chapter(code, el.get("Libelle", "").strip(),
                                      el.get("Section", ""), el.get("TypeChapitre", ""))
    for el in root.iterfind("Nature/Comptes//Compte"):
        code = el.get("Code", "")
        plan.accounts[code] = Account(
            code, el.get("Libelle", "").strip(),
            *(el.get(attr, "") for attr in ("DR", "DOES", "DOIS", "RR", "ROES", "ROIS")),
        )
    _inherit_chapters(plan)
    for path_ in ("Fonction/RefFonctionnelles//RefFonc", "Fonction/Comptes//Compte",
                  "Fonction/Chapitres/Chapitre"):
        for el in root.iterfind(path_):
            plan.fonctions.setdefault(el.get("Code", ""), el.get("Libelle", "").strip())
    return plan


MAPPINGS = ("dr", "does", "dois", "rr", "roes", "rois")


def _inherit_chapters(plan: Plan) -> None:
    """Give grouping accounts (e.g. 6411, parent of 64111 and 64118) their children's chapters.

    The plan only maps leaf accounts, but documents may use a grouping account as nature: it
    belongs to the chapter its sub-accounts share (the first one that has one, per kind).
    """
    codes = sorted(plan.accounts)
    for code, account in plan.accounts.items():
        if any(getattr(account, m) for m in MAPPINGS):
            continue
        children = [plan.accounts[c] for c in codes if c.startswith(code) and c != code]
        inherited = {m: next((getattr(c, m) for c in children if getattr(c, m)), "")
                     for m in MAPPINGS}
        plan.accounts[code] = Account(code, account.label, **inherited)


def split_nomenclature(value: str) -> tuple[str, str]:
    """`M14-M14_COM_500_3500` → (`M14`, `M14_COM_500_3500`); `M57_A` → (`M57`, `M57_A`)."""
    value = value.strip()
    if "-" in value:
        norme, declinaison = value.split("-", 1)
        return norme, declinaison
    return value.split("_", 1)[0], value


def plan_filename(declinaison: str, year: int) -> str:
    return f"{declinaison}_{year}.json.gz"


@functools.cache
def available_plans() -> dict[str, tuple[int, ...]]:
    """Shipped plans: déclinaison → the years we have a plan for."""
    years: dict[str, list[int]] = {}
    for entry in PLANS.iterdir():
        name = entry.name
        if not name.endswith(".json.gz"):
            continue
        declinaison, year = name.removesuffix(".json.gz").rsplit("_", 1)
        years.setdefault(declinaison, []).append(int(year))
    return {k: tuple(sorted(v)) for k, v in years.items()}


@functools.cache
def load_plan(declinaison: str, year: int) -> Plan:
    data = (PLANS / plan_filename(declinaison, year)).read_bytes()
    # zlib reads the gzip format itself (wbits 16 + 15): the gzip module (with struct) would
    # add 0.4 ms to every command for the same call
    return Plan.from_dict(json.loads(zlib.decompress(data, 16 + zlib.MAX_WBITS)))


def plan_for(nomenclature: str, year: int, *, source: str | None = None) -> Plan:
    """The plan of a document's nomenclature for its year, or of the nearest year we ship.

    The returned plan's `year` says which year was used: callers record it beside each line.
    """
    _, declinaison = split_nomenclature(nomenclature)
    # The plan of the document's own year, when shipped, is the nearest: opened without
    # listing the 200 plans first. An identifier holds no « / » nor « . »: no path escapes.
    if declinaison.isidentifier() and (PLANS / plan_filename(declinaison, year)).is_file():
        return load_plan(declinaison, year)
    years = available_plans().get(declinaison)
    if not years:
        known = ", ".join(sorted(available_plans()))
        raise NomenclatureError(
            f"nomenclature « {nomenclature} » inconnue : aucun plan de comptes DGFiP ne porte "
            f"la déclinaison « {declinaison} ».",
            hint=f"Vérifiez la balise Nomenclature du document (déclinaisons connues : {known}).",
            source=source,
        )
    nearest = min(years, key=lambda y: (abs(y - year), -y))
    return load_plan(declinaison, nearest)


def best_plan(natures: set[str], year: int) -> Plan:
    """The plan, among those shipped for that year, that knows the most of these natures.

    SCDL files do not say their nomenclature; the natures a file uses tell it (an M57
    file uses accounts such as 6573642 that no M14 or M52 plan has).
    """
    candidates = [plan_for(declinaison, year) for declinaison in available_plans()]
    return max(candidates, key=lambda plan: sum(n in plan.accounts for n in natures))
