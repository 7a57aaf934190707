"""Mechanical checks of the retrieval development set tests/eval/dev.jsonl.

Each line is {"question", "gold_file", "gold_quote", "set"}; `set` is one of
corpus (the answer letters in corpus/), s20 (the § 20 exchanges beside the repo),
id (questions by case/question number) and none (nothing in the documents answers).
These tests only check that the set is well formed and that its gold data is real:
files exist, quotes are verbatim (modulo whitespace), quotes sit in the minister's
answer, identifiers occur in their documents, and questions paraphrase their quotes.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]  # this file is tests/test_devset.py
DEV = REPO / "tests" / "eval" / "dev.jsonl"
CORPUS = REPO / "corpus"
# The § 20 corpus is kept out of the repo, beside it: <repo>/../shared/corpora/...
S20_DIR = REPO.parent / "shared" / "corpora" / "folketinget-s20-2023"

KEYS = {"question", "gold_file", "gold_quote", "set"}
SIZES = {"corpus": (15, 30), "s20": (40, 65), "id": (6, 14), "none": (8, 20)}
MIN_ROWS = 80
NGRAM = 6  # a question may not repeat this many consecutive words of its gold quote

# A speaker heading in an s20 file: "Miljøministeren (Magnus Heunicke):", "Formanden (…):",
# "Mai Villadsen (EL):". PDF extraction sometimes glues it to a time stamp or a sentence.
SPEAKER = re.compile(
    r"(?:(?<=\n)|(?<=Kl\. \d\d:\d\d)|(?<=\.))[ \t]*([A-ZÆØÅ][^\n():]{0,90}?\([^\n()]{1,70}\)):"
)
TIME_STAMP = re.compile(r"Kl\. \d\d:\d\d")


def _norm(text: str) -> str:
    return " ".join(text.split())


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())


@cache
def _rows() -> tuple[dict[str, str], ...]:
    rows = []
    for line in DEV.read_text(encoding="utf-8").splitlines():
        if line.strip():
            rows.append(json.loads(line))
    return tuple(rows)


def _path(name: str) -> Path:
    return S20_DIR / name if name.startswith("ft_s20_") else CORPUS / name


@cache
def _text(name: str) -> str:
    return _path(name).read_text(encoding="utf-8")


def _need_s20() -> None:
    if not S20_DIR.is_dir():
        pytest.skip(f"the shared § 20 corpus is not beside the repo ({S20_DIR})")


def _locate(text: str, quote: str) -> re.Match[str]:
    """The quote's span in the raw text, matching any whitespace run for any whitespace run."""
    match = re.search(r"\s+".join(re.escape(w) for w in quote.split()), text)
    assert match, f"quote not found: {quote[:80]!r}"
    return match


def _rows_of(kind: str) -> list[dict[str, str]]:
    return [r for r in _rows() if r["set"] == kind]


def test_every_line_is_a_json_object_with_exactly_the_keys() -> None:
    for number, line in enumerate(DEV.read_text(encoding="utf-8").splitlines(), 1):
        assert line.strip(), f"line {number} is blank"
        row = json.loads(line)
        assert isinstance(row, dict), f"line {number} is not an object"
        assert set(row) == KEYS, f"line {number}: keys {sorted(row)}"
        assert all(isinstance(v, str) for v in row.values()), f"line {number}: non-string value"
        assert row["set"] in SIZES, f"line {number}: unknown set {row['set']!r}"
        assert row["question"].strip(), f"line {number}: empty question"


def test_size_and_set_sizes() -> None:
    assert len(_rows()) >= MIN_ROWS
    counts = Counter(r["set"] for r in _rows())
    for kind, (low, high) in SIZES.items():
        assert low <= counts[kind] <= high, f"{kind}: {counts[kind]} rows, want {low}..{high}"


def test_questions_are_unique() -> None:
    seen: set[str] = set()
    for row in _rows():
        key = _norm(row["question"]).casefold()
        assert key not in seen, f"duplicate question: {row['question']!r}"
        seen.add(key)


def test_gold_fields_match_the_set() -> None:
    for row in _rows():
        kind, gold_file, quote = row["set"], row["gold_file"], row["gold_quote"]
        if kind == "none":
            assert gold_file == "" and quote == "", row
            continue
        assert gold_file, f"{kind} row without gold_file: {row['question']!r}"
        assert "/" not in gold_file and "\\" not in gold_file, gold_file
        if kind == "corpus":
            assert not gold_file.startswith("ft_s20_") and quote, row
        if kind == "s20":
            assert gold_file.startswith("ft_s20_") and quote, row


