"""Mask personal data in a TOTEM document before it is published.

The annex blocks that can name natural persons have those fields replaced by the masking text
used by the DGFiP tooling (« Occultation Article L311-7 CRPA »); legal persons (associations,
companies, public bodies) stay named; amounts, structure and every budget line (`LigneBudget`)
are left untouched. The output is the same XML schema, in the document's own encoding.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from lxml import etree

from budget_core.errors import FormatError
from budget_core.totem import check_root
from budget_core.xmlsafe import SAFE_OPTIONS

MASK = "Occultation Article L311-7 CRPA"

# block → fields masked in every occurrence of the block.
ALWAYS = {
    "PERSONNEL": ("RemunAgent",),
    "PRET": ("NomBenefPret",),
    "ORGANISME_ENG": ("NomOrgEng", "RSOrgEng"),
    "PROVISION": ("LibNatProv", "LibObjProv"),
    "CREDIT_BAIL": ("LibCredBail",),
    "DETTE": ("LibTypDette",),
    "PJRef": ("NomPJ",),
    "MEMBREASA": ("Proprietaire",),
}
# block → (fields, the test telling that the beneficiary may be a natural person).
CONDITIONAL = {
    # subsidies: natural person when the legal nature is missing or P3 (personne physique)
    "CONCOURS": (("LibOrgaBenef", "DenomOuNumSubv", "LibPrestaNat", "ObjSubv"),
                 lambda codes: codes.get("CodNatJurBenefCA", "P3") == "P3"),
    # other commitments: anything but a public legal person (U)
    "AUTRE_ENGAGEMENT": (("NomOrgaBenef", "NatEng"),
                         lambda codes: codes.get("CodTypPersoMorale") != "U"),
}


@dataclass
class AnonymisationReport:
    masked: Counter[tuple[str, str]] = field(default_factory=Counter)
    kept_legal_persons: int = 0

    @property
    def total(self) -> int:
        return sum(self.masked.values())

    def french(self) -> str:
        lines = [f"{self.total} champ(s) occulté(s) ; {self.kept_legal_persons} bénéficiaire(s) "
                 "personne(s) morale(s) laissé(s) nommé(s)."]
        lines += [f"  {block}/{name} : {count}"
                  for (block, name), count in sorted(self.masked.items())]
        return "\n".join(lines)


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _mask(element: etree._Element, block: str, report: AnonymisationReport) -> None:
    if element.get("V") not in (None, "", MASK):
        element.set("V", MASK)
        report.masked[(block, _local(element))] += 1


def anonymise_totem(data: bytes, name: str) -> tuple[bytes, AnonymisationReport]:
    """The masked document (same encoding) and what was masked."""
    parser = etree.XMLParser(**SAFE_OPTIONS)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise FormatError(f"XML mal formé ({exc.msg}).", source=name,
                          where=f"ligne {exc.lineno}",
                          hint="Anonymisez le document complet exporté du logiciel "
                               "financier.") from exc
    check_root(root, name)
    tree = root.getroottree()
    report = AnonymisationReport()
    for element in root.iter():
        block = _local(element)
        if block == "Champ_Editeur":
            _mask(element, block, report)
        elif block in ALWAYS:
            for child in element:
                if _local(child) in ALWAYS[block]:
                    _mask(child, block, report)
        elif block in CONDITIONAL:
            fields, natural = CONDITIONAL[block]
            codes = {_local(c): c.get("V", "") for c in element}
            if natural(codes):
                for child in element:
                    if _local(child) in fields:
                        _mask(child, block, report)
            else:
                report.kept_legal_persons += 1
    encoding = tree.docinfo.encoding or "UTF-8"
    return etree.tostring(tree, xml_declaration=True, encoding=encoding), report
