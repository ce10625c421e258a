"""Streaming reader of TOTEM budget documents (`DocumentBudgetaire`, and the CFU wrapper).

Documents can weigh hundreds of MB: the file is read once with `lxml.etree.iterparse`, each
`LigneBudget` is mapped as soon as it ends and then freed, and the SHA-256 is computed on the
same pass (by the readers that report it: `convert` writes no SHA-256 and does not pay it).
The parser resolves no entity, loads no DTD and never touches the network; a document that
declares a DTD is refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Generic, TypeVar

from lxml import etree

from budget_core.errors import FormatError
from budget_core.fsutil import reading
from budget_core.mapping import Line, LineMapper, RawLine
from budget_core.model import (
    AMOUNT_FIELDS,
    STAGE_BY_NATDEC,
    BudgetDocument,
    DocumentInfo,
    entity_type_of,
)
from budget_core.nomenclature import plan_for, split_nomenclature
from budget_core.numbers import (
    is_siret,
    parse_amount,
    parse_population,
    plausible_year,
    year_error,
)
from budget_core.xmlsafe import SAFE_OPTIONS

NS_BUDGET = "http://www.minefi.gouv.fr/cp/demat/docbudgetaire"
ROOTS = {"DocumentBudgetaire": NS_BUDGET,
         "CompteFinancierUnique": "http://www.minefi.gouv.fr/cp/demat/doccfu"}
HEADER_FIELDS = ("LibelleColl", "IdColl", "NatCEPL", "LibelleEtab", "IdEtab", "CodInseeColl",
                 "Nomenclature", "NatDec", "Exer", "CodTypBud", "NumDec", "DteDec")
_LINE = f"{{{NS_BUDGET}}}LigneBudget"
_BUDGET = f"{{{NS_BUDGET}}}Budget"
_INFORMATION = f"{{{NS_BUDGET}}}Information"  # InformationsGenerales/Information Code="PopTot"
_HEADER_TAGS = {f"{{{NS_BUDGET}}}{name}": name for name in HEADER_FIELDS}
_ARTSPE = {"true": True, "false": False}  # ArtSpe; absent or anything else: not said
M = TypeVar("M", bound=LineMapper)


class _HashingReader:
    """File wrapper that feeds a SHA-256 with every byte lxml reads."""

    def __init__(self, raw: BinaryIO) -> None:
        import hashlib  # OpenSSL, 3 ms to load: only for the readers that report the SHA-256

        self.raw = raw
        self.sha256 = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.sha256.update(data)
        return data


def read_totem(path: Path, *, name: str | None = None) -> BudgetDocument:
    """Parse a TOTEM file into canonical lines. Raises FormatError / NomenclatureError."""
    name = name or path.name
    with reading(name), path.open("rb") as raw:
        return read_totem_stream(raw, name=name)


def read_totem_stream(stream: BinaryIO, *, name: str) -> BudgetDocument:
    """Parse a TOTEM document from an open binary stream (a file, an upload)."""
    from budget_core.linetable import LineBuilder  # pyarrow and pandas: only for a frame

    document = TotemLines(stream, name, LineBuilder)
    for line in document:
        document.mapper.append(line)
    builder = document.mapper
    lines = builder.frame(source_sha256=document.sha256)
    return BudgetDocument(builder.info, lines, calculated_lines_skipped=document.skipped,
                          warnings=builder.warnings(), duplicate_lines=builder.duplicates())


class TotemLines(Generic[M]):
    """One pass over a TOTEM document: iterating gives each budget line, mapped, as soon as
    its `LigneBudget` ends (then freed). The header is read before the first line and makes
    `mapper` (a `mapper_class`); once the iteration is over, `mapper.info` also holds the
    population (`InformationsGenerales` may follow the lines), `skipped` counts the CFU's
    computed lines left out and `sha256` is the file's (unless `hashed` is False)."""

    def __init__(self, stream: BinaryIO, name: str, mapper_class: type[M], *,
                 hashed: bool = True) -> None:
        self.hashing = _HashingReader(stream) if hashed else None
        self.reader = self.hashing or stream
        self.name = name
        self.mapper_class = mapper_class
        self.header: dict[str, str] = {}
        self.skipped = 0
        self._mapper: M | None = None

    @property
    def mapper(self) -> M:
        if self._mapper is None:
            raise RuntimeError("no line read yet")  # a caller's bug, not a document's
        return self._mapper

    @property
    def sha256(self) -> str:
        if self.hashing is None:
            raise RuntimeError("read with hashed=False")  # a caller's bug, not a document's
        return self.hashing.sha256.hexdigest()

    def __iter__(self) -> Iterator[Line]:
        # an OSError mid-stream (a disk error, an upload cut) names the file, in French
        with reading(self.name):
            yield from self._lines()
        name, header = self.name, self.header
        if self._mapper is None:
            missing = [f for f in ("IdEtab", "Nomenclature", "NatDec", "Exer")
                       if f not in header]
            what = ("il manque l'en-tête du budget (" + ", ".join(missing) + ")") if missing \
                else "aucune ligne budgétaire (LigneBudget)"
            raise FormatError(f"document incomplet : {what}.", source=name,
                              hint="Vérifiez qu'il s'agit d'un document budgétaire TOTEM "
                                   "complet et non d'un extrait ou d'un fichier tronqué.")
        self._mapper.info.population = parse_population(header.get("PopTot"))

    def _lines(self) -> Iterator[Line]:
        name, header = self.name, self.header
        budgets = 0
        context = etree.iterparse(self.reader, events=("start", "end"), **SAFE_OPTIONS)
        try:
            for event, elem in context:
                if event == "start":
                    if elem.getparent() is None:
                        check_root(elem, name)
                    elif elem.tag == _BUDGET:
                        budgets += 1
                        if budgets > 1:
                            raise FormatError(
                                "un second bloc <Budget> dans le document : un document TOTEM "
                                "porte un seul budget (un exercice, une étape), les additionner "
                                "fausserait tous les totaux.", source=name,
                                where=f"ligne {elem.sourceline}",
                                hint="Déposez chaque budget dans son propre fichier.")
                    continue
                tag = elem.tag
                if tag == _LINE:
                    if elem.get("calculated") == "true":
                        self.skipped += 1
                    else:
                        if self._mapper is None:
                            self._mapper = _mapper(header, name, self.mapper_class)
                        yield _line(self._mapper, elem, name)
                    _free(elem)
                else:
                    if tag in _HEADER_TAGS:
                        header.setdefault(_HEADER_TAGS[tag], (elem.get("V") or "").strip())
                    elif tag == _INFORMATION and elem.get("Code") == "PopTot":
                        header.setdefault("PopTot", elem.get("V") or "")
                    parent = elem.getparent()
                    if parent is not None and parent.tag != _LINE:
                        # Everything but a line's own fields is read once and freed: annexes,
                        # or millions of stray elements, never pile up in memory.
                        _free(elem)
        except etree.XMLSyntaxError as exc:
            raise FormatError(_syntax_message(exc), source=name, where=f"ligne {exc.lineno}",
                              hint="Le fichier est tronqué ou mal formé : téléchargez-le à "
                                   "nouveau ou demandez à l'éditeur un export complet."
                              ) from exc