def test_gold_files_exist() -> None:
    letters = {r["gold_file"] for r in _rows() if r["gold_file"] and not r["gold_file"].startswith("ft_s20_")}
    for name in letters:
        assert (CORPUS / name).is_file(), f"missing corpus/{name}"
    _need_s20()
    for name in {r["gold_file"] for r in _rows() if r["gold_file"].startswith("ft_s20_")}:
        assert (S20_DIR / name).is_file(), f"missing {name} in {S20_DIR}"


def test_gold_quotes_are_verbatim() -> None:
    for row in _rows():
        if not row["gold_quote"]:
            continue
        if row["gold_file"].startswith("ft_s20_"):
            _need_s20()
        assert _norm(row["gold_quote"]) in _norm(_text(row["gold_file"])), (
            f"{row['gold_file']}: quote not found: {row['gold_quote'][:80]!r}"
        )


def test_questions_paraphrase_rather_than_copy_the_quote() -> None:
    for row in _rows():
        words = _words(row["gold_quote"])
        quote_grams = {tuple(words[i : i + NGRAM]) for i in range(len(words) - NGRAM + 1)}
        q = _words(row["question"])
        grams = [tuple(q[i : i + NGRAM]) for i in range(len(q) - NGRAM + 1)]
        copied = [" ".join(g) for g in grams if g in quote_grams]
        assert not copied, f"question copies {copied[0]!r} from its quote: {row['question']!r}"


def test_letter_quotes_come_from_the_answer() -> None:
    for row in _rows():
        if row["gold_quote"] and not row["gold_file"].startswith("ft_s20_"):
            text = _text(row["gold_file"])
            assert "Svar:" in text
            assert _locate(text, row["gold_quote"]).start() > text.index("Svar:"), row["question"]


def test_s20_quotes_come_from_a_ministers_answer_turn() -> None:
    _need_s20()
    for row in _rows():
        if not (row["gold_quote"] and row["gold_file"].startswith("ft_s20_")):
            continue
        assert not TIME_STAMP.search(row["gold_quote"]), f"time stamp in quote: {row['question']!r}"
        text = _text(row["gold_file"])
        start = _locate(text, row["gold_quote"]).start()
        speakers = [m.group(1) for m in SPEAKER.finditer(text, 0, start)]
        assert speakers, f"{row['gold_file']}: no speaker before the quote"
        role = speakers[-1].split("(")[0].casefold()
        assert "minister" in role or "(fg.)" in speakers[-1], (
            f"{row['gold_file']}: quote is spoken by {speakers[-1]!r}, not a minister"
        )


def test_s20_gold_files_are_answered_and_spread_out() -> None:
    _need_s20()
    manifest = {r["file"]: r for r in csv.DictReader((S20_DIR / "manifest.csv").open(encoding="utf-8"))}
    s20_files = [r["gold_file"] for r in _rows() if r["gold_file"].startswith("ft_s20_")]
    for name in s20_files:
        assert manifest[name]["withdrawn"] == "False", f"{name} is a withdrawn question"
    answered = [r["gold_file"] for r in _rows_of("s20")]
    assert len(set(answered)) >= 30
    samlinger = Counter(manifest[f]["samling"] for f in answered)
    assert samlinger["20222"] >= 10 and samlinger["20231"] >= 10, samlinger
    assert len({manifest[f]["to_minister"] for f in answered}) >= 12


def test_every_letter_has_questions() -> None:
    counts = Counter(r["gold_file"] for r in _rows_of("corpus"))
    for letter in sorted(p.name for p in CORPUS.glob("*.txt")):
        assert counts[letter] >= 3, f"{letter}: {counts[letter]} corpus questions"


S_NUMBER = re.compile(r"\bS\s?(\d+)\b")
SAGSNR = re.compile(r"\b(20\d\d)\s*-\s*(\d{3,5})\b")
SPM_NR = re.compile(r"\b(?:spørgsmål|spm\.?)\s*(?:nr\.?\s*)?(\d+)\b", re.IGNORECASE)


def test_identifier_questions_name_an_identifier_of_their_document() -> None:
    for row in _rows_of("id"):
        question, name = row["question"], row["gold_file"]
        if name.startswith("ft_s20_"):
            _need_s20()
            numbers = S_NUMBER.findall(question)
            assert numbers, f"no S number in {question!r}"
            for n in numbers:
                assert re.search(rf"^Spm\. nr\. S {n}\b", _text(name), re.MULTILINE), (name, n)
            continue
        text = _text(name)
        found = 0
        for year, serial in SAGSNR.findall(question):
            assert re.search(rf"\b{year}\s*-\s*{serial}\b", text), (name, year, serial)
            found += 1
        for n in SPM_NR.findall(question):
            assert re.search(rf"\bnr\.\s*{n}\b", text), (name, n)
            found += 1
        assert found, f"no sagsnr or question number in {question!r}"
