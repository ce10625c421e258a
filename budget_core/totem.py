"""Streaming reader of TOTEM budget documents (`DocumentBudgetaire`, and the CFU wrapper).

Documents can weigh hundreds of MB: the file is fed in chunks to the standard library's expat
(`xmlsafe.expat_parser`), whose callbacks see each element's start with its attributes (every
TOTEM value is a `V` attribute: no character data is ever handed to Python). Each
`LigneBudget` is mapped as soon as it ends; nothing else is kept, so memory does not grow with
the file. The SHA-256 is computed on the same pass (by the readers that report it: `convert`
writes no SHA-256 and does not pay it). The parser resolves no entity, loads no DTD and never
touches the network; a document that declares a DTD is refused.

Why expat rather than lxml: on Montreuil CA 2023 (3.9 MB, 85 000 annex elements) expat's one
Python call per element start takes 0.06 s of CPU where lxml's `iterparse` with the freeing
of each element took 0.14 s (0.028 against 0.046 s on Mohon's 1.75 MB CFU), and importing it
costs nothing measurable where `lxml.etree` took 5 ms of every command.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Generic, NoReturn, TypeVar

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
from budget_core.xmlsafe import (
    MAX_DEPTH,
    MAX_TOKEN_BYTES,
    XmlError,
    expat_parser,
    unknown_encoding,
    xml_error,
)

if TYPE_CHECKING:
    from lxml import etree

NS_BUDGET = "http://www.minefi.gouv.fr/cp/demat/docbudgetaire"
ROOTS = {"DocumentBudgetaire": NS_BUDGET,
         "CompteFinancierUnique": "http://www.minefi.gouv.fr/cp/demat/doccfu"}
HEADER_FIELDS = ("LibelleColl", "IdColl", "NatCEPL", "LibelleEtab", "IdEtab", "CodInseeColl",
                 "Nomenclature", "NatDec", "Exer", "CodTypBud", "NumDec", "DteDec")
# Element names as expat gives them: "namespace}local" (xmlsafe.NAMESPACE_SEPARATOR).
_NS_PREFIX = f"{NS_BUDGET}}}"
_LINE = f"{NS_BUDGET}}}LigneBudget"
_BUDGET = f"{NS_BUDGET}}}Budget"
_INFORMATION = f"{NS_BUDGET}}}Information"  # InformationsGenerales/Information Code="PopTot"
_HEADER_TAGS = {f"{NS_BUDGET}}}{name}": name for name in HEADER_FIELDS}
_ARTSPE = {"true": True, "false": False}  # ArtSpe; absent or anything else: not said
CHUNK_BYTES = 1 << 16  # what is fed to expat at a time, and the most lines held before use
M = TypeVar("M", bound=LineMapper)


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
    """One pass over a TOTEM document: iterating gives each budget line, mapped, once its
    `LigneBudget` has ended (a chunk of the file at a time). The header is read before the
    first line and makes `mapper` (a `mapper_class`); once the iteration is over,
    `mapper.info` also holds the population (`InformationsGenerales` may follow the lines),
    `skipped` counts the CFU's computed lines left out and `sha256` is the file's (unless
    `hashed` is False)."""

    def __init__(self, stream: BinaryIO, name: str, mapper_class: type[M], *,
                 hashed: bool = True) -> None:
        if hashed:
            import hashlib  # OpenSSL, 3 ms to load: only for the readers that report it

            self._sha256: hashlib._Hash | None = hashlib.sha256()
        else:
            self._sha256 = None
        self.stream = stream
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
        if self._sha256 is None:
            raise RuntimeError("read with hashed=False")  # a caller's bug, not a document's
        return self._sha256.hexdigest()

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
        """Feed the file to expat a chunk at a time; yield the lines each chunk completed.

        Outside a line only element starts call Python (`start`); a `LigneBudget` swaps in
        the handlers that collect its direct children's values until it ends."""
        name, header = self.name, self.header
        parser = expat_parser(name)
        ready: list[Line] = []  # lines completed by the chunk being parsed
        budgets = 0
        line_number = depth = 0
        level = skipped_level = 0  # elements open outside a line; where a skipped subtree began
        calculated = False
        values: dict[str, str] = {}
        section_hint = ""

        def root(tag: str, attributes: dict[str, str]) -> None:
            namespace, _, local = tag.rpartition("}")
            check_root_name(namespace, local, name, parser.CurrentLineNumber)
            deeper()
            parser.StartElementHandler, parser.EndElementHandler = start, end

        def deeper() -> None:
            nonlocal level
            level += 1
            if level > MAX_DEPTH:
                too_deep()

        def too_deep() -> NoReturn:  # expat holds every open element: 19 bytes a byte nested
            raise FormatError(
                f"plus de {MAX_DEPTH} éléments imbriqués les uns dans les autres (ligne "
                f"{parser.CurrentLineNumber}) : aucun document TOTEM n'en contient.",
                source=name, hint="Le fichier est mal formé ou n'est pas un document "
                                  "budgétaire : demandez à l'éditeur un export complet.")

        def start(tag: str, attributes: dict[str, str]) -> None:
            nonlocal budgets, skipped_level, line_number, depth, calculated, values, section_hint
            deeper()
            if tag == _LINE:
                line_number, depth = parser.CurrentLineNumber, 0
                calculated = attributes.get("calculated") == "true"
                values, section_hint = {}, ""
                parser.StartElementHandler, parser.EndElementHandler = field, end_of_line
            elif tag in _HEADER_TAGS:
                header.setdefault(_HEADER_TAGS[tag], attributes.get("V", "").strip())
            elif tag == _INFORMATION:
                if attributes.get("Code") == "PopTot":
                    header.setdefault("PopTot", attributes.get("V", ""))
            elif tag == _BUDGET:
                budgets += 1
                if budgets > 1:
                    raise FormatError(
                        "un second bloc <Budget> dans le document : un document TOTEM porte un "
                        "seul budget (un exercice, une étape), les additionner fausserait tous "
                        "les totaux.", source=name, where=f"ligne {parser.CurrentLineNumber}",
                        hint="Déposez chaque budget dans son propre fichier.")
            elif not tag.startswith(_NS_PREFIX):
                # Outside the budget's namespace (the CFU's DocumentComptable and signatures,
                # an editor's block) nothing is read, only the depth counted, until the
                # subtree's own end.
                skipped_level = level
                parser.StartElementHandler = skipped

        def skipped(tag: str, attributes: dict[str, str]) -> None:
            deeper()

        def end(tag: str) -> None:
            nonlocal level, skipped_level
            level -= 1
            if level < skipped_level:
                skipped_level = 0
                parser.StartElementHandler = start

        def field(tag: str, attributes: dict[str, str]) -> None:
            nonlocal depth, section_hint
            depth += 1
            if depth > 1:
                if level + depth > MAX_DEPTH:
                    too_deep()
                return  # a line's values are its direct children's
            local = tag.rpartition("}")[2]
            value = attributes.get("V", "").strip()
            if local == "CaracSup" and attributes.get("Code") == "Section":
                section_hint = value
            elif local not in ("MtSup", "CaracSup"):
                values[local] = value

        def end_of_line(tag: str) -> None:
            nonlocal depth, level
            if depth:
                depth -= 1
                return
            level -= 1
            parser.StartElementHandler, parser.EndElementHandler = start, end
            if calculated:
                self.skipped += 1
                return
            if self._mapper is None:
                self._mapper = _mapper(header, name, self.mapper_class)
            ready.append(_line(self._mapper, values, section_hint, line_number, name))

        parser.StartElementHandler = root
        sha256 = self._sha256
        previous, data, fed = b"", b"", 0
        try:
            while data := self.stream.read(CHUNK_BYTES):
                if sha256 is not None:
                    sha256.update(data)
                parser.Parse(data, False)
                fed += len(data)
                if fed - parser.CurrentByteIndex > MAX_TOKEN_BYTES:
                    raise FormatError(
                        f"plus de {MAX_TOKEN_BYTES // 1_000_000} Mo d'un seul tenant dans une "
                        "balise, un attribut ou un commentaire (à partir de la ligne "
                        f"{parser.CurrentLineNumber}) : aucun document TOTEM n'en contient.",
                        source=name, hint="Le fichier est mal formé ou n'est pas un document "
                                          "budgétaire : demandez à l'éditeur un export complet.")
                previous = data
                yield from ready
                ready.clear()
            parser.Parse(b"", True)
        except XmlError as exc:
            # the bytes around the error: a wrong byte there tells a wrong declared encoding
            raise xml_error(exc, parser, previous + data, fed - len(previous), name) from exc
        except LookupError as exc:  # expat asks Python's codecs for an encoding it lacks
            if type(exc) is not LookupError:  # a KeyError or IndexError is a bug, not a file
                raise
            raise unknown_encoding(exc, name) from exc
        yield from ready


