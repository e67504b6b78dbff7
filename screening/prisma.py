"""The PRISMA 2020 flow diagram, drawn as a standalone SVG string.

Template: "PRISMA 2020 flow diagram for new systematic reviews which included searches of databases and registers
only" (Page MJ et al., BMJ 2021;372:n71). Hand-written because no maintained Python library draws PRISMA 2020: the
PRISMA2020 package that does exists only for R (with a Shiny app), and general graph tools such as graphviz need
a native binary and cannot follow the template's fixed two-column layout with phase bands.

Layout, as in the template: a header across the top; three light-blue phase bands on the left ("Identification",
"Screening", "Included", rotated text); the left column of main boxes, joined by arrows going down; and on the
right, boxes for what leaves the flow at each step, each reached by an arrow from its left neighbour. The two boxes
of a row share one height, which grows with the lines they hold (one line per database, register and exclusion
reason); long names are word-wrapped by an estimate of their width in the font.

The template's "Records marked as ineligible by automation tools" line is drawn with n = 0: the counts have no
separate field for it, and anything removed before screening other than duplicates goes in ``other_removed``.

Pure Python with no Django import, so it can be called from a view, a task or a script alike.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from xml.sax.saxutils import escape, quoteattr

__all__ = ["PrismaCounts", "check", "render_svg"]


@dataclass(frozen=True, kw_only=True)
class PrismaCounts:
    """The numbers of one PRISMA 2020 flow diagram (databases and registers only). Keyword-only: a field with a
    default comes before fields without one."""

    databases: dict[str, int]  # records identified per database, e.g. {"MEDLINE (Ovid)": 120}
    registers: dict[str, int]  # records identified per register, e.g. {"ClinicalTrials.gov": 12}
    duplicates_removed: int
    other_removed: int = 0  # records removed before screening for other reasons
    screened: int  # records screened (title/abstract)
    excluded_screening: int  # records excluded at title/abstract
    sought: int  # reports sought for retrieval
    not_retrieved: int  # reports not retrieved
    assessed: int  # reports assessed for eligibility (full text)
    excluded_reasons: dict[str, int]  # reports excluded, per reason
    studies_included: int
    reports_included: int

    @property
    def identified_databases(self) -> int:
        return sum(self.databases.values())

    @property
    def identified_registers(self) -> int:
        return sum(self.registers.values())

    @property
    def identified(self) -> int:
        return self.identified_databases + self.identified_registers

    @property
    def reports_excluded(self) -> int:
        return sum(self.excluded_reasons.values())


def _n(value: int) -> str:
    return f"{value:,}"


def check(counts: PrismaCounts) -> list[str]:
    """The inconsistencies between the diagram's boxes, each as a sentence naming the boxes and their numbers;
    empty when the numbers add up."""
    c = counts
    problems: list[str] = []
    scalars = {
        "duplicate records removed": c.duplicates_removed,
        "records removed for other reasons": c.other_removed,
        "records screened": c.screened,
        "records excluded": c.excluded_screening,
        "reports sought for retrieval": c.sought,
        "reports not retrieved": c.not_retrieved,
        "reports assessed for eligibility": c.assessed,
        "studies included in review": c.studies_included,
        "reports of included studies": c.reports_included,
    }
    negatives = [(label, v) for label, v in scalars.items() if v < 0]
    negatives += [(f"records identified from database {name!r}", v) for name, v in c.databases.items() if v < 0]
    negatives += [(f"records identified from register {name!r}", v) for name, v in c.registers.items() if v < 0]
    negatives += [(f"reports excluded for reason {name!r}", v) for name, v in c.excluded_reasons.items() if v < 0]
    problems += [f"{label} ({_n(v)}) should not be negative" for label, v in negatives]

    expected = c.identified - c.duplicates_removed - c.other_removed
    if c.screened != expected:
        problems.append(
            f"records screened ({_n(c.screened)}) should equal records identified ({_n(c.identified)}) minus "
            f"duplicates removed ({_n(c.duplicates_removed)}) minus other removals ({_n(c.other_removed)}) "
            f"= {_n(expected)}"
        )
    expected = c.screened - c.excluded_screening
    if c.sought != expected:
        problems.append(
            f"reports sought for retrieval ({_n(c.sought)}) should equal records screened ({_n(c.screened)}) "
            f"minus records excluded ({_n(c.excluded_screening)}) = {_n(expected)}"
        )
    expected = c.sought - c.not_retrieved
    if c.assessed != expected:
        problems.append(
            f"reports assessed for eligibility ({_n(c.assessed)}) should equal reports sought for retrieval "
            f"({_n(c.sought)}) minus reports not retrieved ({_n(c.not_retrieved)}) = {_n(expected)}"
        )
    expected = c.assessed - c.reports_excluded
    if c.reports_included != expected:
        problems.append(
            f"reports of included studies ({_n(c.reports_included)}) should equal reports assessed for "
            f"eligibility ({_n(c.assessed)}) minus reports excluded ({_n(c.reports_excluded)}) = {_n(expected)}"
        )
    if c.studies_included > c.reports_included:
        problems.append(
            f"studies included in review ({_n(c.studies_included)}) should not exceed reports of included "
            f"studies ({_n(c.reports_included)})"
        )
    return problems


# Geometry, in SVG user units (px).
MARGIN = 16
BAR_W = 32  # phase band width
BAR_GAP = 14  # between a phase band and the left column
BOX_W = 330
COL_GAP = 56  # between the columns, room for the horizontal arrows
ROW_GAP = 40  # between rows, room for the vertical arrows
HEADER_H = 36
HEADER_GAP = 24  # between the header and the first row (no arrow: the template has none)
PAD_X = 10
PAD_Y = 9
INDENT = 14  # per indentation level
FONT = 13
LINE_H = 17
BAR_FONT = 14
TITLE_FONT = 15
TITLE_LINE_H = 20
MIN_BOX_H = 44

PHASE_FILL = "#a9c8ea"  # the template's light blue
ARROW_HEAD = 9

SVG_NS = "http://www.w3.org/2000/svg"

# Widths in em of a generous sans-serif (DejaVu Sans, wider than Arial or Helvetica), so text wrapped by this
# estimate fits whichever sans-serif the viewer has.
_NARROW = frozenset("ijlI.,:;'!|`")
_SEMI = frozenset('frt()[]{}/\\-"* ')
_WIDE = frozenset("mwMW@%&<>")


def _em_width(text: str) -> float:
    width = 0.0
    for ch in text:
        if ch in _NARROW:
            width += 0.3
        elif ch in _SEMI:
            width += 0.42
        elif ch in _WIDE:
            width += 0.95
        elif unicodedata.east_asian_width(ch) in ("W", "F"):
            width += 1.0
        elif ch.isupper():
            width += 0.74
        else:
            width += 0.63
    return width


def text_width(text: str, size: float = FONT, *, bold: bool = False) -> float:
    """Estimated rendered width of a line of text, in px."""
    return _em_width(text) * size * (1.08 if bold else 1.0)


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def _clean(text: str) -> str:
    """One line of text that XML 1.0 can hold: whitespace runs collapsed, control characters dropped."""
    return _NOT_XML.sub("", " ".join(text.split()))


def _split_word(word: str, width: float, size: float) -> list[str]:
    """A word too long for a line, cut into pieces that fit (at least one character each)."""
    pieces: list[str] = []
    current = ""
    for ch in word:
        if current and text_width(current + ch, size) > width:
            pieces.append(current)
            current = ch
        else:
            current += ch
    pieces.append(current)
    return pieces


def wrap(tokens: Sequence[str], first_width: float, rest_width: float, size: float = FONT) -> list[str]:
    """Greedy word wrap of tokens (each kept whole when it fits a line) into lines no wider than first_width for
    the first line and rest_width for the others."""
    lines: list[str] = []
    current = ""

    def limit() -> float:
        return first_width if not lines else rest_width

    for token in tokens:
        candidate = f"{current} {token}" if current else token
        if text_width(candidate, size) <= limit():
            current = candidate
            continue
        if current:
            lines.append(current)
            current = ""
        if text_width(token, size) <= limit():
            current = token
        else:
            pieces = _split_word(token, rest_width, size)
            lines += pieces[:-1]
            current = pieces[-1]
    lines.append(current)
    return lines


@dataclass(frozen=True)
class _Item:
    """One entry of a box: a label, its count if it has one, and how far it is indented."""

    label: str
    count: int | None = None
    level: int = 0


@dataclass(frozen=True)
class _Line:
    indent: float
    text: str


def _box_lines(items: Iterable[_Item], inner_width: float) -> list[_Line]:
    lines: list[_Line] = []
    for item in items:
        tokens = _clean(item.label).split()
        if item.count is not None:
            tokens.append(f"(n = {_n(item.count)})")  # never broken across lines
        first = item.level * INDENT
        rest = (item.level + 1) * INDENT  # continuation lines hang one level deeper
        texts = wrap(tokens, inner_width - first, inner_width - rest)
        lines += [_Line(first if i == 0 else rest, t) for i, t in enumerate(texts)]
    return lines


def _box_height(lines: Sequence[_Line]) -> int:
    return max(MIN_BOX_H, 2 * PAD_Y + len(lines) * LINE_H)


def _f(value: float) -> str:
    return f"{round(value, 1):g}"


def _text(x: float, y: float, text: str, extra: str = "") -> str:
    return f'<text x="{_f(x)}" y="{_f(y)}"{extra}>{escape(text)}</text>'


def _baseline(top: float, index: int) -> float:
    """Baseline of the index-th line of a block starting at top, the x-height centred in the line."""
    return top + index * LINE_H + LINE_H / 2 + FONT * 0.35


@dataclass(frozen=True)
class _Box:
    kind: str  # a class name saying which box this is
    x: float
    y: float
    w: float
    h: float
    lines: tuple[_Line, ...]

    def svg(self) -> str:
        parts = [
            f'<g class="box-group {self.kind}">',
            f'<rect class="box {self.kind}" x="{_f(self.x)}" y="{_f(self.y)}" width="{_f(self.w)}" '
            f'height="{_f(self.h)}" fill="#ffffff" stroke="#000000" stroke-width="1"/>',
        ]
        top = self.y + (self.h - len(self.lines) * LINE_H) / 2
        parts += [_text(self.x + PAD_X + ln.indent, _baseline(top, i), ln.text) for i, ln in enumerate(self.lines)]
        parts.append("</g>")
        return "\n".join(parts)


def _rows(c: PrismaCounts) -> list[tuple[str, list[_Item], str | None, list[_Item]]]:
    """The diagram's rows, top to bottom: (left kind, left items, right kind, right items)."""
    identified = [
        _Item("Records identified from:"),
        _Item("Databases", c.identified_databases, 1),
        *(_Item(name, n, 2) for name, n in c.databases.items()),
        _Item("Registers", c.identified_registers, 1),
        *(_Item(name, n, 2) for name, n in c.registers.items()),
    ]
    removed = [
        _Item("Records removed before screening:"),
        _Item("Duplicate records removed", c.duplicates_removed, 1),
        _Item("Records marked as ineligible by automation tools", 0, 1),
        _Item("Records removed for other reasons", c.other_removed, 1),
    ]
    if c.excluded_reasons:
        excluded = [_Item("Reports excluded:"), *(_Item(r, n, 1) for r, n in c.excluded_reasons.items())]
    else:
        excluded = [_Item("Reports excluded", 0)]
    included = [_Item("Studies included in review", c.studies_included)]
    included.append(_Item("Reports of included studies", c.reports_included))
    return [
        ("identified", identified, "removed", removed),
        (
            "screened",
            [_Item("Records screened", c.screened)],
            "excluded",
            [_Item("Records excluded", c.excluded_screening)],
        ),
        (
            "sought",
            [_Item("Reports sought for retrieval", c.sought)],
            "not-retrieved",
            [_Item("Reports not retrieved", c.not_retrieved)],
        ),
        ("assessed", [_Item("Reports assessed for eligibility", c.assessed)], "reports-excluded", excluded),
        ("included", included, None, []),
    ]