def check_root(root: etree._Element, name: str) -> None:
    """Refuse a document that declares a DTD or whose root is not a TOTEM budget document
    (the streaming reader and the anonymiser both start with this check)."""
    doctype = root.getroottree().docinfo.doctype
    if doctype:
        raise FormatError("le document déclare une DTD (<!DOCTYPE>), refusée par sécurité.",
                          source=name, hint="Un document TOTEM n'a pas de DTD : supprimez la "
                          "déclaration ou demandez un export standard.")
    qname = etree.QName(root)
    if qname.localname not in ROOTS:
        raise FormatError(f"ce fichier XML n'est pas un document budgétaire TOTEM (racine "
                          f"<{qname.localname}>, attendu <DocumentBudgetaire>).", source=name,
                          hint="Choisissez le fichier XML du budget (TOTEM).")
    expected = ROOTS[qname.localname]
    if qname.namespace != expected:
        found = f"« {qname.namespace} »" if qname.namespace else "absent"
        raise FormatError(f"espace de noms de <{qname.localname}> {found}, attendu "
                          f"« {expected} » : sans lui aucun élément TOTEM n'est reconnu.",
                          source=name, where=f"ligne {root.sourceline}",
                          hint=f"Ajoutez xmlns=\"{expected}\" à la racine, ou demandez à "
                               "l'éditeur un export TOTEM standard.")


