"""rag.ingest.letter and rag.ingest.parse: answer letters -> Document.

The five seed letters are checked field by field against values written out by hand (read
with `cat -A`); question/answer spans are located independently of the parser, by the first
and last words of the passage, so the tests do not just echo the parser's output. The real
letters of tests/fixtures/letters are checked in tests/test_letters.py.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag.ingest import letter, letter_fields, letter_header, letter_people
from rag.ingest import parse as parse_module
from rag.ingest.layout import boilerplate
from rag.ingest.letter import normalise_sagsnr
from rag.ingest.parse import parse_document
from rag.records import Document, Section


def parse_letter(text: str, file: str) -> Document:
    """The letter parser with parse_document's fallback: a text that is not a letter is plain text."""
    if not text.strip():
        return parse_document(text, file)
    return letter.parse_letter(text, file) or parse_module.plain_text_document(text, file, (parse_module.NOT_A_LETTER,))

ROOT = Path(__file__).resolve().parent.parent


def _seed_dir() -> Path:
    for candidate in (ROOT / "corpus", ROOT.parent / "shared" / "seeds"):
        if (candidate / "000_34fc68001cd04834.txt").is_file():
            return candidate
    pytest.skip("seed letters not found in corpus/ or ../shared/seeds/")


def read_seed(name: str) -> str:
    return (_seed_dir() / name).read_text(encoding="utf-8")


def span(text: str, first: str, last: str) -> tuple[int, int]:
    """The span from the first occurrence of `first` to the end of the next `last`."""
    start = text.index(first)
    end = text.index(last, start) + len(last)
    return start, end


# --------------------------------------------------------------------------- seeds

# Every Document field except file/text/sections/question/answer (checked separately).
EXPECTED: dict[str, dict[str, Any]] = {
    "000_34fc68001cd04834.txt": dict(
        kind="letter",
        title="Svar på SOU alm. del spm. 687",
        sagsnr="2024 - 7010",
        sagsnr_norm="2024-7010",
        doknr="918270",
        dato=date(2024, 10, 20),
        udvalg="Folketingets Socialudvalg",
        udvalg_kode="SOU",
        asked_date=date(2024, 9, 24),
        spm_nr=687,
        spm_type="alm. del",
        sag=None,
        minister_addressed="social- og boligministeren",
        spoerger="Charlotte Bromann Mølbæk (SF)",
        signer="Sophie Hæstorp Andersen",
        signer_title="Social- og boligminister",
        answering_minister="Social- og boligminister",
        bilag=("SOU alm.del - svar på spm. 686",),
    ),
    "001_221ceb91d594fab5.txt": dict(
        kind="letter",
        title="Svar på SOU alm. del spm. 238",
        sagsnr=None,
        sagsnr_norm=None,
        doknr=None,
        dato=None,
        udvalg="Folketingets Socialudvalg",
        udvalg_kode="SOU",
        asked_date=date(2024, 12, 10),
        spm_nr=238,
        spm_type="alm. del",
        sag=None,
        minister_addressed="social- og boligministeren",
        spoerger=None,
        signer="Sophie Hæstorp Andersen",
        signer_title="Social- og boligminister",
        answering_minister="Social- og boligminister",
        bilag=(),
    ),
    "002_95e6a3818805a982.txt": dict(
        kind="letter",
        title="Svar på SOU alm. del spm. 391",
        sagsnr="2024 - 2715",
        sagsnr_norm="2024-2715",
        doknr="848301",
        dato=date(2024, 4, 30),
        udvalg="Folketingets Socialudvalg",
        udvalg_kode="SOU",
        asked_date=date(2024, 4, 3),
        spm_nr=391,
        spm_type="alm. del",
        sag=None,
        minister_addressed="social- og boligministeren",
        spoerger="Theresa Berg Andersen (SF)",
        signer="Pernille Rosenkrantz-Theil",
        signer_title="Social- og boligminister",
        answering_minister="Social- og boligminister",
        bilag=("Bilag 1. Udmøntning af ansøgningspuljen til ekstra hjælp til kommuner med mange børnesager",),
    ),
    "003_1910b02496250044.txt": dict(
        kind="letter",
        title="Svar på SOU alm. del spm. 246",
        sagsnr="2024 - 1718",
        sagsnr_norm="2024-1718",
        doknr="836535",
        dato=date(2024, 3, 21),
        udvalg="Folketingets Socialudvalg",
        udvalg_kode="SOU",
        asked_date=date(2024, 2, 23),
        spm_nr=246,
        spm_type="alm. del",
        sag=None,
        minister_addressed="social- og boligministeren",
        spoerger="Katrine Daugaard (LA)",
        signer="Pernille Rosenkrantz-Theil",
        signer_title="Social- og boligminister",
        answering_minister="Social- og boligminister",
        bilag=(),
    ),
    "004_7ee536a8ed030cbd.txt": dict(
        kind="letter",
        title="Svar på SOU alm. del spm. 338",
        sagsnr="2022 - 1959",
        sagsnr_norm="2022-1959",
        doknr="553912",
        dato=date(2022, 4, 22),
        udvalg="Folketingets Social- og Ældreudvalg",
        udvalg_kode="SOU",
        asked_date=date(2022, 3, 29),
        spm_nr=338,
        spm_type="alm. del",
        sag=None,
        minister_addressed="social- og ældreministeren",
        spoerger="Karina Aadsbøl (UFG)",
        signer="Astrid Krag",
        signer_title=None,  # the letter ends with the name only
        answering_minister=None,
        bilag=(),
    ),
}

# Fields the seeds do not print, and flags that are off for them.
S20_DEFAULTS: dict[str, Any] = dict(
    s_nr=None, samling=None, moede=None, withdrawn=False, url=None, notes=(), preliminary=False,
    signer_acting=False,
)

