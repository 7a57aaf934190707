"""The chat page in a real browser (headless Chromium via Playwright), as a person uses it.

The app runs on a free local port over corpus/ indexed with the real bundled model; a
second one over corpus/ plus a letter full of markup proves document text is shown as text. The
test asks questions, reads the page, saves a screenshot to artifacts/ and checks that
the browser requested nothing outside 127.0.0.1.

Needs /usr/bin/chromium (`apt-get install -y chromium`; .ci/run installs it). Playwright's
own browser download is not used.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import socket
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import CORPUS, REPO, build

from rag import ask

pytestmark = [pytest.mark.slow, pytest.mark.real_model]

CHROMIUM = Path(os.environ.get("RAG_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = REPO / "artifacts"
ANSWERED = "Hvor mange kommuner fik penge fra puljen til kommuner med mange børnesager?"
UNANSWERED = "Hvordan får man sprød svær på flæskestegen?"
FILTERED = "Hvordan hjælper ministeren kommuner med mange børnesager?"
TIMED = ("Hvad gør ministeren ved børnesagerne i Langeland Kommune?",
         "Hvad har ministeren sagt om kvalitetsrammen i Børnene Først?",
         "Hvornår vil ministeren indkalde forligskredsen om plejefamiliereformen?")
MARKUP = ('<script>window.__ragXss = 1</script> **ikke fed** '
          '<img src="http://example.com/x.png" onerror="window.__ragXss = 2">')


def _letter_with_markup(corpus: Path) -> None:
    """A copy of spm. 391 renumbered to spm. 999, with HTML and markdown in its answer."""
    text = (corpus / "002_95e6a3818805a982.txt").read_text(encoding="utf-8")
    text = text.replace("nr. 391", "nr. 999").replace("2024 - 2715", "2099 - 4242")
    text = text.replace("Puljen på i alt 14,3 mio. kr.", f"Puljen {MARKUP} på i alt 14,3 mio. kr.")
    (corpus / "999_markup.txt").write_text(text, encoding="utf-8")


def _serving(index_dir: Path) -> Iterator[str]:
    """The app over `index_dir` on a free local port, warmed up as `rag serve` does before it listens;
    yields its address and stops it afterwards."""
    from rag import Settings
    from rag.web.access import Access
    from rag.web.app import build_app
    from rag.web.serve import launch

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    ask("kommuner", k=1, index_dir=index_dir)
    demo = build_app(Settings(index_dir=index_dir))
    try:
        yield launch(demo, Access("127.0.0.1"), port, block=False)
    finally:
        demo.close(verbose=False)


@pytest.fixture(scope="module")
def app_url(real_index: Path) -> Iterator[str]:
    """The app over corpus/ indexed with the real model (the abstention threshold is calibrated for it)."""
    yield from _serving(real_index)


@pytest.fixture(scope="module")
def markup_app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app over corpus/ plus a letter with markup in it (hashing model: found by its number)."""
    folder = tmp_path_factory.mktemp("markup")
    corpus = folder / "corpus"
    shutil.copytree(CORPUS, corpus)
    _letter_with_markup(corpus)
    build([corpus], folder / "index")
    yield from _serving(folder / "index")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        if os.environ.get("RAG_REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


class Requests:
    """Every URL the page asked for; anything not on 127.0.0.1 is also refused."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def outside(self) -> list[str]:
        return [u for u in self.urls
                if urlparse(u).scheme not in ("data", "blob", "about") and urlparse(u).hostname != "127.0.0.1"]


def _open(browser, url: str) -> tuple[object, object, Requests]:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="da-DK",
                                  timezone_id="Europe/Copenhagen")
    requests = Requests()

    def route(r) -> None:  # type: ignore[no-untyped-def]
        requests.urls.append(r.request.url)
        if urlparse(r.request.url).hostname == "127.0.0.1":
            r.continue_()
        else:
            r.abort()

    context.route("**/*", route)
    pg = context.new_page()
    pg.on("request", lambda r: requests.urls.append(r.url))
    pg.on("websocket", lambda ws: requests.urls.append(ws.url))
    pg.goto(url)
    pg.wait_for_function("document.querySelector('#rag-info')?.innerText.startsWith('Indekseret')")
    return context, pg, requests


@pytest.fixture
def page(browser, app_url: str) -> Iterator[tuple[object, Requests]]:  # type: ignore[no-untyped-def]
    context, pg, requests = _open(browser, app_url)
    try:
        yield pg, requests
    finally:
        context.close()  # type: ignore[attr-defined]


@pytest.fixture
def markup_page(browser, markup_app_url: str) -> Iterator[tuple[object, Requests]]:  # type: ignore[no-untyped-def]
    context, pg, requests = _open(browser, markup_app_url)
    try:
        yield pg, requests
    finally:
        context.close()  # type: ignore[attr-defined]


def _ask(pg, question: str, timeout: float = 20_000) -> float:  # type: ignore[no-untyped-def]
    """Type `question`, press Enter, wait until the reply is complete; returns seconds to the first quote
    (or to the reply, when there is no quote)."""
    asked = pg.locator("#rag-chat .user-row").count()
    box = pg.locator("#rag-question textarea")
    box.fill(question)
    start = time.perf_counter()
    box.press("Enter")
    pg.wait_for_function(
        """([n, q]) => {
             const users = document.querySelectorAll('#rag-chat .user-row');
             const last = users[users.length - 1];
             if (users.length <= n || !last.innerText.includes(q)) return false;
             const after = [...document.querySelectorAll('#rag-chat .bot-row')].slice(-1)[0];
             return after && !after.querySelector('.rag-searching')
                    && after.querySelector('.rag-quote, .rag-none, .rag-error');
           }""", arg=[asked, question], timeout=timeout, polling="raf")
    elapsed = time.perf_counter() - start
    pg.wait_for_timeout(300)  # the remaining quotes stream in right after the first
    return elapsed


def _last_reply(pg) -> str:  # type: ignore[no-untyped-def]
    """The text of everything after the last question."""
    return pg.evaluate("""() => {
        const rows = [...document.querySelectorAll('#rag-chat .message-row')];
        let i = rows.length - 1;
        while (i >= 0 && !rows[i].classList.contains('user-row')) i--;
        return rows.slice(i + 1).map(r => r.innerText).join('\\n');
    }""")


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_a_question_is_answered_with_verbatim_quotes_and_citations(page, real_index: Path) -> None:  # type: ignore[no-untyped-def]
    pg, requests = page
    expected = ask(ANSWERED, k=3, index_dir=real_index)
    assert not expected.abstained
    _ask(pg, ANSWERED)
    reply = _flat(_last_reply(pg))
    best = expected.hits[0]
    assert best.document.sagsnr == "2024 - 2715" and best.document.spm_nr == 391
    assert _flat(best.text) in reply, "the best passage, verbatim"
    assert "[1] Sagsnr. 2024 - 2715 · SOU alm. del spm. 391 · 30-04-2024 · Social- og boligministeren" in reply
    quotes = pg.locator("#rag-chat blockquote.rag-quote")
    assert quotes.count() == len(expected.hits)
    for n, hit in enumerate(expected.hits):
        assert _flat(quotes.nth(n).inner_text()) == _flat(hit.text)
        assert f"[{n + 1}] {hit.citation}" in reply
    evidence = quotes.first.locator("mark.rag-evidence")
    assert evidence.count() >= 1, "the evidence sentence is highlighted"
    s, e = best.evidence[0]
    assert _flat(evidence.first.inner_text()) == _flat(best.text[s:e])

    # The source unfolds in place: the question as asked, who asked, the full answer with the quote marked.
    source = pg.locator("#rag-chat details.rag-source").first
    source.locator("summary").click()
    text = _flat(source.inner_text())
    assert "efter ønske fra Theresa Berg Andersen (SF)" in text
    assert _flat(best.document.question or "")[:80] in text
    assert _flat(source.locator("mark.rag-quoted").first.inner_text()) in _flat(best.text)
    source.locator("summary").click()

    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / "ui_answer.png"))
    assert not requests.outside(), f"requests left the machine: {requests.outside()}"


def test_nothing_relevant_says_so_in_danish(page) -> None:  # type: ignore[no-untyped-def]
    pg, requests = page
    _ask(pg, UNANSWERED)
    reply = _last_reply(pg)
    assert "Jeg fandt ingen svar, der handler om det." in reply
    assert pg.locator("#rag-chat .bot-row").last.locator(".rag-quote").count() == 0
    assert not requests.outside(), requests.outside()


def test_a_filter_changes_the_result(page) -> None:  # type: ignore[no-untyped-def]
    pg, _ = page
    _ask(pg, FILTERED)
    assert "spm. 391" in _last_reply(pg).split("\n[2]")[0], "unfiltered, the 2024 answer comes first"
    date_to = pg.locator("#rag-date-to input")
    date_to.fill("2023-01-01")
    date_to.press("Enter")
    _ask(pg, FILTERED)
    reply = _last_reply(pg)
    assert "SOU alm. del spm. 338 · 22-04-2022" in reply
    assert "2024" not in " ".join(line for line in reply.splitlines() if "Sagsnr." in line), \
        "nothing after the 'Til dato' is quoted"

    pg.get_by_role("button", name="Nulstil filtre").click()
    pg.locator("#rag-party input").click()
    pg.get_by_role("option", name="LA", exact=True).click()
    _ask(pg, FILTERED)
    citations = [line for line in _last_reply(pg).splitlines() if "Sagsnr." in line]
    assert citations == ["[1] Sagsnr. 2024 - 1718 · SOU alm. del spm. 246 · 21-03-2024 · Social- og boligministeren"]


def test_document_markup_is_shown_as_text(markup_page) -> None:  # type: ignore[no-untyped-def]
    pg, requests = markup_page
    _ask(pg, "spm. nr. 999")
    quote = pg.locator("#rag-chat blockquote.rag-quote").first
    assert MARKUP in _flat(quote.inner_text()), "HTML and markdown in a document show as their characters"
    assert quote.locator("script, img, strong, em").count() == 0
    assert pg.evaluate("() => window.__ragXss") is None, "nothing in a document ran"
    assert not requests.outside(), requests.outside()


def test_examples_ask_and_the_conversation_can_be_cleared(page) -> None:  # type: ignore[no-untyped-def]
    pg, _ = page
    pg.get_by_role("button", name="spm. nr. 338").click()
    pg.locator("#rag-chat blockquote.rag-quote").first.wait_for()
    assert "spm. 338" in _last_reply(pg)
    pg.get_by_role("button", name="Ryd samtalen").click()
    pg.wait_for_function("document.querySelectorAll('#rag-chat .message-row').length === 0")


def test_time_from_enter_to_the_first_quote(page) -> None:  # type: ignore[no-untyped-def]
    pg, requests = page
    _ask(pg, ANSWERED)  # the page and its connection are warm too
    seconds = [_ask(pg, q) for q in TIMED]
    assert pg.locator("#rag-chat blockquote.rag-quote").count() >= len(TIMED) + 1
    offset = pg.evaluate("""() => {
        const rows = document.querySelectorAll('#rag-chat .user-row');
        const row = rows[rows.length - 1];
        let box = row.parentElement;
        while (box && !(box.scrollHeight > box.clientHeight && getComputedStyle(box).overflowY !== 'visible'))
            box = box.parentElement;
        return row.getBoundingClientRect().top - box.getBoundingClientRect().top;
    }""")
    assert 0 <= offset < 30, f"the newest question is scrolled to the top of the chat (offset {offset} px)"
    assert pg.locator('#rag-chat [aria-label*="<div"]').count() == 0, "messages are not read out as HTML"
    median = statistics.median(seconds)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "ui_timing.json").write_text(json.dumps(
        {"enter_to_first_quote_seconds": [round(s, 3) for s in seconds], "median": round(median, 3)},
        indent=2), encoding="utf-8")
    print(f"\nEnter → first quote on screen (warm app): median {median * 1000:.0f} ms "
          f"({', '.join(f'{s * 1000:.0f}' for s in seconds)} ms)")
    assert median < 3.0, f"the first quote took {median:.2f} s"
    assert not requests.outside(), requests.outside()


# ---------------------------------------------------------------------------
# The timeline, copying, exports and shared links (over corpus/ + the § 20 exchanges)

MANY = "Hvad har ministrene sagt om afskaffelsen af store bededag?"


@pytest.fixture(scope="module")
def s20_app_url(real_s20_index: Path) -> Iterator[str]:
    yield from _serving(real_s20_index)


@pytest.fixture
def s20_page(browser, s20_app_url: str) -> Iterator[tuple[object, Requests, str]]:  # type: ignore[no-untyped-def]
    context, pg, requests = _open(browser, s20_app_url)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=s20_app_url)
    try:
        yield pg, requests, s20_app_url
    finally:
        context.close()  # type: ignore[attr-defined]


def _marks(pg) -> list[tuple[int, float]]:  # type: ignore[no-untyped-def]
    """(hit number, x) of every mark on the timeline."""
    return [(int(i), float(x)) for i, x in pg.evaluate(
        "() => [...document.querySelectorAll('#rag-timeline circle.rag-tl-mark')]"
        ".map(c => [c.dataset.hit, c.getAttribute('cx')])")]


def test_the_timeline_shows_every_answer_in_date_order_and_a_click_shows_its_quote(  # type: ignore[no-untyped-def]
        s20_page, real_s20_index: Path) -> None:
    from rag import timeline

    pg, requests, _ = s20_page
    expected = timeline(MANY, index_dir=real_s20_index)
    assert len(expected.hits) >= 10, "a question many § 20 answers answer"
    pg.get_by_role("tab", name="Tidslinje").click()
    seconds = []
    for _ in range(3):  # the first is warm-up of the page's connection
        box = pg.locator("#rag-question textarea")
        box.fill(MANY)
        start = time.perf_counter()
        box.press("Enter")  # the timeline shows "Søger …" at once, then the answers
        pg.wait_for_function("() => document.querySelector('#rag-timeline .rag-searching')",
                             timeout=10_000, polling="raf")
        pg.wait_for_function("() => !document.querySelector('#rag-timeline .rag-searching')"
                             " && document.querySelector('#rag-timeline circle.rag-tl-mark')",
                             timeout=10_000, polling="raf")
        seconds.append(time.perf_counter() - start)
    marks = _marks(pg)
    assert sorted(i for i, _ in marks) == list(range(len(expected.hits))), "one mark per answer, all dated"
    by_hit = dict(marks)
    days = [expected.hits[i].document.dato for i in sorted(by_hit)]
    assert days == sorted(days)  # type: ignore[type-var]
    for a in range(len(days) - 1):
        if days[a] != days[a + 1]:
            assert by_hit[a] < by_hit[a + 1], "a later answer is further right"
    # Clicking a mark shows that answer's quote and citation in the panel.
    n = len(expected.hits) // 2
    pg.locator(f'#rag-timeline circle.rag-tl-mark[data-hit="{n}"]').click()
    panel = _flat(pg.locator("#rag-timeline .rag-tl-detail").inner_text())
    assert _flat(expected.hits[n].text) in panel and expected.hits[n].citation in panel
    items = pg.locator("#rag-timeline li.rag-tl-item")
    assert items.count() == len(expected.hits)
    assert [_flat(items.nth(i).locator("blockquote").inner_text()) for i in range(items.count())] == \
        [_flat(h.text) for h in expected.hits], "the list below: every quote, oldest first"
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / "ui_timeline.png"))
    (ARTIFACTS / "ui_timeline_timing.json").write_text(json.dumps(
        {"enter_to_timeline_seconds": [round(s, 3) for s in seconds], "passages": 2767,
         "answers": len(expected.hits)}, indent=2), encoding="utf-8")
    print(f"\nEnter → timeline on screen (warm app, {len(expected.hits)} answers): "
          f"{', '.join(f'{s * 1000:.0f}' for s in seconds)} ms")
    assert min(seconds[1:]) < 3.0
    assert not requests.outside(), requests.outside()


def test_copy_puts_the_quote_and_its_citation_on_the_clipboard(s20_page, real_s20_index: Path) -> None:  # type: ignore[no-untyped-def]
    from rag import quote_for_copy

    pg, requests, _ = s20_page
    expected = ask(MANY, k=3, index_dir=real_s20_index)
    _ask(pg, MANY)
    pg.locator("#rag-chat button.rag-copy").nth(1).click()
    pg.wait_for_function("() => [...document.querySelectorAll('#rag-chat button.rag-copy')]"
                         ".some(b => b.innerText.startsWith('Kopieret'))")
    copied = pg.evaluate("async () => await navigator.clipboard.readText()")
    assert copied == quote_for_copy(expected.hits[1])
    assert copied.startswith("»") and f"« ({expected.hits[1].citation}, https://www.ft.dk/" in copied
    assert not requests.outside(), requests.outside()


def test_the_markdown_download_holds_every_quote_verbatim(s20_page, real_s20_index: Path) -> None:  # type: ignore[no-untyped-def]
    pg, requests, _ = s20_page
    expected = ask(MANY, k=3, index_dir=real_s20_index)
    _ask(pg, MANY)
    button = pg.locator("#rag-answer-md")
    button.wait_for(state="visible")
    with pg.expect_download() as download:
        button.click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert download.value.suggested_filename.endswith(".md")
    unescaped = text.replace("\\", "")
    for hit in expected.hits:
        assert f"> {_flat(hit.text)}" in text, "the quote, character for character"
        assert hit.citation in unescaped
    ARTIFACTS.mkdir(exist_ok=True)
    view = pg.context.new_page()
    view.set_content(f"<pre style='white-space: pre-wrap; font: 14px monospace; margin: 1em'>"
                     f"{html.escape(text)}</pre>")
    view.screenshot(path=str(ARTIFACTS / "ui_export_markdown.png"), full_page=True)
    view.close()
    assert not requests.outside(), requests.outside()


def test_an_address_with_a_question_answers_it_on_load(browser, s20_app_url: str,  # type: ignore[no-untyped-def]
                                                       real_s20_index: Path) -> None:
    from urllib.parse import urlencode

    from rag import timeline

    expected = timeline(MANY, index_dir=real_s20_index)
    context, pg, requests = _open(browser, f"{s20_app_url}/?{urlencode({'q': MANY, 'visning': 'tidslinje'})}")
    try:
        pg.wait_for_selector("#rag-timeline circle.rag-tl-mark", state="attached", timeout=20_000)
        assert len(_marks(pg)) == len(expected.hits)
        pg.get_by_role("tab", name="Samtale").click()
        pg.locator("#rag-chat blockquote.rag-quote").first.wait_for(timeout=20_000)
        assert MANY in _flat(pg.locator("#rag-chat .user-row").last.inner_text())
        link = pg.locator("#rag-share-box a.rag-share-link")
        assert link.get_attribute("href") == "?" + urlencode({"q": MANY})
        ARTIFACTS.mkdir(exist_ok=True)
        pg.screenshot(path=str(ARTIFACTS / "ui_chat_s20.png"))
        assert not requests.outside(), requests.outside()
    finally:
        context.close()
