"""Comprendre un budget: what a collectivité's budget is made of, with its own figures."""

import streamlit as st

from app_pages.catalogue import picker_index
from app_pages.common import pick_document, source_notes, summary, workshop_mode
from app_pages.filters import DOCUMENT_WIDGETS, document_key, picked_apart
from budget_core import analysis, indicators
from budget_core.fmt import compact_euros, euros, md_escape, percent
from budget_core.model import EXECUTED_STAGES, STAGE_LABELS, STAGES
from budget_core.selection import document_label, ordered

st.title("Comprendre un budget")
workshop_mode()
st.markdown(
    "Le budget d'une collectivité (commune, intercommunalité, département, région) est l'acte "
    "par lequel son assemblée **prévoit et autorise** les recettes et les dépenses d'une "
    "année. Cette page l'explique pas à pas, avec les chiffres du budget choisi.")
index = picker_index()
doc = picked_apart(lambda: pick_document(index, *st.columns([1, 3]), *st.columns(3)),
                   document_key, "comprendre_drawn", DOCUMENT_WIDGETS)
if doc is None:
    st.info("Aucun budget n'est chargé. Ajoutez un fichier depuis la page Données.")
    st.stop()

key, stage = str(doc["doc_key"]), str(doc["stage"])
parts = summary(analysis.overview, [key])
done = stage in EXECUTED_STAGES
verb = "a reçu" if done else "prévoit de recevoir"
spent = "a dépensé" if done else "prévoit de dépenser"
name = md_escape(f"{doc['entity_name']} — {doc['budget_label']}")
st.subheader(f"{name} — {md_escape(document_label(doc))}")
budget = index.rows_of(doc["siret"])
source_notes(budget[budget["doc_key"] == key])


def amounts(shown: dict[str, str]) -> None:
    """One metric per part of `analysis.overview`, side by side: label → key."""
    for box, (label, part) in zip(st.columns(len(shown)), shown.items(), strict=True):
        box.metric(label, compact_euros(parts[part]), help=f"{label} : {euros(parts[part], 2)}")


# Each section's heading and text are one element: Streamlit sends and the browser draws
# every element again at each change of budget (issue 13).
st.markdown(
    "### 1. Deux sections, comme un ménage\n\n"
    "- **Fonctionnement** : la vie courante, chaque année (salaires, entretien, subventions "
    "aux associations, intérêts de la dette), payée par les impôts locaux, les dotations de "
    "l'État et les services vendus.\n"
    "- **Investissement** : ce qui dure (écoles, voirie, équipements) et le remboursement du "
    "capital des emprunts, payé par l'épargne dégagée en fonctionnement, des subventions et "
    "l'emprunt.")
amounts({"Recettes de fonctionnement": "recette_fonctionnement",
         "Dépenses de fonctionnement": "depense_fonctionnement",
         "Recettes d'investissement": "recette_investissement",
         "Dépenses d'investissement": "depense_investissement"})
st.caption(f"En {doc['year']}, ce budget {verb} et {spent} ces montants (opérations réelles, "
           "hors résultats reportés).")

table = summary(analysis.by_chapter, [key])
spending = table[table["direction"] == "depense"].head(3)
total = table.loc[table["direction"] == "depense", "amount"].sum()
largest = []
for row in spending.to_dict("records"):
    share = float(row["amount"]) / float(total) if total else None
    largest.append(f"- **{md_escape(row['chapter_code'])} — {md_escape(row['chapter_label'])}"
                   f"** : {euros(row['amount'])} ({percent(share)} des dépenses réelles)")
st.markdown(
    "### 2. Des chapitres, puis des articles\n\n"
    "Les dépenses et les recettes sont classées **par nature** selon une nomenclature "
    f"comptable (ici {md_escape(doc['nomenclature'])}) : des **chapitres** (« 011 — Charges "
    "à caractère "
    "général », « 012 — Charges de personnel »...), découpés en articles. L'assemblée vote "
    "les crédits par chapitre. Les plus gros chapitres de dépenses de ce budget :\n\n"
    + "\n".join(largest))
st.caption("La page « Explorer un budget » montre tous les chapitres, et la répartition par "
           "politique publique (fonction) quand le document la présente.")

st.markdown(
    "### 3. Une année, plusieurs documents\n\n"
    "- **BP — budget primitif** : voté avant ou au début de l'année, il prévoit et autorise.\n"
    "- **BS — budget supplémentaire** : reprend les résultats de l'année précédente.\n"
    "- **DM — décisions modificatives** : ajustent les crédits en cours d'année ; chacune est "
    "un document à part, qu'on n'additionne pas avec les autres.\n"
    "- **CA — compte administratif** : ce qui a réellement été dépensé et reçu.\n"
    "- **CFU — compte financier unique** : remplace le compte administratif et le compte de "
    "gestion du comptable public (généralisé à partir des comptes 2024).")
mine = ordered(budget)
held = [f"{document_label(row)}" for row in mine.to_dict("records")]
stages_here = [s for s in STAGES if s in set(mine["stage"])]
st.caption("Documents chargés pour ce budget : " + md_escape(", ".join(held)) + ".\n\n"
           "Étapes présentes : " + ", ".join(STAGE_LABELS[s] for s in stages_here) + ".")

st.markdown(
    "### 4. Opérations réelles et opérations d'ordre\n\n"
    "Les **opérations réelles** sont de l'argent qui entre ou sort des caisses. Les "
    "**opérations d'ordre** sont des écritures internes (amortissements, virement de la "
    "section de fonctionnement à l'investissement) : inscrites à la fois en dépense et en "
    "recette, elles ne sont pas des flux d'argent et les additionner aux opérations réelles "
    "compterait deux fois les mêmes montants. Les **résultats reportés** (lignes 001 et 002) "
    "sont l'excédent ou le déficit des années passées, pas l'argent de l'année.")
amounts({"Opérations d'ordre (dépenses)": "ordre_depense",
         "Opérations d'ordre (recettes)": "ordre_recette",
         "Excédents reportés (recettes 001/002)": "reporte_recette",
         "Déficits reportés (dépenses 001/002)": "reporte_depense"})

st.markdown("### 5. L'épargne : ce qui reste pour investir")
values = summary(indicators.from_lines, [key])
e1, e2, e3 = st.columns(3)
for box, item in zip((e1, e2, e3), ("epargne_brute", "epargne_nette", "taux_epargne_brute"),
                     strict=True):
    indicator = indicators.BY_KEY[item]
    shown = percent(values[item]) if indicator.unit == "%" else compact_euros(values[item])
    box.metric(indicator.label, shown)
    box.caption(indicator.definition)
if not done:
    st.caption("Budget voté : ce sont des montants prévus ; le compte administratif (ou le "
               "CFU) dira ce qui a été réalisé.")