QUESTIONS: dict[str, str] = {
    "000_34fc68001cd04834.txt": (
        "Vil ministeren oplyse, hvornår ministeren vil indkalde forligskredsen bag aftalen om Børnene "
        "Først til forhandlinger om styrkelse af kvaliteten i anbringelser?"
    ),
    # Curly ” quotes around it, words wrapped over lines with blank lines and trailing spaces.
    "001_221ceb91d594fab5.txt": (
        "Hvornår vil ministeren indkalde til forhandlinger om, hvordan der fremover \n\n"
        "sikres tilstrækkelig kvalitet i kommunernes tilbud? Det følger af aftalen om \n\n"
        "Børnene Først fra 2021, at der skal ske noget på dette område."
    ),
    # Inner quotes stay; only the enclosing pair goes.
    "002_95e6a3818805a982.txt": (
        "Vil ministeren oplyse, hvad status er for initiativet i aftalen om Børnene Først om ekstra hjælp "
        "til kommuner med mange børnesager, hvor der afsættes en pulje målrettet kommuner med mange "
        "udsatte børn, for at støtte dem i indfasning af reformen samt sikre gode rammer for "
        "sagsbehandlingen og arbejdsgange i kommunerne? Der henvises til udfordringerne med overholdelse "
        'af tidsfrister i børnesager samt fejl i børnesager, som beskrevet i artiklerne "Familier '
        "risikerer at blive ladt i stikken, mens halvdelen af landets kommuner kæmper med at overholde "
        'tidsfrister" og "Jurist: Alt for mange kommuner laver alvorlige fejl i børnesager?" begge '
        "bragt på dr.dk den 2. april 2024."
    ),
    "003_1910b02496250044.txt": (
        'Vil ministeren kommentere udsendelsen "Borgmester kaldte hemmeligt møde for uddramatisk: '
        'Ekspert tvivler" bragt på 24syv.dk den 22. februar 2024 og redegøre for, hvorvidt ministeren '
        "er bekymret for, om de etablerede iværksættelser af indsatser og taskforce er nok til at få "
        "etableret den nødvendige kvalitet i forvaltningen? Og herunder redegøre for hvad ministeren "
        "påtænker man ellers kan iværksætte for at sikre, at Langeland kommune har den fornødne "
        "kvalitet i kommunens børnesager?"
    ),
    "004_7ee536a8ed030cbd.txt": (
        'Vil ministeren kommentere artiklen "Socialrådgivere har for travlt: Dropper møder om børns '
        'trivsel" fra TV2 Fyn den 29. marts 2022, herunder redegøre for, om ministeren ikke mener, at '
        "det er problematisk, at forebyggelsesarbejdet nedprioriteres?"
    ),
}

# First and last words of each answer (from after "Svar:" to before "Med venlig hilsen").
ANSWER_ENDS: dict[str, tuple[str, str]] = {
    "000_34fc68001cd04834.txt": (
        "Med Aftale om Børnene Først fra maj 2021",
        "dermed forbedre kvaliteten i indsatsen.",
    ),
    "001_221ceb91d594fab5.txt": (
        "Med aftalen om Børnene Først blev der afsat varige midler",
        "den fremadrettede udmøntning af midlerne i kvalitetsrammen.",
    ),
    "002_95e6a3818805a982.txt": (
        "Med aftalen om Børnene Først blev der afsat en pulje",
        "Det samlede initiativ forventes afsluttet i 3. kvartal 2025.",
    ),
    "003_1910b02496250044.txt": (
        "Som social- og boligminister har jeg en naturlig interesse",
        "kommunen har opnået i forløbet.",
    ),
    "004_7ee536a8ed030cbd.txt": (
        "Der er ingen tvivl om, at en tidlig og forebyggende indsats",
        "til løft af sagsbehandlingen.",
    ),
}

SEEDS = sorted(EXPECTED)


def test_expected_tables_cover_every_document_field() -> None:
    checked = set(EXPECTED[SEEDS[0]]) | set(S20_DEFAULTS) | {"file", "text", "sections", "question", "answer"}
    assert checked == {f.name for f in dataclasses.fields(Document)}, "a Document field is not asserted"


@pytest.mark.parametrize("name", SEEDS)
def test_seed_letter_fields(name: str) -> None:
    text = read_seed(name)
    doc = parse_letter(text, name)
    assert doc.file == name
    assert doc.text is text or doc.text == text, "Document.text must be the input, unchanged"
    for field, expected in {**EXPECTED[name], **S20_DEFAULTS}.items():
        assert getattr(doc, field) == expected, (
            f"{name}: {field} = {getattr(doc, field)!r}, want {expected!r}"
        )


@pytest.mark.parametrize("name", SEEDS)
def test_seed_question_and_answer_are_verbatim_spans(name: str) -> None:
    text = read_seed(name)
    doc = parse_letter(text, name)

    q = QUESTIONS[name]
    q_start = text.index(q)
    a_start, a_end = span(text, *ANSWER_ENDS[name])
    assert doc.question == q
    assert doc.answer == text[a_start:a_end]
    assert doc.sections == (
        Section("question", q_start, q_start + len(q)),
        Section("answer", a_start, a_end),
    )
    for s in doc.sections:
        assert text[s.start : s.end] == getattr(doc, s.kind)
    # The enclosing quote characters are outside the question span.
    assert text[q_start - 1] in '"”' and text[q_start + len(q)] in '"”'


def test_seed_000_markdown_and_page_break_kept_verbatim() -> None:
    text = read_seed("000_34fc68001cd04834.txt")
    doc = parse_letter(text, "000_34fc68001cd04834.txt")
    assert doc.answer is not None
    assert "til den konkrete\n\n\n\nudmøntning af midlerne" in doc.answer  # page break inside a sentence
    assert "**" not in doc.answer and not doc.answer.startswith(("*", " ", "\n"))


def test_seed_001_blank_lines_and_trailing_spaces_kept_verbatim() -> None:
    text = read_seed("001_221ceb91d594fab5.txt")
    doc = parse_letter(text, "001_221ceb91d594fab5.txt")
    assert doc.answer is not None
    assert "socialområde.  \n\n \n\nDa der fortsat" in doc.answer
    assert doc.answer.count("\n\n") > 20


@pytest.mark.parametrize("name", SEEDS)
def test_parse_document_on_seeds_gives_the_letter(name: str) -> None:
    text = read_seed(name)
    assert parse_document(text, name) == parse_letter(text, name)
    assert parse_document(text, name).notes == ()


# --------------------------------------------------------------------------- garbled input


def _seed000() -> str:
    return read_seed("000_34fc68001cd04834.txt")


def test_garbled_sagsnr_is_none_with_note() -> None:
    text = _seed000().replace("2024 - 7010", "20x4 - 7o10")
    doc = parse_letter(text, "x.txt")
    assert doc.kind == "letter"
    assert doc.sagsnr is None and doc.sagsnr_norm is None
    assert any("Sagsnr" in n and "20x4 - 7o10" in n for n in doc.notes), doc.notes
    # The rest of the letter is unaffected.
    assert doc.doknr == "918270" and doc.dato == date(2024, 10, 20) and doc.spm_nr == 687


