"""Parse a minister's written answer letter into a `Document`: fields plus verbatim character spans.

The main input is a Danish minister's written answer letter to a committee
question ("Folketingets Socialudvalg har d. 24. september 2024 stillet følgende
spørgsmål nr. 687 (alm. del) til ...").  Its layout varies with how the PDF was
turned into text: markdown bold (`**Sagsnr.**`), trailing spaces, words spread
over short lines separated by blank lines, page breaks inside sentences.  So
every pattern allows any whitespace between words, and the question/answer
fields are cut straight out of the text, never rebuilt, so that
`text[section.start:section.end] == field` always holds.

A field the letter does not state is None; a field that is there but cannot be
read (a garbled case number, a 31 February) is None too and gets a note in
`Document.notes`.  Nothing here raises on any input; a text that is not an
answer letter gives None.
"""

from __future__ import annotations

import re
from typing import Any

from rag.records import Document, Section
from rag.text import DATE_IN_TEXT, file_stem, flat, parse_date, shorten, strip_span

__all__ = ["normalise_sagsnr", "parse_letter"]

# Padding inside a line: whitespace except the newline ("\r" and NBSP included) and
# markdown stars, as in "**Svar:**  ".  Possessive, so that a long run of spaces
# cannot make the regex engine backtrack quadratically.
_P = r"(?:[^\S\n]|\*)*+"
# "å" may be written "aa" or decomposed (a + combining ring) after PDF extraction.
_AA = "(?:å|aa|a\u030a)"
_OE = "(?:ø|oe|o)"

_QUOTES = '"“”„«»'

_FLAGS = re.IGNORECASE

# The sentence that makes a text an answer letter.
_ANCHOR = re.compile(rf"stillet\s+f{_OE}lgende\s+sp{_OE}rgsm{_AA}l\b", _FLAGS)
_HAR = re.compile(r"\bhar\b(?:\s+(?:d\.|den\b))?", _FLAGS)
_NR = re.compile(r"\s*nr\.?\s*(?P<nr>\d{1,6})\b", _FLAGS)
_TYPE = re.compile(r"\s*\((?P<type>[^()]{1,60})\)")
_MINISTER = re.compile(
    r"\s*til\s++(?P<min>[^\s,.()][^.()]{0,150}?)\s*+,?\s*+som\s+hermed\s+besvares\b\.?",
    _FLAGS,
)
_SPOERGER_LEAD = re.compile(rf"sp{_OE}rgsm{_AA}let\s+er\s+stillet\s+efter\s+{_OE}nske\s+fra\s+", _FLAGS)
# A name with its party in brackets, possibly several joined by "," / "og".
_SPOERGER_PARTY = re.compile(
    r"(?P<sp>[^()\s][^()]{0,120}?\([^()\n]{1,20}\)"
    r"(?:\s*(?:,|og)\s*[^()\s][^()]{0,120}?\([^()\n]{1,20}\))*)"
)
_SPOERGER_PLAIN = re.compile(r"(?P<sp>[^\s.][^.]{0,120}?)\s*+(?:\.|$)")

_QHEAD = re.compile(
    rf"(?:^|\n){_P}sp{_OE}rgsm{_AA}l\s+(?:nr\.?\s*)?(?P<nr>\d{{1,6}})"
    rf"(?:{_P}\([^()\n]{{0,60}}\))?{_P}:{_P}",
    _FLAGS,
)
_SVAR = re.compile(rf"(?:^|\n){_P}svar{_P}:{_P}", _FLAGS)
_SIGNOFF = re.compile(rf"(?:^|\n){_P}(?:med\s+)?venlig\s+hilsen\b", _FLAGS)
_BILAG_HEAD = re.compile(rf"(?:^|\n){_P}bilag(?:er|sliste)?{_P}:?{_P}(?=\n|$)", _FLAGS)
_HEADER_LABEL = re.compile(
    rf"(?:^|\n){_P}(?P<label>sagsnr|sags\.\s*nr|j\.\s*nr|doknr|dok\.\s*nr|dato\b)"
    rf"\.?{_P}:?{_P}(?P<rest>[^\n]*)",
    _FLAGS,
)
_SAGSNR = re.compile(r"^\s*(?P<year>\d{4})\s*[-‐‑–—/]\s*(?P<num>\d{1,10})\s*$")
_DOKNR = re.compile(r"^\d{1,12}$")
_LABEL_KEYS = {"sagsnr": "sagsnr", "jnr": "sagsnr", "doknr": "doknr", "dato": "dato"}
_LABEL_NAMES = {"sagsnr": "Sagsnr.", "doknr": "Doknr.", "dato": "Dato"}
# What a header value looks like, to pair values with labels printed apart from them.
_VALUE_SHAPES = {
    "sagsnr": _SAGSNR,
    "doknr": _DOKNR,
    "dato": re.compile(r"^\d{1,2}(?:[-./]\d{1,2}[-./]|\.?\s*[^\W\d_]+\.?\s+)\d{4}$"),
}
# A word of a committee name: "Social-", "Ældreudvalg", "Fødevarer," (in a list of areas).
_WORD = re.compile(r"^[^\W\d_]+(?:-[^\W\d_]*)*-?,?$")
_BLANK_LINE = re.compile(r"\n[^\S\n]*\n")


