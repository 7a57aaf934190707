"""The web UI: a Gradio chat over `ask()`, started by `python app.py` or `rag serve`.

Every question is one `ask()` call (so a rebuilt index is picked up as soon as
`rag index` switches generations, and the old one keeps answering until then);
what the page shows is rendered from the returned `Answer` by `rag.ui_render`.
The page loads nothing from outside the machine: no web fonts, CDN or analytics.

The server listens on 127.0.0.1 unless told otherwise; any other address needs
`--host` and then a login (`--auth user:password` or RAG_AUTH), or `--no-auth`.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import re
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.answer import DEFAULT_INDEX_DIR, AskError, Settings, ask, get_index
from rag.retrieve import Filters
from rag.ui_render import (
    answer_messages,
    error_html,
    esc,
    index_summary,
    no_answer_html,
    searching_html,
)

if TYPE_CHECKING:
    import gradio as gr

DEFAULT_HOST = "127.0.0.1"
DEFAULT_CORPUS = Path(__file__).resolve().parent.parent / "corpus"
DEFAULT_K = 3
AUTH_ENV = "RAG_AUTH"
TITLE = "Folketingets svar"
EXAMPLES = (
    "Hvor mange kommuner fik penge fra puljen til kommuner med mange børnesager?",
    "Hvad har ministeren sagt om kvalitetsrammen i Børnene Først?",
    "Hvornår vil ministeren indkalde forligskredsen om plejefamiliereformen?",
    "Hvad gør ministeren ved børnesagerne i Langeland Kommune?",
    "spm. nr. 338",
)
Message = dict[str, Any]


class ServeError(ValueError):
    """The server cannot start as asked. `str()` is one Danish line saying what to do."""


# ---------------------------------------------------------------------------
# Who may connect


@dataclass(frozen=True)
class Access:
    """Where the server listens and the login it requires (None: no login)."""

    host: str
    auth: tuple[str, str] | None = None

    @property
    def local_only(self) -> bool:
        return is_loopback(self.host)


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host.lower() == "localhost"


def parse_auth(value: str, source: str) -> tuple[str, str]:
    """'user:password' -> ('user', 'password'); the password may contain ':'."""
    user, sep, password = value.partition(":")
    if not sep or not user.strip() or not password:
        raise ServeError(f"{source} skal have formen bruger:adgangskode (fx --auth anna:hemmelig).")
    return user.strip(), password


def resolve_access(host: str | None = None, auth: str | None = None, no_auth: bool = False,
                   env: Mapping[str, str] | None = None) -> Access:
    """Decide the listening address and login from the command line and environment.

    127.0.0.1 unless `host` says otherwise (GRADIO_SERVER_NAME is ignored on purpose:
    opening the server to the network takes an explicit `--host`). Any address other
    machines can reach requires a login from `auth` or RAG_AUTH, unless `no_auth`.
    """
    env = os.environ if env is None else env
    host = (host or DEFAULT_HOST).strip()
    if not host:
        raise ServeError("--host må ikke være tom.")
    if auth is not None and no_auth:
        raise ServeError("--auth og --no-auth kan ikke bruges samtidig.")
    credentials = None
    if auth is not None:
        credentials = parse_auth(auth, "--auth")
    elif not no_auth and env.get(AUTH_ENV):
        credentials = parse_auth(env[AUTH_ENV], AUTH_ENV)
    if credentials is None and not no_auth and not is_loopback(host):
        raise ServeError(
            f"Adressen {host} kan nås fra andre maskiner, så der kræves login: brug "
            f"--auth bruger:adgangskode eller {AUTH_ENV}=bruger:adgangskode "
            f"(eller --no-auth, hvis alle på netværket med vilje må bruge den uden login).")
    return Access(host=host, auth=credentials)


# ---------------------------------------------------------------------------
# From the page's inputs to `ask()` and back


def parse_date(value: Any, label: str) -> date | None:
    """A date typed or picked in the page ('2024-04-30' or '30-04-2024'); None when empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value).date()
    text = str(value).strip()
    if re.match(r"\d{4}-\d{2}-\d{2}[ T]", text):  # the date picker may add a time
        text = text[:10]
    for fmt in ("%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    raise AskError(f"Ugyldig dato '{value}' i »{label}« – brug ÅÅÅÅ-MM-DD eller DD-MM-ÅÅÅÅ.")


def make_filters(date_from: Any = None, date_to: Any = None, minister: str | None = None,
                 udvalg: str | None = None, spoerger: str | None = None, kind: str | None = None) -> Filters:
    """`Filters` from the page's (or the API's) raw values; empty values mean no filter."""
    start = parse_date(date_from, "Fra dato")
    end = parse_date(date_to, "Til dato")
    if start and end and start > end:
        raise AskError("»Fra dato« ligger efter »Til dato«.")
    if kind and kind not in ("letter", "s20", "text"):
        raise AskError(f"Ukendt dokumenttype '{kind}' – brug letter, s20 eller text.")
    return Filters(date_from=start, date_to=end, minister=(minister or "").strip() or None,
                   udvalg=(udvalg or "").strip() or None, spoerger=(spoerger or "").strip() or None,
                   kind=kind or None)  # type: ignore[arg-type]


def chat_turn(question: str | None, history: Sequence[Message] | None, filters: Filters, k: int,
              index_dir: Path) -> Iterator[list[Message]]:
    """One question in the chat, as successive versions of the conversation.

    First the question with a "searching" line, then the answer one quote at a
    time, so the first quote is on screen as soon as `ask()` returns.
    """
    history = list(history or [])
    question = (question or "").strip()
    if not question:
        return
    history.append({"role": "user", "content": esc(question)})
    yield history + [{"role": "assistant", "content": searching_html()}]
    try:
        answer = ask(question, k=k, filters=filters, settings=Settings(index_dir=index_dir))
    except AskError as exc:
        yield history + [{"role": "assistant", "content": error_html(str(exc))}]
        return
    if answer.abstained or not answer.hits:
        yield history + [{"role": "assistant", "content": no_answer_html(answer.message, filters.active())}]
        return
    for message in answer_messages(answer):
        history.append({"role": "assistant", "content": message})
        yield list(history)


def error_turn(question: str | None, history: Sequence[Message] | None, message: str) -> Iterator[list[Message]]:
    """The question answered by a Danish error line (e.g. a date that cannot be read)."""
    question = (question or "").strip()
    if question:
        yield [*(history or []), {"role": "user", "content": esc(question)},
               {"role": "assistant", "content": error_html(message)}]


@dataclass(frozen=True)
class Overview:
    """What the sidebar says about the index: a summary line and the filter choices."""

    summary: str
    ministers: list[str]
    udvalg: list[str]
    parties: list[str]


_PARTY = re.compile(r"\(([^()]+)\)\s*$")
_NAME_IN_PARENS = re.compile(r"\s*\([^()]*\)\s*$")


def overview(index_dir: Path) -> Overview:
    """The index's size, model and the values its documents have for each filter.

    Uses the index `ask()` has loaded (reloaded when a new generation is current),
    so the line always describes the index that answers.
    """
    try:
        index = get_index(Path(index_dir))
    except AskError as exc:
        return Overview(f"Intet indeks: {exc}", [], [], [])
    ministers: set[str] = set()
    udvalg: set[str] = set()
    parties: set[str] = set()
    for doc in index.documents.values():
        for m in (doc.minister_addressed, doc.answering_minister):
            if m:
                ministers.add(_capital(_NAME_IN_PARENS.sub("", m)))
        if doc.udvalg:
            udvalg.add(doc.udvalg)
        if doc.spoerger and (party := _PARTY.search(doc.spoerger)):
            parties.add(party.group(1).strip())
    summary = index_summary(index.manifest, len(index.documents), len(index.passages))
    return Overview(summary, sorted(ministers), sorted(udvalg), sorted(parties))


def _capital(s: str) -> str:
    return s[:1].upper() + s[1:]


def api_answer(question: str, k: int = 5, date_from: str = "", date_to: str = "", minister: str = "",
               udvalg: str = "", spoerger: str = "", kind: str = "", *,
               index_dir: Path = DEFAULT_INDEX_DIR) -> dict[str, Any]:
    """`ask()` for API clients: `Answer.to_dict()` (the same JSON as `rag ask --json`)."""
    filters = make_filters(date_from, date_to, minister, udvalg, spoerger, kind)
    return ask(question, k=int(k), filters=filters, settings=Settings(index_dir=index_dir)).to_dict()


# ---------------------------------------------------------------------------
# The page

CSS = """
.rag-sidebar .rag-info { font-size: 0.85em; color: var(--body-text-color-subdued); }
button.rag-examples { text-align: left; justify-content: flex-start; white-space: normal;
                       height: auto; font-weight: normal; }
.rag-chat .message-content, .rag-chat .message { max-width: 100%; }
.rag-hit { line-height: 1.5; }
.rag-hit-head { font-size: 0.85em; color: var(--body-text-color); margin: 0 0 0.3em 0; }
.rag-num { font-weight: 700; }
blockquote.rag-quote, blockquote.rag-asked {
  margin: 0 0 0.4em 0; padding: 0.35em 0.9em; border-left: 4px solid #9d1c3c;
  background: var(--background-fill-secondary); border-radius: 0 6px 6px 0; font-style: normal; }
blockquote.rag-asked { border-left-color: #7a7a7a; }
.rag-hit blockquote p, .rag-fulltext p { margin: 0.35em 0; overflow-wrap: anywhere; }
mark.rag-evidence { background: #ffe98a; color: #111; padding: 0 0.1em; border-radius: 2px; }
mark.rag-quoted { background: #d7e7ff; color: #111; padding: 0 0.1em; }
.rag-citation { font-size: 0.92em; font-weight: 600; margin: 0.2em 0 0.5em 0; overflow-wrap: anywhere; }
details.rag-source { margin: 0.2em 0 0.3em 0; font-size: 0.95em; }
details.rag-source summary { cursor: pointer; color: var(--link-text-color, #1d4ed8); }
.rag-source-head { font-weight: 600; margin: 0.6em 0 0.2em 0; }
.rag-fulltext { max-height: 26em; overflow-y: auto; padding: 0.1em 0.8em;
                border: 1px solid var(--border-color-primary); border-radius: 6px; }
.rag-file { font-size: 0.8em; color: var(--body-text-color-subdued); }
.rag-none-message { font-weight: 600; margin: 0; }
.rag-hint, .rag-searching { color: var(--body-text-color); opacity: 0.75; margin: 0.2em 0 0 0; }
.rag-error p { color: #b42318; font-weight: 600; margin: 0; }
#rag-chat .top-panel { display: none; }  /* gradio's English-only clear icon; see "Ryd samtalen" */
footer { display: none !important; }
"""

# Runs in the page once loaded. The document is Danish (screen readers, hyphenation); the
# date fields get a Danish placeholder; a chat message is read as its text, not as its HTML
# source (gradio puts the raw content in aria-label); and a new question is scrolled to
# the top of the chat, so its answer reads from the best quote down.
JS = """
() => {
  document.documentElement.lang = 'da';
  const scroller = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const y = getComputedStyle(p).overflowY;
      if ((y === 'auto' || y === 'scroll') && p.scrollHeight > p.clientHeight) return p;
    }
    return null;
  };
  let questions = 0, pending = null;
  const tidy = () => {
    for (const el of document.querySelectorAll('#rag-date-from input, #rag-date-to input')) {
      if (el.placeholder !== 'ÅÅÅÅ-MM-DD') el.placeholder = 'ÅÅÅÅ-MM-DD';
    }
    for (const el of document.querySelectorAll('#rag-chat [data-testid="bot"][aria-label]')) {
      el.removeAttribute('aria-label');
    }
    for (const el of document.querySelectorAll('#rag-chat [data-testid="user"][aria-label]')) {
      const label = 'Dit spørgsmål: ' + el.innerText;
      if (el.getAttribute('aria-label') !== label) el.setAttribute('aria-label', label);
    }
    const rows = document.querySelectorAll('#rag-chat .user-row');
    if (rows.length > questions) pending = {row: rows[rows.length - 1], until: Date.now() + 3000};
    questions = rows.length;
    if (pending && (Date.now() > pending.until || !pending.row.isConnected)) pending = null;
    const box = pending && scroller(pending.row);
    if (box) {
      const delta = pending.row.getBoundingClientRect().top - box.getBoundingClientRect().top - 8;
      const room = box.scrollHeight - box.clientHeight - box.scrollTop;
      box.scrollTop += delta;
      if (delta <= room) pending = null;  // at the top now; more content will not move it
    }
  };
  new MutationObserver(tidy).observe(document.body, {childList: true, subtree: true});
  tidy();
}
"""

INTRO = ("Stil et spørgsmål på dansk. Svaret er **ordrette citater** fra ministrenes svar til Folketinget, "
         "hver med kildehenvisning – intet er skrevet af en sprogmodel. Fold en kilde ud for at læse "
         "spørgsmålet og hele svaret.")
PLACEHOLDER = ("<p><strong>Spørg om Folketingets svar</strong></p><p>Skriv et spørgsmål nedenfor, "
               "eller klik på et eksempel til højre.</p>")


def theme() -> gr.themes.Base:
    """Gradio's default look with the system's own fonts: nothing is fetched from outside."""
    import gradio as gr

    return gr.themes.Default(
        font=["Segoe UI", "Helvetica Neue", "Liberation Sans", "DejaVu Sans", "Arial", "sans-serif"],
        font_mono=["Consolas", "Liberation Mono", "DejaVu Sans Mono", "monospace"],
    )


def build_app(index_dir: Path | str = DEFAULT_INDEX_DIR) -> gr.Blocks:
    """The chat page over the index in `index_dir` (read anew by `ask()` per question)."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # no telemetry or version check
    import gradio as gr

    index_dir = Path(index_dir)

    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        gr.Markdown(f"# {TITLE}\n{INTRO}")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=420):
                chatbot = gr.Chatbot(
                    label="Samtale", show_label=False, elem_id="rag-chat", elem_classes=["rag-chat"],
                    height="68vh", min_height=420, layout="panel", autoscroll=False, placeholder=PLACEHOLDER,
                    render_markdown=False, sanitize_html=True, latex_delimiters=[], buttons=[],
                    feedback_options=None, group_consecutive_messages=True,
                )
                with gr.Row():
                    question = gr.Textbox(
                        label="Dit spørgsmål", show_label=False, elem_id="rag-question", scale=5,
                        placeholder="Skriv et spørgsmål på dansk og tryk Enter …", lines=1, max_lines=4,
                        submit_btn=False, autofocus=True)
                    ask_button = gr.Button("Spørg", variant="primary", scale=1, min_width=90,
                                           elem_id="rag-ask")
            with gr.Column(scale=1, min_width=300, elem_classes=["rag-sidebar"]):
                info = gr.Markdown("Indlæser indekset …", elem_id="rag-info", elem_classes=["rag-info"])
                gr.Markdown("**Eksempler på spørgsmål**")
                example_buttons = [gr.Button(q, size="sm", variant="secondary", elem_classes=["rag-examples"])
                                   for q in EXAMPLES]
                with gr.Accordion("Filtre", open=True, elem_id="rag-filters"):
                    date_from = gr.DateTime(label="Fra dato", include_time=False, type="string",
                                            elem_id="rag-date-from")
                    date_to = gr.DateTime(label="Til dato", include_time=False, type="string",
                                          elem_id="rag-date-to")
                    minister = _choice_box(gr, "Minister", "rag-minister")
                    udvalg = _choice_box(gr, "Udvalg", "rag-udvalg")
                    party = _choice_box(gr, "Spørgerens parti", "rag-party")
                    k = gr.Slider(1, 10, value=DEFAULT_K, step=1, label="Antal kilder", elem_id="rag-k")
                    reset = gr.Button("Nulstil filtre", size="sm", variant="secondary")
                clear = gr.Button("Ryd samtalen", size="sm", variant="secondary", elem_id="rag-clear")

        filter_inputs = [date_from, date_to, minister, udvalg, party, k]

        def respond(text: str, history: list[Message], start: Any, end: Any, minister_value: str | None,
                    udvalg_value: str | None, party_value: str | None, k_value: float,
                    ) -> Iterator[tuple[Any, list[Message], Any]]:
            try:
                filters = make_filters(start, end, minister_value, udvalg_value, party_value)
                turns = chat_turn(text, history, filters, int(k_value or DEFAULT_K), index_dir)
            except AskError as exc:  # a filter the user typed cannot be read
                turns = error_turn(text, history, str(exc))
            for turn in turns:
                yield "", turn, gr.skip()
            yield gr.skip(), gr.skip(), overview(index_dir).summary

        chat_args: dict[str, Any] = {
            "fn": respond, "inputs": [question, chatbot, *filter_inputs],
            "outputs": [question, chatbot, info], "show_progress": "hidden", "api_visibility": "private"}
        question.submit(**chat_args)
        ask_button.click(**chat_args)
        for button, example in zip(example_buttons, EXAMPLES, strict=True):
            button.click(lambda q=example: q, None, question, api_visibility="private",
                         show_progress="hidden").then(**chat_args)
        clear.click(lambda: [], None, chatbot, api_visibility="private", show_progress="hidden")
        reset.click(lambda: (None, None, "", "", "", DEFAULT_K), None, filter_inputs,
                    api_visibility="private", show_progress="hidden")

        def load_page() -> tuple[str, Any, Any, Any]:
            o = overview(index_dir)
            return (o.summary, _choices(gr, o.ministers), _choices(gr, o.udvalg), _choices(gr, o.parties))

        demo.load(load_page, None, [info, minister, udvalg, party], api_visibility="private",
                  show_progress="hidden")

        def answer_api(question: str, k: int = 5, date_from: str = "", date_to: str = "",
                       minister: str = "", udvalg: str = "", spoerger: str = "",
                       kind: str = "") -> dict[str, Any]:
            """Svar på et spørgsmål som JSON: Answer.to_dict() (samme som `rag ask --json`)."""
            try:
                return api_answer(question, k, date_from, date_to, minister, udvalg, spoerger, kind,
                                  index_dir=index_dir)
            except AskError as exc:
                raise gr.Error(str(exc), print_exception=False) from None

        gr.api(answer_api, api_name="ask")
    return demo


def _choice_box(gr: Any, label: str, elem_id: str) -> Any:
    return gr.Dropdown(choices=[("Alle", "")], value="", label=label, allow_custom_value=True,
                       filterable=True, elem_id=elem_id)


def _choices(gr: Any, values: list[str]) -> Any:
    return gr.Dropdown(choices=[("Alle", ""), *((v, v) for v in values)])


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
        "css": CSS,
        "js": JS,
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
                   help=f"kræv login (kan også gives i miljøvariablen {AUTH_ENV})")
    p.add_argument("--no-auth", action="store_true",
                   help="ingen login, heller ikke når --host er en anden adresse end 127.0.0.1")
    p.add_argument("--index", type=Path, default=DEFAULT_INDEX_DIR, help="indeksmappe (standard: index/)")
    p.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS,
                   help="mappe der indekseres ved første start, hvis der intet indeks er (standard: corpus/)")
    p.add_argument("--open", action="store_true", help="åbn siden i browseren, når serveren er startet")


def serve(args: argparse.Namespace) -> int:
    """Check access, build the index on first start, load it and the model, then serve."""
    from rag.index import IndexProblem, current_generation

    try:
        access = resolve_access(args.host, args.auth, args.no_auth)
        index_dir = Path(args.index)
        if current_generation(index_dir) is None:
            _first_index(Path(args.corpus), index_dir)
        print("Indlæser indeks og sprogmodel …", flush=True)
        ask("kommuner", k=1, settings=Settings(index_dir=index_dir))  # warm: the first user waits no longer
        print(overview(index_dir).summary, flush=True)
        launch(build_app(index_dir), access, args.port, open_browser=args.open and _has_display())
    except (ServeError, AskError, IndexProblem) as exc:
        print(f"Fejl: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # e.g. the port is taken
        print(f"Fejl: serveren kunne ikke starte ({exc}).", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # while indexing or loading, before the server runs
        print("Afbrudt.", file=sys.stderr)
        return 130
    return 0


def _first_index(corpus: Path, index_dir: Path) -> None:
    from rag.embed import BUNDLED, load_embedder
    from rag.index import build_index

    if not corpus.is_dir():
        raise ServeError(f"Der er intet indeks i {index_dir}, og mappen {corpus} findes ikke. "
                         f"Byg indekset først: rag index MAPPE --index {index_dir}")
    print(f"Intet indeks i {index_dir} endnu: bygger det fra {corpus} …", flush=True)
    summary = build_index([corpus], index_dir, load_embedder(BUNDLED), BUNDLED, progress=True)
    if summary.documents == 0:
        raise ServeError(f"Ingen dokumenter i {corpus} kunne indekseres.")
    print(f"Indeks bygget: {summary.documents} dokumenter, {summary.passages} passager.", flush=True)


def _has_display() -> bool:
    return sys.platform in ("darwin", "win32") or bool(os.environ.get("DISPLAY") or
                                                        os.environ.get("WAYLAND_DISPLAY"))


def main(argv: list[str] | None = None) -> int:
    """`python app.py [--host …] [--port …] [--auth …]`."""
    parser = argparse.ArgumentParser(
        prog="app.py", description="Start webgrænsefladen: spørg på dansk, læs ordrette citater med kilder.")
    add_serve_arguments(parser)
    return serve(parser.parse_args(argv))
