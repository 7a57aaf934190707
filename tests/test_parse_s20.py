"""Tests for rag.parse_s20 against the real § 20 corpus.

The corpus is not part of the repo: it is read from
../shared/corpora/folketinget-s20-2023/ (the `s20_dir` fixture in conftest.py);
tests that need it are skipped when it is missing.
"""

from __future__ import annotations

import csv
import re
import statistics
from datetime import date
from pathlib import Path

import pytest

from rag.ingest.s20 import parse_s20
from rag.ingest.turns import iter_turns
from rag.records import Document

TIMESTAMP = re.compile(r"Kl\. \d{2}:\d{2}")
CHAIR = r"(?:Formanden|Den fg\. ?formand|(?:Første|Anden|Tredje|Fjerde|Femte) ?næstformand)"
# A chair heading that starts a turn: at a line start, glued after sentence
# punctuation or after a time stamp. "(Første næstformand (...): Tak.)" inside a
# minister's turn is an interjection, part of the verbatim record, not a heading.
CHAIR_HEADING = re.compile(r"(?m)(?:^|(?<=[.?!«»])|(?<=\d\d))" + CHAIR + r" \([^()\n]+\):")


def _manifest(s20_dir: Path) -> dict[str, dict[str, str]]:
    with open(s20_dir / "manifest.csv", encoding="utf-8", newline="") as fh:
        return {row["file"]: row for row in csv.DictReader(fh)}


def _load(s20_dir: Path, name: str, with_meta: bool = True) -> Document:
    text = (s20_dir / name).read_text(encoding="utf-8")
    meta = _manifest(s20_dir)[name] if with_meta else None
    doc = parse_s20(text, name, meta)
    assert doc is not None
    return doc


def _answers(doc: Document) -> list[str]:
    return [doc.text[s.start : s.end] for s in doc.sections if s.kind == "answer"]


def _question_section(doc: Document) -> str:
    (q,) = [s for s in doc.sections if s.kind == "question"]
    return doc.text[q.start : q.end]


# --- not a § 20 exchange ---------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Folketingets Socialudvalg\nSvar på spørgsmål 687 (alm. del)\n",
        # the heading must come near the start
        "En lang tekst.\n" * 40 + "Spm. nr. S 101\n13) Til miljøministeren af:\nMai Villadsen (EL):\nHvad?\n",
    ],
)
def test_not_s20_returns_none(text: str) -> None:
    assert parse_s20(text, "x.txt") is None


# --- a synthetic exchange with the layout quirks ------------------------------------

SYNTHETIC = (
    "Spm. nr. S 7 (omtrykt)\n"
    "3) Til statsministeren af:Ole Olsen (XY):Er det godt?\n"
    "\n"
    "\n"
    "Skriftlig begrundelse\n"
    "\n"
    "Fordi.Formanden (Søren Gade):\n"
    "Værsgo.\n" + " " * 100 + "Kl. 13:00\n"
    "Ole Olsen (XY):\n"
    "Er det godt?\n" + " " * 100 + "Kl. 13:01Formanden (Søren Gade):\n"
    "Statsministeren.\n" + " " * 100 + "Kl. 13:01\n"
    "\n"
    "Statsministeren (Mette Frederiksen):Ja, det er godt. (Ole Olsen (XY):\n"
    "Tak!). Og mere\n"
    "   end det.\n" + " " * 100 + "Kl. 13:02\n"
    "Formanden (Søren Gade):\n"
    "Spørgeren.\n" + " " * 100 + "Kl. 13:02\n"
    "Ole Olsen (XY):\n"
    "Hvorfor?\n"
    "Statsministeren (Mette Frederiksen):\n"
    "Derfor.\n"
    "\n"
)


def test_synthetic_layout_quirks() -> None:
    doc = parse_s20(SYNTHETIC, "somewhere/s7.txt")
    assert doc is not None
    assert doc.kind == "s20" and doc.text == SYNTHETIC
    assert doc.s_nr == "S 7"
    assert doc.minister_addressed == "statsministeren"
    assert doc.spoerger == "Ole Olsen (XY)"
    assert doc.question == "Er det godt?"
    assert _question_section(doc) == "Er det godt?"
    assert doc.answering_minister == "Statsministeren (Mette Frederiksen)"
    assert _answers(doc) == [
        "Ja, det er godt. (Ole Olsen (XY):\nTak!). Og mere\n   end det.",
        "Derfor.",
    ]
    assert doc.title == "§ 20-spørgsmål S 7 til statsministeren"
    assert doc.withdrawn is False
    assert doc.dato is None and doc.samling is None and doc.url is None
    roles = [(t.role, t.speaker) for t in iter_turns(SYNTHETIC, SYNTHETIC.index("Er det godt?"))]
    assert roles == [
        ("chair", "Formanden (Søren Gade)"),
        ("member", "Ole Olsen (XY)"),
        ("chair", "Formanden (Søren Gade)"),
        ("minister", "Statsministeren (Mette Frederiksen)"),
        ("chair", "Formanden (Søren Gade)"),
        ("member", "Ole Olsen (XY)"),
        ("minister", "Statsministeren (Mette Frederiksen)"),
    ]