def test_impossible_letter_date_is_none_with_note() -> None:
    text = _seed000().replace("20-10-2024", "31-02-2024")
    doc = parse_letter(text, "x.txt")
    assert doc.dato is None
    assert any("31-02-2024" in n for n in doc.notes), doc.notes
    assert doc.sagsnr == "2024 - 7010"


def test_impossible_asked_date_is_none_with_note() -> None:
    text = _seed000().replace("d. 24. september 2024", "d. 31. februar 2024")
    doc = parse_letter(text, "x.txt")
    assert doc.asked_date is None
    assert any("31. februar 2024" in n for n in doc.notes), doc.notes
    assert doc.udvalg == "Folketingets Socialudvalg"


def test_garbled_doknr_is_none_with_note() -> None:
    doc = parse_letter(_seed000().replace("918270", "9l8270"), "x.txt")
    assert doc.doknr is None and doc.sagsnr == "2024 - 7010"
    assert any("Doknr" in n and "9l8270" in n for n in doc.notes), doc.notes


def test_label_without_value_gets_note() -> None:
    text = _seed000().replace("**Sagsnr.**  \n2024 - 7010\n", "**Sagsnr.**  \n")
    doc = parse_letter(text, "x.txt")
    assert doc.sagsnr is None and doc.doknr == "918270" and doc.dato == date(2024, 10, 20)
    assert any("Sagsnr" in n and "uden værdi" in n for n in doc.notes), doc.notes


def test_header_labels_and_values_in_separate_columns() -> None:
    head = "Sagsnr.\nDoknr.\nDato\n2024 - 2715\n848301\n30-04-2024\n"
    text = read_seed("002_95e6a3818805a982.txt")
    text = text[: text.index("Sagsnr.")] + head + text[text.index("\nFolketingets Socialudvalg har") :]
    doc = parse_letter(text, "x.txt")
    assert (doc.sagsnr, doc.doknr, doc.dato) == ("2024 - 2715", "848301", date(2024, 4, 30))
    assert doc.notes == ()


@pytest.mark.parametrize(("line", "values"), [
    ("Udenrigsministeriet Bilag Sag/ID Nr. Enhed Dato 2022 - 8657 SP 21. februar 2022 Svar på spørgsmål",
     {"sagsnr": "2022 - 8657", "dato": "21. februar 2022"}),  # the Bilag cell is empty
    ("Bilag Journalnummer Kontor 1 400.C.2-0 EUK 7. januar 2005 Under henvisning til", {"sagsnr": "400.C.2-0"}),
    ("Dato J.nr. 7. januar 2005 2004-1234", {"dato": "7. januar 2005", "sagsnr": "2004-1234"}),
    ("Enhed Kontor Dato Socialkontoret SK 3. maj 2019", {"dato": "3. maj 2019"}),
    # each value by its type, in the row's order: the phone and CVR numbers are not the case number
    ("Tel. Mail Web CVR-nr. Sags nr. Akt-id 6198 4000 uim@uim.dk www.uim.dk 36977191 2023 - 1234 6198 Svar",
     {"sagsnr": "2023 - 1234"}),
    ("København K DatoDok.idJ. nr. 23. november 2009927053004-u18-1346 Frederiksholms Kanal",  # all glued
     {"dato": "23. november 2009", "doknr": "927053", "sagsnr": "004-u18-1346"}),
    ("Dato:Kontor:Sagsbeh:Sagsnr.:Dok.: 21. marts 2012UdlændingekontoretDorthe Kania2012-0032-0156377495 Hermed",
     {"dato": "21. marts 2012", "sagsnr": "2012-0032-0156", "doknr": "377495"}),
    ("Dato: Enhed: Sagsnr.: Dok.nr.: Bilag: 5. februar 2019 SIO 2019/000326 865947 1 FORSVARSMINISTEREN",
     {"dato": "5. februar 2019", "sagsnr": "2019/000326", "doknr": "865947"}),
    ("Bilag Sag/ID Nr. Enhed DATO 2022 - 8657 SP 21. februar 2022",
     {"sagsnr": "2022 - 8657", "dato": "21. februar 2022"}),
])
def test_a_row_of_labels_and_its_row_of_values_on_one_line(line: str, values: dict[str, str]) -> None:
    assert letter_header.header_values(line).values == values


@pytest.mark.parametrize(("text", "sagsnr"), [
    ("Vor ref.: 2019-12345", "2019-12345"), ("Jour.nr. 2008-3211", "2008-3211"), ("Sagsnummer: 21/04567", "21/04567"),
    ("Ref.: 2020-7788", "2020-7788"), ("Vor j.nr.\n2011-456-0012", "2011-456-0012"), ("Sags-id: 2345678", "2345678"),
    ("Deres ref.: 123456\nVores ref.: 2017-8890", "2017-8890"),  # theirs is not the letter's case number
])
def test_every_case_number_label(text: str, sagsnr: str) -> None:
    assert letter_header.header_values(text).values == {"sagsnr": sagsnr}


def test_header_value_on_the_label_line() -> None:
    text = _seed000().replace("**Sagsnr.**  \n2024 - 7010", "Sagsnr.: 2024-7010")
    text = text.replace("**Dato**  \n20-10-2024", "Dato: 20. oktober 2024")
    doc = parse_letter(text, "x.txt")
    assert (doc.sagsnr, doc.sagsnr_norm, doc.dato) == ("2024-7010", "2024-7010", date(2024, 10, 20))


def test_letter_without_signoff_runs_answer_to_end() -> None:
    text = read_seed("003_1910b02496250044.txt").split("Med venlig hilsen")[0]
    doc = parse_letter(text, "x.txt")
    assert doc.kind == "letter"
    assert doc.answer is not None and doc.answer.endswith("kommunen har opnået i forløbet.")
    assert doc.signer is None and doc.signer_title is None


def test_not_a_letter_is_plain_text() -> None:
    text = "\n\n  Referat af mødet\n\nDer blev talt om budgettet.  \n"
    doc = parse_letter(text, "sub/dir/referat.txt")
    assert doc.kind == "text"
    assert doc.title == "referat"
    assert doc.text == text
    start = text.index("Referat")
    end = text.index("budgettet.") + len("budgettet.")
    assert doc.sections == (Section("body", start, end),)
    assert doc.notes == ("ligner ikke et svarbrev; indekseret som almindelig tekst",)
    assert doc.spm_nr is None and doc.question is None and doc.answer is None


