"""The timeline view: the answers to a question on a date axis, and the same answers as a list.

Pure functions over the `Answer` of `rag.timeline()` (hits oldest first). The plot is an inline
SVG drawn here, so nothing is loaded from outside the machine: one lane per minister (the nine
who answered most; the rest share a lane), one mark per answer, coloured by lane. Each mark and
each list item carries `data-hit`; the page's script shows the quote of a clicked mark in the
panel above the list (see TIMELINE_JS). Marks on the same day in one lane are set side by side,
so each can be pointed at, for one answer as for fifty.
"""

from __future__ import annotations

from datetime import date

from rag import Answer, Hit, quote_for_copy
from rag.text import capitalised, clip, danish_date, flat
from rag.web.render import copy_button, esc

WIDTH, LEFT, RIGHT, LANE, TOP, AXIS = 900, 230, 24, 30, 12, 34
MAX_LANES = 10
PALETTE = ("#9d1c3c", "#1d4ed8", "#0f766e", "#b45309", "#6d28d9", "#be185d", "#4d7c0f", "#0369a1",
           "#a16207", "#57534e")
MONTHS_SHORT = ("jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec")
OTHERS = "Andre ministre"

# Runs when the timeline component is first drawn (gradio's js_on_load, `element` is its root).
TIMELINE_JS = """
const show = (mark) => {
  const item = element.querySelector('#rag-tl-' + mark.dataset.hit);
  const panel = element.querySelector('.rag-tl-detail');
  if (!item || !panel) return;
  panel.innerHTML = item.innerHTML;
  panel.dataset.hit = mark.dataset.hit;
  for (const m of element.querySelectorAll('.rag-tl-mark.rag-selected')) m.classList.remove('rag-selected');
  mark.classList.add('rag-selected');
};
element.addEventListener('click', (e) => {
  const mark = e.target.closest && e.target.closest('.rag-tl-mark');
  if (mark) show(mark);
});
element.addEventListener('keydown', (e) => {
  const mark = e.target.closest && e.target.closest('.rag-tl-mark');
  if (mark && (e.key === 'Enter' || e.key === ' ')) { e.preventDefault(); show(mark); }
});
"""


def who(hit: Hit) -> str:
    """The lane a hit is drawn in: the answering minister's name (with the title when there is no name)."""
    doc = hit.document
    if doc.signer:
        return flat(doc.signer)
    for value in (doc.answering_minister, doc.minister_addressed):
        if value:
            return flat(value.split("(", 1)[1].rstrip(") ") if "(" in value else capitalised(value))
    return "Ukendt minister"


def timeline_html(answer: Answer, no_answer_html: str = "") -> str:
    """The plot, the panel for a clicked mark's quote, and the date-ordered list."""
    if answer.abstained or not answer.hits:
        return f'<div class="rag-timeline">{no_answer_html}</div>'
    dated = [(i, h) for i, h in enumerate(answer.hits) if h.document.dato is not None]
    undated = len(answer.hits) - len(dated)
    lanes = _lanes([who(h) for _, h in dated])
    first, last = (dated[0][1].document.dato, dated[-1][1].document.dato) if dated else (None, None)
    span = (f"fra {danish_date(first)} til {danish_date(last)}" if first and last and first != last
            else f"den {danish_date(first)}" if first else "")
    head = f"{len(answer.hits)} svar {span}".strip() + (f" ({undated} uden dato)" if undated else "") + "."
    parts = [f'<div class="rag-timeline"><p class="rag-tl-head">{esc(head)}</p>']
    if answer.unsure and answer.message:
        parts.append(f'<div class="rag-unsure"><p>{esc(answer.message)}</p></div>')
    if dated:
        parts.append(_svg(dated, lanes))
        parts.append('<div class="rag-tl-detail" aria-live="polite"><p class="rag-hint">'
                     'Klik på et punkt for at se citatet.</p></div>')
    parts.append('<ol class="rag-tl-list">')
    for i, hit in enumerate(answer.hits):
        parts.append(_item(i, hit, lanes))
    parts.append("</ol></div>")
    return "".join(parts)


def _lanes(names: list[str]) -> dict[str, int]:
    """Lane number per minister: the most frequent first; beyond MAX_LANES - 1 they share the last."""
    counts: dict[str, int] = {}
    for n in names:
        counts[n] = counts.get(n, 0) + 1
    ordered = sorted(counts, key=lambda n: (-counts[n], n))
    if len(ordered) <= MAX_LANES:
        return {n: i for i, n in enumerate(ordered)}
    lanes = {n: i for i, n in enumerate(ordered[:MAX_LANES - 1])}
    lanes.update({n: MAX_LANES - 1 for n in ordered[MAX_LANES - 1:]})
    return lanes


def _lane_label(lanes: dict[str, int], lane: int) -> str:
    names = [n for n, i in lanes.items() if i == lane]
    return names[0] if len(names) == 1 else OTHERS


