"""Command line: everything the app does, scriptable. `python -m budget_core --help`."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from budget_core.errors import BudgetError, PortalError
from budget_core.model import ENTITY_TYPES, LEVELS, STAGE_LABELS, STAGES

if TYPE_CHECKING:
    from budget_core.balances import BalanceStore, ImportReport
    from budget_core.national import NationalStore
    from budget_core.sources import PublishedResource
    from budget_core.summary import Summary

# Each command imports what it needs when it runs: `convert` or `inspect` of a TOTEM document
# loads the standard library's expat, not lxml, pandas, pyarrow, DuckDB, frictionless nor
# requests (tests/test_convert.py).


def describe(summary: Summary) -> dict[str, object]:
    """What a document is, as plain data (the `inspect` output)."""
    info = summary.info
    return {
        "fichier": info.source_file,
        "format": info.source_format,
        "sha256": info.source_sha256,
        "collectivite": info.entity_name,
        "type": info.entity_type,
        "siret": info.siret,
        "budget": f"{info.budget_label} ({info.budget_kind})",
        "annee": info.year,
        "etape": f"{info.stage} — {STAGE_LABELS[info.stage]}",
        "nomenclature": f"{info.nomenclature} / {info.declinaison}",
        "plan_de_comptes": info.plan_year,
        "lignes": summary.sums.count,
        "lignes_calculees_ignorees": summary.calculated_lines_skipped,
        "totaux": [
            {"section": section, "sens": direction, "operations": kind, "montant": str(amount)}
            for (section, direction, kind), amount in sorted(summary.sums.amount.items())
        ],
        "avertissements": summary.warnings,
    }


def cmd_inspect(args: argparse.Namespace) -> int:
    from budget_core.fmt import euros
    from budget_core.summary import file_summaries

    described = [describe(s) for s in file_summaries(Path(args.file),
                                                     nomenclature=args.nomenclature)]
    if args.json:
        print(json.dumps(described, ensure_ascii=False, indent=2))
        return 0
    for item in described:
        for key, value in item.items():
            if key == "totaux":
                print("totaux (montant principal de l'étape) :")
                for total in value:  # type: ignore[attr-defined]
                    print(f"  {total['section']:<15} {total['sens']:<8} "
                          f"{total['operations']:<6} {euros(Decimal(total['montant']), 2):>22}")
            elif key == "avertissements":
                for warning in value:  # type: ignore[attr-defined]
                    print(f"avertissement : {warning}")
            else:
                print(f"{key} : {value}")
        print()
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    from budget_core.convert import convert_file
    from budget_core.fsutil import output_path

    output = output_path(Path(args.output), Path(args.file))
    rows = convert_file(Path(args.file), output, nomenclature=args.nomenclature)
    print(f"{rows} lignes écrites dans {args.output} (SCDL budget 0.8.3)")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from budget_core.demo import build_demo

    store = build_demo(sources=args.sources)
    print(f"{len(store.documents())} documents dans le jeu de démonstration {store.folder}")
    return 0


def cmd_cache(args: argparse.Namespace) -> int:
    from budget_core.cache import Cache
    from budget_core.config import settings

    config = settings()
    resources = Cache(config.cache_dir).resources()
    print(f"Cache {config.cache_dir} : {len(resources)} ressources publiées connues")
    for row in resources.to_dict("records"):
        error = f" — {row['error']}" if row["error"] else ""
        print(f"  [{row['status']}] {row['source']:<14} {row['url']}{error}")
    store = config.store()
    documents = store.documents()
    held = documents["store_dir"].value_counts(sort=False)
    folders = ", ".join(f"{folder} ({count} documents)" for folder, count in held.items())
    print(f"Données lues par l'application : {folders or store.folder}")
    for doc in documents.sort_values(["entity_name", "year", "stage"]).itertuples():
        print(f"  {doc.entity_name:<32.32} {doc.budget_label:<28.28} {doc.year} {doc.stage:<4}"
              f"{doc.line_count:>6} lignes  {doc.source_file}")
    return 0


def cmd_sources(args: argparse.Namespace) -> int:
    from budget_core.config import settings
    from budget_core.sources import load_portals

    for portal in load_portals(settings().cache_dir):
        state = "" if portal.enabled else " (désactivé : --source pour le synchroniser)"
        print(f"{portal.name:<16} {portal.kind:<13} {portal.url}{state}")
        if portal.description:
            print(f"{'':<16} {portal.description}")
    return 0


def _progress(number: int, total: int, resource: PublishedResource) -> None:
    width = 30
    done = width * number // total
    print(f"\r[{'#' * done}{'.' * (width - done)}] {number}/{total} {resource.title[:40]:<40}",
          end="" if number < total else "\n", file=sys.stderr, flush=True)


def cmd_sync(args: argparse.Namespace) -> int:
    from budget_core.cache import Cache, SyncFilter
    from budget_core.config import settings
    from budget_core.http import Http, make_session
    from budget_core.sources import load_portals, source_for

    config = settings()
    portals = load_portals(config.cache_dir)
    if args.source:
        portals = [p for p in portals if p.name == args.source]
        if not portals:
            raise PortalError(f"aucun portail nommé « {args.source} » dans le registre.",
                              hint="La commande « sources » liste les portails connus.")
    else:
        portals = [p for p in portals if p.enabled]
    http = Http(make_session(), timeout=args.timeout)
    only = SyncFilter(year=args.year, entity_type=args.type, region=args.region)
    summary = Cache(config.cache_dir).sync([source_for(p) for p in portals], http, only=only,
                                           progress=_progress)
    print(summary.french())
    return 1 if summary.failed and not (summary.new or summary.updated or summary.unchanged) \
        else 0


def cmd_validate(args: argparse.Namespace) -> int:
    from budget_core.validate import validate_file

    report = validate_file(Path(args.file))
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2, default=str))
    else:
        print(report.french())
    return 0 if report.valid else 1


def cmd_anonymise(args: argparse.Namespace) -> int:
    from budget_core.anonymise import anonymise_totem
    from budget_core.fsutil import atomic_write_bytes, output_path, read_file

    source = Path(args.file)
    output = output_path(Path(args.output), source)
    masked, report = anonymise_totem(read_file(source), source.name)
    atomic_write_bytes(output, masked)
    print(report.french())
    print(f"Document anonymisé écrit dans {args.output}")
    return 0


def cmd_metadata(args: argparse.Namespace) -> int:
    from budget_core.formats import read_documents
    from budget_core.metadata import dataset_metadata

    documents = [d.info for file in args.files for d in read_documents(Path(file))]
    print(json.dumps(dataset_metadata(documents), ensure_ascii=False, indent=2))
    return 0


def cmd_coverage(args: argparse.Namespace) -> int:
    from budget_core.config import settings
    from budget_core.coverage import commune_coverage
    from budget_core.coverage import summary as coverage_summary
    from budget_core.fmt import percent

    frame = commune_coverage(settings().store().documents(), args.departement,
                             args.stage, args.year)
    published, total, share = coverage_summary(frame)
    if not total:
        raise BudgetError(f"aucune commune connue dans le département « {args.departement} ».",
                          hint="Donnez le code INSEE du département, ex. 10 pour l'Aube, 2A "
                               "pour la Corse-du-Sud, 974 pour La Réunion.")
    print(f"{percent(share)} des communes du département {args.departement} ont publié leur "
          f"{args.stage} {args.year} ({published} sur {total}).")
    for row in frame[frame["published"]].itertuples():
        print(f"  {row.insee} {row.name}")
    return 0


def cmd_national(args: argparse.Namespace) -> int:
    from budget_core.config import settings
    from budget_core.fsutil import read_file
    from budget_core.national import NationalStore

    if not (args.file or args.year):
        raise BudgetError("rien à faire : ni exercice (--year) ni fichier (--file) demandé.",
                          hint="Ajoutez --year 2023 (répétable) pour télécharger des exercices "
                               "depuis data.ofgl.fr, ou --file export.csv pour importer un "
                               "export déjà téléchargé.")
    config = settings()
    with NationalStore(config.cache_dir / "national", threads=config.duckdb_threads) as store:
        if args.file:
            years = store.add_export(args.level, read_file(Path(args.file)), args.file)
        else:
            years = _download_national(store, args, config.cache_dir)
        print(f"{args.level} : {len(years)} année(s) ajoutée(s) "
              f"({', '.join(map(str, years))}) ; "
              f"en cache : {', '.join(map(str, store.years(args.level)))}")
    return 0


def _download_national(store: NationalStore, args: argparse.Namespace,
                       cache_dir: Path) -> list[int]:
    from budget_core.http import Http, make_session
    from budget_core.sources import load_portals

    portal = next((p.url for p in load_portals(cache_dir) if p.name == args.source), None)
    if portal is None:
        raise PortalError(f"aucun portail nommé « {args.source} » dans le registre.")

    def progress(level: str, number: int, total: int) -> None:
        print(f"\r{level} : année {number}/{total}", end="", file=sys.stderr, flush=True)

    years = store.download(Http(make_session(), timeout=args.timeout), portal, args.level,
                           args.year, progress=progress)
    print(file=sys.stderr)
    return years


def cmd_search(args: argparse.Namespace) -> int:
    from budget_core.config import settings
    from budget_core.fmt import number
    from budget_core.search import search_collectivites

    found = search_collectivites(args.query, args.limit, settings().store().documents())
    if args.json:
        print(json.dumps([{**r.__dict__, "label": r.label()} for r in found],
                         ensure_ascii=False, indent=2))
    for r in [] if args.json else found:
        population = f"{number(r.population)} hab." if r.population else "population inconnue"
        held = f"{r.documents} document(s)" if r.documents else "aucun document publié ici"
        codes = "  ".join(filter(None, [f"INSEE {r.code}" if r.kind == "commune" else "",
                                        f"SIREN {r.siren}"]))
        print(f"{r.label()}  [{r.kind_label()}]  {codes}  {population}  {held}"
              + (f"  (trouvé par : {r.found_by})" if r.found_by else ""))
    if not found:
        print(f"Aucune collectivité ne correspond à « {args.query} ».", file=sys.stderr)
    elif not args.json and any(r.documents == 0 for r in found):
        print("Sans document ici : `python -m budget_core sync` télécharge les budgets publiés "
              "sur les portails ; `python -m budget_core national` les comptes agrégés OFGL.")
    return 0 if found else 1


def cmd_balances(args: argparse.Namespace) -> int:
    from budget_core.balances import BalanceStore
    from budget_core.config import settings

    config = settings()
    with BalanceStore(config.balances_dir, threads=config.duckdb_threads) as store:
        if args.action == "import":
            report = store.import_csv(Path(args.file), args.level)
        else:
            report = _download_balances(store, args, config.cache_dir)
    print(report.french())
    return 0


def _download_balances(store: BalanceStore, args: argparse.Namespace,
                       cache_dir: Path) -> ImportReport:
    from budget_core.balance_download import download, portal_url
    from budget_core.http import Http, make_session

    portal = args.portal or portal_url(cache_dir, args.source)

    def progress(number: int, total: int, code: str) -> None:
        print(f"\r{args.level} {args.year} : département {number}/{total} ({code})", end="",
              file=sys.stderr, flush=True)

    report = download(store, Http(make_session(), timeout=args.timeout), portal, args.level,
                      args.year, departements=args.departement, progress=progress)
    print(file=sys.stderr)
    return report


def cmd_chapters(args: argparse.Namespace) -> int:
    from budget_core.balances import BalanceStore
    from budget_core.chapters import chapters
    from budget_core.config import settings
    from budget_core.fmt import euros

    config = settings()
    with BalanceStore(config.balances_dir, threads=config.duckdb_threads) as balances:
        found = chapters(args.id, args.year, config.store(), balances)
    rows: list[dict[str, str]] = [
        {"sens": str(r.direction), "section": str(r.section), "code": str(r.code),
         "libelle": str(r.label), "reel": str(r.real), "ordre": str(r.order)}
        for r in found.view.itertuples()]
    if args.json:
        print(json.dumps({"siret": found.siret, "annee": found.year, "source": found.source,
                          "detail": found.detail, "aussi": found.also, "chapitres": rows},
                         ensure_ascii=False, indent=2))
        return 0
    print(f"{found.siret} {found.year} — source : {found.source} ({found.detail})")
    if found.also:
        print(f"  ({found.also})")
    for row in rows:
        print(f"  {row['sens']:<8} {row['section']:<15} {row['code']:<6} {row['libelle'][:40]:<40}"
              f" {euros(Decimal(row['reel']), 2):>20} {euros(Decimal(row['ordre']), 2):>18}")
    return 0


def cmd_peers(args: argparse.Namespace) -> int:
    from budget_core import balance_peers
    from budget_core.balances import BalanceStore
    from budget_core.config import settings
    from budget_core.fmt import euros
    from budget_core.national import NationalStore

    config = settings()
    with BalanceStore(config.balances_dir, threads=config.duckdb_threads) as balances, \
            NationalStore(config.national_dir, threads=config.duckdb_threads) as national:
        group = balance_peers.peers(args.group, args.siren, args.year, national, args.liste)
        if group.missing:
            raise BudgetError(group.missing)
        placed = balance_peers.placement(balances, args.year, args.siren, args.sens, group)
    if placed.empty:
        raise BudgetError(f"aucun montant réel ({args.sens}) du SIREN {args.siren} dans les "
                          f"balances de {args.year}.", hint="Téléchargez l'exercice : python "
                          f"-m budget_core balances download --year {args.year}")
    rows: list[dict[str, Any]] = [
        {"chapitre": str(r["chapter_code"]), "libelle": str(r["chapter_label"]),
         "valeur": float(r["value"]), "mediane": float(r["median"]), "q1": float(r["q1"]),
         "q3": float(r["q3"]), "rang": int(r["rank"]), "communes": int(r["peers"])}
        for r in placed.to_dict("records")]
    if args.json:
        print(json.dumps({"siren": args.siren, "annee": args.year, "sens": args.sens,
                          "groupe": group.label, "chapitres": rows}, ensure_ascii=False,
                         indent=2))
        return 0
    print(f"{args.siren} {args.year} {args.sens}, € par habitant — {group.label}")
    for row in rows:
        print(f"  {row['chapitre']:<6} {row['libelle'][:40]:<40} "
              f"{euros(row['valeur'], 2):>14} médiane {euros(row['mediane'], 2):>14} "
              f"rang {row['rang']}/{row['communes']}")
    return 0


FILE_HELP = "document TOTEM (XML) ou CSV SCDL budget"
NOMENCLATURE_HELP = "pour un CSV SCDL : ex. M57-M57_A"


def _declare_inspect(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("file", help=FILE_HELP)
    sub.add_argument("--json", action="store_true", help="sortie JSON")
    sub.add_argument("--nomenclature", help=NOMENCLATURE_HELP)
    sub.set_defaults(func=cmd_inspect)


def _declare_convert(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("file", help=FILE_HELP)
    sub.add_argument("-o", "--output", required=True, help="CSV à écrire")
    sub.add_argument("--nomenclature", help=NOMENCLATURE_HELP)
    sub.set_defaults(func=cmd_convert)


def _declare_demo(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--sources", type=Path,
                     help="dossier des documents sources (tests/fixtures du dépôt par défaut)")
    sub.set_defaults(func=cmd_demo)


def _declare_sync(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--source", help="un seul portail du registre (par son nom)")
    sub.add_argument("--year", type=int, help="garder les documents de cet exercice")
    sub.add_argument("--type", choices=ENTITY_TYPES, help="garder ce type de collectivité")
    sub.add_argument("--region", help="garder les communes de cette région (code INSEE, "
                                      "ex. 44 pour le Grand Est)")
    sub.add_argument("--timeout", type=float, default=30.0, help="secondes par requête")
    sub.set_defaults(func=cmd_sync)


def _declare_validate(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("file")
    sub.add_argument("--json", action="store_true", help="rapport JSON")
    sub.set_defaults(func=cmd_validate)


def _declare_anonymise(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("file", help="document TOTEM (XML)")
    sub.add_argument("-o", "--output", required=True, help="XML anonymisé à écrire")
    sub.set_defaults(func=cmd_anonymise)


def _declare_metadata(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("files", nargs="+", help="documents du jeu de données")
    sub.set_defaults(func=cmd_metadata)


def _declare_coverage(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--departement", required=True, help="code, ex. 10 pour l'Aube")
    sub.add_argument("--stage", default="CA", choices=STAGES)
    sub.add_argument("--year", type=int, required=True)
    sub.set_defaults(func=cmd_coverage)


def _declare_national(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--level", choices=list(LEVELS), default="communes")
    what = sub.add_mutually_exclusive_group()
    what.add_argument("--year", type=int, action="append", default=[],
                      help="exercice à télécharger (répétable)")
    what.add_argument("--file", help="importer un export CSV déjà téléchargé")
    sub.add_argument("--source", default="data.ofgl.fr", help="portail Opendatasoft")
    sub.add_argument("--timeout", type=float, default=120.0)
    sub.set_defaults(func=cmd_national)


def _declare_search(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("query", help="ex. montreuil, « st denis 974 », 56470, 215600461")
    sub.add_argument("--limit", type=int, default=20)
    sub.add_argument("--json", action="store_true", help="résultats en JSON")
    sub.set_defaults(func=cmd_search)


def _declare_balances(sub: argparse.ArgumentParser) -> None:
    action = sub.add_subparsers(dest="action", required=True)
    load = action.add_parser("import", help="importer un export CSV déjà téléchargé")
    load.add_argument("file")
    fetch = action.add_parser("download", help="télécharger un exercice, par département")
    fetch.add_argument("--year", type=int, required=True)
    fetch.add_argument("--departement", action="append", default=[],
                       help="code ndept sur 3 caractères, ex. 038 (répétable ; tous sinon)")
    fetch.add_argument("--source", default="data.economie.gouv.fr", help="portail du registre")
    fetch.add_argument("--portal", help="adresse d'un portail Opendatasoft (au lieu de --source)")
    fetch.add_argument("--timeout", type=float, default=120.0)
    for leaf in (load, fetch):
        leaf.add_argument("--level", default="communes", help="communes (défaut), gfp, "
                          "departements, regions, syndicats ou epl")
    sub.set_defaults(func=cmd_balances)


def _declare_chapters(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("id", help="SIRET d'un budget ou SIREN (son budget principal)")
    sub.add_argument("--year", type=int, required=True)
    sub.add_argument("--json", action="store_true", help="sortie JSON")
    sub.set_defaults(func=cmd_chapters)


def _declare_peers(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("siren", help="SIREN de la commune")
    sub.add_argument("--year", type=int, required=True)
    sub.add_argument("--group", default="strate", help="strate (défaut), departement, "
                     "region, epci_siren, rural, mountain, touristic, income_band, qpv, all "
                     "ou custom (avec --liste)")
    sub.add_argument("--sens", default="depense", choices=["depense", "recette"])
    sub.add_argument("--liste", action="append", default=[],
                     help="SIREN d'une commune de la liste (--group custom, répétable)")
    sub.add_argument("--json", action="store_true", help="sortie JSON")
    sub.set_defaults(func=cmd_peers)


# Every command, in the order of the help: what it does, how its arguments are declared.
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None]]] = {
    "inspect": ("dire ce qu'est un fichier budgétaire", _declare_inspect),
    "convert": ("convertir en CSV SCDL budget 0.8.3", _declare_convert),
    "demo": ("reconstruire le jeu de démonstration embarqué", _declare_demo),
    "cache": ("lister le cache et les documents lus par l'app",
              lambda sub: sub.set_defaults(func=cmd_cache)),
    "sources": ("lister les portails du registre",
                lambda sub: sub.set_defaults(func=cmd_sources)),
    "sync": ("télécharger les budgets publiés sur les portails", _declare_sync),
    "validate": ("valider un CSV SCDL (ou un TOTEM)", _declare_validate),
    "anonymise": ("occulter les données personnelles", _declare_anonymise),
    "metadata": ("fiche de métadonnées (data.gouv.fr, DCAT)", _declare_metadata),
    "coverage": ("qui a publié, dans un département", _declare_coverage),
    "national": ("comptes agrégés OFGL (par année)", _declare_national),
    "search": ("trouver une collectivité (nom, code INSEE, SIREN, SIRET, code postal)",
               _declare_search),
    "balances": ("balances comptables DGFiP (par compte)", _declare_balances),
    "chapters": ("chapitres d'un budget (documents ou balances)", _declare_chapters),
    "peers": ("une commune parmi ses pairs, chapitre par chapitre (balances DGFiP)",
              _declare_peers),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or of `command` alone: what `main` parses when the first
    argument names one (declaring the 15 commands' arguments took 10 ms at every start)."""
    from budget_core.terminal import FrenchParser

    parser = FrenchParser(
        prog="python -m budget_core",
        description="Explorer les budgets des collectivités locales (TOTEM, SCDL).")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, declare) in COMMANDS.items():
        if command in (None, name):
            declare(commands.add_parser(name, help=help_text))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from budget_core.terminal import guarded

    def run() -> int:
        arguments = sys.argv[1:] if argv is None else list(argv)
        first = arguments[0] if arguments else None
        args, unknown = build_parser(first if first in COMMANDS else None
                                     ).parse_known_args(arguments)
        if unknown:  # refused by the whole parser, whose usage lists every command
            args = build_parser().parse_args(arguments)
        return int(args.func(args))

    return guarded(run)
