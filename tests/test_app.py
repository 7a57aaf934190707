"""The web UI without a browser: rendering, access rules, the chat turn, index reloads, the API.

The browser itself is driven in tests/test_browser.py.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from conftest import CORPUS, build
from hypothesis import given
from hypothesis import strategies as st

from rag import Settings
from rag.answer import NO_ANSWER, ask
from rag.errors import RagError as AskError
from rag.errors import SettingError as ServeError
from rag.records import Document, Hit, Passage, Section
from rag.retrieve import Filters
from rag.text import flat
from rag.web.access import Access, is_loopback, resolve_access
from rag.web.app import api_answer, chat_turn, overview
from rag.web.render import hit_html, no_answer_html, paragraphs, source_html, text_html
from rag.web.serve import launch_options

make_filters = Filters.parse


def at(index_dir: Path) -> Settings:
    """Settings for the index in `index_dir`."""
    return Settings(index_dir=index_dir)

LETTER_391 = "002_95e6a3818805a982.txt"


def _visible_text(html_text: str) -> str:
    """What a browser shows of our HTML, whitespace-collapsed (tags dropped, entities decoded)."""
    import html

    blocks_spaced = re.sub(r"</?(?:p|div|blockquote|details|summary)\b[^>]*>", " ", html_text)
    return flat(html.unescape(re.sub(r"<[^>]+>", "", blocks_spaced)))


# ---------------------------------------------------------------------------
# Rendering


def _letter(answer_text: str) -> tuple[Document, Hit]:
    question = "Vil ministeren redegøre for <b>sagen</b>?"
    text = f"Spørgsmål nr. 999:\n\n{question}\n\nSvar:\n\n{answer_text}\n"
    q_start = text.index(question)
    a_start = text.index(answer_text)
    doc = Document(file="x.txt", kind="letter", text=text, title="Spørgsmål 999", spm_nr=999,
                   spm_type="alm. del", udvalg="Folketingets Socialudvalg", sagsnr="2099 - 1",
                   dato=date(2024, 4, 30), asked_date=date(2024, 4, 3), spoerger="Anna Andersen (SF)",
                   minister_addressed="social- og boligministeren", signer="Sofie Ministersen",
                   signer_title="Social- og boligminister",
                   sections=(Section("question", q_start, q_start + len(question)),
                             Section("answer", a_start, a_start + len(answer_text))))
    passage = Passage(file="x.txt", kind="answer", section=1, start=a_start, end=a_start + len(answer_text),
                      text=answer_text)
    hit = Hit(document=doc, passages=(passage,), scores=(1.0,), citation="Sagsnr. 2099 - 1 · SOU alm. del spm. 999",
              evidence=((0, answer_text.index(".") + 1),))
    return doc, hit


def test_document_markup_is_shown_as_text_never_as_html_or_markdown() -> None:
    answer = ('Første sætning med <script>alert("x")</script> og **fed** og [link](http://example.com).\n\n'
              'Anden sætning <img src="http://example.com/x.png" onerror="alert(1)"> & så videre.')
    _, hit = _letter(answer)
    out = hit_html(1, hit)
    assert "<script" not in out and "<img" not in out and "<b>sagen" not in out, "document markup must be escaped"
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in out
    assert "**fed**" in out, "markdown is left as the characters it is (the chat renders no markdown)"
    assert _visible_text(out).count(flat(answer)) >= 1, "the quote reads as the document's characters"


def test_hit_shows_quote_evidence_citation_and_source() -> None:
    answer = "Puljen blev udmøntet til ni kommuner. Det skete i december 2022.\n\nMere tekst her."
    doc, hit = _letter(answer)
    out = hit_html(2, hit)
    quote = re.search(r'<blockquote class="rag-quote">(.*?)</blockquote>', out, re.S)
    assert quote, out
    assert _visible_text(quote.group(1)) == flat(answer)
    assert '<mark class="rag-evidence">Puljen blev udmøntet til ni kommuner.</mark>' in quote.group(1)
    assert ('<p class="rag-citation"><span class="rag-num">[2]</span> '
            'Sagsnr. 2099 - 1 · SOU alm. del spm. 999</p>') in out
    assert ('<button type="button" class="rag-copy">Kopiér citat</button><span class="rag-copy-text">»Puljen blev '
            'udmøntet til ni kommuner. Det skete i december 2022. Mere tekst her.« (Sagsnr. 2099 - 1 · SOU alm. del '
            'spm. 999, x.txt)</span>') in out
    source = source_html(hit)
    assert ("Spørgsmål nr. 999 (alm. del) fra Folketingets Socialudvalg til social- og boligministeren, "
            "stillet 3. april 2024 efter ønske fra Anna Andersen (SF):") in source
    assert "Vil ministeren redegøre for &lt;b&gt;sagen&lt;/b&gt;?" in source, "the question as asked"
    assert "Svar fra Sofie Ministersen, social- og boligminister, 30. april 2024:" in source
    assert '<mark class="rag-quoted">' in source, "the quoted passage is marked in the full answer"


def test_quote_keeps_sentence_paragraphs_and_joins_broken_lines() -> None:
    text = "Jeg kan oplyse, \n\nat der har været stor interesse.\n\nNyt afsnit."
    html_text = text_html(text)
    assert html_text == "<p>Jeg kan oplyse, at der har været stor interesse.</p><p>Nyt afsnit.</p>"


@given(st.text(alphabet=st.sampled_from(list("ab .\n<>*&\t")), max_size=60),
       st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), max_size=4))
def test_paragraphs_show_every_character_of_the_text(text: str, spans: list[tuple[int, int]]) -> None:
    marks = [(min(a, b), max(a, b), "m") for a, b in spans]
    shown = " ".join("".join(chars for chars, _ in para) for para in paragraphs(text, marks))
    assert shown.split() == text.split(), "only whitespace may change"
    marked = " ".join(chars for para in paragraphs(text, marks) for chars, name in para if name)
    expected = "".join(c for i, c in enumerate(text) if any(a <= i < b for a, b, _ in marks))
    assert "".join(marked.split()) == "".join(expected.split()), "exactly the characters in the spans are marked"


def test_no_answer_is_the_danish_message() -> None:
    assert NO_ANSWER in no_answer_html(NO_ANSWER)
    assert "filtrene" in no_answer_html(NO_ANSWER, filtered=True)


# ---------------------------------------------------------------------------
# Who may connect


def test_the_server_listens_on_localhost_by_default_without_login() -> None:
    access = resolve_access(env={})
    assert access == Access(host="127.0.0.1", auth=None)
    assert access.local_only


def test_gradio_server_name_in_the_environment_does_not_open_the_server() -> None:
    access = resolve_access(env={"GRADIO_SERVER_NAME": "0.0.0.0"})
    assert access.host == "127.0.0.1"
    assert launch_options(access)["server_name"] == "127.0.0.1", "the address is always passed explicitly"


def test_another_address_requires_a_login() -> None:
    with pytest.raises(ServeError, match="--auth bruger:adgangskode"):
        resolve_access("0.0.0.0", env={})
    with pytest.raises(ServeError, match="kræves login"):
        resolve_access("192.168.1.20", env={})


def test_login_from_flag_or_environment() -> None:
    assert resolve_access("0.0.0.0", auth="anna:hemmelig:kode", env={}).auth == ("anna", "hemmelig:kode")
    assert resolve_access("0.0.0.0", env={"RAG_AUTH": "bo:pw"}).auth == ("bo", "pw")
    assert resolve_access("0.0.0.0", auth="anna:x", env={"RAG_AUTH": "bo:pw"}).auth == ("anna", "x"), \
        "the flag wins over the environment"
    assert resolve_access(env={"RAG_AUTH": "bo:pw"}).auth == ("bo", "pw"), "a login is kept on localhost too"
    options = launch_options(resolve_access("0.0.0.0", auth="anna:x", env={}), port=8123)
    assert (options["server_name"], options["server_port"], options["auth"]) == ("0.0.0.0", 8123, ("anna", "x"))


def test_no_auth_must_be_explicit_and_alone() -> None:
    assert resolve_access("0.0.0.0", no_auth=True, env={}) == Access(host="0.0.0.0", auth=None)
    assert resolve_access("0.0.0.0", no_auth=True, env={"RAG_AUTH": "bo:pw"}).auth is None
    with pytest.raises(ServeError, match="samtidig"):
        resolve_access("0.0.0.0", auth="anna:x", no_auth=True, env={})


@pytest.mark.parametrize("bad", ["anna", "anna:", ":pw", ""])
def test_malformed_login_is_refused(bad: str) -> None:
    with pytest.raises(ServeError, match="bruger:adgangskode"):
        resolve_access("0.0.0.0", auth=bad, env={})


@pytest.mark.parametrize("host, local", [("127.0.0.1", True), ("127.0.1.1", True), ("localhost", True),
                                         ("::1", True), ("0.0.0.0", False), ("::", False),
                                         ("10.0.0.5", False), ("min-server.lan", False)])
def test_loopback_addresses(host: str, local: bool) -> None:
    assert is_loopback(host) is local


def test_nothing_is_shared_or_fetched() -> None:
    options = launch_options(Access("127.0.0.1"))
    assert options["share"] is False and options["ssr_mode"] is False and options["mcp_server"] is False
    from rag.web.app import theme
    from rag.web.serve import asset

    css = asset("style.css")
    assert "http" not in css and "@import" not in css
    pytest.importorskip("gradio")
    t = theme()
    css = t._get_theme_css()
    assert not t._stylesheets and "@import" not in css, "no font stylesheets (web fonts)"
    assert not re.findall(r"url\((?!['\"]?data:)", css), "everything the theme refers to is inline"


def test_serve_refuses_an_open_address_without_login_before_starting(capsys: pytest.CaptureFixture[str],
                                                                      tmp_path: Path) -> None:
    from rag.cli import main

    assert main(["serve", "--host", "0.0.0.0", "--index", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Fejl: Adressen 0.0.0.0") and "RAG_AUTH" in err
    assert not (tmp_path / "none").exists(), "nothing was built or started"


# ---------------------------------------------------------------------------
# From the page to ask() and back


def test_filters_from_page_values() -> None:
    f = make_filters("2024-01-01", "30-04-2024", " boligminister ", "", "SF")
    assert f == Filters(date_from=date(2024, 1, 1), date_to=date(2024, 4, 30), minister="boligminister",
                        spoerger="SF")
    assert make_filters(None, "", None, None, None) == Filters()
    assert make_filters("2024-01-01 00:00:00").date_from == date(2024, 1, 1), "the picker may add a time"
    with pytest.raises(AskError, match="Ugyldig dato '1. maj' i »Fra dato«"):
        make_filters("1. maj")
    with pytest.raises(AskError, match="ligger efter"):
        make_filters("2024-05-01", "2024-01-01")


def test_chat_turn_streams_the_question_then_one_quote_at_a_time(hashing_index: Path) -> None:
    turns = list(chat_turn("Hvor mange kommuner fik penge fra puljen?", [], Filters(), 3, at(hashing_index)))
    assert turns[0][-1]["content"].endswith("Søger …</p>"), "the question shows at once, with a searching line"
    assert [len(t) for t in turns] == [2, 2, 3, 4], "then the answer grows one quote at a time"
    final = turns[-1]
    assert final[0] == {"role": "user", "content": "Hvor mange kommuner fik penge fra puljen?"}
    answer = ask("Hvor mange kommuner fik penge fra puljen?", k=3, index_dir=hashing_index)
    for n, (message, hit) in enumerate(zip(final[1:], answer.hits, strict=True), start=1):
        assert message["role"] == "assistant"
        assert f"[{n}]</span> {hit.citation}" in message["content"]
        assert flat(hit.text) in _visible_text(message["content"])


def test_chat_turn_keeps_history_and_ignores_an_empty_question(hashing_index: Path) -> None:
    history = [{"role": "user", "content": "før"}, {"role": "assistant", "content": "svar"}]
    assert list(chat_turn("   ", history, Filters(), 3, at(hashing_index))) == []
    turns = list(chat_turn("spm. nr. 391", history, Filters(), 1, at(hashing_index)))
    assert turns[-1][:2] == history and len(turns[-1]) == 4


def test_chat_turn_says_what_is_wrong_in_danish(tmp_path: Path) -> None:
    turns = list(chat_turn("Hvad med puljen?", [], Filters(), 3, at(tmp_path / "intet")))
    assert "Der er intet indeks" in turns[-1][-1]["content"]
    assert 'class="rag-error"' in turns[-1][-1]["content"]


def test_user_question_is_shown_as_text(hashing_index: Path) -> None:
    turns = list(chat_turn("<img src=x onerror=alert(1)> **puljen**", [], Filters(), 1, at(hashing_index)))
    assert turns[-1][0]["content"] == "&lt;img src=x onerror=alert(1)&gt; **puljen**"


def test_overview_counts_the_index_and_offers_filter_values(hashing_index: Path) -> None:
    o = overview(hashing_index)
    assert o.summary.startswith("Indekseret: 5 dokumenter · ") and "model: hashing" in o.summary
    assert o.parties == ["LA", "SF", "UFG"]
    assert "Social- og boligministeren" in o.ministers
    assert "Folketingets Socialudvalg" in o.udvalg


def test_api_answer_is_answer_to_dict(hashing_index: Path) -> None:
    got = api_answer("spm. nr. 391", 2, spoerger="SF", settings=at(hashing_index))
    expected = ask("spm. nr. 391", k=2, filters=Filters(spoerger="SF"), index_dir=hashing_index).to_dict()
    assert got == expected
    assert got["hits"][0]["document"]["spm_nr"] == 391


# ---------------------------------------------------------------------------
# A rebuilt index: the app keeps answering, then answers from the new one


def _add_letter_999(corpus: Path) -> None:
    text = (corpus / LETTER_391).read_text(encoding="utf-8")
    text = text.replace("nr. 391", "nr. 999").replace("2024 - 2715", "2099 - 4242")
    (corpus / "999_ny.txt").write_text(text, encoding="utf-8")


def test_the_app_answers_from_the_new_index_once_it_is_built(corpus_copy: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    build([corpus_copy], index_dir)
    before = api_answer("spm. nr. 999", 1, settings=at(index_dir))
    assert all(h["document"]["spm_nr"] != 999 for h in before["hits"])
    assert overview(index_dir).summary.startswith("Indekseret: 5 dokumenter")
    _add_letter_999(corpus_copy)
    build([corpus_copy], index_dir)
    after = api_answer("spm. nr. 999", 1, settings=at(index_dir))
    assert after["hits"][0]["document"]["sagsnr"] == "2099 - 4242", "the new generation is used without restart"
    assert overview(index_dir).summary.startswith("Indekseret: 6 dokumenter")


def test_the_app_keeps_answering_while_the_index_is_rebuilt(corpus_copy: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    build([corpus_copy], index_dir)
    errors: list[BaseException] = []
    done = threading.Event()

    def rebuild() -> None:
        try:
            for n in range(4):
                _add_letter_999(corpus_copy) if n % 2 == 0 else (corpus_copy / "999_ny.txt").unlink()
                build([corpus_copy], index_dir)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            done.set()

    worker = threading.Thread(target=rebuild)
    worker.start()
    answered = 0
    while not done.is_set() or answered == 0:
        turns = list(chat_turn("Hvor mange kommuner fik penge fra puljen?", [], Filters(), 2, at(index_dir)))
        assert 'class="rag-quote"' in turns[-1][-1]["content"], turns[-1][-1]["content"]
        answered += 1
    worker.join()
    assert not errors, errors
    assert answered > 1


# ---------------------------------------------------------------------------
# The API endpoint, over HTTP with gradio_client


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app over a hashing-model index, on a free local port."""
    from rag.web.app import build_app
    from rag.web.serve import launch

    index_dir = tmp_path_factory.mktemp("app") / "index"
    build([CORPUS], index_dir)
    demo = build_app(at(index_dir))
    url = launch(demo, Access("127.0.0.1"), free_port(), block=False)
    try:
        yield url
    finally:
        demo.close(verbose=False)