_NO_HEADING = ("Transportministeriet Dato:      3. marts 2011 Kontor:   Vejkontoret J.nr.:      2010-1234-56 "
               "Fil-navn:      TRU spm. 412\n|\n{body}\nMed venlig hilsen\nHans Christian Schmidt\n")


def test_a_letter_without_a_question_heading_keeps_the_fields_it_prints() -> None:
    body = "Jeg henviser til min besvarelse af spørgsmål 65, som udvalget fik i marts. Det gælder også for færgerne."
    text = _NO_HEADING.format(body=body)
    doc = parse_letter(text, "brev.txt")
    assert (doc.kind, doc.spm_nr, doc.udvalg_kode, doc.spm_type) == ("letter", 412, "TRU", "alm. del")
    assert (doc.sagsnr, doc.dato, doc.question, doc.answer) == ("2010-1234-56", date(2011, 3, 3), None, None)
    start = text.index("Jeg henviser")
    assert doc.sections == (Section("body", start, start + len(body)),)  # no letterhead, no signature
    assert doc.notes[0] == "spørgsmålet kunne ikke findes i brevet; teksten er indekseret som ét afsnit"


def test_a_letter_without_a_question_heading_still_has_its_answer_after_svar() -> None:
    text = ("Transportministeriet\nDato: 3. marts 2011\nJ.nr.: 2010-1234-56\n\nMinisteren bedes oplyse, hvad "
            "færgerne til småøerne koster om året.\nSvar:\nDe koster 40 mio. kr. om året.\nMed venlig hilsen\n")
    url = "https://www.ft.dk/samling/20101/almdel/tru/spm/412/svar/123/456/index.htm"
    doc = letter.parse_letter(text, "brev.txt", url)
    assert (doc.kind, doc.spm_nr, doc.udvalg_kode, doc.dato) == ("letter", 412, "TRU", date(2011, 3, 3))
    assert doc.answer == "De koster 40 mio. kr. om året." and [s.kind for s in doc.sections] == ["body", "answer"]
    assert doc.text[doc.sections[0].start:doc.sections[0].end].endswith("småøerne koster om året.")
    assert letter.parse_letter(text, "brev.txt") is None  # no number anywhere: not known to be a letter


def test_a_heading_after_ad_in_the_middle_of_a_line() -> None:
    text = ("UDENRIGSMINISTERIET Den 6. januar 2005 Ad EUU alm. del - Spørgsmål 10 af 13. december 2004 "
            "”Idet der henvises til pressemeddelelsen, bedes regeringen oplyse sine overvejelser.” "
            "Svar: Regeringen har besluttet at åbne en ambassade.")
    doc = parse_letter(text, "brev.txt")
    assert (doc.spm_nr, doc.udvalg_kode, doc.spm_type) == (10, "EUU", "alm. del")
    assert doc.question == "Idet der henvises til pressemeddelelsen, bedes regeringen oplyse sine overvejelser."
    assert doc.answer == "Regeringen har besluttet at åbne en ambassade."


@pytest.mark.parametrize(("intro", "who"), [
    ("Spørgsmålet er stillet efter ønske af Nick Hækkerup (S).", "Nick Hækkerup (S)"),
    ("1240 København K\nJohanne Schmidt-Nielsen (EL) har den 29. september 2015 stillet følgende spørgsmål nr.",
     "Johanne Schmidt-Nielsen (EL)"),  # not "København K Johanne …"
])
def test_the_asking_mp(intro: str, who: str) -> None:
    assert letter_people.asker(intro) == who


@pytest.mark.parametrize(("intro", "minister"), [
    ("en situation, hvor man går fra et åbent arrangement til en forkyndelsessituation, lægger op til, fra "
     "justitsministeren\nsom Retsudvalget har stillet til justitsministeren den 31. oktober 2016", "justitsministeren"),
    ("stillet følgende spørgsmål nr. 128 til udlændinge-, integrations- og boligministeren, som",
     "udlændinge-, integrations- og boligministeren"),
    ("har stillet tilforsvarsministeren", "forsvarsministeren"),
])
def test_the_minister_asked_is_a_title(intro: str, minister: str) -> None:
    assert letter_people.minister_asked(intro) == minister


def test_a_letter_on_one_line_ends_its_answer_at_the_signature() -> None:
    text = ("Folketingets Socialudvalg Dato: 27. april 2005 Under henvisning til udvalgets brev følger hermed svar på "
            "spørgsmål nr. 19 ad L 38. Spørgsmål nr. 19: ”Ministeren bedes oplyse kriterierne.” Svar: {answer} "
            "Eva Kjer Hansen /Aksel Meyer Departementet Holmens Kanal 22 1060 København K Tlf. 3392 9300 "
            "FRS/ J.nr. 601-31")
    long = ("Der er allerede i dag afgrænset et antal institutioner efter objektive kriterier. Bemyndigelsen er "
            "beregnet til at kunne videreføre denne objektive finansiering.")
    for answer in ("Kriterierne er objektive.", long):
        doc = parse_letter(text.format(answer=answer), "brev.txt")
        assert (doc.answer, doc.signer, doc.sagsnr) == (answer, "Eva Kjer Hansen", "601-31")


def test_a_case_number_broken_at_its_dash_and_a_heading_about_a_bill() -> None:
    text = ("Folketingets Trafikudvalg\nDato\nJ.nr.\n15. november 2005\n409\n-\n16\n"
            "Hermed sendes svar på spørgsmål nr. 31.\nSpørgsmål nr. 31 vedrørende forslag til lov om\n"
            "ændring af færgeloven (L 12) fra Folketingets Trafikudvalg:\n”Vil ministeren oplyse prisen?”\n"
            "Svar:\nPrisen er 40 kr.\n")
    doc = parse_letter(text, "brev.txt")
    assert (doc.sagsnr, doc.sagsnr_norm, doc.dato) == ("409 - 16", "409-16", date(2005, 11, 15))
    assert (doc.question, doc.answer) == ("Vil ministeren oplyse prisen?", "Prisen er 40 kr.")


