"""One exception tree for everything the library refuses, with French messages.

Every message says what is wrong, where (file, line or element) and what to do, because
it is shown as is to users of the app and of the CLI.
"""

from __future__ import annotations


class BudgetError(Exception):
    """Base of every error the library raises on purpose."""

    def __init__(self, message: str, *, source: str | None = None, where: str | None = None,
                 hint: str | None = None) -> None:
        self.message = message
        self.source = source
        self.where = where
        self.hint = hint
        super().__init__(self.french())

    def french(self) -> str:
        """The full message in French: what, where, what to do."""
        parts = []
        if self.source:
            parts.append(f"Fichier « {self.source} »")
        if self.where:
            parts.append(self.where)
        prefix = " — ".join(parts)
        text = f"{prefix} : {self.message}" if prefix else self.message
        if self.hint:
            text += f" Que faire : {self.hint}"
        return text


class FormatError(BudgetError):
    """The input is not a readable budget document (bad XML, bad CSV, wrong encoding...)."""


class NomenclatureError(BudgetError):
    """The nomenclature (M14, M57...) of a document is unknown or has no plan de comptes."""


class PortalError(BudgetError):
    """A portal answered badly or could not be reached."""


class CacheError(BudgetError):
    """The local cache could not be read or written."""
