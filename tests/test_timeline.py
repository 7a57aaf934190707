"""The timeline (`rag.timeline`), the exports (Markdown, CSV, clipboard text) and their shells."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from rag import Settings, answer_csv, answer_markdown, ask, open_index, quote_for_copy, timeline
from rag.cli import main
from rag.rank import CONFIDENCE_FEATURES
from rag.text import flat
from rag.web.app import share_link
from rag.web.render import no_answer_html
from rag.web.timeline import timeline_html

QUESTION = "kommuner børn anbringelser plejefamilier"


def test_timeline_is_oldest_first_and_holds_more_than_k(hashing_index: Path) -> None:
    line = timeline(QUESTION, settings=Settings(index_dir=hashing_index))
    dates = [h.document.dato for h in line.hits if h.document.dato]
    assert line.order == "date" and not line.abstained
    assert dates == sorted(dates) and len(line.hits) == 5, "every seed letter, undated last"
    assert line.hits[-1].document.dato is None, "spm. 238 prints no date: it comes last"
    assert len(timeline(QUESTION, 2, settings=Settings(index_dir=hashing_index)).hits) == 2, "the limit holds"


def _calibrate(monkeypatch: pytest.MonkeyPatch, index_dir: Path, weights: dict[str, float], bias: float,
               abstain_below: float) -> None:
    from rag import answer as answer_module

    model_id = open_index(index_dir).manifest["model"]["id"]
    calibration = answer_module.Calibration(tuple((f, weights.get(f, 0.0)) for f in CONFIDENCE_FEATURES), bias,
                                            abstain_below, abstain_below)
    monkeypatch.setitem(answer_module.CALIBRATIONS, model_id, calibration)


def test_timeline_keeps_only_documents_that_pass_the_relevance_decision(hashing_index: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # confidence rises with the document's word coverage: only documents holding the question's words pass
    _calibrate(monkeypatch, hashing_index, {"coverage": 20.0}, -10.0, 0.5)
    settings = Settings(index_dir=hashing_index)
    line = timeline("Langeland kommune taskforce", settings=settings)
    assert line.hits and all(h.confidence is not None and h.confidence >= 0.5 for h in line.hits)
    assert len(line.hits) < 5, "documents below the decision are left out"
    best = ask("Langeland kommune taskforce", settings=settings)
    assert best.hits[0].document.file in {h.document.file for h in line.hits}


def test_a_question_nothing_answers_abstains_in_the_timeline_too(hashing_index: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    _calibrate(monkeypatch, hashing_index, {}, -5.0, 0.5)  # confidence 0.007 for anything
    settings = Settings(index_dir=hashing_index)
    line, best = timeline("kommuner", settings=settings), ask("kommuner", settings=settings)
    assert line.abstained and best.abstained and line.hits == ()
    assert line.message == best.message == "Jeg fandt ingen svar, der handler om det."
    html = timeline_html(line, no_answer_html(line.message or ""))
    assert "Jeg fandt ingen svar" in html and "rag-tl-mark" not in html


def test_exports_hold_every_quote_verbatim_with_its_citation(hashing_index: Path) -> None:
    answer = ask(QUESTION, k=3, settings=Settings(index_dir=hashing_index))
    md = answer_markdown(answer)
    assert md.startswith(f"# {QUESTION}\n")
    rows = list(csv.reader(io.StringIO(answer_csv(answer))))
    assert rows[0] == ["spørgsmål", "dato", "minister", "kildehenvisning", "citat", "adresse"]
    assert len(rows) == 1 + len(answer.hits)
    for hit, row in zip(answer.hits, rows[1:], strict=True):
        assert f"> {flat(hit.text)}" in md
        assert re.sub(r"\\(.)", r"\1", md).count(hit.citation) >= 1
        assert row[3] == hit.citation and row[4] == flat(hit.text) and row[5] == hit.document.file
        assert row[1] == (hit.document.dato.isoformat() if hit.document.dato else "")
        copied = quote_for_copy(hit)
        assert copied == f"»{flat(hit.text)}« ({hit.citation}, {hit.document.file})"


def test_timeline_html_marks_every_dated_answer_and_lists_them_all(hashing_index: Path) -> None:
    line = timeline(QUESTION, settings=Settings(index_dir=hashing_index))
    html = timeline_html(line)
    marks = re.findall(r'<circle class="rag-tl-mark" data-hit="(\d+)" cx="([\d.]+)"', html)
    dated = [i for i, h in enumerate(line.hits) if h.document.dato]
    assert sorted(int(i) for i, _ in marks) == dated
    xs = [float(x) for i, x in sorted(marks, key=lambda m: int(m[0]))]
    assert xs == sorted(xs), "later answers further right"
    assert html.count('class="rag-tl-item"') == len(line.hits)
    assert "uden dato" in html
    for hit in line.hits:
        assert flat(hit.text).replace("&", "&amp;")[:60] in html


def test_share_links_carry_the_question_and_its_filters() -> None:
    link = share_link("Hvad sagde ministeren om store bededag?", {"fra": "2023-01-01", "til": "", "parti": "SF"})
    assert link == "?q=Hvad+sagde+ministeren+om+store+bededag%3F&fra=2023-01-01&parti=SF"


def test_cli_timeline_and_formats(hashing_index: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["ask", QUESTION, "--index", str(hashing_index)]
    assert main([*base, "--tidslinje"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Tidslinje: 5 svar, ældste først.")
    assert main([*base, "--tidslinje", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["order"] == "date" and len(data["hits"]) == 5
    assert main([*base, "-k", "2", "--format", "csv"]) == 0
    assert len(list(csv.reader(io.StringIO(capsys.readouterr().out)))) == 3
    assert main([*base, "-k", "2", "--format", "markdown"]) == 0
    assert capsys.readouterr().out.startswith(f"# {QUESTION}")


def test_one_answer_is_drawn_in_the_middle(hashing_index: Path) -> None:
    line = timeline("Langeland kommune taskforce", 1, settings=Settings(index_dir=hashing_index))
    html = timeline_html(line)
    marks = re.findall(r'<circle class="rag-tl-mark" data-hit="0" cx="([\d.]+)"', html)
    assert len(line.hits) == 1 and len(marks) == 1
    assert "1 svar den " in html