def _free(elem: etree._Element) -> None:
    elem.clear(keep_tail=False)
    parent = elem.getparent()
    if parent is not None:
        while elem.getprevious() is not None:
            del parent[0]


def _syntax_message(exc: etree.XMLSyntaxError) -> str:
    text = str(exc.msg or exc)
    if "encoding" in text.lower() or "utf-8" in text.lower():
        return (f"encodage incohérent ({text}) : le fichier ne respecte pas l'encodage "
                "qu'il déclare.")
    return f"XML mal formé ({text})."


def _mapper(header: dict[str, str], name: str, mapper_class: type[M]) -> M:
    siret = header.get("IdEtab") or header.get("IdColl", "")
    if not is_siret(siret):
        raise FormatError(f"SIRET « {siret} » invalide (IdEtab) : 14 chiffres (0-9) attendus.",
                          source=name, where="EnTeteBudget/IdEtab",
                          hint="Corrigez le SIRET de l'établissement dans le logiciel financier.")
    natdec = header.get("NatDec", "")
    if natdec not in STAGE_BY_NATDEC:
        raise FormatError(f"étape budgétaire NatDec « {natdec} » inconnue (attendu 01 BP, "
                          "02 DM, 03 BS, 09 CA ou 10 CFU).", source=name,
                          where="BlocBudget/NatDec", hint="Corrigez NatDec dans le document.")
    exer = header.get("Exer", "")
    year = plausible_year(exer)
    if year is None:
        raise year_error(exer, source=name, where="BlocBudget/Exer")
    nomenclature = header.get("Nomenclature", "")
    norme, declinaison = split_nomenclature(nomenclature)
    info = DocumentInfo(
        siret=siret,
        entity_name=header.get("LibelleColl", ""),
        entity_type=entity_type_of(siret, header.get("NatCEPL", "")),
        budget_kind="annexe" if header.get("CodTypBud") == "A" else "principal",
        budget_label=header.get("LibelleEtab", ""),
        year=year,
        stage=STAGE_BY_NATDEC[natdec],
        nomenclature=norme,
        declinaison=declinaison,
        insee=header.get("CodInseeColl", ""),
        source_file=name,
        source_format="totem",
        decision_number=header.get("NumDec", ""),
        decision_date=header.get("DteDec", ""),
    )
    plan = plan_for(nomenclature, info.year, source=name)
    info.plan_year = plan.year
    return mapper_class(info, plan)


def _line(mapper: LineMapper, elem: etree._Element, name: str) -> Line:
    values: dict[str, str] = {}
    section_hint = ""
    for child in elem:
        tag = child.tag
        if not isinstance(tag, str):
            continue  # a comment or a processing instruction holds no value
        local = tag.rpartition("}")[2]  # what etree.QName(child).localname says, faster
        value = (child.get("V") or "").strip()
        if local == "CaracSup" and child.get("Code") == "Section":
            section_hint = value
        elif local not in ("MtSup", "CaracSup"):
            values[local] = value
    nature = values.get("Nature", "")
    direction = values.get("CodRD", "")
    where = f"LigneBudget ligne {elem.sourceline}"
    if not nature or direction not in ("D", "R"):
        raise FormatError("ligne budgétaire sans Nature ou sans CodRD (D/R).", source=name,
                          where=where,
                          hint="Chaque LigneBudget doit porter sa nature et son sens.")
    amounts = {column: parse_amount(text, source=name, scdl=False, where=f"{where}, {field}")
               if (text := values.get(field)) else None  # absent or empty: no amount
               for field, column in AMOUNT_FIELDS.items()}
    raw = RawLine(
        nature=nature, direction=direction, order=values.get("OpBudg") == "1",
        order_kind=values.get("TypOpBudg"), contnat=values.get("ContNat", ""),
        fonction=values.get("Fonction", ""), operation=values.get("Operation", ""),
        specialised=_ARTSPE.get(values.get("ArtSpe", "")),
        section_hint=section_hint,
        label_hint=values.get("LibCpte", ""),
    )
    return mapper.map(raw, amounts, elem.sourceline or 0)