def test_a_footer_between_bullets_and_the_word_broken_into_it_stay_out_of_the_answer() -> None:
    text = ("Spørgsmål nr. 9:\n”Hvor mange afstemninger var der?”\nSvar:\nDer var 45 afstemninger i 2016.\n"
            "Oplysninger for 2017 foreligger ikke endnu.\nMiljø-\nog Fødevareministeriet • Slotsholmsgade 12 • 1216\n"
            "København K\nTlf. 38 14 21 42 • Fax 33 14 50 42 • CVR 12854358\n")
    doc = parse_letter(text, "brev.txt")
    assert doc.answer == "Der var 45 afstemninger i 2016.\nOplysninger for 2017 foreligger ikke endnu."


@pytest.mark.parametrize(("text", "values"), [
    ("DatoDok.idJ. nr.\n10. februar 2009790380004-u18-852\nFrederiksholms Kanal 27",
     {"dato": "10. februar 2009", "doknr": "790380", "sagsnr": "004-u18-852"}),
    ("DatoDok.idJ. nr.\n10. februar 20091234562010-156-0268\n",
     {"dato": "10. februar 2009", "doknr": "123456", "sagsnr": "2010-156-0268"}),  # a year starts it
    ("DatoJ. nr.\n25. marts 20132013-404\n", {"dato": "25. marts 2013", "sagsnr": "2013-404"}),
    ("Bilag\nSag/ID Nr.\nEnhed\nDato\n1\n2022 - 2977\nANA\n1. juli 2022\n",  # the Bilag cell holds "1"
     {"bilag": "1", "sagsnr": "2022 - 2977", "dato": "1. juli 2022"}),
    ("Sag/ID Nr.\nEnhed\nDato\n1\n2022 - 2977\nANA\n1. juli 2022\n",  # "1" is no case number: another column's
     {"sagsnr": "2022 - 2977", "dato": "1. juli 2022"}),
])
def test_glued_and_columned_header_values(text: str, values: dict[str, str]) -> None:
    assert letter_header.header_values(text).values == values


@pytest.mark.parametrize(("intro", "asked"), [
    ("Folketingsmedlem Pia Kjærsgaard (DF) har 27. februar 2025 stillet mig følgende spørgsmål", date(2025, 2, 27)),
    ("Transportudvalget har i brev af 28. januar 13 stillet mig følgende spørgsmål", date(2013, 1, 28)),
    ("Bilag til udenrigsministerens\nForsvarsudvalget\nskrivelse af 23. januar 2006\n(B 63 spørgsmål 109)", None),
])
def test_the_date_asked(intro: str, asked: date | None) -> None:
    assert letter_fields.asked_date(intro, date(2013, 3, 25) if "13 " in intro else date(2025, 3, 6))[0] == asked


def test_an_enclosure_sheet_is_dated_by_the_ministers_letter_it_goes_with() -> None:
    text = ("Bilag til udenrigsministerens\nForsvarsudvalget\nskrivelse af 23. januar 2006\n(B 63 spørgsmål 109)\n"
            "Spørgsmål nr. 109:\nVil ministeren oplyse sin vurdering?\nSvar:\nRegeringen har ingen vurdering.\n")
    doc = parse_letter(text, "bilag.txt")
    assert (doc.dato, doc.asked_date, doc.spm_nr, doc.sag) == (date(2006, 1, 23), None, 109, "B 63")


@pytest.mark.parametrize("answer", [
    "Jeg vender derfor tilbage, når disse oplysninger foreligger.",
    "Udvalget vil modtage en endelig besvarelse, når DSB's bemærkninger foreligger.",
])
def test_a_promise_of_the_real_answer_later_is_preliminary(answer: str) -> None:
    assert letter_people.preliminary("", answer)


@pytest.mark.parametrize(("line", "kind"), [
    ("_" * 40 + "HOLMENS KANAL 421060 KØBENHAVN KTELEFON: 33 92 33 20TELEFAX: 33 32 06 55MAIL: fmn@fmn.dkWEB: "
     "www.FMN.DKCVR: 25-77-56-35", "letterhead"),
    ("og Fødevareministeriet • Slotsholmsgade 12 • 1216", "letterhead"),
    ("_" * 40, "page"),
    ("• 2013: 45 sager • 2014: 51 sager • 2015: 38 sager", None),  # a list in an answer is prose
    ("Region Hovedstaden | 1.204 | 1.310 | 2020", None),  # and so is a table's row
    ("Dette gælder også den analyse, som blev udarbejdet i februar 2009.", None),
])
def test_what_is_not_prose(line: str, kind: str | None) -> None:
    assert boilerplate(line) == kind


def test_a_word_broken_across_a_page_keeps_its_line() -> None:
    text = ("Spørgsmål nr. 9:\n”Hvad koster ordningen?”\nSvar:\n"
            "Ordningen koster 40 mio. kr. årligt, og udgifterne til\nden samlede samfunds-\n"
            "Slotsholmsgade 10 • 1216 København K • Tlf. 33 92 33 00\n"
            "økonomiske analyse er ikke opgjort.\n")
    doc = parse_letter(text, "brev.txt")
    assert "den samlede samfunds-" in doc.answer and doc.answer.endswith("analyse er ikke opgjort.")


_NO_QUESTION_HEADING = ("Civil- og Politiafdelingen\nDato:Kontor:Sagsnr.:Dok.:\n"
                        "26. maj 2010Dyrevelfærdskontoret2010-156-0268MCO41088\n"
                        "Hermed sendes besvarelse af spørgsmål nr. 76, som Folketingets Retsudvalg har stillet til "
                        "justitsministeren den 20. maj 2010.\n{question}\n"
                        "Svar:\nJeg kan oplyse, at henvendelsen er besvaret.\n")


def test_without_a_heading_the_question_is_the_quote_before_the_answer() -> None:
    question = "”Ministeren bedes kommentere henvendelsen af 19. maj og oplyse, hvad der er gjort.”"
    doc = parse_letter(_NO_QUESTION_HEADING.format(question=question), "brev.txt")
    assert doc.question == question.strip("”")
    assert (doc.sagsnr, doc.doknr, doc.dato, doc.asked_date) == ("2010-156-0268", "MCO41088", date(2010, 5, 26),
                                                                 date(2010, 5, 20))


def test_a_question_that_starts_too_early_does_not_hide_the_letterhead_s_labels() -> None:
    doc = parse_letter(_NO_QUESTION_HEADING.format(question="Ministeren bedes kommentere henvendelsen."), "brev.txt")
    assert doc.question.startswith("Civil- og Politiafdelingen")  # no heading, no quote: all before the answer
    assert (doc.sagsnr, doc.dato) == ("2010-156-0268", date(2010, 5, 26))


