"""Hardened XML parsing: no entity resolution, no DTD loading, no network.

Budget documents come from the internet; a DTD with external entities (XXE) or nested
entities (billion laughs) must never be expanded.
"""

from __future__ import annotations

from lxml import etree

SAFE_OPTIONS = {
    "resolve_entities": False,
    "load_dtd": False,
    "no_network": True,
    "dtd_validation": False,
    "huge_tree": False,
}


def safe_parser() -> etree.XMLParser:
    """A parser for whole small files (plans de comptes)."""
    return etree.XMLParser(remove_blank_text=True, **SAFE_OPTIONS)
