"""The chat page: a Gradio app over `ask()`, started by `rag serve` or `python app.py` (see rag.web.serve).

Every question is one `ask()` call (so a rebuilt index is picked up as soon as
`rag index` switches generations, and the old one keeps answering until then);
what the page shows is rendered from the returned `Answer` by `rag.web.render`.
The page loads nothing from outside the machine: no web fonts, CDN or analytics.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from rag import Answer, Filters, RagError, Settings, answer_csv, answer_markdown, ask, describe_index, timeline
from rag.text import clip
from rag.web.render import answer_messages, error_html, esc, index_summary, no_answer_html, searching_html
from rag.web.timeline import TIMELINE_JS, timeline_html

if TYPE_CHECKING:
    import gradio as gr

DEFAULT_K = 3
TIMELINE_LIMIT = 50
TITLE = "Folketingets svar"
# The address of a question: ?q=…&fra=…&til=…&minister=…&udvalg=…&parti=…&visning=tidslinje
URL_PARAMS = ("q", "fra", "til", "minister", "udvalg", "parti", "visning")
EXAMPLES = (
    "Hvor mange kommuner fik penge fra puljen til kommuner med mange børnesager?",
    "Hvad har ministeren sagt om kvalitetsrammen i Børnene Først?",
    "Hvornår vil ministeren indkalde forligskredsen om plejefamiliereformen?",
    "Hvad gør ministeren ved børnesagerne i Langeland Kommune?",
    "spm. nr. 338",
)
Message = dict[str, Any]


def chat_turn(question: str | None, history: Sequence[Message] | None, filters: Filters, k: int,
              settings: Settings) -> Iterator[list[Message]]:
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
        answer = ask(question, k=k, filters=filters, settings=settings)
    except RagError as exc:
        yield history + [{"role": "assistant", "content": error_html(str(exc))}]
        return
    if answer.abstained or not answer.hits:
        yield history + [{"role": "assistant", "content": no_answer_html(answer.message or "", filters.active())}]
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


def overview(index_dir: Path) -> Overview:
    """The index's size and model, and the values its documents have for each filter."""
    try:
        info = describe_index(index_dir)
    except RagError as exc:
        return Overview(f"Intet indeks: {exc}", [], [], [])
    return Overview(index_summary(info), list(info.ministers), list(info.udvalg), list(info.parties))


@dataclass(frozen=True)
class Extras:
    """What goes beside the chat for one question: the timeline, the files to download, the share link."""

    timeline: str  # HTML
    answer_files: tuple[str, str] | None  # the chat's answer as (Markdown, CSV) files
    timeline_files: tuple[str, str] | None
    share: str  # HTML


def extras(question: str, filters: Filters, k: int, settings: Settings, params: Mapping[str, str]) -> Extras:
    """The timeline of `question` and the exports of both views (`params`: the filters as URL values)."""
    answer = ask(question, k=k, filters=filters, settings=settings)
    line = timeline(question, TIMELINE_LIMIT, filters=filters, settings=settings)
    none = no_answer_html(line.message or "", filters.active())
    folder = Path(tempfile.mkdtemp(prefix="rag-eksport-"))
    return Extras(timeline_html(line, none), _files(answer, folder, "svar"), _files(line, folder, "tidslinje"),
                  share_html(question, params))


def _files(answer: Answer, folder: Path, name: str) -> tuple[str, str] | None:
    if answer.abstained or not answer.hits:
        return None
    slug = re.sub(r"[^a-z0-9æøå]+", "-", answer.question.lower()).strip("-")[:40] or "svar"
    md, csv = folder / f"{name}-{slug}.md", folder / f"{name}-{slug}.csv"
    md.write_text(answer_markdown(answer), encoding="utf-8")
    csv.write_text(answer_csv(answer), encoding="utf-8-sig")  # with a BOM: spreadsheets read it as UTF-8
    return str(md), str(csv)


def share_link(question: str, params: Mapping[str, str]) -> str:
    """The page's address for `question` with its filters: '?q=…&fra=…' (relative to the page)."""
    values = {"q": question, **{k: v for k, v in params.items() if k != "q" and v}}
    return "?" + urlencode(values)


def share_html(question: str, params: Mapping[str, str]) -> str:
    link = share_link(question, params)
    return (f'<p class="rag-share">Del spørgsmålet: <a class="rag-share-link" href="{esc(link)}">'
            f'{esc(clip(question, 60))}</a> '
            f'<button type="button" class="rag-copy rag-copy-link">Kopiér link</button></p>')


def api_answer(question: str, k: int = 5, date_from: str = "", date_to: str = "", minister: str = "",
               udvalg: str = "", spoerger: str = "", kind: str = "", *,
               settings: Settings) -> dict[str, Any]:
    """`ask()` for API clients: `Answer.to_dict()` (the same JSON as `rag ask --json`)."""
    filters = Filters.parse(date_from, date_to, minister, udvalg, spoerger, kind)
    return ask(question, k=int(k), filters=filters, settings=settings).to_dict()