def test_no_break_spaces_read_as_spaces_and_the_quotes_stay_verbatim() -> None:
    text = ("Sagsnr.:\u00a02019-1234\nDato:\u00a03.\u00a0maj 2019\nSpørgsmål nr. 5:\n”Hvad koster det?”\n"
            "Svar:\nDet koster\u00a040 mio. kr.\n")
    doc = parse_letter(text, "brev.txt")
    assert (doc.sagsnr, doc.dato, doc.spm_nr) == ("2019-1234", date(2019, 5, 3), 5)
    assert doc.text == text and doc.answer == "Det koster\u00a040 mio. kr."


@pytest.mark.parametrize("tail", ["23. marts 2020 J.nr. 2020 - 1474 Venlig hilsen Mette Frederiksen",
                                  "Tel. Mail CVR-nr. Sagsnr. 3392 9700 ufm@ufm.dk 12345678 2020 - 1474",
                                  "23. marts 2020"])
def test_a_one_line_letter_s_answer_stops_at_its_letterhead(tail: str) -> None:
    answer = ("Regeringen har indledt drøftelser med arbejdsmarkedets parter om, hvordan elever og lærlinge kan "
              "få del i ordningen, og der er enighed om at se på både praktikpladser og skoleundervisning. Jeg vil "
              "oplyse udvalget nærmere herom, når drøftelserne med parterne er tilendebragt.")
    text = "Spørgsmål nr. 27: ”Hvad gør ministeren?” Svar: " + answer + " " + tail  # a whole letter on one line
    doc = parse_letter(text, "brev.txt")
    assert doc.answer == answer
    assert doc.dato == (None if tail.startswith("Tel") else date(2020, 3, 23))
    assert doc.sagsnr == (None if tail[0].isdigit() and "J.nr" not in tail else "2020 - 1474")


def test_a_date_inside_a_multi_line_answer_does_not_end_it() -> None:
    text = ("Spørgsmål nr. 3:\n”Hvornår trådte loven i kraft?”\nSvar:\nLoven blev vedtaget. 1. januar 2020\n"
            "trådte den i kraft, og den er siden ændret to gange.\nMed venlig hilsen\n")
    doc = parse_letter(text, "brev.txt")
    assert doc.answer.endswith("og den er siden ændret to gange.")


def test_a_one_line_letter_is_dated_by_its_letterhead_before_the_opening() -> None:
    text = ("Erhvervsudvalget 2021-22 L 146 Offentligt Folketingets Erhvervsudvalg ERHVERVSMINISTEREN 11. maj 2022 "
            "Besvarelse af spørgsmål 9 om lov om ændring af lov om elforsyning stillet af udvalget den 3. maj 2022. "
            "Vil ministeren oplyse, hvad ændringen koster? Svar: Ændringen koster 12 mio. kr. om året, og udgiften "
            "afholdes inden for ministeriets ramme. 19. maj 2022 Erhvervsministeriet Slotsholmsgade 10")
    doc = parse_letter(text, "brev.txt")
    assert doc.dato == date(2022, 5, 11) and doc.answer.endswith("inden for ministeriets ramme.")


@pytest.mark.parametrize(("intro", "who"), [
    ("Spørgsmålet er stillet efter ønske fra (MFU) Zenia Stampe (RV).", "Zenia Stampe (RV)"),
    ("Spørgsmålet er stillet af ikkemedlem af udvalget (MFU) Søren Espersen (DF).", "Søren Espersen (DF)"),
    ("Kirkeminister Joy Mogensens svar på MF Sjúrður Skaale spørgsmål af 26. oktober 2020", "Sjúrður Skaale"),
])
def test_askers_outside_the_committee(intro: str, who: str) -> None:
    assert letter_people.asker(intro) == who


def test_the_minister_asked_from_ft_dk_s_record_in_a_copy() -> None:
    assert letter_people.minister_asked("Aktører:\n- Besvaret af: kulturministeren\n- Minister: kulturministeren\n") \
        == "kulturministeren"


@pytest.mark.parametrize(("answer", "preliminary"), [
    ("Formålet er, at sygemeldte genvinder arbejdsevnen og vender tilbage til arbejdsmarkedet.", False),
    ("Det har ikke været muligt at besvare spørgsmålene inden fristen. Et endeligt svar forventes medio august.", True),
])
def test_preliminary_or_not(answer: str, preliminary: bool) -> None:
    assert letter_people.preliminary("", answer) is preliminary


def test_a_word_broken_with_a_space_in_a_one_line_copy_is_read_whole() -> None:
    text = ("Folketingets Miljø- og Planlægnings- udvalg har den 26. okto- ber 2020 stillet følgende spørgsmål nr. "
            "27: ”Vil ministeren oplyse prisen?” Svar: Prisen er 40 kr.")
    doc = parse_letter(text, "brev.txt")
    assert (doc.asked_date, doc.udvalg_kode) == (date(2020, 10, 26), "MPU")


def test_a_committee_s_abbreviation_before_the_heading() -> None:
    text = ("UDENRIGSMINISTERIET\nSpørgsmål 23 fra Udenrigsudvalget til\nudenrigsministeren af 18. august 2015\n"
            "URU spørgsmål 23:\n”Vil ministeren redegøre for dialogen?”\nSvar:\nDer er en løbende dialog.\n")
    doc = parse_letter(text, "brev.txt")
    assert (doc.question, doc.minister_addressed, doc.asked_date) == (
        "Vil ministeren redegøre for dialogen?", "udenrigsministeren", date(2015, 8, 18))


def test_a_number_alone_does_not_make_a_letter() -> None:
    text = "Notat om TRU spm. 412\n\nDer blev talt om færgerne og om, hvad de koster for kommunerne.\n"
    assert parse_letter(text, "notat.txt").kind == "text"


def test_letter_cut_before_its_answer_is_still_a_letter() -> None:
    text = _seed000().split("**Svar:**")[0]
    doc = parse_letter(text, "000.txt")
    assert doc.kind == "letter" and doc.spm_nr == 687 and doc.question == QUESTIONS["000_34fc68001cd04834.txt"]
    assert [s.kind for s in doc.sections] == ["question"] and "svarets tekst mangler" in doc.notes


