"""Financial health indicators, with their official definitions (DGCL / OFGL) in plain French.

They are computed two ways: from the OFGL aggregated accounts (agrégats « Epargne brute »,
« Encours de dette »...) and, where we hold an entity's own CA/CFU lines, from those lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pandas as pd

from budget_core.analysis import select


@dataclass(frozen=True)
class Indicator:
    key: str
    label: str
    unit: str  # "€", "%", "années", "€/hab"
    definition: str


INDICATORS = (
    Indicator("epargne_gestion", "Épargne de gestion", "€",
              "Recettes réelles de fonctionnement moins dépenses réelles de fonctionnement "
              "hors intérêts de la dette : ce que la gestion courante dégage."),
    Indicator("epargne_brute", "Épargne brute (CAF brute)", "€",
              "Épargne de gestion moins les intérêts de la dette, soit recettes réelles moins "
              "dépenses réelles de fonctionnement, sans les résultats reportés (002) ni les "
              "produits de cessions : ce qui reste pour rembourser la dette et investir."),
    Indicator("epargne_nette", "Épargne nette", "€",
              "Épargne brute moins le remboursement en capital de la dette (chapitre 16 hors "
              "refinancements et crédits revolving) : ce qui reste pour investir sans emprunter."),
    Indicator("taux_epargne_brute", "Taux d'épargne brute", "%",
              "Épargne brute rapportée aux recettes réelles de fonctionnement. Sous 7 à 8 %, "
              "les finances sont généralement jugées tendues."),
    Indicator("capacite_desendettement", "Capacité de désendettement", "années",
              "Encours de la dette au 31 décembre divisé par l'épargne brute : le nombre "
              "d'années qu'il faudrait pour rembourser toute la dette en y consacrant toute "
              "l'épargne brute. Instable quand l'épargne brute est proche de zéro, sans sens "
              "quand elle est négative."),
    Indicator("dette_par_habitant", "Dette par habitant", "€/hab",
              "Encours de la dette au 31 décembre divisé par la population."),
)
BY_KEY = {indicator.key: indicator for indicator in INDICATORS}

# OFGL agrégats used (labels of the « Agrégat » column of the ofgl-base-* datasets).
OFGL_AGREGATS = {"epargne_gestion": "Epargne de gestion", "epargne_brute": "Epargne brute",
                 "epargne_nette": "Epargne nette", "rrf": "Recettes de fonctionnement",
                 "encours": "Encours de dette"}

CESSIONS = ("775",)  # produits des cessions d'immobilisations
INTERESTS = ("6611",)  # intérêts réglés à l'échéance et ICNE
DEBT_EXCLUDED = ("166", "1645", "16449")  # refinancements, crédits revolving


def ratios(values: dict[str, float | None], population: float | None) -> dict[str, float | None]:
    """Rate, years and per-inhabitant indicators from épargnes, RRF and encours."""
    brute, rrf, encours = values.get("epargne_brute"), values.get("rrf"), values.get("encours")
    out = {key: values.get(key) for key in ("epargne_gestion", "epargne_brute",
                                            "epargne_nette")}
    out["taux_epargne_brute"] = brute / rrf if brute is not None and rrf else None
    out["capacite_desendettement"] = (encours / brute if encours is not None and brute
                                      and brute > 0 else None)
    out["dette_par_habitant"] = (encours / population if encours is not None and population
                                 else None)
    return out


def from_ofgl(frame: pd.DataFrame) -> dict[str, float | None]:
    """Indicators of one entity and year from its OFGL rows (columns `agregat`, `amount`,
    `population`). A missing agrégat stays None: missing is not zero."""
    amounts = frame.groupby("agregat")["amount"].sum(min_count=1)
    values = {key: (float(amounts[label]) if label in amounts.index
                    and pd.notna(amounts[label]) else None)
              for key, label in OFGL_AGREGATS.items()}
    population = frame["population"].dropna()
    return ratios(values, float(population.iloc[0]) if len(population) else None)


def _sum(lines: pd.DataFrame, direction: str, section: str,
         natures: tuple[str, ...] = (), excluded: tuple[str, ...] = ()) -> Decimal:
    part = lines[(lines["direction"] == direction) & (lines["section"] == section)]
    codes = part["nature_code"].astype(str)
    if natures:
        part = part[codes.str.startswith(natures)]
        codes = part["nature_code"].astype(str)
    if excluded:
        part = part[~codes.str.startswith(excluded)]
    return Decimal(part["amount"].sum())


def from_lines(lines: pd.DataFrame, population: float | None = None,
               encours: float | None = None) -> dict[str, float | None]:
    """The same indicators from a document's own lines (real operations, no carry-over), on
    the stage's main amount: réalisé for a CA/CFU, voté (prévisionnel) for a BP, BS or DM.

    The debt outstanding is not a budget line: pass it (from OFGL or the annex) to get the
    debt ratios, else they stay None.
    """
    real = select(lines)
    rrf = _sum(real, "recette", "fonctionnement", excluded=CESSIONS)
    drf = _sum(real, "depense", "fonctionnement")
    interests = _sum(real, "depense", "fonctionnement", natures=INTERESTS)
    repayments = _sum(real, "depense", "investissement", natures=("16",),
                      excluded=DEBT_EXCLUDED)
    brute = rrf - drf
    values = {"epargne_gestion": float(brute + interests), "epargne_brute": float(brute),
              "epargne_nette": float(brute - repayments), "rrf": float(rrf),
              "encours": encours}
    return ratios(values, population)
