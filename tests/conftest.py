"""Shared fixtures: the real documents of tests/fixtures (see fixtures/PROVENANCE.md)."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest

from budget_core.formats import read_documents
from budget_core.model import BudgetDocument
from budget_core.store import Store
from budget_core.totem import read_totem

FIXTURES = Path(__file__).parent / "fixtures"
TOTEM = FIXTURES / "totem"
TOTEM_FILES = sorted(TOTEM.glob("*.xml"))


@pytest.fixture(params=TOTEM_FILES, ids=lambda p: p.stem)
def totem_path(request: pytest.FixtureRequest) -> Path:
    return request.param


@functools.cache
def parsed(path: Path) -> BudgetDocument:
    """Each real document is parsed once per test run; tests must not modify the result."""
    return read_totem(path)


# The tests' portals run on 127.0.0.1, which the HTTP client refuses unless allowed (the one
# opt-in of SECURITY.md). Tests of that refusal unset it with monkeypatch.
os.environ.setdefault("BUDGET_ALLOWED_PRIVATE_HOSTS", "127.0.0.1,localhost")


# Markdown and HTML a collectivité name could carry: an outside image every visitor's browser
# would fetch, a javascript: link, Streamlit's coloured text, HTML.
HOSTILE_NAME = ("![p](http://127.0.0.1:9/t.png) [clic](javascript:alert(1)) :red[rouge] "
                "<b>gras</b>")
HOSTILE_RAW = ("![p](", "[clic](", ":red[", "<b>", "![n](")


def hostile_store(folder: Path) -> Store:
    """A store in `folder` holding the real Crach CA 2021 with HOSTILE_NAME as the
    collectivité's name and an image in its nomenclature, beside the real lotissement CA."""
    original = (TOTEM / "crach_principal_CA_2021.xml").read_text("iso-8859-1")
    hostile = folder / "hostile.xml"
    hostile.write_text(original.replace(
        '<LibelleColl V="CRACH"', '<LibelleColl V="' + HOSTILE_NAME.replace("<", "&lt;")
        .replace(">", "&gt;") + '"').replace(
        '<Nomenclature V="M14-', '<Nomenclature V="![n](http://127.0.0.1:9/n.png)-'),
        "iso-8859-1")
    store = Store(folder / "store")
    store.add(read_documents(hostile))
    store.add(read_documents(TOTEM / "crach_lotissement_CA_2021.xml"))
    return store