INTRO = ("Stil et spørgsmål på dansk. Svaret er **ordrette citater** fra ministrenes svar til Folketinget, "
         "hver med kildehenvisning – intet er skrevet af en sprogmodel. Fold en kilde ud for at læse "
         "spørgsmålet og hele svaret.")
TIMELINE_EMPTY = "Stil et spørgsmål: her vises alle svar på det i datoorden, på en tidsakse og som liste."
PLACEHOLDER = ("<p><strong>Spørg om Folketingets svar</strong></p><p>Skriv et spørgsmål nedenfor, "
               "eller klik på et eksempel til højre.</p>")


def theme() -> gr.themes.Base:
    """Gradio's default look with the system's own fonts: nothing is fetched from outside."""
    import gradio as gr

    return gr.themes.Default(
        font=["Segoe UI", "Helvetica Neue", "Liberation Sans", "DejaVu Sans", "Arial", "sans-serif"],
        font_mono=["Consolas", "Liberation Mono", "DejaVu Sans Mono", "monospace"],
    )


def build_app(settings: Settings) -> gr.Blocks:
    """The chat page over the index in `settings.index_dir` (read anew by `ask()` per question)."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # no telemetry or version check
    import gradio as gr

    index_dir = settings.index_dir

    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        gr.Markdown(f"# {TITLE}\n{INTRO}")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=420):
                with gr.Tabs(elem_id="rag-views") as views:
                    with gr.Tab("Samtale", id="samtale", elem_id="rag-tab-chat"):
                        chatbot = gr.Chatbot(
                            label="Samtale", show_label=False, elem_id="rag-chat", elem_classes=["rag-chat"],
                            height="62vh", min_height=400, layout="panel", autoscroll=False,
                            placeholder=PLACEHOLDER, render_markdown=False, sanitize_html=True,
                            latex_delimiters=[], buttons=[], feedback_options=None,
                            group_consecutive_messages=True,
                        )
                        with gr.Row():
                            answer_md = gr.DownloadButton("Hent svaret som Markdown", visible=False, size="sm",
                                                          variant="secondary", elem_id="rag-answer-md")
                            answer_csv = gr.DownloadButton("Hent svaret som CSV", visible=False, size="sm",
                                                           variant="secondary", elem_id="rag-answer-csv")
                    with gr.Tab("Tidslinje", id="tidslinje", elem_id="rag-tab-timeline"):
                        timeline_view = gr.HTML(
                            f'<div class="rag-timeline"><p class="rag-hint">{esc(TIMELINE_EMPTY)}</p></div>',
                            elem_id="rag-timeline", js_on_load=TIMELINE_JS, max_height=640,
                            min_height=400, container=False)
                        with gr.Row():
                            timeline_md = gr.DownloadButton("Hent tidslinjen som Markdown", visible=False,
                                                            size="sm", variant="secondary", elem_id="rag-timeline-md")
                            timeline_csv = gr.DownloadButton("Hent tidslinjen som CSV", visible=False, size="sm",
                                                             variant="secondary", elem_id="rag-timeline-csv")
                with gr.Row():
                    question = gr.Textbox(
                        label="Dit spørgsmål", show_label=False, elem_id="rag-question", scale=5,
                        placeholder="Skriv et spørgsmål på dansk og tryk Enter …", lines=1, max_lines=4,
                        submit_btn=False, autofocus=True)
                    ask_button = gr.Button("Spørg", variant="primary", scale=1, min_width=90,
                                           elem_id="rag-ask")
                share = gr.HTML("", elem_id="rag-share-box", container=False, js_on_load=None)
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
        asked = gr.State("")  # the question being answered: the chat and the timeline both read it

        def respond(text: str, history: list[Message], start: Any, end: Any, minister_value: str | None,
                    udvalg_value: str | None, party_value: str | None, k_value: float,
                    ) -> Iterator[tuple[list[Message], Any]]:
            try:
                filters = Filters.parse(start, end, minister_value, udvalg_value, party_value)
                turns = chat_turn(text, history, filters, int(k_value or DEFAULT_K), settings)
            except RagError as exc:  # a filter the user typed cannot be read
                turns = error_turn(text, history, str(exc))
            for turn in turns:
                yield turn, gr.skip()
            yield gr.skip(), overview(index_dir).summary

        def beside(text: str, start: Any, end: Any, minister_value: str | None, udvalg_value: str | None,
                   party_value: str | None, k_value: float) -> tuple[Any, ...]:
            """The timeline, the download buttons and the share link of the question just asked."""
            text = (text or "").strip()
            if not text:
                return (gr.skip(),) * 6
            params = {"fra": _date_param(start), "til": _date_param(end), "minister": minister_value or "",
                      "udvalg": udvalg_value or "", "parti": party_value or ""}
            try:
                filters = Filters.parse(start, end, minister_value, udvalg_value, party_value)
                more = extras(text, filters, int(k_value or DEFAULT_K), settings, params)
            except RagError as exc:
                hidden = gr.DownloadButton(visible=False)
                return (f'<div class="rag-timeline">{error_html(str(exc))}</div>', hidden, hidden, hidden, hidden,
                        "")
            return (more.timeline, *_download(gr, more.answer_files), *_download(gr, more.timeline_files),
                    more.share)

        chat_args: dict[str, Any] = {
            "fn": respond, "inputs": [asked, chatbot, *filter_inputs],
            "outputs": [chatbot, info], "show_progress": "hidden", "api_visibility": "private"}
        beside_args: dict[str, Any] = {
            "fn": beside, "inputs": [asked, *filter_inputs],
            "outputs": [timeline_view, answer_md, answer_csv, timeline_md, timeline_csv, share],
            "show_progress": "hidden", "api_visibility": "private"}

        def answered_together(step: Any) -> None:
            """After `step` has put the question in `asked`: the chat and the timeline at the same time,
            so the chat's first quote does not wait for the timeline."""
            step.then(**chat_args)
            step.then(**beside_args)

        searching = f'<div class="rag-timeline">{searching_html()}</div>'
        for trigger in (question.submit, ask_button.click):
            answered_together(trigger(lambda text: ("", text or "", searching), [question],
                                      [question, asked, timeline_view], api_visibility="private",
                                      show_progress="hidden"))
        for button, example in zip(example_buttons, EXAMPLES, strict=True):
            answered_together(button.click(lambda q=example: (q, searching), None, [asked, timeline_view],
                                           api_visibility="private", show_progress="hidden"))
        clear.click(lambda: [], None, chatbot, api_visibility="private", show_progress="hidden")
        reset.click(lambda: (None, None, "", "", "", DEFAULT_K), None, filter_inputs,
                    api_visibility="private", show_progress="hidden")

        def load_page(request: gr.Request) -> tuple[Any, ...]:
            """The sidebar, and a question given in the address (?q=…): its text, filters and view."""
            o = overview(index_dir)
            q = dict(request.query_params) if request is not None else {}
            view = gr.Tabs(selected="tidslinje") if q.get("visning") == "tidslinje" else gr.skip()
            return (o.summary, _choices(gr, o.ministers, q.get("minister")), _choices(gr, o.udvalg, q.get("udvalg")),
                    _choices(gr, o.parties, q.get("parti")), q.get("q", "").strip(),
                    q.get("fra") or gr.skip(), q.get("til") or gr.skip(), view)

        # gradio passes the request to a parameter annotated gr.Request; with postponed annotations
        # it sees only the string, so the class is put in place here.
        load_page.__annotations__["request"] = gr.Request
        answered_together(demo.load(load_page, None, [info, minister, udvalg, party, asked, date_from, date_to, views],
                                    api_visibility="private", show_progress="hidden"))

        def answer_api(question: str, k: int = 5, date_from: str = "", date_to: str = "",
                       minister: str = "", udvalg: str = "", spoerger: str = "",
                       kind: str = "") -> dict[str, Any]:
            """Svar på et spørgsmål som JSON: Answer.to_dict() (samme som `rag ask --json`)."""
            try:
                return api_answer(question, k, date_from, date_to, minister, udvalg, spoerger, kind,
                                  settings=settings)
            except RagError as exc:
                raise gr.Error(str(exc), print_exception=False) from None

        def timeline_api(question: str, limit: int = TIMELINE_LIMIT, date_from: str = "", date_to: str = "",
                         minister: str = "", udvalg: str = "", spoerger: str = "",
                         kind: str = "") -> dict[str, Any]:
            """Tidslinjen for et spørgsmål som JSON (samme som `rag ask --tidslinje --json`)."""
            try:
                filters = Filters.parse(date_from, date_to, minister, udvalg, spoerger, kind)
                return timeline(question, int(limit), filters=filters, settings=settings).to_dict()
            except RagError as exc:
                raise gr.Error(str(exc), print_exception=False) from None

        gr.api(answer_api, api_name="ask")
        gr.api(timeline_api, api_name="timeline")
    return demo


def _download(gr: Any, files: tuple[str, str] | None) -> tuple[Any, Any]:
    if files is None:
        return gr.DownloadButton(visible=False), gr.DownloadButton(visible=False)
    return gr.DownloadButton(value=files[0], visible=True), gr.DownloadButton(value=files[1], visible=True)


def _date_param(value: Any) -> str:
    """A date field's value as it goes in the address: 'YYYY-MM-DD', or '' when empty."""
    return str(value or "").strip()[:10]


def _choice_box(gr: Any, label: str, elem_id: str) -> Any:
    return gr.Dropdown(choices=[("Alle", "")], value="", label=label, allow_custom_value=True,
                       filterable=True, elem_id=elem_id)


def _choices(gr: Any, values: list[str], selected: str | None = None) -> Any:
    choices = [("Alle", ""), *((v, v) for v in values)]
    if selected:
        return gr.Dropdown(choices=choices, value=selected)
    return gr.Dropdown(choices=choices)