# --- real files ----------------------------------------------------------------------

# file -> expected fields, number of answer turns, start of the first answer turn
CASES = {
    # plain; a medspørger in the asker heading; six minister turns
    "ft_s20_20222_S36_2023-01-11.txt": dict(
        s_nr="S 36",
        minister_addressed="udenrigsministeren",
        spoerger="Mai Villadsen (EL)",
        answering_minister="Udenrigsministeren (Lars Løkke Rasmussen)",
        question="Hvad vil ministeren gøre for at få de danske børn hjem fra Syrien?",
        samling="20222",
        moede="20222M012",
        dato=date(2023, 1, 11),
        n_answers=6,
        first_answer="Tak for spørgsmålet. Altså, med ærlighed kommer man længst,",
    ),
    # Skriftlig begrundelse; chair heading glued to its last line and to a time stamp;
    # the last minister heading glued to its text
    "ft_s20_20222_S101_2023-01-18.txt": dict(
        s_nr="S 101",
        minister_addressed="miljøministeren",
        spoerger="Mai Villadsen (EL)",
        answering_minister="Miljøministeren (Magnus Heunicke)",
        question=(
            "Er ministeren tilfreds med Miljøstyrelsens vejledning til kommunerne om udledningen af\n"
            "miljøfarlige stoffer, og vil ministeren undersøge muligheden for at trække "
            "importtilladelsen af\n"
            "udenlandsk industrispildevand til virksomheden RGS Nordic tilbage, hvis det viser sig, at\n"
            "importtilladelsen er givet på et ulovligt grundlag?"
        ),
        samling="20222",
        moede="20222M014",
        dato=date(2023, 1, 18),
        n_answers=4,
        first_answer="Tak for det, og tak for spørgsmålet. Vores havmiljø er under pres.",
    ),
    # "Ministeren for ..." heading
    "ft_s20_20222_S104_2023-01-18.txt": dict(
        s_nr="S 104",
        minister_addressed="ministeren for landdistrikter",
        spoerger="Susie Jessen (DD)",
        answering_minister="Ministeren for landdistrikter (Louise Schack Elholm)",
        question=(
            "Anerkender ministeren, at afskaffelsen af store bededag vil gå hårdt ud over landdistrikterne?"
        ),
        n_answers=6,
        first_answer="Tak for spørgsmålet, der handler om regeringens lovforslag o",
    ),
    # samling 20231; asker heading glued to the question; answered by a differently
    # named "Ministeren for ..." than the one addressed
    "ft_s20_20231_S231_2023-11-29.txt": dict(
        s_nr="S 231",
        minister_addressed="ministeren for landdistrikter",
        spoerger="Pernille Vermund (NB)",
        answering_minister="Ministeren for byer og landdistrikter (Morten Dahlin)",
        samling="20231",
        moede="20231M026",
        dato=date(2023, 11, 29),
        n_answers=4,
        first_answer="Tak for spørgsmålet. Måske skulle vi starte med at tale om,",
    ),
    "ft_s20_20231_S132_2023-11-15.txt": dict(
        s_nr="S 132",
        minister_addressed="børne- og undervisningsministeren",
        spoerger="Kim Edberg Andersen (NB)",
        answering_minister="Børne- og undervisningsministeren (Mattias Tesfaye)",
        question=(
            "Med henvisning til Arbejdstilsynets afdækning af forholdene på Munkevængets Skole i Kolding\n"
            "mener ministeren så ikke, at tiden er kommet til at undervise i Muhammedtegningerne, og at\n"
            "tiden er kommet til at sikre beskyttelse af elever og lærere?"
        ),
        samling="20231",
        n_answers=4,
        first_answer="Jeg skal så starte med at sige tak for, at vi kunne udskyde",
    ),
    # withdrawn
    "ft_s20_20222_S401_2023-03-22.txt": dict(
        s_nr="S 401",
        minister_addressed="uddannelses- og forskningsministeren",
        spoerger="Lotte Rod (RV)",
        answering_minister=None,
        withdrawn=True,
        question=(
            "Hvilket initiativ vil ministeren tage, for at lærerstuderende lærer om højtbegavede "
            "børn i den nye\n"
            "læreruddannelse?"
        ),
        n_answers=0,
    ),
    # withdrawn, the note printed under the chair's heading
    "ft_s20_20222_S181_2023-02-01.txt": dict(
        s_nr="S 181",
        minister_addressed="forsvarsministeren",
        withdrawn=True,
        n_answers=0,
    ),
    # acting minister, two-line heading "(Forsvarsministeren)\nTroels Lund Poulsen (V):"
    "ft_s20_20222_S523_2023-04-26.txt": dict(
        s_nr="S 523",
        minister_addressed="forsvarsministeren",
        spoerger="Carsten Bach (LA)",
        answering_minister="Forsvarsministeren (Troels Lund Poulsen)",
        n_answers=4,
        first_answer="Tak til hr. Carsten Bach for spørgsmålet. Lad mig starte med",
    ),
    # "Spm. nr. S 51013) Til ...": S number glued to the agenda number
    "ft_s20_20222_S510_2023-04-26.txt": dict(
        s_nr="S 510",
        minister_addressed="transportministeren",
        spoerger="Jens Meilvang (LA)",
        answering_minister="Transportministeren (Thomas Danielsen)",
        question=(
            "Mener ministeren, at man bør gå videre med en Kattegatforbindelse og igangsætte en vvm-\n"
            "undersøgelse?"
        ),
        n_answers=4,
        first_answer="Tak for spørgsmålet. Regeringen har endnu ikke taget stilling",
    ),
    # "5) Til finansministeren af:Peder Hvelplund (EL):"
    "ft_s20_20222_S79_2023-01-18.txt": dict(
        s_nr="S 79",
        minister_addressed="finansministeren",
        spoerger="Peder Hvelplund (EL)",
        answering_minister="Finansministeren (Nicolai Wammen)",
        n_answers=4,
        first_answer="Tak for det, og også tak, fordi jeg får lejlighed til at bli",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("with_meta", [True, False], ids=["meta", "no-meta"])
def test_real_file_fields(s20_dir: Path, name: str, with_meta: bool) -> None:
    exp = dict(CASES[name])
    doc = _load(s20_dir, name, with_meta=with_meta)
    assert doc.kind == "s20"
    assert doc.file == name
    assert doc.text == (s20_dir / name).read_text(encoding="utf-8")
    n_answers = exp.pop("n_answers")
    first_answer = exp.pop("first_answer", None)
    exp.setdefault("withdrawn", False)
    if not with_meta:
        exp.pop("moede", None)
    for field, value in exp.items():
        assert getattr(doc, field) == value, field
    assert doc.title == f"§ 20-spørgsmål {doc.s_nr} til {doc.minister_addressed}"
    m = re.search(r"_(\d{5})_S\d+_(\d{4}-\d{2}-\d{2})\.txt$", name)
    assert doc.samling == m.group(1)
    assert doc.dato == date.fromisoformat(m.group(2))
    if with_meta:
        row = _manifest(s20_dir)[name]
        assert doc.moede == row["moede"] and doc.url == row["ft_referat_url"]
    else:
        assert doc.moede is None and doc.url is None

    assert _question_section(doc) == doc.question
    answers = _answers(doc)
    assert len(answers) == n_answers
    if first_answer:
        assert answers[0].startswith(first_answer)
    for s in doc.sections:
        if s.kind == "answer":
            assert s.speaker == doc.answering_minister


def test_s101_skriftlig_begrundelse_and_glued_headings(s20_dir: Path) -> None:
    doc = _load(s20_dir, "ft_s20_20222_S101_2023-01-18.txt")
    assert "Skriftlig begrundelse" not in doc.question
    assert "RGS Nordic tjent penge" not in doc.question
    answers = _answers(doc)
    # "Miljøministeren (Magnus Heunicke):Tak. Jamen så ..." -- heading glued to the text
    assert answers[-1].startswith("Tak. Jamen så er vi to, der kommer til at følge den sag.")
    assert answers[-1].endswith("jo i Smålandsfarvandet.")
    assert answers[0].endswith("Når den er tilvejebragt, vil jeg også orientere Folketinget om den. Tak.")
    # the asker's turn before "Kl. 14:39Den fg. formand (Annette Lind):" is not an answer
    assert not any("procesplan" in a for a in answers)
    turns = iter_turns(doc.text)
    glued = [t for t in turns if doc.text[t.head_start - 5 : t.head_start] == "14:39"]
    assert [(t.role, t.speaker) for t in glued] == [("chair", "Den fg. formand (Annette Lind)")]
    member_turns = [doc.text[t.start : t.end] for t in turns if t.role == "member"]
    assert any(mt.endswith("høre en procesplan for.") for mt in member_turns)


def test_interjection_stays_inside_answer(s20_dir: Path) -> None:
    doc = _load(s20_dir, "ft_s20_20222_S106_2023-01-18.txt")
    answers = _answers(doc)
    assert len(answers) == 4
    assert answers[-1].startswith(
        "Tak. 13 mio. kr. ... (Jette Gottlieb (EL): 13 mia. kr. ). 13 mia. kr. rækker"
    )


def test_glued_s_number_without_file_name_is_a_noted_guess(s20_dir: Path) -> None:
    text = (s20_dir / "ft_s20_20222_S510_2023-04-26.txt").read_text(encoding="utf-8")
    doc = parse_s20(text, "elsewhere.txt")
    assert doc is not None and doc.s_nr == "S 510"
    assert any("gættet" in n for n in doc.notes)
    assert _load(s20_dir, "ft_s20_20222_S510_2023-04-26.txt").notes == ()


def test_withdrawn_from_meta_alone(s20_dir: Path) -> None:
    name = "ft_s20_20222_S36_2023-01-11.txt"
    text = (s20_dir / name).read_text(encoding="utf-8")
    meta = dict(_manifest(s20_dir)[name], withdrawn="True")
    assert parse_s20(text, name, meta).withdrawn is True
    assert parse_s20(text, name, dict(meta, withdrawn="False")).withdrawn is False


# --- the whole corpus ----------------------------------------------------------------


def test_truncated_text_never_raises(s20_dir: Path) -> None:
    text = (s20_dir / "ft_s20_20222_S101_2023-01-18.txt").read_text(encoding="utf-8")
    for cut in range(0, len(text), 37):
        doc = parse_s20(text[:cut], "ft_s20_20222_S101_2023-01-18.txt")
        if doc is None:
            assert cut < 20
            continue
        for s in doc.sections:
            span = doc.text[s.start : s.end]
            assert 0 <= s.start < s.end <= cut and span == span.strip()


def test_bad_meta_values(s20_dir: Path) -> None:
    name = "ft_s20_20222_S101_2023-01-18.txt"
    text = (s20_dir / name).read_text(encoding="utf-8")
    doc = parse_s20(text, name, {"date": "32/1-2023", "withdrawn": "", "spm": ""})
    assert doc is not None
    assert doc.dato == date(2023, 1, 18)  # from the file name
    assert any("dato" in n for n in doc.notes)


def test_all_files(s20_dir: Path) -> None:
    manifest = _manifest(s20_dir)
    assert len(manifest) == 375
    answer_counts = []
    no_answers = []
    for name, row in manifest.items():
        text = (s20_dir / name).read_text(encoding="utf-8")
        doc = parse_s20(text, name, row)
        assert doc is not None, name
        assert doc.text == text and doc.kind == "s20"
        assert doc.s_nr == row["spm"], name
        assert doc.minister_addressed == row["to_minister"], name
        assert doc.spoerger == row["asker"], name
        assert doc.withdrawn == (row["withdrawn"] == "True"), name
        # without meta the text alone gives the same
        bare = parse_s20(text, name)
        assert (bare.s_nr, bare.withdrawn, bare.sections) == (doc.s_nr, doc.withdrawn, doc.sections), name
        assert doc.dato == date.fromisoformat(row["date"]) and doc.samling == row["samling"]

        kinds = [s.kind for s in doc.sections]
        assert kinds[0] == "question" and kinds.count("question") == 1, name
        q = _question_section(doc)
        assert q == doc.question and "Skriftlig begrundelse" not in q, name
        # the manifest's question is sometimes empty or cut at the front
        printed = "".join(row["question"].split())
        assert "".join(q.split()).endswith(printed), name

        prev_end = -1
        for s in doc.sections:
            assert 0 <= s.start < s.end <= len(text), (name, s)
            span = text[s.start : s.end]
            assert span == span.strip(), (name, s)
            assert s.start >= prev_end, (name, s)
            prev_end = s.end
            if s.kind == "answer":
                assert s.speaker and "minister" in s.speaker.lower(), (name, s)
                assert not TIMESTAMP.search(span), (name, s)
                assert not CHAIR_HEADING.search(span), (name, s)
                assert "Spm. nr." not in span, (name, s)

        answers = _answers(doc)
        if doc.withdrawn:
            assert not answers, name
        else:
            answer_counts.append(len(answers))
            if not answers:
                no_answers.append(name)
            else:
                assert doc.answering_minister == doc.sections[1].speaker, name
    assert no_answers == []
    assert statistics.median(answer_counts) >= 3
