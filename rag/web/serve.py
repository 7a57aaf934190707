"""Start the web UI: `rag serve` and `python app.py` (argument parsing, first index, launch).

Checks who may connect (rag.web.access), builds the index from the corpus folder on
first start, warms the model, then serves the page of rag.web.app until Ctrl+C.
"""

from __future__ import annotations

import argparse
import sys
import time
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag import InputError, RagError, Settings, ask, index_exists, update_index
from rag.config import ENV_AUTH, default_corpus_dir, has_display
from rag.web.access import DEFAULT_HOST, Access, resolve_access
from rag.web.app import TITLE, build_app, overview, theme

if TYPE_CHECKING:
    import gradio as gr


@cache
def asset(name: str) -> str:
    """A file of rag/web/assets as text; a script without its leading comment lines (gradio runs it as
    an expression)."""
    text = resources.files("rag.web").joinpath("assets", name).read_text(encoding="utf-8")
    if name.endswith(".js"):
        text = "\n".join(line for line in text.splitlines() if not line.startswith("//"))
    return text


def launch_options(access: Access, port: int | None = None) -> dict[str, Any]:
    """Keyword arguments for `Blocks.launch`: our address and login, nothing shared or fetched."""
    return {
        "server_name": access.host,
        "server_port": port,
        "auth": access.auth,
        "auth_message": f"Log ind for at bruge {TITLE}.",
        "share": False,
        "ssr_mode": False,
        "pwa": False,
        "mcp_server": False,
        "enable_monitoring": False,
        "footer_links": [],
        "quiet": True,
        "show_error": False,
        "css": asset("style.css"),
        "js": asset("page.js"),
    }


def launch(demo: gr.Blocks, access: Access, port: int | None = None, *, block: bool = True,
           open_browser: bool = False) -> str:
    """Start the server; returns its local address (after stopping, when `block`)."""
    demo.queue()
    _, url, _ = demo.launch(prevent_thread_lock=True, inbrowser=open_browser, theme=theme(),
                            **launch_options(access, port))
    url = str(url).rstrip("/")
    if block:
        print(f"{TITLE} kører på {url}" + (" (login påkrævet)" if access.auth else ""), flush=True)
        if not access.local_only and not access.auth:
            print(f"Advarsel: {access.host} er åben for alle på netværket uden login (--no-auth).",
                  flush=True)
        print("Åbn adressen i din browser. Stop med Ctrl+C.", flush=True)
        try:
            while demo.is_running:
                time.sleep(0.2)
        except KeyboardInterrupt:
            print("\nStopper serveren.", flush=True)
        finally:
            demo.close(verbose=False)
    return url


# ---------------------------------------------------------------------------
# `python app.py` and `rag serve`


def add_serve_arguments(p: argparse.ArgumentParser) -> None:
    """The options of `rag serve` and `python app.py`."""
    p.add_argument("--host", default=None,
                   help=f"adresse serveren lytter på (standard {DEFAULT_HOST}: kun denne maskine). "
                        "En anden adresse, fx 0.0.0.0, kræver --auth eller --no-auth")
    p.add_argument("--port", type=int, default=None,
                   help="port (standard: første ledige fra 7860, eller GRADIO_SERVER_PORT)")
    p.add_argument("--auth", default=None, metavar="BRUGER:ADGANGSKODE",
                   help=f"kræv login (kan også gives i miljøvariablen {ENV_AUTH})")
    p.add_argument("--no-auth", action="store_true",
                   help="ingen login, heller ikke når --host er en anden adresse end 127.0.0.1")
    p.add_argument("--index", type=Path, default=None, help="indeksmappe (standard: index/ eller RAG_INDEX)")
    p.add_argument("--corpus", type=Path, default=None,
                   help="mappe der indekseres ved første start, hvis der intet indeks er "
                        "(standard: corpus/ eller RAG_CORPUS)")
    p.add_argument("--open", action="store_true", help="åbn siden i browseren, når serveren er startet")


def serve(args: argparse.Namespace) -> int:
    """Check access, build the index on first start, load it and the model, then serve."""
    try:
        access = resolve_access(args.host, args.auth, args.no_auth)
        settings = Settings() if args.index is None else Settings(index_dir=args.index)
        if not index_exists(settings.index_dir):
            _first_index(args.corpus or default_corpus_dir(), settings)
        print("Indlæser indeks og sprogmodel …", flush=True)
        ask("kommuner", k=1, settings=settings)  # warm: the first user waits no longer
        print(overview(settings.index_dir).summary, flush=True)
        launch(build_app(settings), access, args.port, open_browser=args.open and has_display())
    except RagError as exc:
        print(f"Fejl: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # e.g. the port is taken
        print(f"Fejl: serveren kunne ikke starte ({exc}).", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # while indexing or loading, before the server runs
        print("Afbrudt.", file=sys.stderr)
        return 130
    return 0


def _first_index(corpus: Path, settings: Settings) -> None:
    index_dir = settings.index_dir
    if not corpus.is_dir():
        raise InputError(f"Der er intet indeks i {index_dir}, og mappen {corpus} findes ikke. "
                         f"Byg indekset først: rag index MAPPE --index {index_dir}")
    print(f"Intet indeks i {index_dir} endnu: bygger det fra {corpus} …", flush=True)
    summary = update_index([corpus], settings, progress=True)
    if summary.documents == 0:
        raise InputError(f"Ingen dokumenter i {corpus} kunne indekseres.")
    print(f"Indeks bygget: {summary.documents} dokumenter, {summary.passages} passager.", flush=True)


def main(argv: list[str] | None = None) -> int:
    """`python app.py [--host …] [--port …] [--auth …]`."""
    from rag.cli import DanishParser

    parser = DanishParser(
        prog="app.py", description="Start webgrænsefladen: spørg på dansk, læs ordrette citater med kilder.")
    add_serve_arguments(parser)
    return serve(parser.parse_args(argv))
