"""Real answer letters of many ministries (tests/fixtures/letters) parse into the fields users cite.

- dev/ … dev6/ (250 letters), each later set collected after a round of parser changes to find where
  it had been fitted: every field of every letter is asserted against its gold value, except the
  known misses listed with their reasons;
- heldout/ … heldout5/ (157 letters, never read while the parser was written): only their
  shares are checked, against the figures last reported; the shared sample: the issue's targets;
- all of them: no letterhead, address, stamp, footer or page number inside a question or answer.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import REPO, SHARED

from rag import read_document
from rag.ingest.letter import normalise_sagsnr
from rag.ingest.parse import parse_document
from rag.parse_eval import Scores, evaluate_folder, score_letter

LETTERS = REPO / "tests" / "fixtures" / "letters"
SAMPLE = SHARED / "corpora" / "ft-svar-sample"
DEV = [(folder, json.loads(line)) for folder in ("dev", "dev2", "dev3", "dev4", "dev5", "dev6")
       for line in (LETTERS / folder / "gold.jsonl").read_text(encoding="utf-8").splitlines()]
# Printed values the parser cannot read, and why. Everything else in the dev sets must be right.
KNOWN_MISSES = {
    **{("SUU_43_ft20072-516924.txt", field): "a fragment: no heading, no number, half the text mis-encoded"
       for field in ("recognized", "number", "question_found", "answer_found", "kind")},
    ("B78_9_ft20051-263463.txt", "kind"): "a four-line fragment: the bill is named only in its address",
    ("B78_9_ft20051-263463.txt", "case"): "a four-line fragment: the bill is named only in its address",
    **{("L36_20_ft20061-350222.txt", field): "the bill is named only in its address (eu.dk/…/lovforslag/L36/…)"
       for field in ("kind", "case")},
    ("B8_11_polspy1032906.txt", "udvalg"): "the gold says UIU; ft.dk files this committee's 2022-23 questions "
                                           "under UUI (dev4's UUI_172 …/almdel/uui/…)",
    **{(f"S_S-{n}_ft20031-webarkiv.txt", "date"): "two written answers on the page; this gold takes the first "
       "(a holding answer), the golds of dev/ and dev3/ take the final one, as the parser does" for n in (2303, 2312)},
    **{(f, "doknr"): "this gold takes the Akt-id as the document number, dev2's golds do not; the parser reads "
       "only Dok.nr." for f in ("UUI_172_ft20222-2721934.txt", "UUI_272_ft20161-1708420.txt")},
    **{("UVT_58_ft20091-812312.txt", field): "one letter answers questions 57 and 58; it is filed under 58"
       for field in ("number", "citation_number")},
    ("UFU_62_ft20231-2815894.txt", "answer_found"): "the answer ends in a table of numbers, cut at its first cells",
    ("UFU_62_ft20231-2815894.txt", "kind"): "prints 'Aktstykke spørgsmål' for an alm. del question",
    # read as a partial letter (header fields only): its question is quoted in mis-decoded marks
    **{("TRU_325_ft20072-543031.txt", field): "no heading, the question quoted in mis-decoded marks ('â€…â€')"
       for field in ("question_found", "answer_found", "asker")},
}
TARGETS = {"recognized": 0.95, "number": 0.95, "citation_number": 0.95, "answer_found": 0.95, "sagsnr": 0.90,
           "date": 0.90}


@pytest.mark.parametrize(("folder", "gold"), DEV, ids=[f"{folder}/{g['file']}" for folder, g in DEV])
def test_every_field_of_every_dev_letter(folder: str, gold: dict) -> None:
    scores = Scores()
    score_letter(read_document(LETTERS / folder / gold["file"]), gold, scores)
    misses = [(name, want, got) for file, name, want, got in scores.misses if (file, name) not in KNOWN_MISSES]
    assert not misses, f"{gold['file']}: (field, gold, parsed): {misses}"


def test_every_known_miss_is_still_missed() -> None:
    """A miss that is fixed leaves KNOWN_MISSES, so the list says what the parser cannot do today."""
    missed = set()
    for folder, gold in DEV:
        scores = Scores()
        score_letter(read_document(LETTERS / folder / gold["file"]), gold, scores)
        missed |= {(file, name) for file, name, _, _ in scores.misses}
    assert not set(KNOWN_MISSES) - missed, sorted(set(KNOWN_MISSES) - missed)


# What the held-out letters scored when last reported (BENCHMARKS.md, "Parsing real letters"). Where
# that is below TARGETS the target is not met; these floors keep it from getting worse.
HELDOUT_REPORTED = {
    "heldout": {"recognized": 24 / 24, "number": 24 / 24, "citation_number": 24 / 24, "answer_found": 24 / 24,
                "sagsnr": 15 / 17, "date": 20 / 22},
    "heldout2": {"recognized": 31 / 32, "number": 30 / 32, "citation_number": 31 / 32, "answer_found": 31 / 32,
                 "sagsnr": 16 / 20, "date": 26 / 30},
    "heldout3": {"recognized": 32 / 32, "number": 32 / 32, "citation_number": 32 / 32, "answer_found": 31 / 32,
                 "sagsnr": 17 / 20, "date": 26 / 27},
    "heldout4": {"recognized": 38 / 38, "number": 38 / 38, "citation_number": 38 / 38, "answer_found": 38 / 38,
                 "sagsnr": 23 / 25, "date": 33 / 34},
    "heldout5": {"recognized": 30 / 31, "number": 30 / 31, "citation_number": 31 / 31, "answer_found": 30 / 31,
                 "sagsnr": 22 / 23, "date": 26 / 27},
}


@pytest.mark.heldout
@pytest.mark.parametrize("folder", sorted(HELDOUT_REPORTED))
def test_heldout_letters_do_not_fall_below_what_was_reported(folder: str) -> None:
    """Only the shares are shown on failure: the held-out letters stay unread while developing."""
    scores = evaluate_folder(LETTERS / folder)
    shares = {name: scores.rate(name) for name in TARGETS}
    floors = HELDOUT_REPORTED[folder]  # never below what was reported, also where that beats the target
    assert all(shares[n] is not None and shares[n] >= floors[n] - 1e-9 for n in TARGETS), (shares, floors)


def test_sample_letters_meet_the_targets() -> None:
    if not SAMPLE.is_dir():
        pytest.skip("the shared sample is not beside the repo")
    scores = evaluate_folder(SAMPLE)
    shares = {name: scores.rate(name) for name in TARGETS if scores.total.get(name)}
    assert all(shares[n] >= TARGETS[n] for n in shares), (shares, scores.misses)


# Independent of the parser's own rules: strings that only letterheads, stamps and footers contain.
NOT_PROSE = re.compile(
    r"(?im)^(?:Offentligt|\w{2,4} Alm\.del)$|\d{5,}_\d{4}\.png|Side \d+ af \d+|^Side$|\[email protected\]|"
    r"\bT(?:lf|elefon)\.?:? *\+?\d|\bCVR\b|\bEAN\b|\d{4}\s+København K|^_{10,}$|Med venlig hilsen|ministeriet\s+•")


def _letterhead_in_sections(path: Path) -> list[tuple[str, str, str]]:
    found = []
    for file in sorted(path.glob("*.txt")):
        doc = read_document(file)
        for s in doc.sections:
            m = NOT_PROSE.search(doc.text[s.start:s.end])
            if m and (s.kind in ("question", "answer") or doc.kind == "letter"):
                found.append((file.name, s.kind, m.group(0)))
    return found


@pytest.mark.parametrize("folder", ["dev", "dev2", "dev3", "dev4", "dev5", "dev6", "sample"])
def test_no_letterhead_or_footer_in_a_question_or_answer(folder: str) -> None:
    path = SAMPLE if folder == "sample" else LETTERS / folder
    if not path.is_dir():
        pytest.skip(f"{path} is not here")
    found = _letterhead_in_sections(path)
    assert not found, found


# Sections of held-out letters found holding letterhead when last reported (heldout3, heldout5: one each,
# in letters that stay unread); only the count is shown, and it must not grow.
HELDOUT_LETTERHEAD = {"heldout": 0, "heldout2": 0, "heldout3": 1, "heldout4": 0, "heldout5": 1}


@pytest.mark.heldout
@pytest.mark.parametrize("folder", sorted(HELDOUT_LETTERHEAD))
def test_held_out_letters_keep_letterhead_out_of_their_sections(folder: str) -> None:
    found = len(_letterhead_in_sections(LETTERS / folder))
    assert found <= HELDOUT_LETTERHEAD[folder], f"{found} sections hold letterhead"


def test_an_ft_dk_address_fills_what_the_text_lacks(tmp_path: Path) -> None:
    text = ("Hermed fremsendes svar på spørgsmål nr. 57 stillet den 14. marts 2006.\n\nSpørgsmål nr. 57:\n"
            "”Vil ministeren kommentere henvendelsen?”\n\nSvar:\nJeg har modtaget et tilsvarende brev.\n")
    (tmp_path / "brev.txt").write_text(text, encoding="utf-8")
    bare = read_document(tmp_path / "brev.txt")
    assert (bare.udvalg_kode, bare.samling, bare.spm_type) == (None, None, None)
    url = "https://www.ft.dk/samling/20051/almdel/kuu/spm/57/svar/123/261178/index.htm"
    doc = read_document(tmp_path / "brev.txt", {"url": url})
    assert (doc.udvalg_kode, doc.samling, doc.spm_type, doc.spm_nr, doc.url) == ("KUU", "20051", "alm. del", 57, url)
    from rag import citation

    assert citation(doc).startswith("KUU alm. del spm. 57")


def test_rag_eval_parse_prints_a_column_per_folder_and_their_total(capsys: pytest.CaptureFixture[str]) -> None:
    from rag.cli import main

    assert main(["eval-parse", str(LETTERS / "dev4"), str(LETTERS / "dev5"), "--misses"]) == 0
    out = capsys.readouterr().out
    header = out.splitlines()[0]
    assert header.endswith("dev4 | " + str(LETTERS / "dev5") + " | i alt |")
    row = next(line for line in out.splitlines() if line.startswith("| spørgsmålets nummer |"))
    assert row.endswith("| 1.00 (49/49) | 0.99 (81/82) |")  # dev4 32/33 (UVT_58 answers 57 and 58)
    assert "UVT_58_ft20091-812312.txt: number: facit '58', læst '57'" in out


def test_rag_eval_parse_names_a_folder_without_gold(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from rag.cli import main

    (tmp_path / "brev.txt").write_text("Svar på spørgsmål 1", encoding="utf-8")
    assert main(["eval-parse", str(tmp_path)]) != 0
    assert "gold.jsonl" in capsys.readouterr().err


# Layouts the same letter takes in other copies: a web page's no-break spaces, blank lines between
# lines, ft.dk's stamp lines on top, labels in capitals or without colons, and the whole letter on one
# line (polspy.org, eu.dk). The case number and date read from the original must survive them; for
# one-line copies the test holds the figure reached (2026-11-30: 10 of 159 case numbers and 20 of 224
# dates still lost, mostly where the question or answer swallows the letterhead).
def _flatten(text: str) -> str:
    return re.sub(r"\s*\n\s*", " ", text)


LAYOUTS = {
    "no-break spaces": (lambda t: t.replace(" ", "\u00a0", 40), 0, 0),
    "blank lines": (lambda t: t.replace("\n", "\n \n"), 0, 0),
    "stamp lines": (lambda t: "Retsudvalget 2019-20\nREU Alm.del\nOffentligt\n1234567_0001.png\n" + t, 0, 0),
    "labels in capitals": (lambda t: re.sub(r"(?i)\b(sagsnr|dato|j\.\s?nr)", lambda m: m.group(0).upper(), t), 1, 1),
    "labels without colons": (lambda t: re.sub(r"(?i)(sagsnr\.?|j\.\s?nr\.?|dato)\s*:", r"\1", t), 1, 1),
    "one line": (_flatten, 10, 20),
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_case_numbers_and_dates_survive_other_layouts(layout: str) -> None:
    change, most_sagsnr, most_dates = LAYOUTS[layout]
    lost_sagsnr, lost_dates = [], []
    for folder, gold in DEV:
        text = (LETTERS / folder / gold["file"]).read_text(encoding="utf-8")
        base, moved = parse_document(text, gold["file"]), parse_document(change(text), gold["file"])
        if gold.get("sagsnr_printed") and base.sagsnr_norm == normalise_sagsnr(gold["sagsnr_printed"]) \
                and moved.sagsnr_norm != base.sagsnr_norm:
            lost_sagsnr.append(gold["file"])
        if gold.get("date") and base.dato is not None and base.dato.isoformat() == gold["date"] \
                and moved.dato != base.dato:
            lost_dates.append(gold["file"])
    assert len(lost_sagsnr) <= most_sagsnr and len(lost_dates) <= most_dates, (lost_sagsnr, lost_dates)
