"""The metadata sheet of a budget dataset, as data.gouv.fr (udata) fields and as DCAT.

Built from the documents themselves (who, which years and stages), ready to paste into the
portal's form or to send with its API (`POST /api/1/datasets/`).
"""

from __future__ import annotations

from collections.abc import Sequence

from budget_core.model import STAGE_LABELS, DocumentInfo
from budget_core.scdlwrite import SCHEMA_VERSION

LICENCE_ID = "lov2"  # data.gouv.fr's id of the Licence Ouverte / Open Licence 2.0
LICENCE_URL = "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"
SCHEMA_URL = f"https://schema.data.gouv.fr/scdl/budget/{SCHEMA_VERSION}/"


def dataset_metadata(documents: Sequence[DocumentInfo]) -> dict[str, object]:
    """udata fields of the dataset publishing these documents, with a DCAT version."""
    if not documents:
        raise ValueError("no document to describe")
    first = documents[0]
    years = sorted({d.year for d in documents})
    stages = [s for s in STAGE_LABELS if s in {d.stage for d in documents}]
    budgets = sorted({d.budget_label for d in documents})
    span = f"{years[0]}" if len(years) == 1 else f"{years[0]}-{years[-1]}"
    title = f"Budgets de {first.entity_name.title()} ({span})"
    description = (
        f"Données budgétaires de {first.entity_name} (SIREN {first.siren}) : "
        + ", ".join(STAGE_LABELS[s].lower() for s in stages)
        + f" pour {'l’exercice' if len(years) == 1 else 'les exercices'} "
        + ", ".join(map(str, years)) + ". Budgets : " + ", ".join(budgets) + ". "
        f"Publiées au format TOTEM (XML, document budgétaire transmis au contrôle de légalité) "
        f"et au format SCDL budget {SCHEMA_VERSION} (CSV, une ligne par article), "
        f"nomenclature {first.nomenclature} ({first.declinaison}). Données personnelles des "
        "annexes occultées (article L311-7 du CRPA).")
    keywords = ["budget", "finances-locales", "scdl", "totem", first.entity_type,
                *(STAGE_LABELS[s].lower() for s in stages)]
    return {
        "title": title,
        "description": description,
        "organization": {"name": first.entity_name, "siren": first.siren},
        "license": LICENCE_ID,
        "frequency": "annual",
        "temporal_coverage": {"start": f"{years[0]}-01-01", "end": f"{years[-1]}-12-31"},
        "tags": keywords,
        "schema": {"name": "scdl/budget", "version": SCHEMA_VERSION},
        "dcat": {
            "@context": {"dcat": "http://www.w3.org/ns/dcat#",
                         "dct": "http://purl.org/dc/terms/"},
            "@type": "dcat:Dataset",
            "dct:title": title,
            "dct:description": description,
            "dct:publisher": {"@type": "foaf:Organization", "foaf:name": first.entity_name,
                              "dct:identifier": first.siren},
            "dct:license": LICENCE_URL,
            "dct:accrualPeriodicity": "http://purl.org/cld/freq/annual",
            "dct:temporal": {"dcat:startDate": f"{years[0]}-01-01",
                             "dcat:endDate": f"{years[-1]}-12-31"},
            "dcat:keyword": keywords,
            "dct:conformsTo": SCHEMA_URL,
        },
    }