def _svg(dated: list[tuple[int, Hit]], lanes: dict[str, int]) -> str:
    n_lanes = max(lanes.values()) + 1
    height = TOP + n_lanes * LANE + AXIS
    first, last = dated[0][1].document.dato, dated[-1][1].document.dato
    assert first is not None and last is not None
    days = max((last - first).days, 1)
    # Marks on the same day in the same lane go side by side, 11 px apart: room for them at the ends.
    groups: dict[tuple[int, date], list[int]] = {}
    for i, hit in dated:
        assert hit.document.dato is not None
        groups.setdefault((lanes[who(hit)], hit.document.dato), []).append(i)
    plot = WIDTH - LEFT - RIGHT
    pad = min(10 + 5.5 * (max(len(g) for g in groups.values()) - 1), plot / 3)

    def x_of(d: date) -> float:
        if first == last:
            return LEFT + plot / 2
        return LEFT + pad + (plot - 2 * pad) * (d - first).days / days

    out = [f'<svg class="rag-tl-plot" viewBox="0 0 {WIDTH} {height}" role="img" '
           f'aria-label="Svarene på en tidsakse, én række pr. minister" preserveAspectRatio="xMinYMin meet">']
    for lane in range(n_lanes):
        y = TOP + lane * LANE + LANE / 2
        out.append(f'<line class="rag-tl-lane" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y}" y2="{y}"/>')
        out.append(f'<text class="rag-tl-label" x="{LEFT - 8}" y="{y + 4}" text-anchor="end" '
                   f'fill="{PALETTE[lane % len(PALETTE)]}">{esc(clip(_lane_label(lanes, lane), 26))}</text>')
    axis_y = TOP + n_lanes * LANE + 4
    out.append(f'<line class="rag-tl-axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{axis_y}" y2="{axis_y}"/>')
    for tick, label in _ticks(first, last):
        x = x_of(tick)
        out.append(f'<line class="rag-tl-tick" x1="{x:.1f}" x2="{x:.1f}" y1="{axis_y}" y2="{axis_y + 5}"/>')
        out.append(f'<text class="rag-tl-ticklabel" x="{x:.1f}" y="{axis_y + 18}" text-anchor="middle">'
                   f"{esc(label)}</text>")
    hits = dict(dated)
    for (lane, day), members in groups.items():
        y = TOP + lane * LANE + LANE / 2
        for j, i in enumerate(members):
            x = x_of(day) + (j - (len(members) - 1) / 2) * 11
            hit = hits[i]
            title = f"{danish_date(day)} · {who(hit)} · {hit.citation}"
            out.append(f'<circle class="rag-tl-mark" data-hit="{i}" cx="{x:.1f}" cy="{y}" r="6" '
                       f'fill="{PALETTE[lane % len(PALETTE)]}" tabindex="0" role="button" '
                       f'aria-label="{esc(title)}"><title>{esc(title)}</title></circle>')
    out.append("</svg>")
    return "".join(out)


def _ticks(first: date, last: date) -> list[tuple[date, str]]:
    """Axis ticks: months for up to two years (labelled "jan 2023", then "feb", …), else years."""
    if (last - first).days <= 731:
        ticks: list[tuple[date, str]] = []
        y, m = first.year, first.month
        while (y, m) <= (last.year, last.month):
            d = date(y, m, 1)
            if d >= first or not ticks:
                ticks.append((max(d, first), f"{MONTHS_SHORT[m - 1]} {y}" if m == 1 or not ticks else
                              MONTHS_SHORT[m - 1]))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        step = max(1, -(-len(ticks) // 12))
        return ticks[::step]
    years = list(range(first.year + (first != date(first.year, 1, 1)), last.year + 1))
    step = max(1, -(-len(years) // 12))
    return [(date(y, 1, 1), str(y)) for y in years[::step]]


def _item(i: int, hit: Hit, lanes: dict[str, int]) -> str:
    doc = hit.document
    day = danish_date(doc.dato) if doc.dato else "uden dato"
    lane = lanes.get(who(hit))
    colour = PALETTE[lane % len(PALETTE)] if lane is not None else "#777"
    url = doc.url if doc.url and doc.url.startswith(("https://", "http://")) else None
    citation = (f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer">{esc(hit.citation)}</a>'
                if url else esc(hit.citation))
    return (f'<li class="rag-tl-item" id="rag-tl-{i}" data-hit="{i}">'
            f'<p class="rag-tl-when"><span class="rag-tl-dot" style="background:{colour}"></span>'
            f"{esc(day)} · {esc(who(hit))}</p>"
            f'<blockquote class="rag-quote"><p>{esc(flat(hit.text))}</p></blockquote>'
            f'<p class="rag-citation">{citation} '
            f"{copy_button(quote_for_copy(hit))}</p></li>")


