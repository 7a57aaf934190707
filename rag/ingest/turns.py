"""Speaker turns in the Folketing's plenary record: who speaks (chair, minister, member) and the
span of what they say, as character offsets into the unchanged text.

A heading "Miljøministeren (Magnus Heunicke):" starts a turn at a line start, right after a
right-aligned time stamp ("Kl. 14:36"), or glued after a sentence ("2022.Den fg. formand (…):");
an acting minister's heading takes two lines. A turn runs to the next time stamp or heading.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Literal

from rag.text import strip_span

# Right-aligned time stamp: "   ...   Kl. 14:36" on its own line (the next
# speaker heading may be glued right after it), or after 2+ spaces at the end
# of a text line. "(Kl. 13:50)" inside a sentence is not one.
_TIMESTAMP_RE = re.compile(r"(?m)(?:^[ \t]*|[ \t]{2,})Kl\.[ \t]?\d{1,2}[:.]\d{2}")

# A speaker heading "<label> (<name>):". Where it may start is checked
# separately (line start, right after a time stamp, or glued after sentence
# punctuation); what the label is decides chair / minister / member.
_HEAD_RE = re.compile(r"(?P<label>[^\W\d_][^\n():]{0,100}?) \((?P<name>[^()\n:]{1,60})\):")
# An acting minister is printed on two lines:
#   (Forsvarsministeren)
#   Troels Lund Poulsen (fg.):      -- or "(V):", the member's party
_ACTING_RE = re.compile(
    r"\((?P<label>[^\W\d_][^()\n:]{0,100}minister[^()\n:]{0,100})\)[ \t]*\n"
    r"(?P<name>[^\W\d_][^()\n:]{0,60}?) \((?P<note>[^()\n:]{1,12})\):"
)
_CHAIR_RE = re.compile(
    r"(?:Formanden|Den fg\. ?formand|Aldersformanden|Alderspræsidenten"
    r"|(?:Første|Anden|Tredje|Fjerde|Femte|Sjette) ?næstformand)"
)
_PARTY_RE = re.compile(r"[A-ZÆØÅ]{1,4}")
_NAME_WORD_RE = re.compile(r"[^\W\d_][\w'’.\-]*")
_NAME_PARTICLES = {"von", "van", "de", "la", "le", "af", "du", "der", "den", "d'"}
# Sentence punctuation a heading may be glued to ("2022.Den fg. formand (...):").
_GLUE_CHARS = '.?!«»"”'


Role = Literal["chair", "minister", "member"]


@dataclass(frozen=True)
class Turn:
    """One speaker turn: heading at [head_start, head_end), text at [start, end)."""

    role: Role
    # The heading without the colon: "Miljøministeren (Magnus Heunicke)". An
    # acting minister's two-line heading "(Forsvarsministeren)\nTroels Lund
    # Poulsen (fg.):" is given in the same form: "Forsvarsministeren (Troels Lund Poulsen)".
    speaker: str
    label: str  # "Miljøministeren"
    name: str  # "Magnus Heunicke" (for a member: the party, e.g. "EL")
    head_start: int
    head_end: int  # just after the colon
    start: int
    end: int  # start == end for an empty turn


# --- speaker headings and turns ------------------------------------------------


def _classify(label: str, name: str) -> Role | None:
    if _CHAIR_RE.fullmatch(label):
        return "chair"
    if "minister" in label.lower():
        return "minister"
    if _PARTY_RE.fullmatch(name):
        words = label.split(" ")
        if not 1 < len(words) <= 7:
            return None
        for w in words:
            if w.lower() in _NAME_PARTICLES:
                continue
            if not _NAME_WORD_RE.fullmatch(w) or not w[0].isupper():
                return None
        return "member"
    return None


def find_timestamps(text: str, start: int = 0) -> list[int]:
    """Offsets where right-aligned ``Kl. HH:MM`` stamps begin (the ``K``)."""
    return [m.end() - len(m.group(0).lstrip(" \t")) for m in _TIMESTAMP_RE.finditer(text, start)]


def _candidate_starts(text: str, start: int, stamp_ends: set[int]) -> list[int]:
    """Offsets where a speaker heading may begin."""
    out: list[int] = []
    if start == 0 or text[start - 1] == "\n":
        out.append(start)
    for i in range(start, len(text)):
        c = text[i]
        if c == "\n":
            out.append(i + 1)
        elif c in _GLUE_CHARS and i + 1 < len(text) and text[i + 1].isupper():
            out.append(i + 1)
    out.extend(e for e in stamp_ends if e >= start)
    return sorted(set(p for p in out if p < len(text)))


def _inside_parenthesis(text: str, pos: int) -> bool:
    """True when `pos` continues an interjection "(Name (PARTY): ...)" opened on
    the previous line or earlier on this line."""
    line_start = text.rfind("\n", 0, pos) + 1
    prev_start = text.rfind("\n", 0, max(line_start - 1, 0)) + 1 if line_start else line_start
    before = text[prev_start:pos]
    return before.count("(") > before.count(")")


def iter_turns(text: str, start: int = 0) -> list[Turn]:
    """The speaker turns of `text` from offset `start`, in order.

    A turn's text runs from after its heading to the next right-aligned
    time stamp or the next speaker heading, whichever comes first, with
    surrounding whitespace stripped.
    """
    stamps = list(_TIMESTAMP_RE.finditer(text, start))
    stamp_starts = [m.end() - len(m.group(0).lstrip(" \t")) for m in stamps]
    stamp_ends = {m.end() for m in stamps}
    heads: list[tuple[int, int, Role, str, str, str]] = []
    for pos in _candidate_starts(text, start, stamp_ends):
        if heads and pos < heads[-1][1]:
            continue
        m = _ACTING_RE.match(text, pos)
        if m:
            label, name = m.group("label").strip(), m.group("name").strip()
            heads.append((pos, m.end(), "minister", label, name, f"{label} ({name})"))
            continue
        m = _HEAD_RE.match(text, pos)
        if not m:
            continue
        label, name = m.group("label"), m.group("name")
        role = _classify(label, name)
        if role is None:
            continue
        if (pos == 0 or text[pos - 1] == "\n") and _inside_parenthesis(text, pos):
            continue
        heads.append((pos, m.end(), role, label, name, text[pos : m.end() - 1]))

    boundaries = sorted(set(stamp_starts) | {h[0] for h in heads} | {len(text)})
    turns: list[Turn] = []
    for head_start, head_end, role, label, name, speaker in heads:
        nxt = boundaries[bisect.bisect_right(boundaries, head_end - 1)]
        s, e = strip_span(text, head_end, max(nxt, head_end))
        turns.append(
            Turn(
                role=role,
                speaker=speaker,
                label=label,
                name=name,
                head_start=head_start,
                head_end=head_end,
                start=s,
                end=e,
            )
        )
    return turns
