"""The chat page: a Gradio app over `ask()`, started by `rag serve` or `python app.py` (see rag.web.serve).

Every question is one `ask()` call (so a rebuilt index is picked up as soon as
`rag index` switches generations, and the old one keeps answering until then);
what the page shows is rendered from the returned `Answer` by `rag.web.render`.
The page loads nothing from outside the machine: no web fonts, CDN or analytics.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag import Filters, RagError, Settings, ask, describe_index
from rag.web.render import answer_messages, error_html, esc, index_summary, no_answer_html, searching_html

if TYPE_CHECKING:
    import gradio as gr

DEFAULT_K = 3
TITLE = "Folketingets svar"
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


def api_answer(question: str, k: int = 5, date_from: str = "", date_to: str = "", minister: str = "",
               udvalg: str = "", spoerger: str = "", kind: str = "", *,
               settings: Settings) -> dict[str, Any]:
    """`ask()` for API clients: `Answer.to_dict()` (the same JSON as `rag ask --json`)."""
    filters = Filters.parse(date_from, date_to, minister, udvalg, spoerger, kind)
    return ask(question, k=int(k), filters=filters, settings=settings).to_dict()


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


def build_app(settings: Settings) -> gr.Blocks:
    """The chat page over the index in `settings.index_dir` (read anew by `ask()` per question)."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # no telemetry or version check
    import gradio as gr

    index_dir = settings.index_dir

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
                filters = Filters.parse(start, end, minister_value, udvalg_value, party_value)
                turns = chat_turn(text, history, filters, int(k_value or DEFAULT_K), settings)
            except RagError as exc:  # a filter the user typed cannot be read
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
                                  settings=settings)
            except RagError as exc:
                raise gr.Error(str(exc), print_exception=False) from None

        gr.api(answer_api, api_name="ask")
    return demo


def _choice_box(gr: Any, label: str, elem_id: str) -> Any:
    return gr.Dropdown(choices=[("Alle", "")], value="", label=label, allow_custom_value=True,
                       filterable=True, elem_id=elem_id)


def _choices(gr: Any, values: list[str]) -> Any:
    return gr.Dropdown(choices=[("Alle", ""), *((v, v) for v in values)])