def check_root_name(namespace: str, local: str, name: str, line: int) -> None:
    """Refuse a root that is not a TOTEM budget document (`DocumentBudgetaire`, or the CFU's
    `CompteFinancierUnique`) in its namespace."""
    if local not in ROOTS:
        raise FormatError(f"ce fichier XML n'est pas un document budgétaire TOTEM (racine "
                          f"<{local}>, attendu <DocumentBudgetaire>).", source=name,
                          hint="Choisissez le fichier XML du budget (TOTEM).")
    expected = ROOTS[local]
    if namespace != expected:
        found = f"« {namespace} »" if namespace else "absent"
        raise FormatError(f"espace de noms de <{local}> {found}, attendu "
                          f"« {expected} » : sans lui aucun élément TOTEM n'est reconnu.",
                          source=name, where=f"ligne {line}",
                          hint=f"Ajoutez xmlns=\"{expected}\" à la racine, ou demandez à "
                               "l'éditeur un export TOTEM standard.")


def check_root(root: etree._Element, name: str) -> None:
    """The checks of the streaming reader on a tree lxml parsed (the anonymiser's): no DTD,
    a TOTEM root in its namespace."""
    from budget_core.xmlsafe import doctype_refused

    if root.getroottree().docinfo.doctype:
        raise doctype_refused(name)
    namespace, _, local = str(root.tag).lstrip("{").rpartition("}")
    check_root_name(namespace, local, name, root.sourceline or 0)


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


def _line(mapper: LineMapper, values: dict[str, str], section_hint: str, line_number: int,
          name: str) -> Line:
    """Map one `LigneBudget` from its children's values ({local name: V})."""
    nature = values.get("Nature", "")
    direction = values.get("CodRD", "")
    where = f"LigneBudget ligne {line_number}"
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
    return mapper.map(raw, amounts, line_number)
