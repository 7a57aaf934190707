"""rag.load: files of several formats to text, and the reasons a file is refused.

The fixtures in tests/fixtures/ are made by tests/fixtures/make_fixtures.py from
the two seed letters committed beside them (letter_002.txt, letter_000.md).
"""

from __future__ import annotations

import re
import time
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag.errors import UnreadableFile
from rag.ingest.decode import decode_bytes
from rag.ingest.load import SUPPORTED_SUFFIXES, load_text
from rag.ingest.pdf import Page, join_hyphenated, remove_running_lines

FIXTURES = Path(__file__).resolve().parent / "fixtures"
LETTER_002 = (FIXTURES / "letter_002.txt").read_text(encoding="utf-8")
LETTER_000 = (FIXTURES / "letter_000.md").read_text(encoding="utf-8")

# Sentences of letter 002 that every form of it must contain verbatim.
KEY_SENTENCES_002 = [
    "Puljen på i alt 14,3 mio. kr. blev udmøntet til ni kommuner i december 2022, jf. vedlagte bilag 1.",
    "Folketingets Socialudvalg har d. 3. april 2024 stillet følgende spørgsmål nr. 391 (alm. del) "
    "til social- og boligministeren, som hermed besvares.",
    "Børnene Først om ekstra hjælp til kommuner med mange børnesager, hvor der afsættes en pulje",
    "Rådgivningsforløbene udføres i et samarbejde mellem Social- og Boligstyrelsen og Ankestyrelsen.",
    "Det samlede initiativ forventes afsluttet i 3. kvartal 2025.",
    "Pernille Rosenkrantz-Theil",
]
# The header lines the letter parser reads its fields from, each on its own line.
HEADER_LINES_002 = ["Sagsnr.", "2024 - 2715", "Doknr.", "848301", "Dato", "30-04-2024"]


def collapse(text: str) -> str:
    return " ".join(text.split())


def lines_of(text: str) -> list[str]:
    return [line.strip() for line in text.split("\n")]


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return path


def refused(path: Path) -> str:
    with pytest.raises(UnreadableFile) as info:
        load_text(path)
    reason = str(info.value)
    assert reason and "\n" not in reason
    return reason


# ---------------------------------------------------------------- the API


def test_supported_suffixes() -> None:
    assert SUPPORTED_SUFFIXES == {".txt", ".md", ".pdf", ".docx", ".html", ".htm"}


def test_unknown_suffix(tmp_path: Path) -> None:
    assert refused(write(tmp_path, "brev.xyz", "tekst")) == "ukendt filtype .xyz"
    assert refused(write(tmp_path, "brev", "tekst")).startswith("ukendt filtype")
    assert refused(write(tmp_path, "brev.doc", "tekst")).startswith("ukendt filtype .doc")


def test_suffix_is_case_insensitive(tmp_path: Path) -> None:
    assert load_text(write(tmp_path, "BREV.TXT", "Hej æøå")) == "Hej æøå"
    pdf = write(tmp_path, "BREV.PDF", (FIXTURES / "letter_002.pdf").read_bytes())
    assert "14,3 mio. kr." in load_text(pdf)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    assert refused(tmp_path / "findes-ikke.txt") == "filen findes ikke"
    (tmp_path / "mappe.txt").mkdir()
    assert refused(tmp_path / "mappe.txt").startswith("er en mappe")


@pytest.mark.parametrize("name", ["tom.txt", "tom.md", "tom.pdf", "tom.docx", "tom.html"])
def test_empty_file(tmp_path: Path, name: str) -> None:
    assert refused(write(tmp_path, name, b"")) == "tom fil"


@pytest.mark.parametrize("content", [b" \n\t\r\n  ", "\ufeff  \n".encode(), b"\n\n\n"])
def test_whitespace_only_text_file(tmp_path: Path, content: bytes) -> None:
    assert refused(write(tmp_path, "blank.txt", content)) == "tom fil"