PHASES = (("Identification", 0, 0), ("Screening", 1, 3), ("Included", 4, 4))  # label, first row, last row
HEADER = "Identification of studies via databases and registers"


def _describe(c: PrismaCounts) -> str:
    """The diagram as prose, for the SVG's <desc>."""

    def listed(d: dict[str, int]) -> str:
        return "; ".join(f"{_clean(k)}, n = {_n(v)}" for k, v in d.items())

    dbs = f" ({listed(c.databases)})" if c.databases else ""
    regs = f" ({listed(c.registers)})" if c.registers else ""
    reasons = f" ({listed(c.excluded_reasons)})" if c.excluded_reasons else ""
    return (
        f"PRISMA 2020 flow diagram. Identification: records identified from databases, n = "
        f"{_n(c.identified_databases)}{dbs}, and from registers, n = {_n(c.identified_registers)}{regs}. "
        f"Records removed before screening: duplicate records, n = {_n(c.duplicates_removed)}; marked as "
        f"ineligible by automation tools, n = 0; removed for other reasons, n = {_n(c.other_removed)}. "
        f"Screening: records screened, n = {_n(c.screened)}; records excluded, n = {_n(c.excluded_screening)}. "
        f"Reports sought for retrieval, n = {_n(c.sought)}; reports not retrieved, n = {_n(c.not_retrieved)}. "
        f"Reports assessed for eligibility, n = {_n(c.assessed)}; reports excluded, n = "
        f"{_n(c.reports_excluded)}{reasons}. Included: studies included in review, n = "
        f"{_n(c.studies_included)}; reports of included studies, n = {_n(c.reports_included)}."
    )