@pytest.mark.parametrize("text", ["", "   ", "\n\n \t\n"])
def test_empty_file(text: str) -> None:
    doc = parse_letter(text, "tom.txt")
    assert doc.kind == "text"
    assert doc.sections == ()
    assert doc.notes == ("tom fil",)
    assert doc.text == text
    assert parse_document(text, "tom.txt").kind == "text"


def test_unquoted_question_and_single_line_layout() -> None:
    text = (
        "Finansudvalget har d. 1. marts 2023 stillet følgende spørgsmål nr. 12 (L 5) til "
        "finansministeren, som hermed besvares.\n"
        "Spørgsmål nr. 12:\nHvad koster det?\nSvar:\nDet koster 5 kr.\n"
        "Venlig hilsen\nNicolai Wammen\n"
    )
    doc = parse_letter(text, "a.txt")
    assert doc.kind == "letter"
    assert (doc.udvalg, doc.udvalg_kode, doc.asked_date, doc.spm_nr, doc.spm_type, doc.sag) == (
        "Finansudvalget",
        "FIU",
        date(2023, 3, 1),
        12,
        "L",
        "L 5",
    )
    assert doc.minister_addressed == "finansministeren"
    assert doc.question == "Hvad koster det?" and doc.answer == "Det koster 5 kr."
    assert doc.signer == "Nicolai Wammen" and doc.signer_title is None
    assert doc.title == "Svar på FIU L 5 spm. 12"


def test_other_ministry_layout() -> None:
    text = (
        "Ministeriet for Fødevarer, Landbrug og Fiskeri\nSlotsholmsgade 12\n\n"
        "Dato: 12. april 2023\nJ.nr. 2023 - 1234\n\n"
        "Folketingets Udvalg for Fødevarer, Landbrug og Fiskeri har i brev af 3. marts 2023 stillet "
        "følgende spørgsmål nr. 45 (L 12) til ministeren for fødevarer, landbrug og fiskeri, som hermed "
        "besvares. Spørgsmålet er stillet efter ønske fra Hans Chr. Schmidt (V) og Mette Abildgaard (KF).\n\n"
        'Spørgsmål nr. 45:\n“Vil ministeren redegøre for "noget"?”\n\nSvar:\nJa.\n\n'
        "Med venlig hilsen,\n\nJacob Jensen\nFødevareminister\n"
    )
    doc = parse_letter(text, "a/b.txt")
    assert doc.kind == "letter"
    assert doc.udvalg == "Folketingets Udvalg for Fødevarer, Landbrug og Fiskeri"
    assert (doc.dato, doc.asked_date) == (date(2023, 4, 12), date(2023, 3, 3))
    assert (doc.sagsnr, doc.sagsnr_norm, doc.doknr) == ("2023 - 1234", "2023-1234", None)
    assert (doc.spm_nr, doc.spm_type, doc.sag, doc.udvalg_kode) == (45, "L", "L 12", "FLF")
    assert doc.minister_addressed == "ministeren for fødevarer, landbrug og fiskeri"
    assert doc.spoerger == "Hans Chr. Schmidt (V) og Mette Abildgaard (KF)"
    assert doc.question == 'Vil ministeren redegøre for "noget"?' and doc.answer == "Ja."
    assert (doc.signer, doc.signer_title) == ("Jacob Jensen", "Fødevareminister")
    assert doc.notes == ()


# --------------------------------------------------------------------------- normalise_sagsnr


@pytest.mark.parametrize(
    ("raw", "norm"),
    [
        ("2024 - 7010", "2024-7010"),
        ("2024-7010", "2024-7010"),
        (" 2024 – 7010 ", "2024-7010"),
        ("2024/7010", "2024/7010"),
        ("2019 / 000326", "2019/000326"),
        ("J.nr. 2013 - 0001770", "J.nr. 2013-0001770"),
        ("", None),
        ("ingen", None),
    ],
)
def test_normalise_sagsnr(raw: str, norm: str | None) -> None:
    """For comparing and for finding a letter by its case number: only the spaces around dashes go."""
    assert normalise_sagsnr(raw) == norm


# --------------------------------------------------------------------------- parse_document


def test_meta_overrides_letter_fields() -> None:
    text = _seed000()
    meta = {
        "dato": "21-10-2024",
        "minister": "boligministeren",
        "url": "https://www.ft.dk/samling/20241/almdel/sou/spm/687/svar/1.htm",
        "title": "Mit eget navn",
        "udvalg": "Socialudvalget",
        "ukendt_kolonne": "ignoreres",
    }
    doc = parse_document(text, "000.txt", meta)
    assert doc.dato == date(2024, 10, 21)
    assert doc.minister_addressed == "boligministeren"
    assert doc.url == meta["url"]
    assert doc.title == "Mit eget navn"
    assert doc.udvalg == "Socialudvalget"
    assert doc.notes == tuple(f"manifest.csv afviger fra teksten ({f}); manifest.csv er brugt"
                              for f in ("dato", "minister", "udvalg")), "each disagreement is named"
    assert doc.sagsnr == "2024 - 7010" and doc.question == QUESTIONS["000_34fc68001cd04834.txt"]


def test_meta_iso_date_and_blank_values_on_plain_text() -> None:
    doc = parse_document("Noget tekst.", "n.txt", {"date": "2023-01-18", "title": "", "url": "  "})
    assert doc.kind == "text"
    assert doc.dato == date(2023, 1, 18)
    assert doc.title == "n" and doc.url is None
    assert doc.notes == ("ligner ikke et svarbrev; indekseret som almindelig tekst",)


def test_invalid_meta_goes_to_notes() -> None:
    doc = parse_document(_seed000(), "000.txt", {"dato": "31-02-2024", "url": "ftp://x", "date": "i går"})
    assert doc.kind == "letter"
    assert doc.dato == date(2024, 10, 20), "an unusable manifest date keeps the parsed one"
    assert doc.url is None
    assert len(doc.notes) == 3
    assert any("31-02-2024" in n for n in doc.notes)
    assert any("ftp://x" in n for n in doc.notes)


def _fake_s20(monkeypatch: pytest.MonkeyPatch, impl: Any) -> None:
    monkeypatch.setattr(parse_module, "parse_s20", impl)


def test_parse_document_prefers_s20_and_leaves_its_document_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    s20 = Document(file="s.txt", kind="s20", text="x", title="S 1")
    seen: list[Any] = []

    def fake(text: str, file: str, meta: Any) -> Document:
        seen.append(meta)
        return s20

    _fake_s20(monkeypatch, fake)
    meta = {"title": "ignoreret for § 20"}
    assert parse_document("x", "s.txt", meta) is s20
    assert seen == [meta]