def test_too_big_file_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "stor.txt"
    with path.open("wb") as f:  # sparse: no disk used, and never read
        f.truncate(201 * 1024 * 1024)
    assert refused(path).startswith("for stor fil")


def test_50_mb_text_file_loads(tmp_path: Path) -> None:
    paragraph = (LETTER_002.replace("\n", "\r\n") + "\r\n").encode("utf-8")
    path = tmp_path / "stor.txt"
    path.write_bytes(paragraph * (50 * 1024 * 1024 // len(paragraph) + 1))
    assert path.stat().st_size >= 50 * 1024 * 1024
    start = time.perf_counter()
    text = load_text(path)
    assert time.perf_counter() - start < 30
    assert "\r" not in text
    assert text.startswith(LETTER_002)


def test_50_mb_cp1252_file_loads(tmp_path: Path) -> None:
    block = (LETTER_002 + "\n").encode("cp1252")
    path = tmp_path / "stor.txt"
    path.write_bytes(block * (50 * 1024 * 1024 // len(block) + 1))
    text = load_text(path)
    assert text.startswith(LETTER_002)
    assert "Ã" not in text


# ---------------------------------------------------------------- text files


def test_utf8_text_is_unchanged(tmp_path: Path) -> None:
    assert load_text(write(tmp_path, "brev.txt", LETTER_002)) == LETTER_002
    assert load_text(write(tmp_path, "brev.md", LETTER_000)) == LETTER_000


def test_utf8_bom_is_dropped(tmp_path: Path) -> None:
    assert load_text(write(tmp_path, "bom.txt", "\ufeffSagsnr.\n2024 - 2715")) == "Sagsnr.\n2024 - 2715"


def test_line_endings_are_normalised(tmp_path: Path) -> None:
    text = load_text(write(tmp_path, "crlf.txt", b"a\r\nb\rc\n\r\nd  \t\n"))
    assert text == "a\nb\nc\n\nd  \t\n"


def test_cp1252_fixture_decodes_to_the_letter() -> None:
    raw = (FIXTURES / "letter_002_cp1252.txt").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert b"\r\n" in raw
    assert load_text(FIXTURES / "letter_002_cp1252.txt") == LETTER_002


def test_cp1252_quotes_and_dashes(tmp_path: Path) -> None:
    text = "“Børnene Først” – 14,3 mio. kr. … Ærø, Ødsted og Åbenrå, don’t: 5 €"
    path = write(tmp_path, "cp1252.txt", text.encode("cp1252"))
    assert load_text(path) == text


def test_latin1_text(tmp_path: Path) -> None:
    text = "Social- og boligministeren svarer på spørgsmål om børnesager i Århus."
    assert load_text(write(tmp_path, "latin1.txt", text.encode("latin-1"))) == text


def test_cp850_dos_text(tmp_path: Path) -> None:
    text = "ØKONOMI: Åbenrå og Ærø får støtte til børnesager på området."
    assert load_text(write(tmp_path, "dos.txt", text.encode("cp850"))) == text


def test_utf8_with_a_stray_cp1252_byte(tmp_path: Path) -> None:
    data = "Ministeren svarer på spørgsmål om børnesager".encode() + b" \x96 " + "og så videre".encode()
    assert load_text(write(tmp_path, "blandet.txt", data)) == (
        "Ministeren svarer på spørgsmål om børnesager – og så videre"
    )


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_with_bom(tmp_path: Path, encoding: str) -> None:
    data = "Sagsnr.\r\n2024 - 2715\r\nSpørgsmål".encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    assert load_text(write(tmp_path, "u16.txt", data)) == "Sagsnr.\n2024 - 2715\nSpørgsmål"


def test_utf16_without_bom(tmp_path: Path) -> None:
    data = "Sagsnr.\n2024 - 2715\nSpørgsmål nr. 391".encode("utf-16-le")
    assert load_text(write(tmp_path, "u16.txt", data)) == "Sagsnr.\n2024 - 2715\nSpørgsmål nr. 391"


def test_png_renamed_to_txt(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x02" + bytes(200)
    assert refused(write(tmp_path, "billede.txt", png)).startswith("binær fil")


def test_pdf_renamed_to_txt(tmp_path: Path) -> None:
    pdf = (FIXTURES / "letter_002.pdf").read_bytes()
    reason = refused(write(tmp_path, "brev.txt", pdf))
    assert reason.startswith("binær fil") and "PDF" in reason


def test_nul_bytes_are_binary(tmp_path: Path) -> None:
    assert refused(write(tmp_path, "nul.md", b"Tekst med\x00 NUL\x00 midt i")).startswith("binær fil")


def test_control_characters_are_binary(tmp_path: Path) -> None:
    data = bytes(range(1, 9)) * 20 + b"lidt tekst"
    assert refused(write(tmp_path, "ctrl.txt", data)).startswith("binær fil")


def test_garbage_decoding_to_control_characters(tmp_path: Path) -> None:
    # bytes undefined in cp1252 and not UTF-8: they can only come out as C1 controls
    data = b"ab \x81\x8d\x8f\x90\x9d \x81\x8d cd \x8f\x90\x9d\x81 " * 20
    assert refused(write(tmp_path, "rod.txt", data)).startswith("ugyldig tegnkodning")


def test_replacement_characters_are_invalid_encoding(tmp_path: Path) -> None:
    data = ("Spørgsmål " + "\ufffd" * 50).encode("utf-8")
    assert refused(write(tmp_path, "fffd.txt", data)).startswith("ugyldig tegnkodning")


def test_high_bytes_that_are_not_western_text(tmp_path: Path) -> None:
    data = "Министр ответил на вопрос комитета о детях и семьях".encode("cp1251")
    assert refused(write(tmp_path, "kyrillisk.txt", data)).startswith("ugyldig tegnkodning")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=2000))
def test_random_bytes_give_text_or_unreadable(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "tilfældig.txt"
    path.write_bytes(data)
    try:
        text = load_text(path)
    except UnreadableFile as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        assert isinstance(text, str) and text.strip()
        assert "\r" not in text


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=st.characters(codec="cp1252", exclude_categories=["Cc"]), min_size=1))
def test_any_utf8_text_round_trips(text: str) -> None:
    if not text.strip():
        return
    assert decode_bytes(text.encode("utf-8")) == text


@settings(max_examples=200, deadline=None)
@given(
    words=st.lists(
        st.sampled_from(["og", "børnesager", "Ærø", "på", "“citat”", "–", "14,3", "Åbenrå", "sø", "ønske"]),
        min_size=1,
        max_size=40,
    )
)
def test_danish_cp1252_decodes_right(words: list[str]) -> None:
    text = " ".join(words)
    assert decode_bytes(text.encode("cp1252")) == text


# ---------------------------------------------------------------- PDF


def test_pdf_letter_text() -> None:
    text = load_text(FIXTURES / "letter_002.pdf")
    flat = collapse(text)
    for sentence in KEY_SENTENCES_002:
        assert sentence in flat
    lines = lines_of(text)
    for header_line in HEADER_LINES_002:
        assert header_line in lines
    assert lines.index("Sagsnr.") + 1 == lines.index("2024 - 2715")
    assert lines.index("Dato") + 1 == lines.index("30-04-2024")


def test_pdf_running_header_and_footer_are_removed() -> None:
    text = load_text(FIXTURES / "letter_002.pdf")
    assert "Social- og Boligministeriet" not in text
    assert not re.search(r"Side \d+ af \d+", text)
    # the header is there on every page of the file itself
    from pypdf import PdfReader

    pages = PdfReader(FIXTURES / "letter_002.pdf").pages
    assert len(pages) == 3
    for n, page in enumerate(pages, start=1):
        raw = page.extract_text()
        assert "Social- og Boligministeriet" in raw and f"Side {n} af 3" in raw


def test_pdf_hyphenation_is_undone_but_real_hyphens_stay() -> None:
    from pypdf import PdfReader

    raw = PdfReader(FIXTURES / "letter_002.pdf").pages[0].extract_text()
    assert "bør-\nnesager" in raw and "social-\nog boligministeren" in raw

    text = load_text(FIXTURES / "letter_002.pdf")
    assert "mange børnesager, hvor" in text
    assert "bør-" not in text and "bør- nesager" not in collapse(text)
    assert "til social- og boligministeren" in collapse(text)
    assert "Social- og Boligstyrelsen" in collapse(text)
    assert "Rosenkrantz-Theil" in text


def test_pdf_paragraphs_and_pages() -> None:
    text = load_text(FIXTURES / "letter_002.pdf")
    assert "\r" not in text and "\n\n\n" not in text
    assert "\n\nSvar:\n\nMed aftalen om Børnene Først" in text
    assert "Puljen på i alt 14,3 mio. kr. blev udmøntet til ni kommuner i december\n2022" in text


def test_pdf_with_no_text_layer() -> None:
    assert refused(FIXTURES / "scanned.pdf") == "PDF uden tekstlag – kræver OCR"


def test_encrypted_pdf() -> None:
    assert refused(FIXTURES / "encrypted.pdf").startswith("krypteret PDF")


def test_pdf_encrypted_without_user_password_loads() -> None:
    assert load_text(FIXTURES / "encrypted_no_password.pdf") == load_text(FIXTURES / "letter_002.pdf")


def test_aes_encrypted_pdf_without_user_password() -> None:
    """Readable when the `cryptography` package is installed; else refused with a reason."""
    import importlib.util

    path = FIXTURES / "aes_no_password.pdf"
    if importlib.util.find_spec("cryptography") is None:
        assert refused(path).startswith("krypteret PDF")
    else:
        assert load_text(path) == load_text(FIXTURES / "letter_002.pdf")


def test_truncated_pdf() -> None:
    assert refused(FIXTURES / "truncated.pdf").startswith("beskadiget PDF")


def test_truncated_pdf_with_an_end_marker(tmp_path: Path) -> None:
    data = (FIXTURES / "letter_002.pdf").read_bytes()
    broken = data[:1000] + b"\n%%EOF\n"
    assert refused(write(tmp_path, "afkortet.pdf", broken)).startswith(("beskadiget PDF", "PDF uden"))


def test_html_saved_as_pdf(tmp_path: Path) -> None:
    page = b"<!DOCTYPE html><html><body>404 Not Found</body></html>"
    assert refused(write(tmp_path, "brev.pdf", page)).startswith("beskadiget PDF")


@pytest.mark.parametrize("seed", range(8))
def test_damaged_pdfs_raise_only_unreadable(tmp_path: Path, seed: int) -> None:
    import random

    rng = random.Random(seed)
    data = bytearray((FIXTURES / "letter_002.pdf").read_bytes())
    for _ in range(30):
        data[rng.randrange(len(data))] = rng.randrange(256)
    path = write(tmp_path, "skadet.pdf", bytes(data))
    try:
        assert isinstance(load_text(path), str)
    except UnreadableFile:
        pass


def test_pdf_warnings_do_not_reach_stderr(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    data = (FIXTURES / "letter_002.pdf").read_bytes()
    xref = data.rindex(b"startxref")
    sloppy = data[:xref] + b"startxref\n999999\n%%EOF\n"  # wrong xref offset: pypdf warns and recovers
    path = write(tmp_path, "sjusket.pdf", sloppy)
    try:
        load_text(path)
    except UnreadableFile:
        pass
    load_text(FIXTURES / "encrypted_no_password.pdf")
    for name in ("scanned.pdf", "truncated.pdf", "encrypted.pdf"):
        with pytest.raises(UnreadableFile):
            load_text(FIXTURES / name)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


# ---------------------------------------------------------------- PDF helpers


def test_join_hyphenated_rules() -> None:
    assert join_hyphenated(["mange bør-", "nesager, hvor"]) == ["mange børnesager, hvor"]
    assert join_hyphenated(["Social-", "og Boligstyrelsen"]) == ["Social-", "og Boligstyrelsen"]
    assert join_hyphenated(["børne-", "eller ungeydelse"]) == ["børne-", "eller ungeydelse"]
    assert join_hyphenated(["nye EU-", "regler"]) == ["nye EU-", "regler"]
    assert join_hyphenated(["Rosenkrantz-", "Theil"]) == ["Rosenkrantz-", "Theil"]
    assert join_hyphenated(["år 2024-", "2025"]) == ["år 2024-", "2025"]
    assert join_hyphenated(["en tanke -", "og mere"]) == ["en tanke -", "og mere"]
    assert join_hyphenated(["blød\u00ad", "Bindestreg"]) == ["blødBindestreg"]
    assert join_hyphenated(["a-", "b-", "c"]) == ["abc"]


WORDS = ["puljen", "kommunerne", "reformen", "børnene", "sagerne", "aftalen"]


def _page(n: int, header: str | None = "Social- og Boligministeriet", footer: str | None = None) -> Page:
    lines = [f"Om {WORDS[n]} skriver ministeren {k} ting." for k in range(1, 15)]
    body = [lines[:7], ["Svar:"], lines[7:]]
    return ([[header]] if header is not None else []) + body + ([[footer]] if footer is not None else [])


def test_remove_running_lines_repeated_on_most_pages() -> None:
    pages = [_page(n, footer=f"Side {n + 1} af 5") for n in range(5)]
    pages[2] = _page(2, header="Noget andet")  # no header or footer on one page: 4/5 >= 60 %
    result = remove_running_lines(pages)
    for n, page in enumerate(result):
        assert page == _page(n, header="Noget andet" if n == 2 else None)


def test_remove_running_lines_needs_60_percent() -> None:
    pages = [_page(n, header="Hoved" if n < 2 else f"Andet {WORDS[n]}") for n in range(5)]  # 2/5
    assert remove_running_lines(pages) == pages


def test_remove_running_lines_bare_page_numbers() -> None:
    pages = [_page(n, header=None, footer=str(n + 1)) for n in range(3)]
    assert remove_running_lines(pages) == [_page(n, header=None) for n in range(3)]
    # a line repeated in the middle of the pages ("Svar:") is body text, not a running line
    assert all(["Svar:"] in page for page in remove_running_lines(pages))


def test_remove_running_lines_header_at_top_only() -> None:
    # the same line at the top of some pages and the bottom of others is not running
    pages = [_page(n, header="X" if n % 2 else None, footer=None if n % 2 else "X") for n in range(4)]
    assert remove_running_lines(pages) == pages


def test_remove_running_lines_keeps_a_single_page() -> None:
    pages = [[["Social- og Boligministeriet"], ["Tekst"], ["2"]]]
    assert remove_running_lines(pages) == pages
    # ... but a page-number line is dropped even then
    assert remove_running_lines([[["Tekst"], ["Side 1 af 1"]]]) == [[["Tekst"]]]


def test_remove_running_lines_two_pages_needs_both() -> None:
    pages = [[["Hoved"], ["a"], ["1"]], [["Hoved"], ["b"], ["2"]]]
    assert remove_running_lines(pages) == [[["a"]], [["b"]]]
    pages = [[["Hoved"], ["a"]], [["Andet"], ["b"]]]
    assert remove_running_lines(pages) == pages


# ---------------------------------------------------------------- DOCX


def test_docx_letter_text() -> None:
    text = load_text(FIXTURES / "letter_000.docx")
    flat = collapse(text)
    for sentence in [
        "Folketingets Socialudvalg har d. 24. september 2024 stillet følgende spørgsmål nr. 687 (alm. del) "
        "til social- og boligministeren, som hermed besvares.",
        'Med Aftale om Børnene Først fra maj 2021 er der under overskriften "Bedre kvalitet i anbringelser" '
        "aftalt en reform af plejefamilieområdet.",
        "sikrede sociale tilbud – herunder sikrede døgninstitutioner for børn og unge.",
        "Sophie Hæstorp Andersen",
    ]:
        assert sentence in flat
    assert "**" not in text  # bold is formatting, not text
    paragraphs = text.split("\n\n")
    assert "Spørgsmål nr. 687:" in paragraphs and "Svar:" in paragraphs
    assert "Holmens Kanal 22\n1060 København K\nTelefon 33 92 93 00" in text  # line breaks in a paragraph
    # the table of fields: one paragraph per row, cells joined by a tab
    assert "Sagsnr.\t2024 - 7010" in paragraphs
    assert "Doknr.\t918270" in paragraphs
    assert "Dato\t20-10-2024" in paragraphs
    # the page header and footer are not body text
    assert "Social- og Boligministeriet" not in text and "Side 1 af 1" not in text


def _docx_with_body(tmp_path: Path, body_xml: str) -> Path:
    """The fixture .docx with its document body replaced."""
    src = FIXTURES / "letter_000.docx"
    dest = tmp_path / "konstrueret.docx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "word/document.xml":
                xml = data.decode("utf-8")
                start = xml.index("<w:body>") + len("<w:body>")
                end = xml.index("<w:sectPr")
                data = (xml[:start] + body_xml + xml[end:]).encode("utf-8")
            zout.writestr(info.filename, data, compress_type=zipfile.ZIP_DEFLATED)
    return dest


def test_docx_tracked_insertions_content_controls_and_text_boxes(tmp_path: Path) -> None:
    body = (
        "<w:p><w:r><w:t>Før </w:t></w:r><w:ins w:id='1' w:author='a'><w:r><w:t>indsat</w:t></w:r></w:ins>"
        "<w:del w:id='2' w:author='a'><w:r><w:delText>slettet</w:delText></w:r></w:del>"
        "<w:r><w:t xml:space='preserve'> efter</w:t><w:tab/><w:t>tab</w:t></w:r></w:p>"
        "<w:sdt><w:sdtContent><w:p><w:r><w:t>I en indholdskontrol</w:t></w:r></w:p></w:sdtContent></w:sdt>"
        "<w:p><w:r><w:t>Anker</w:t></w:r><w:r><mc:AlternateContent><mc:Choice Requires='wps'>"
        "<w:drawing><wps:txbx><w:txbxContent><w:p><w:r><w:t>Tekstboks</w:t></w:r></w:p>"
        "</w:txbxContent></wps:txbx></w:drawing></mc:Choice><mc:Fallback><w:pict><v:textbox>"
        "<w:txbxContent><w:p><w:r><w:t>Tekstboks</w:t></w:r></w:p></w:txbxContent></v:textbox></w:pict>"
        "</mc:Fallback></mc:AlternateContent></w:r></w:p>"
        "<w:p/>"
        "<w:p><w:r><w:t>Sidste</w:t><w:br/><w:t>linje</w:t></w:r></w:p>"
    )
    text = load_text(_docx_with_body(tmp_path, body))
    assert text == "Før indsat efter\ttab\n\nI en indholdskontrol\n\nAnker\n\nTekstboks\n\nSidste\nlinje"


def test_docx_without_text(tmp_path: Path) -> None:
    assert refused(_docx_with_body(tmp_path, "<w:p/><w:p><w:r><w:t>  </w:t></w:r></w:p>")).startswith(
        "tom fil"
    )


def test_corrupt_docx(tmp_path: Path) -> None:
    assert refused(write(tmp_path, "rod.docx", b"PK\x03\x04 ikke en rigtig zip")).startswith(
        "beskadiget DOCX"
    )
    assert refused(write(tmp_path, "tekst.docx", "bare tekst")).startswith("beskadiget DOCX")
    data = (FIXTURES / "letter_000.docx").read_bytes()
    assert refused(write(tmp_path, "halv.docx", data[: len(data) // 2])).startswith("beskadiget DOCX")
    zip_path = tmp_path / "andet.docx"
    with zipfile.ZipFile(zip_path, "w") as zf:
        zf.writestr("hej.txt", "ikke Word")
    assert refused(zip_path).startswith("beskadiget DOCX")


def test_old_or_encrypted_word_file(tmp_path: Path) -> None:
    cfb = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600)
    assert refused(write(tmp_path, "gammel.docx", cfb)).startswith("krypteret eller gammelt Word-dokument")


# ---------------------------------------------------------------- HTML


def test_html_letter_text() -> None:
    text = load_text(FIXTURES / "letter_002.html")
    flat = collapse(text)
    for sentence in KEY_SENTENCES_002:
        assert sentence in flat
    lines = lines_of(text)
    for header_line in HEADER_LINES_002:
        assert header_line in lines
    # entities (&oslash; &#229; &quot;) are decoded, source line wraps are spaces
    assert (
        "følgende spørgsmål nr. 391 (alm. del) til social- og boligministeren, som hermed besvares." in text
    )
    assert '"Vil ministeren oplyse' in text and "&" not in text
    # block elements are paragraphs, <br> is a line break
    assert "\n\nSvar:\n\n" in text
    assert "Holmens Kanal 22\n1060 København K\nTelefon 33 92 93 00" in text
    # scripts, styles, <noscript>, comments and the <head> are not text
    for hidden in ["SCRIPT_TEKST", "MERE_SCRIPT", "NOSCRIPT", "font-family", "kommentar", "Besvarelse af"]:
        assert hidden not in text
    assert text == text.strip() and "\n\n\n" not in text


def test_htm_suffix_and_structure(tmp_path: Path) -> None:
    page = (
        "<html><body><h1>Titel</h1><p>Et  afsnit\n  over\tlinjer med&nbsp;hårdt mellemrum &amp; mere</p>"
        "<ul><li>punkt <b>et</b></li><li>punkt to</li></ul>"
        "<table><tr><th>Sagsnr.</th><td>2024 - 2715</td></tr><tr><td><p>a</p><p>b</p></td></tr></table>"
        "<div>ydre<div>indre</div>efter</div><p hidden>skjult</p><p style='display: none'>også skjult</p>"
        "<pre>  kode\n    indrykket</pre></body></html>"
    )
    text = load_text(write(tmp_path, "side.htm", page))
    assert text.split("\n\n") == [
        "Titel",
        "Et afsnit over linjer med\xa0hårdt mellemrum & mere",
        "punkt et",
        "punkt to",
        "Sagsnr.\t2024 - 2715",
        "a\nb",
        "ydre",
        "indre",
        "efter",
        "  kode\n    indrykket",
    ]


def test_html_declared_latin1_is_read_as_windows_1252(tmp_path: Path) -> None:
    page = '<html><head><meta charset="iso-8859-1"></head><body><p>“Ærø” – på spørgsmål</p></body></html>'
    assert load_text(write(tmp_path, "latin.html", page.encode("cp1252"))) == "“Ærø” – på spørgsmål"


def test_html_http_equiv_charset(tmp_path: Path) -> None:
    page = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1252">'
        "</head><body>Børnesager i Århus</body></html>"
    )
    assert load_text(write(tmp_path, "equiv.html", page.encode("cp1252"))) == "Børnesager i Århus"


def test_html_without_charset_is_detected(tmp_path: Path) -> None:
    page = "<p>Spørgsmål nr. 391 om børnesager</p>"
    assert load_text(write(tmp_path, "uden.html", page.encode("cp1252"))) == "Spørgsmål nr. 391 om børnesager"
    assert load_text(write(tmp_path, "uden8.html", page.encode("utf-8"))) == "Spørgsmål nr. 391 om børnesager"


def test_html_with_a_wrong_charset_declaration(tmp_path: Path) -> None:
    page = '<meta charset="utf-8"><p>Spørgsmål om børnesager</p>'
    assert load_text(write(tmp_path, "forkert.html", page.encode("cp1252"))) == "Spørgsmål om børnesager"


def test_html_without_visible_text(tmp_path: Path) -> None:
    page = "<html><head><title>T</title><script>x()</script></head><body> <!-- c --> </body></html>"
    assert refused(write(tmp_path, "tom.html", page)).startswith("tom fil")


def test_binary_html(tmp_path: Path) -> None:
    assert refused(write(tmp_path, "billede.html", b"\x89PNG\r\n\x1a\n" + bytes(100))).startswith("binær fil")


def test_deeply_nested_html(tmp_path: Path) -> None:
    page = "<div>" * 5000 + "dybt" + "</div>" * 5000
    try:
        assert load_text(write(tmp_path, "dyb.html", page)) == "dybt"
    except UnreadableFile as exc:
        assert str(exc).startswith("beskadiget HTML")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=1000) | st.text(max_size=500).map(lambda s: f"<p>{s}</p>".encode()))
def test_random_html_gives_text_or_unreadable(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "tilfældig.html"
    path.write_bytes(data)
    try:
        assert isinstance(load_text(path), str)
    except UnreadableFile:
        pass


# ---------------------------------------------------------------- all forms of one letter


@pytest.mark.parametrize("name", ["letter_002.pdf", "letter_002.html", "letter_002_cp1252.txt"])
def test_every_form_of_letter_002_has_the_same_text(name: str) -> None:
    text = load_text(FIXTURES / name)
    assert collapse(text) == collapse(LETTER_002)


def test_html_declared_latin1_but_really_utf8(tmp_path: Path) -> None:
    page = '<meta charset="iso-8859-1"><p>Spørgsmål om børnesager</p>'
    assert load_text(write(tmp_path, "slip.html", page.encode("utf-8"))) == "Spørgsmål om børnesager"


def test_utf8_bom_then_binary(tmp_path: Path) -> None:
    assert refused(write(tmp_path, "bom.txt", b"\xef\xbb\xbf" + bytes(100))).startswith("binær fil")


class _FakePage:
    """A pypdf page whose visitor callbacks do not add up to its text."""

    def extract_text(self, visitor_text=None):  # type: ignore[no-untyped-def]
        if visitor_text:
            visitor_text("noget andet", [1, 0, 0, 1, 0, 0], [1, 0, 0, 1, 0, 700], None, 12)
        return "Første linje med bør-\nnesager\r\nAnden linje\n"


def test_pdf_page_without_positions_falls_back_to_lines() -> None:
    from rag.ingest.pdf import _pdf_page

    assert _pdf_page(_FakePage()) == [["Første linje med bør-", "nesager", "Anden linje"]]


def test_pdf_line_cleanup() -> None:
    from rag.ingest.pdf import _clean_pdf_line

    assert _clean_pdf_line("  ﬁnans\x00 og ﬂere tal\u00adord  ") == "finans og flere talord"
    assert _clean_pdf_line("bør\u00ad") == "bør\u00ad"  # a final soft hyphen is kept for joining


def test_every_format_of_a_letter_parses_to_the_same_fields() -> None:
    from rag.ingest.load import load_text
    from rag.ingest.parse import parse_document

    fixtures = Path(__file__).resolve().parent / "fixtures"
    fields = ("kind", "sagsnr", "sagsnr_norm", "doknr", "dato", "udvalg", "asked_date", "spm_nr", "spm_type",
              "minister_addressed", "spoerger", "signer", "signer_title")

    def parsed(name: str) -> tuple[object, ...]:
        doc = parse_document(load_text(fixtures / name), name)
        return tuple(getattr(doc, f) for f in fields) + (" ".join((doc.answer or "").split()),)

    reference = parsed("letter_002.txt")
    assert reference[0] == "letter" and reference[7] == 391
    for name in ("letter_002.pdf", "letter_002_cp1252.txt", "letter_002.html"):
        assert parsed(name) == reference, name
    assert parsed("letter_000.docx") == parsed("letter_000.md")
