"""`rag fetch`: the command-line side of fetching answers from the open data (see rag.fetch).

Prints one summary in Danish: what was fetched, what was already there, what failed and why, and
the next step (`rag index`). Exits 0 when anything was fetched or found unchanged (or nothing
matched the filters), 1 when every answer failed or the service could not be asked, 130 when
stopped with Ctrl+C (what was finished is kept; run the same command again to go on).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from rag import FetchSettings, FetchSummary, InputError, Wanted, fetch_answers
from rag.config import FETCH_TYPES, default_corpus_dir
from rag.text import to_date


def run_fetch(args: argparse.Namespace) -> int:
    dest = Path(args.folder) if args.folder is not None else default_corpus_dir()
    wanted = _wanted(args)
    settings = FetchSettings()
    for name, value in (("api", args.api), ("pause", args.pause), ("timeout", args.timeout)):
        if value is not None:
            settings = replace(settings, **{name: value})
    if args.limit is not None and args.limit < 1:
        raise InputError(f"--limit skal være mindst 1 (fik {args.limit}).")
    if settings.pause < 0 or settings.timeout <= 0:
        raise InputError("--pause kan ikke være negativ, og --timeout skal være over 0.")
    print(f"Henter fra {settings.api} …", flush=True)
    summary = fetch_answers(dest, wanted, settings, limit=args.limit, dry_run=args.dry_run,
                            progress=not args.quiet and sys.stderr.isatty())
    _report(dest, summary, args.dry_run)
    if summary.interrupted:
        return 130
    nothing = not (summary.fetched or summary.unchanged or summary.planned)
    return 1 if nothing and summary.failed else 0


def _wanted(args: argparse.Namespace) -> Wanted:
    dates = []
    for flag, value in (("--fra", args.date_from), ("--til", args.date_to)):
        try:
            dates.append(to_date(value))
        except ValueError:
            raise InputError(f"Ugyldig dato for {flag}: '{value}' (skriv ÅÅÅÅ-MM-DD).") from None
    if dates[0] and dates[1] and dates[0] > dates[1]:
        raise InputError(f"--fra ({dates[0]}) ligger efter --til ({dates[1]}).")
    samling = (args.samling or "").strip() or None
    if samling and not (samling.isdigit() and len(samling) == 5):
        raise InputError(f"--samling skal skrives som fem cifre, fx 20231 for 2023-24, 1. samling (fik '{samling}').")
    udvalg = tuple(u.strip().upper() for u in args.udvalg if u.strip())
    return Wanted(udvalg=udvalg, date_from=dates[0], date_to=dates[1], samling=samling,
                  minister=(args.minister or "").strip() or None,
                  kinds=tuple(FETCH_TYPES[k] for k in args.kinds))


def _report(dest: Path, summary: FetchSummary, dry_run: bool) -> None:
    calls = f"{summary.requests} kald til de åbne data"
    if dry_run:
        print(f"Ville hente {len(summary.planned)} svar ({summary.considered} svar i perioden; {calls}):")
        for path in summary.planned[:50]:
            print(f"  {path}")
        if len(summary.planned) > 50:
            print(f"  … og {len(summary.planned) - 50} flere")
        return
    print(f"Hentet: {len(summary.fetched)} · uændrede: {len(summary.unchanged)} · fejlede: {len(summary.failed)} "
          f"({summary.considered} svar i perioden; {calls})")
    if summary.failed:
        print(f"Fejlede ({len(summary.failed)}):")
        for label, reason in summary.failed:
            print(f"  {label}: {reason}")
    if summary.interrupted:
        print("Afbrudt. Det hentede er gemt; kør samme kommando igen for at fortsætte.")
    if summary.fetched or summary.unchanged:
        print(f"Filerne ligger i {dest}/ med manifest.csv. Byg indekset: rag index {dest}")
    elif not summary.failed:
        print("Ingen svar passede til filtrene.")