def test_parse_document_falls_back_when_s20_says_no_or_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    text = _seed000()
    _fake_s20(monkeypatch, lambda text, file, meta: None)
    assert parse_document(text, "000.txt").kind == "letter"

    def broken(text: str, file: str, meta: Any) -> Document | None:
        raise RuntimeError("boom")

    _fake_s20(monkeypatch, broken)
    doc = parse_document(text, "000.txt")
    assert doc.kind == "letter" and doc.spm_nr == 687
    assert any("boom" in n for n in doc.notes)


# --------------------------------------------------------------------------- robustness


def check_invariants(doc: Document, text: str) -> None:
    assert doc.text == text
    assert doc.kind in ("letter", "text")
    for s in doc.sections:
        assert 0 <= s.start <= s.end <= len(text)
        piece = text[s.start : s.end]
        if doc.kind == "text":
            assert s.kind == "body" and piece == text.strip()
        else:  # a letter's sections; a letter whose question was not found has its prose as body
            assert piece and piece == piece.strip()
    if doc.kind == "letter":
        kinds = [s.kind for s in doc.sections]
        assert kinds == sorted(kinds, key=lambda k: k != "question") and kinds.count("question") <= 1
        assert doc.question == next((text[s.start:s.end] for s in doc.sections if s.kind == "question"), None)
        answers = [text[s.start:s.end] for s in doc.sections if s.kind == "answer"]
        assert doc.answer == ("\n\n".join(answers) or None)
        spans = [(s.start, s.end) for s in doc.sections]
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False)), "sections in order, apart"
        if doc.sagsnr is not None:
            assert doc.sagsnr_norm == normalise_sagsnr(doc.sagsnr)
    assert all(isinstance(n, str) and n for n in doc.notes)


SLOW = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SLOW
@given(st.text())
def test_arbitrary_text_never_raises(text: str) -> None:
    check_invariants(parse_letter(text, "f.txt"), text)
    check_invariants(parse_document(text, "f.txt", {"dato": text[:10], "url": text}), text)


# Pieces of letters glued in random order reach the letter paths that plain random text does not.
PIECES = [
    "Folketingets Socialudvalg har d. 24. september 2024 stillet følgende spørgsmål nr. 687 (alm. del) til ",
    "social- og boligministeren, som hermed besvares. ",
    "Spørgsmålet er stillet efter ønske fra Charlotte Bromann Mølbæk (SF).",
    "stillet følgende spørgsmål",
    "**Spørgsmål nr. 687:**",
    "Spørgsmål nr. 1:",
    "Svar:",
    "**Svar:**",
    "Med venlig hilsen",
    "Bilag:",
    "Sagsnr.",
    "**Doknr.**",
    "Dato",
    "31-02-2024",
    "2024 - 7010",
    "20x4 - 7o10",
    '"',
    "”",
    "“",
    "*",
    "(",
    ")",
    "\n",
    "\n\n",
    " ",
    "  \n",
    "\r\n",
    "\xa0",
    "har d.",
    "Folketingets",
    "Social-",
    "og",
    "udvalg",
    "Sophie Hæstorp Andersen",
    "bilag 1 med en lang titel",
    "nr.",
    "7",
]


@SLOW
@given(st.lists(st.sampled_from(PIECES), max_size=60))
def test_letter_pieces_never_raise(pieces: list[str]) -> None:
    text = "".join(pieces)
    check_invariants(parse_letter(text, "f.txt"), text)


@st.composite
def mutated_seed(draw: st.DrawFn) -> str:
    text = read_seed(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(["truncate", "delete", "insert", "replace", "duplicate"]))
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, min(len(text), i + 200)))
        if op == "truncate":
            text = text[:i]
        elif op == "delete":
            text = text[:i] + text[j:]
        elif op == "insert":
            text = text[:i] + draw(st.text(max_size=30) | st.sampled_from(PIECES)) + text[i:]
        elif op == "replace":
            text = text[:i] + draw(st.text(max_size=5)) + text[j:]
        else:
            text = text[:j] + text[i:j] + text[j:]
    return text


@SLOW
@given(mutated_seed())
def test_mutated_seeds_never_raise(text: str) -> None:
    check_invariants(parse_letter(text, "f.txt"), text)
    check_invariants(parse_document(text, "f.txt"), text)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(SEEDS), st.data())
def test_truncated_seed_keeps_everything_before_the_cut(name: str, data: st.DataObject) -> None:
    text = read_seed(name)
    cut = data.draw(st.integers(0, len(text)))
    doc = parse_letter(text[:cut], name)
    check_invariants(doc, text[:cut])
    if doc.kind != "letter":
        return
    # A letter needs its "Svar:" line, so everything above it is intact and parsed as in full.
    full = {**EXPECTED[name], "question": QUESTIONS[name]}
    if doc.question != full["question"]:
        return  # cut inside the question: what remains is another letter's question, or none
    for field in (
        "sagsnr",
        "sagsnr_norm",
        "doknr",
        "dato",
        "udvalg",
        "udvalg_kode",
        "asked_date",
        "spm_nr",
        "spm_type",
        "minister_addressed",
        "spoerger",
        "title",
    ):
        assert getattr(doc, field) == full[field], field
    full_doc = parse_letter(text, name)
    assert full_doc.answer is not None
    if doc.answer is not None:
        assert full_doc.answer.startswith(doc.answer) or doc.answer.startswith(full_doc.answer)
    if doc.signer is not None:
        assert full["signer"].startswith(doc.signer)


@pytest.mark.parametrize("original, view", [
    ("spørgs-\nmål", "spørgsmål"),
    ("Social-\nog Boligstyrelsen", "Social-\nog Boligstyrelsen"),
    ("  **Sagsnr.**  \n 2024 - 7010", "Sagsnr.\n2024 - 7010"),
    ("a * b", "a b"),
    ("a *\n b", "a\nb"),
    ("a\u00a0b\t\tc", "a b c"),
    ("", ""),
])
def test_the_search_view_maps_back_to_the_original(original: str, view: str) -> None:
    from rag.ingest.layout import View

    v = View.of(original)
    assert v.text == view
    for i, c in enumerate(v.text):
        source = original[v.at(i)]
        assert source == c or (c in " \n" and source.isspace()), (i, c, source)
    assert v.at(len(v.text)) == len(original)
