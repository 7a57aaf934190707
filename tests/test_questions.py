"""Mechanical checks of the evaluation set tests/eval/questions.jsonl (376 questions, split by document).

Each line: {"id", "question", "gold_file", "gold_quote", "set", "split", "asker_role", "names_minister",
"names_period", "note"?}. `set` is seed (the letters in corpus/), s20 (the § 20 exchanges beside the
repo), letter (real letters of other ministries: tests/fixtures/letters/ and the shared sample), id
(questions naming a case or question number) or none (nothing indexed answers it). `split` is tune or
test, decided once, by document: weights and thresholds are tuned on `tune` only.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import cache
from pathlib import Path

import pytest
from conftest import CORPUS, REPO, SHARED

QUESTIONS = REPO / "tests" / "eval" / "questions.jsonl"
LETTER_DIRS = (REPO / "tests" / "fixtures" / "letters" / "dev", REPO / "tests" / "fixtures" / "letters" / "heldout",
               SHARED / "corpora" / "ft-svar-sample")
S20_DIR = SHARED / "corpora" / "folketinget-s20-2023"
KEYS = {"id", "question", "gold_file", "gold_quote", "set", "split", "asker_role", "names_minister", "names_period"}
NGRAM = 7  # a question may not repeat this many consecutive words of its gold quote


@cache
def rows() -> tuple[dict, ...]:
    return tuple(json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip())


def path_of(name: str) -> Path:
    if name.startswith("ft_s20_"):
        return S20_DIR / name
    for folder in (CORPUS, *LETTER_DIRS):
        if (folder / name).is_file():
            return folder / name
    raise AssertionError(f"{name} is in no indexed folder")


def flat(text: str) -> str:
    return " ".join(text.split())


def test_every_line_is_well_formed() -> None:
    ids = Counter(r["id"] for r in rows())
    assert not [i for i, n in ids.items() if n > 1], "ids are unique"
    for r in rows():
        assert KEYS <= set(r), r["id"]
        assert r["set"] in {"seed", "s20", "letter", "id", "none"} and r["split"] in {"tune", "test"}, r["id"]
        assert r["question"].strip() and (r["set"] == "none") == (r["gold_file"] == "") == (r["gold_quote"] == "")


def test_size_and_mix() -> None:
    counts = Counter(r["set"] for r in rows())
    assert len(rows()) >= 300 and counts["none"] >= 60, counts
    assert counts["letter"] >= 60 and counts["s20"] >= 150 and counts["seed"] >= 20 and counts["id"] >= 10
    named = sum(r["names_minister"] or r["names_period"] for r in rows())
    assert named >= 0.15 * len(rows()), "some questions name a minister or a period"
    questions = Counter(flat(r["question"]).casefold() for r in rows())
    assert questions.most_common(1)[0][1] == 1, "no question twice"


def test_split_is_by_document_and_balanced() -> None:
    split_of: dict[str, set[str]] = {}
    for r in rows():
        if r["gold_file"]:
            split_of.setdefault(r["gold_file"], set()).add(r["split"])
    assert all(len(s) == 1 for s in split_of.values()), "every document's questions sit in one half"
    by = Counter((r["set"], r["split"]) for r in rows())
    for kind in ("seed", "s20", "letter", "id", "none"):
        assert by[(kind, "tune")] >= 5 and by[(kind, "test")] >= 5, by


def test_gold_quotes_are_verbatim_and_from_the_answer() -> None:
    if not S20_DIR.is_dir():
        pytest.skip("the shared corpora are not beside the repo")
    for r in rows():
        if not r["gold_file"]:
            continue
        text = path_of(r["gold_file"]).read_text(encoding="utf-8")
        pattern = r"\s+".join(re.escape(w) for w in r["gold_quote"].split())
        m = re.search(pattern, text)
        assert m, f"{r['id']}: quote not in {r['gold_file']}"
        if r["gold_file"].startswith("ft_s20_"):
            # "Miljøministeren (Magnus Heunicke):", or an acting minister on two lines:
            # "(Forsvarsministeren)" / "Troels Lund Poulsen (V):"
            speaker = (r"(?m)(?:^|(?<=Kl\. \d\d:\d\d))[ \t]*"
                       r"((?:\([^\n()]*minister[^\n()]*\)\n)?[^\n():]{2,90}\([^\n()]{1,70}\)):")
            speakers = re.findall(speaker, text[:m.start()])
            assert speakers and "minister" in speakers[-1].casefold(), f"{r['id']}: {speakers[-1:]}"
        else:
            answer = re.search(r"(?i)svar", text)
            assert answer is None or m.start() > answer.start(), f"{r['id']}: quote before the answer"


def test_questions_paraphrase_rather_than_copy() -> None:
    for r in rows():
        words = re.findall(r"\w+", r["gold_quote"].casefold())
        grams = {tuple(words[i:i + NGRAM]) for i in range(len(words) - NGRAM + 1)}
        q = re.findall(r"\w+", r["question"].casefold())
        copied = [" ".join(q[i:i + NGRAM]) for i in range(len(q) - NGRAM + 1) if tuple(q[i:i + NGRAM]) in grams]
        assert not copied, f"{r['id']} copies {copied[0]!r}"