def _arrow(x1: float, y1: float, x2: float, y2: float, marker: str) -> str:
    return (
        f'<line class="arrow" x1="{_f(x1)}" y1="{_f(y1)}" x2="{_f(x2)}" y2="{_f(y2)}" stroke="#000000" '
        f'stroke-width="1.5" marker-end="url(#{marker})"/>'
    )


def render_svg(counts: PrismaCounts, *, title: str = "") -> str:
    """The PRISMA 2020 flow diagram of counts as a standalone SVG 1.1 document (a string, no XML declaration, so
    it can be served as image/svg+xml or put inline in HTML). title, if given, is drawn above the diagram."""
    uid = hashlib.sha256(repr((counts, title)).encode()).hexdigest()[:10]  # ids unique per diagram on one page
    ids = {name: f"prisma-{uid}-{name}" for name in ("title", "desc", "arrow")}
    x_bar = MARGIN
    x_left = x_bar + BAR_W + BAR_GAP
    x_right = x_left + BOX_W + COL_GAP
    width = x_right + BOX_W + MARGIN
    inner = BOX_W - 2 * PAD_X

    body: list[str] = []
    y = MARGIN  # box geometry stays in whole pixels, so edges and arrow ends meet exactly
    title = _clean(title)
    if title:
        heading = wrap(title.split(), width - 2 * MARGIN, width - 2 * MARGIN, TITLE_FONT * 1.08)
        for line in heading:
            extra = f' text-anchor="middle" font-size="{TITLE_FONT}" font-weight="bold" class="heading"'
            body.append(_text(width / 2, y + TITLE_FONT, line, extra))
            y += TITLE_LINE_H
        y += 12

    header_w = x_right + BOX_W - x_left
    body.append(
        f'<rect class="header" x="{_f(x_left)}" y="{_f(y)}" width="{_f(header_w)}" height="{HEADER_H}" rx="8" '
        f'fill="#ffffff" stroke="#000000" stroke-width="1"/>'
    )
    extra = ' text-anchor="middle" font-weight="bold" class="header-text"'
    body.append(_text(x_left + header_w / 2, y + HEADER_H / 2 + FONT * 0.35, HEADER, extra))
    y += HEADER_H + HEADER_GAP

    # Rows whose phase band is theirs alone must be tall enough for the band's rotated label.
    own_phase = {
        first: math.ceil(text_width(label, BAR_FONT, bold=True)) + 24 for label, first, last in PHASES if first == last
    }
    lefts: list[_Box] = []
    rights: list[_Box | None] = []
    for i, (left_kind, left_items, right_kind, right_items) in enumerate(_rows(counts)):
        left_lines = _box_lines(left_items, inner)
        right_lines = _box_lines(right_items, inner) if right_kind else []
        h = max(_box_height(left_lines), _box_height(right_lines) if right_kind else 0, own_phase.get(i, 0))
        lefts.append(_Box(left_kind, x_left, y, BOX_W, h, tuple(left_lines)))
        rights.append(_Box(right_kind, x_right, y, BOX_W, h, tuple(right_lines)) if right_kind else None)
        y += h + ROW_GAP
    height = y - ROW_GAP + MARGIN

    for label, first, last in PHASES:
        top, bottom = lefts[first].y, lefts[last].y + lefts[last].h
        cx, cy = x_bar + BAR_W / 2, (top + bottom) / 2
        body.append(
            f'<g class="phase"><rect class="phase-bar" x="{_f(x_bar)}" y="{_f(top)}" width="{BAR_W}" '
            f'height="{_f(bottom - top)}" rx="6" fill="{PHASE_FILL}" stroke="#000000" stroke-width="1"/>'
        )
        extra = (
            f' transform="rotate(-90 {_f(cx)} {_f(cy)})" text-anchor="middle" font-size="{BAR_FONT}" font-weight="bold"'
        )
        body.append(_text(cx, cy + BAR_FONT * 0.35, label, extra) + "</g>")

    body += [box.svg() for box in lefts]
    body += [box.svg() for box in rights if box]

    cx = x_left + BOX_W / 2
    for above, below in pairwise(lefts):
        body.append(_arrow(cx, above.y + above.h, cx, below.y, ids["arrow"]))
    for left, right in zip(lefts, rights, strict=True):
        if right:
            mid = left.y + left.h / 2
            body.append(_arrow(left.x + left.w, mid, right.x, mid, ids["arrow"]))

    labelled_by = f"{ids['title']} {ids['desc']}"
    alt = f"PRISMA 2020 flow diagram: {title}" if title else "PRISMA 2020 flow diagram"
    head = [
        f'<svg xmlns="{SVG_NS}" version="1.1" width="{_f(width)}" height="{_f(height)}" '
        f'viewBox="0 0 {_f(width)} {_f(height)}" role="img" aria-labelledby={quoteattr(labelled_by)} '
        f'font-family="sans-serif" font-size="{FONT}" fill="#000000">',
        f"<title id={quoteattr(ids['title'])}>{escape(alt)}</title>",
        f"<desc id={quoteattr(ids['desc'])}>{escape(_describe(counts))}</desc>",
        f'<defs><marker id={quoteattr(ids["arrow"])} viewBox="0 0 10 10" refX="10" refY="5" '
        f'markerUnits="userSpaceOnUse" markerWidth="{ARROW_HEAD}" markerHeight="{ARROW_HEAD}" orient="auto">'
        f'<path d="M 0 0 L 10 5 L 0 10 z" fill="#000000"/></marker></defs>',
        f'<rect class="background" x="0" y="0" width="{_f(width)}" height="{_f(height)}" fill="#ffffff"/>',
    ]
    return "\n".join([*head, *body, "</svg>"]) + "\n"