def test_client_gets_the_structured_answer(app_url: str) -> None:
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    result = client.predict("Hvor mange kommuner fik penge fra puljen til kommuner med mange børnesager?", 3,
                            "", "", "", "", "SF", "", api_name="/ask")
    assert set(result) == {"question", "abstained", "message", "confidence", "unsure", "order", "hits"}
    assert result["abstained"] is False and 1 <= len(result["hits"]) <= 3
    for hit in result["hits"]:
        assert hit["document"]["spoerger"].endswith("(SF)"), "the filter reached ask()"
        source = (CORPUS / hit["file"]).read_text(encoding="utf-8")
        assert source[hit["start"]:hit["end"]] == hit["text"], "verbatim span of the source"
        assert hit["citation"].startswith("Sagsnr. ")


def test_client_gets_danish_errors(app_url: str) -> None:
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    with pytest.raises(Exception, match="feltet er tomt"):
        client.predict("  ", api_name="/ask")
    with pytest.raises(Exception, match="Ugyldig dato"):
        client.predict("puljen", 3, "i går", api_name="/ask")


def test_only_the_ask_and_timeline_endpoints_are_public(app_url: str) -> None:
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    info = client.view_api(print_info=False, return_format="dict")
    assert list(info["named_endpoints"]) == ["/ask", "/timeline"]
    params = [p["parameter_name"] for p in info["named_endpoints"]["/ask"]["parameters"]]
    assert params == ["question", "k", "date_from", "date_to", "minister", "udvalg", "spoerger", "kind"]
    params = [p["parameter_name"] for p in info["named_endpoints"]["/timeline"]["parameters"]]
    assert params == ["question", "limit", "date_from", "date_to", "minister", "udvalg", "spoerger", "kind"]
    line = client.predict("kommuner børn", 3, api_name="/timeline")
    assert line["order"] == "date" and 1 <= len(line["hits"]) <= 3


