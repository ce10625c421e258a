"""Hardened XML parsing: no entity resolution, no DTD loading, no network.

Budget documents come from the internet; a DTD with external entities (XXE) or nested
entities (billion laughs) must never be expanded.

Two parsers, each where it serves best:
- `expat_parser`, the standard library's expat, for the streaming reader of TOTEM documents
  (`totem.TotemLines`, behind `convert`, `inspect`, `validate` and the app's reading): expat
  itself never opens a file or a URL (only a Python handler for external entities could, and
  none is set), parameter entities are never parsed, and the parser refuses any document
  declaring a DTD at its `<!DOCTYPE`, before an entity can even be declared.
- `safe_parser`, lxml with every option that loads or expands off, for the whole small files
  parsed into a tree (plans de comptes) and the anonymiser, which writes the tree back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from xml.parsers import expat

from budget_core.errors import FormatError

if TYPE_CHECKING:
    from lxml import etree

SAFE_OPTIONS = {
    "resolve_entities": False,
    "load_dtd": False,
    "no_network": True,
    "dtd_validation": False,
    "huge_tree": False,
}
NAMESPACE_SEPARATOR = "}"  # expat names elements "namespace}local"
# What expat may hold of one unfinished token (a tag and its attributes) before we refuse the
# document: the limit libxml2 sets on a text node without huge_tree, far above any TOTEM tag.
MAX_TOKEN_BYTES = 10_000_000
# Elements open at once: libxml2's default limit, which lxml applied; TOTEM nests 6 deep. Expat
# has none, and holds about 130 bytes for each open element.
MAX_DEPTH = 256
XmlError = expat.ExpatError
_ENCODING_ERRORS = {expat.errors.codes[message] for message in
                    (expat.errors.XML_ERROR_UNKNOWN_ENCODING,
                     expat.errors.XML_ERROR_INCORRECT_ENCODING)}
_INVALID_TOKEN = expat.errors.codes[expat.errors.XML_ERROR_INVALID_TOKEN]
# expat's messages of the errors a cut or hand-edited document gives, in French
_FRENCH = {expat.errors.codes[english]: french for english, french in (
    (expat.errors.XML_ERROR_NO_ELEMENTS, "le document s'arrête avant la fin de ses éléments"),
    (expat.errors.XML_ERROR_UNCLOSED_TOKEN, "balise non terminée"),
    (expat.errors.XML_ERROR_INVALID_TOKEN, "caractère ou balise invalide"),
    (expat.errors.XML_ERROR_TAG_MISMATCH, "balise fermante qui ne correspond pas"),
    (expat.errors.XML_ERROR_JUNK_AFTER_DOC_ELEMENT, "contenu après la fin du document"),
    (expat.errors.XML_ERROR_UNDEFINED_ENTITY, "entité non définie"),
    (expat.errors.XML_ERROR_UNBOUND_PREFIX, "préfixe d'espace de noms non déclaré"),
    (expat.errors.XML_ERROR_DUPLICATE_ATTRIBUTE, "attribut en double"))}


def safe_parser() -> etree.XMLParser:
    """A parser for whole small files (plans de comptes)."""
    from lxml import etree  # 5 ms to load: not for the commands that only stream TOTEM

    return etree.XMLParser(remove_blank_text=True, **SAFE_OPTIONS)


def doctype_refused(name: str) -> FormatError:
    return FormatError("le document déclare une DTD (<!DOCTYPE>), refusée par sécurité.",
                       source=name, hint="Un document TOTEM n'a pas de DTD : supprimez la "
                       "déclaration ou demandez un export standard.")


def expat_parser(name: str) -> expat.XMLParserType:
    """A namespace-aware expat parser of the document `name` that refuses any DTD."""
    parser = expat.ParserCreate(namespace_separator=NAMESPACE_SEPARATOR)
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def refuse(*_: object) -> None:
        raise doctype_refused(name)

    parser.StartDoctypeDeclHandler = refuse
    return parser


def unknown_encoding(exc: LookupError, name: str) -> FormatError:
    """Our error for an XML declaration naming an encoding no codec knows (expat hands Python
    the names it does not know itself: `encoding="I-SO-8859-1"` raised LookupError)."""
    declared = str(exc).removeprefix("unknown encoding: ")
    return FormatError(f"encodage « {declared} » inconnu, déclaré en tête du document.",
                       source=name, where="ligne 1",
                       hint="Corrigez la déclaration (encoding=\"UTF-8\" ou \"ISO-8859-1\") "
                            "ou demandez à l'éditeur un export standard.")


def xml_error(exc: expat.ExpatError, parser: expat.XMLParserType, window: bytes, offset: int,
              name: str) -> FormatError:
    """Our error for a document expat could not parse. `window` holds the bytes fed last,
    from byte `offset` of the file: a byte above 127 where expat found an invalid token
    means the file is not in the encoding it declares (UTF-8 when it declares none)."""
    column = f"colonne {exc.offset + 1}"
    index = parser.ErrorByteIndex - offset
    if exc.code == _INVALID_TOKEN and 0 <= index < len(window) and window[index] > 127:
        message = (f"encodage incohérent (octet 0x{window[index]:02X} en {column}) : le "
                   "fichier ne respecte pas l'encodage qu'il déclare.")
    elif exc.code in _ENCODING_ERRORS:
        message = (f"encodage incohérent ({expat.ErrorString(exc.code)}) : le fichier "
                   "déclare un encodage que nous ne savons pas lire.")
    else:
        reason = _FRENCH.get(exc.code) or expat.ErrorString(exc.code) or str(exc)
        message = f"XML mal formé ({reason}, {column})."
    return FormatError(message, source=name, where=f"ligne {exc.lineno}",
                       hint="Le fichier est tronqué ou mal formé : téléchargez-le à nouveau "
                            "ou demandez à l'éditeur un export complet.")