def normalise_sagsnr(s: str) -> str | None:
    """'2024 - 7010' (or '2024-7010', '2024 – 7010', '2024/7010') -> '2024-7010'.

    Returns None when `s` is not a case number of that shape.
    """
    if not isinstance(s, str):
        return None
    m = _SAGSNR.match(s.replace("*", ""))
    if m is None:
        return None
    return f"{m.group('year')}-{m.group('num')}"



def parse_letter(text: str, file: str) -> Document | None:
    """Parse an answer letter; None when `text` is not one.

    The returned Document has the header fields (sagsnr, doknr, dato), the intro
    fields (udvalg, asked_date, spm_nr, spm_type, minister_addressed, spoerger),
    the question and answer as verbatim spans (also as `sections`), the signature
    and the list of enclosures.
    """
    anchor = _ANCHOR.search(text)
    svar = _SVAR.search(text, anchor.end()) if anchor else None
    if anchor is None or svar is None:
        return None
    return _LetterParser(text, file, anchor, svar).parse()



# --------------------------------------------------------------------------- helpers


def _clean(s: str) -> str:
    """Drop markdown emphasis stars and collapse whitespace."""
    return " ".join(s.replace("*", " ").split())



def _unquote_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Drop the quote characters enclosing a question, keeping inner quotes."""
    if end - start >= 2 and text[start] in _QUOTES and text[end - 1] in _QUOTES:
        return strip_span(text, start + 1, end - 1)
    # Only one side quoted (e.g. a page cut): drop it if the quotes do not pair up.
    count = sum(text[start:end].count(q) for q in _QUOTES)
    if count % 2 == 1:
        if end > start and text[start] in _QUOTES:
            return strip_span(text, start + 1, end)
        if end > start and text[end - 1] in _QUOTES:
            return strip_span(text, start, end - 1)
    return start, end


def _lines(segment: str) -> list[str]:
    """Non-empty lines of `segment`, markdown stars removed, whitespace collapsed."""
    return [c for line in segment.split("\n") if (c := _clean(line))]



class _LetterParser:
    """One pass over an answer letter; collects fields and notes."""

    def __init__(self, text: str, file: str, anchor: re.Match[str], svar: re.Match[str]) -> None:
        self.text = text
        self.file = file
        self.anchor = anchor
        self.svar = svar
        self.fields: dict[str, Any] = {}
        self.spoerger_end: int | None = None
        self.notes: list[str] = []

    def parse(self) -> Document:
        intro_start = self._intro_before_anchor()
        intro_end = self._intro_after_anchor()
        self._header(self.text[:intro_start])
        qhead = _QHEAD.search(self.text, intro_end, self.svar.start())
        self._spoerger(intro_end, qhead.start() if qhead else self.svar.start())
        sections = []
        q = self._question(intro_end, qhead)
        if q is not None:
            sections.append(q)
        a = self._answer_and_signature()
        if a is not None:
            sections.append(a)
        if "bilag" in self.fields:
            self.fields["bilag"] = tuple(self.fields["bilag"])
        return Document(
            file=self.file,
            kind="letter",
            text=self.text,
            title=self._title(),
            sections=tuple(sections),
            notes=tuple(self.notes),
            **self.fields,
        )

    # -- "Folketingets Socialudvalg har d. 24. september 2024" --------------------

    def _intro_before_anchor(self) -> int:
        """Read committee and date before the anchor; return where the intro starts."""
        a = self.anchor.start()
        lo = max(0, a - 400)
        window = self.text[lo:a]
        # The last "har" before the anchor: the one that starts the intro sentence.
        har = max(_HAR.finditer(window), key=lambda m: m.start(), default=None)
        if har is None:
            self.notes.append("indledningen nævner ikke hvem der har stillet spørgsmålet (udvalg ukendt)")
            return a
        date_text = window[har.end() :]
        if har.group(0).lower() != "har" or date_text.strip():
            # "d. 24. september 2024", also "i brev af 24. september 2024".
            found = DATE_IN_TEXT.search(date_text)
            asked = parse_date(found.group(0)) if found else None
            if asked is None:
                self.notes.append(f"spørgsmålets dato kunne ikke læses: {shorten(date_text)}")
            self.fields["asked_date"] = asked
        udvalg, start = self._udvalg(window[: har.start()])
        if udvalg is None:
            self.notes.append("udvalgets navn kunne ikke læses i indledningen")
            return lo + har.start()
        self.fields["udvalg"] = udvalg
        return lo + start

    def _udvalg(self, before: str) -> tuple[str | None, int]:
        """The committee name: the run of words right before "har", read backwards.

        Stops at "Folketingets" (inclusive), at anything that is not a word (a
        date, a web address) and at a blank line once a word naming the
        committee ("...udvalg") has been read, so a letterhead line above the
        intro is not swallowed.  Returns the name and where it starts.
        """
        tokens = list(re.finditer(r"\S+", before))
        words: list[tuple[str, int]] = []
        for i in range(len(tokens) - 1, -1, -1):
            tok = tokens[i]
            word = tok.group(0).strip("*")
            if not word or not _WORD.match(word) or len(words) >= 10:
                break
            if words:
                gap = before[tok.end() : tokens[i + 1].start()]
                if _BLANK_LINE.search(gap) and any("udvalg" in w.lower() for w, _ in words):
                    break
            words.insert(0, (word, tok.start()))
            if word.lower() == "folketingets":
                break
        # A committee name starts with a capital ("Folketingets", "Udvalget", "Finansudvalget").
        while words and not words[0][0][0].isupper():
            words.pop(0)
        if not words:
            return None, len(before)
        return " ".join(w for w, _ in words), words[0][1]

    # -- "nr. 687 (alm. del) til social- og boligministeren, som hermed besvares" --

    def _intro_after_anchor(self) -> int:
        text, pos = self.text, self.anchor.end()
        limit = self.svar.start()
        m = _NR.match(text, pos, limit)
        if m:
            self.fields["spm_nr"] = int(m["nr"])
            pos = m.end()
        else:
            self.notes.append("spørgsmålets nummer står ikke i indledningen")
        m = _TYPE.match(text, pos, limit)
        if m:
            self.fields["spm_type"] = flat(m["type"])
            pos = m.end()
        m = _MINISTER.match(text, pos, limit) or _MINISTER.search(text, pos, min(limit, pos + 300))
        if m:
            self.fields["minister_addressed"] = flat(m["min"])
            pos = m.end()
        else:
            self.notes.append("den adspurgte minister kunne ikke læses i indledningen")
        return pos

    def _spoerger(self, lo: int, hi: int) -> None:
        lead = _SPOERGER_LEAD.search(self.text, lo, min(hi, lo + 400))
        if lead is None:
            return
        self.spoerger_end = lead.end()
        m = _SPOERGER_PARTY.match(self.text, lead.end(), hi) or _SPOERGER_PLAIN.match(
            self.text, lead.end(), hi
        )
        if m is None:
            self.notes.append("spørgeren kunne ikke læses")
            return
        self.fields["spoerger"] = flat(m["sp"])
        self.spoerger_end = m.end()

    # -- header block: Sagsnr. / Doknr. / Dato -----------------------------------

    def _header(self, head: str) -> None:
        """Read the labelled values of the letterhead.

        A value stands after its label on the same line or on a following line
        ("**Sagsnr.**  \n2024 - 7010"); PDF extraction may also put all labels
        first and the values after them in the same order.  A value goes to the
        first waiting label whose shape it has, else to the first waiting label
        (which then gets a note, since the value is garbled).
        """
        found: dict[str, str] = {}
        waiting: list[str] = []
        for line in head.split("\n"):
            m = _HEADER_LABEL.match("\n" + line)
            if m is not None:
                key = _LABEL_KEYS[re.sub(r"[\s.]", "", m["label"].lower())]
                if key in found or key in waiting:
                    continue
                value = _clean(m["rest"])
                if value:
                    found[key] = value
                else:
                    waiting.append(key)
                continue
            value = _clean(line)
            if not value or not waiting:
                continue
            key = next((k for k in waiting if _VALUE_SHAPES[k].match(value)), waiting[0])
            waiting.remove(key)
            found[key] = value
        for key in waiting:
            self.notes.append(f"{_LABEL_NAMES[key]} står i brevhovedet uden værdi")
        for key, value in found.items():
            if key == "sagsnr" and (norm := normalise_sagsnr(value)) is not None:
                self.fields["sagsnr"] = value
                self.fields["sagsnr_norm"] = norm
            elif key == "doknr" and _DOKNR.match(value):
                self.fields["doknr"] = value
            elif key == "dato" and (d := parse_date(value)) is not None:
                self.fields["dato"] = d
            else:
                self.notes.append(f"{_LABEL_NAMES[key]} kunne ikke læses: {shorten(value)}")

    # -- the question and the answer -------------------------------------------

    def _question(self, intro_end: int, qhead: re.Match[str] | None) -> Section | None:
        if qhead is not None:
            start = qhead.end()
            nr = int(qhead["nr"])
            known = self.fields.get("spm_nr")
            if known is None:
                self.fields["spm_nr"] = nr
            elif known != nr:
                self.notes.append(
                    f"spm.-nr. i indledningen ({known}) og i overskriften ({nr}) er forskellige"
                )
        else:
            start = max(intro_end, self.spoerger_end or intro_end)
            self.notes.append("overskriften 'Spørgsmål nr. …:' mangler")
        s, e = strip_span(self.text, start, self.svar.start())
        s, e = _unquote_span(self.text, s, e)
        if s >= e:
            self.notes.append("spørgsmålets tekst mangler")
            return None
        self.fields["question"] = self.text[s:e]
        return Section("question", s, e)

    def _answer_and_signature(self) -> Section | None:
        text, start = self.text, self.svar.end()
        signoff = _SIGNOFF.search(text, start)
        bilag = _BILAG_HEAD.search(text, signoff.end() if signoff else start)
        if signoff is not None:
            end = signoff.start()
        elif bilag is not None:
            end = bilag.start()
            self.notes.append("'Med venlig hilsen' mangler; svaret slutter ved 'Bilag:'")
        else:
            end = len(text)
            self.notes.append("'Med venlig hilsen' mangler; svaret løber til filens slutning")
        if signoff is not None:
            self._signature(text[signoff.end() : bilag.start() if bilag else len(text)])
        if bilag is not None:
            self.fields["bilag"] = self._bilag(text[bilag.end() :])
        s, e = strip_span(text, start, end)
        if s >= e:
            self.notes.append("svarets tekst mangler")
            return None
        self.fields["answer"] = text[s:e]
        return Section("answer", s, e)

    def _signature(self, segment: str) -> None:
        lines = _lines(segment)
        if lines and re.fullmatch(r"[,.!]+", lines[0]):  # "Med venlig hilsen," on its own
            lines = lines[1:]
        if lines:
            lines[0] = lines[0].lstrip(",. ")
        if not lines or not lines[0]:
            self.notes.append("underskriveren mangler efter 'Med venlig hilsen'")
            return
        name = lines[0]
        if re.search(r"\d", name) or len(name) > 80 or len(name.split()) > 8:
            self.notes.append(f"underskriveren kunne ikke læses: {shorten(name)}")
        else:
            self.fields["signer"] = name
        if len(lines) >= 2:
            title = lines[1]
            if re.search(r"\d", title) or len(title) > 100 or len(title.split()) > 12:
                self.notes.append(f"underskriverens titel kunne ikke læses: {shorten(title)}")
            else:
                self.fields["signer_title"] = title
        if len(lines) > 2:
            self.notes.append(f"tekst efter underskriften ignoreret: {shorten(' '.join(lines[2:]))}")

    def _bilag(self, segment: str) -> list[str]:
        items: list[list[str]] = []
        for line in _lines(segment):
            line = re.sub(r"^(?:[-–•·]|\d+\))\s+", "", line)
            if not line:
                continue
            # A title wrapped onto the next line continues in lower case.
            if items and line[0].islower():
                items[-1].append(line)
            else:
                items.append([line])
        return [" ".join(parts) for parts in items]

    def _title(self) -> str:
        nr, typ, udvalg = (self.fields.get(k) for k in ("spm_nr", "spm_type", "udvalg"))
        if nr is None and udvalg is None:
            return f"Svar ({file_stem(self.file)})"
        title = f"Svar på spm. {nr}" if nr is not None else "Svar på spørgsmål"
        if typ:
            title += f" ({typ})"
        if udvalg:
            title += f" fra {udvalg}"
        return title


# --------------------------------------------------------------------------- manifest