def test_a_login_is_enforced_when_given(hashing_index: Path) -> None:
    from gradio_client import Client
    from gradio_client.exceptions import AuthenticationError

    from rag.web.app import build_app
    from rag.web.serve import launch

    demo = build_app(at(hashing_index))
    url = launch(demo, resolve_access(auth="anna:hemmelig", env={}), free_port(), block=False)
    try:
        with pytest.raises(AuthenticationError):
            Client(url, verbose=False).predict("spm. nr. 391", api_name="/ask")
        with pytest.raises(ValueError, match="Could not login"):
            Client(url, auth=("anna", "forkert"), verbose=False)
        result = Client(url, auth=("anna", "hemmelig"), verbose=False).predict("spm. nr. 391", api_name="/ask")
        assert result["hits"][0]["document"]["spm_nr"] == 391
    finally:
        demo.close(verbose=False)


def test_the_server_connects_to_nothing_outside_the_machine(hashing_index: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Starting the app and answering opens no connection except to 127.0.0.1 (no telemetry, no
    version check, no share tunnel)."""
    from gradio_client import Client

    from rag.web.app import build_app
    from rag.web.serve import launch

    connections: list[object] = []
    original = socket.socket.connect

    def connect(self: socket.socket, address: object) -> None:
        connections.append(address)
        original(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "True")  # the app must turn it off itself
    demo = build_app(at(hashing_index))
    url = launch(demo, Access("127.0.0.1"), free_port(), block=False)
    try:
        Client(url, verbose=False).predict("spm. nr. 391", api_name="/ask")
    finally:
        demo.close(verbose=False)
    outside = [a for a in connections
               if not (isinstance(a, tuple) and is_loopback(str(a[0])))]
    assert connections and not outside, f"connections left the machine: {outside}"


def test_a_filter_that_cannot_be_read_is_answered_in_danish() -> None:
    from rag.web.app import error_turn

    turns = list(error_turn(" puljen ", [], "Ugyldig dato 'i går' i »Fra dato«"))
    assert turns == [[{"role": "user", "content": "puljen"},
                      {"role": "assistant",
                       "content": '<div class="rag-error"><p>Ugyldig dato &#x27;i går&#x27; i »Fra dato«</p></div>'}]]
    assert list(error_turn("  ", [], "x")) == []


def test_citation_links_to_the_original_when_the_document_has_an_address() -> None:
    from dataclasses import replace

    from rag.web.render import citation_html

    _, hit = _letter("Puljen er udmøntet.")
    assert "<a " not in citation_html(hit)
    linked = replace(hit, document=replace(hit.document, url="https://www.ft.dk/x?a=1&b=2"))
    assert citation_html(linked) == ('<a href="https://www.ft.dk/x?a=1&amp;b=2" target="_blank" '
                                     'rel="noopener noreferrer">Sagsnr. 2099 - 1 · SOU alm. del spm. 999</a>')
    unsafe = replace(hit, document=replace(hit.document, url="javascript:alert(1)"))
    assert "<a " not in citation_html(unsafe)
