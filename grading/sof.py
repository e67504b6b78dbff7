"""GRADE Summary of Findings (SoF) tables rendered to CSV and DOCX (the HTML document: grading/sof_html.py).

Pure module (no Django, no database): the caller fills `SofTable`/`SofRow` with text already formatted for
readers ("150 per 1,000 (100 to 210)", "⊕◯◯◯"); this module only lays it out. Every value is treated as
untrusted text: escaped in HTML, formula-safe in CSV (through `core.csv_safe`), stripped of characters XML
cannot hold in DOCX.

The layout follows the GRADEpro / Cochrane SoF table (GRADE Handbook 2013, section 9; Schünemann et al.,
Cochrane Handbook 6.4, chapter 14): Outcomes; Anticipated absolute effects* (95% CI), split into the risk with
the comparison and the risk with the intervention; Relative effect (95% CI); № of participants (studies);
Certainty of the evidence (GRADE); Comments. Below each table come its footnotes, the explanation of the
asterisk and the GRADE Working Group grades of evidence.

CSV columns (`CSV_COLUMNS`), one row per outcome, tables one after the other:

* ``comparison``: the table's title (which names the comparison);
* ``outcome``, ``timepoint``, ``detail``, ``risk_control``, ``risk_intervention``, ``difference``,
  ``relative_effect``, ``participants``, ``comments``: the row's fields as given;
* ``certainty``: the label ("Very low"); ``certainty_symbols``: "⊕◯◯◯";
* ``footnotes``: the footnotes the row cites, as ``"a: text; b: text"``.

A table without rows contributes no CSV line (there is no outcome to describe); HTML and DOCX show it with a
"No outcomes graded yet" line.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import cast

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.table import CT_Tc
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.shared import Cm, Pt, RGBColor
from docx.styles.style import ParagraphStyle
from docx.table import Table, _Cell, _Row
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from core.csv_safe import csv_lines

__all__ = [
    "CSV_COLUMNS",
    "EXPLANATION",
    "GRADE_GRADES",
    "GRADE_GRADES_HEADING",
    "NO_OUTCOMES",
    "SofRow",
    "SofTable",
    "to_csv",
    "to_docx",
]


@dataclass(frozen=True)
class SofRow:
    outcome: str  # e.g. "Pain intensity"
    timepoint: str  # e.g. "24 hours" ("" if none)
    detail: str  # e.g. "0-10 numerical rating scale; lower is better" ("" if none)
    risk_control: str  # risk/mean with the comparison, e.g. "200 per 1,000" or "The mean pain was 5.1"
    risk_intervention: str  # e.g. "150 per 1,000 (100 to 210)" or "MD 0.5 lower (1.2 lower to 0.2 higher)"
    difference: str  # e.g. "50 fewer per 1,000 (100 fewer to 10 more)" ("" for continuous)
    relative_effect: str  # e.g. "RR 0.75 (0.50 to 1.05)"; "not pooled" / "not estimable"
    participants: str  # e.g. "215 (3 RCTs)"
    certainty_symbols: str  # e.g. "⊕◯◯◯"
    certainty_label: str  # e.g. "Very low"
    footnote_marks: tuple[str, ...]  # marks of the footnotes this row's certainty cites, e.g. ("a", "b")
    comments: str


@dataclass(frozen=True)
class SofTable:
    title: str  # e.g. "Ketamine plus opioids compared with placebo plus opioids for refractory cancer pain"
    population: str
    setting: str
    intervention: str
    comparison: str
    rows: tuple[SofRow, ...]
    footnotes: tuple[tuple[str, str], ...]  # (mark, text)
    explanation: str  # usually `EXPLANATION`


EXPLANATION = (
    "*The risk in the intervention group (and its 95% CI) is based on the assumed risk in the comparison group "
    "and the relative effect of the intervention (and its 95% CI). "
    "CI: confidence interval; RR: risk ratio; MD: mean difference."
)

# As printed under GRADEpro SoF tables (GRADE Handbook 2013, section 5, table 5.1 wording).
GRADE_GRADES_HEADING = "GRADE Working Group grades of evidence"
GRADE_GRADES: tuple[tuple[str, str], ...] = (
    ("High certainty", "We are very confident that the true effect lies close to that of the estimate of the effect."),
    (
        "Moderate certainty",
        "We are moderately confident in the effect estimate: the true effect is likely to be close to the estimate "
        "of the effect, but there is a possibility that it is substantially different.",
    ),
    (
        "Low certainty",
        "Our confidence in the effect estimate is limited: the true effect may be substantially different from the "
        "estimate of the effect.",
    ),
    (
        "Very low certainty",
        "We have very little confidence in the effect estimate: the true effect is likely to be substantially "
        "different from the estimate of effect.",
    ),
)

NO_OUTCOMES = "No outcomes graded yet"

CSV_COLUMNS: tuple[str, ...] = (
    "comparison",
    "outcome",
    "timepoint",
    "detail",
    "risk_control",
    "risk_intervention",
    "difference",
    "relative_effect",
    "participants",
    "certainty",
    "certainty_symbols",
    "footnotes",
    "comments",
)

# Column headings of the GRADE layout (the two risk columns are named after the table's comparison/intervention).
_OUTCOMES = "Outcomes"
_ABSOLUTE = "Anticipated absolute effects* (95% CI)"
_RELATIVE = "Relative effect (95% CI)"
_PARTICIPANTS = "№ of participants (studies)"
_CERTAINTY = "Certainty of the evidence (GRADE)"
_COMMENTS = "Comments"


def _risk_headings(table: SofTable) -> tuple[str, str]:
    comparison = table.comparison.strip() or "comparison"
    intervention = table.intervention.strip() or "intervention"
    return f"Risk with {comparison}", f"Risk with {intervention}"


def _cited(table: SofTable, row: SofRow) -> list[tuple[str, str]]:
    """The (mark, text) footnotes a row cites, in the row's order; a mark the table does not define keeps an
    empty text rather than failing the export."""
    texts = dict(table.footnotes)
    return [(mark, texts.get(mark, "")) for mark in row.footnote_marks]


def _pico(table: SofTable) -> list[tuple[str, str]]:
    return [
        (label, value)
        for label, value in (
            ("Patient or population", table.population),
            ("Setting", table.setting),
            ("Intervention", table.intervention),
            ("Comparison", table.comparison),
        )
        if value.strip()
    ]


# ---------------------------------------------------------------------------------------------------------- CSV


def _csv_rows(tables: Iterable[SofTable]) -> Iterable[Sequence[str]]:
    yield CSV_COLUMNS
    for table in tables:
        for row in table.rows:
            footnotes = "; ".join(f"{mark}: {text}" if text else mark for mark, text in _cited(table, row))
            yield (
                table.title,
                row.outcome,
                row.timepoint,
                row.detail,
                row.risk_control,
                row.risk_intervention,
                row.difference,
                row.relative_effect,
                row.participants,
                row.certainty_label,
                row.certainty_symbols,
                footnotes,
                row.comments,
            )


def to_csv(tables: Sequence[SofTable]) -> bytes:
    """The tables as one CSV (UTF-8 with a BOM, formula-safe cells): a header row of `CSV_COLUMNS`, then a row
    per outcome."""
    return "".join(csv_lines(_csv_rows(tables))).encode("utf-8")


# --------------------------------------------------------------------------------------------------------- DOCX

# Fonts holding ⊕ (U+2295) and ◯ (U+25EF). Word picks a run's font slot per character (ascii, hAnsi, eastAsia,
# cs): Segoe UI Symbol ships with Windows, where SoF documents are mostly read, and fills the Latin slots; the
# eastAsia slot, used when Word classes ◯ as East Asian (a CJK language or w:hint), names DejaVu Sans, which
# Linux has. Where the named font is missing, Word and LibreOffice fall back per glyph.
_SYMBOL_FONT = "Segoe UI Symbol"
_SYMBOL_FONT_EAST_ASIA = "DejaVu Sans"
_BODY_FONT = "Arial"
_HEADER_FILL = "D9E2F3"
_A4_LONG, _A4_SHORT = Cm(29.7), Cm(21.0)
_MARGIN = Cm(1.5)
# Column widths in cm, summing to the landscape text width (29.7 - 2 * 1.5).
_WIDTHS_CM = (5.0, 3.6, 4.6, 3.0, 2.7, 3.3, 4.5)
_TABLE_PT = 8.5
_NOTE_PT = 8.0

# XML 1.0 allows tab, newline, carriage return and everything from U+0020 except surrogates, U+FFFE and U+FFFF;
# python-docx refuses the rest.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

# Children of w:tcPr that come after w:shd (ECMA-376 CT_TcPr sequence).
_AFTER_SHD = (
    "w:noWrap",
    "w:tcMar",
    "w:textDirection",
    "w:tcFitText",
    "w:vAlign",
    "w:hideMark",
    "w:headers",
    "w:cellIns",
    "w:cellDel",
    "w:cellMerge",
    "w:tcPrChange",
)


def _x(text: str) -> str:
    return _NOT_XML.sub("", text)


def _set_fonts(r_fonts: BaseOxmlElement, font: str, east_asia: str) -> None:
    """Names the font of every slot and drops theme fonts, which would override the names."""
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        r_fonts.attrib.pop(qn(theme), None)
    for slot in ("w:ascii", "w:hAnsi", "w:cs"):
        r_fonts.set(qn(slot), font)
    r_fonts.set(qn("w:eastAsia"), east_asia)


def _add_run(
    paragraph: Paragraph,
    text: str,
    *,
    bold: bool = False,
    italic: bool = False,
    superscript: bool = False,
    size: float | None = None,
    symbols: bool = False,
) -> Run:
    run = paragraph.add_run(_x(text))
    if bold:
        run.bold = True
    if italic:
        run.italic = True
    if superscript:
        run.font.superscript = True
    if size is not None:
        run.font.size = Pt(size)
    if symbols:
        _set_fonts(run._element.get_or_add_rPr().get_or_add_rFonts(), _SYMBOL_FONT, _SYMBOL_FONT_EAST_ASIA)
    return run


def _shade(tc: CT_Tc, fill: str) -> None:
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    tc.get_or_add_tcPr().insert_element_before(shd, *_AFTER_SHD)


def _row_property(row: _Row, tag: str) -> None:
    """Switches on a w:trPr flag (w:tblHeader: repeat on each page; w:cantSplit: keep the row on one page)."""
    flag = OxmlElement(tag)
    flag.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(flag)


def _cell_paragraph(cell: _Cell, *, first: bool = True, center: bool = False) -> Paragraph:
    paragraph = cell.paragraphs[0] if first else cell.add_paragraph()
    paragraph.paragraph_format.space_after = Pt(0)
    paragraph.paragraph_format.space_before = Pt(0)
    if center:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    return paragraph


def _header_cell(cell: _Cell, text: str) -> None:
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    _add_run(_cell_paragraph(cell, center=True), text, bold=True, size=_TABLE_PT)


def _set_widths(grid: Table) -> None:
    """Fixed column widths, on the grid and on every cell (Word reads the one, LibreOffice the other); a merged
    cell gets the width of the columns it spans."""
    for column, width in zip(grid.columns, _WIDTHS_CM, strict=True):
        column.width = Cm(width)
    for tr in grid._tbl.tr_lst:
        start = 0
        for tc in tr.tc_lst:
            tc.width = Cm(sum(_WIDTHS_CM[start : start + tc.grid_span]))
            start += tc.grid_span


def _note(document: DocxDocument, *, before: float = 0) -> Paragraph:
    paragraph = document.add_paragraph()
    paragraph.paragraph_format.space_before = Pt(before)
    paragraph.paragraph_format.space_after = Pt(0)
    return paragraph


def _docx_table(document: DocxDocument, table: SofTable, *, new_page: bool) -> None:
    heading = document.add_heading(level=1)
    heading.paragraph_format.page_break_before = new_page
    heading.paragraph_format.keep_with_next = True
    _add_run(heading, table.title)
    pico = _pico(table)
    for index, (label, value) in enumerate(pico):
        paragraph = _note(document)
        paragraph.paragraph_format.keep_with_next = True
        if index == len(pico) - 1:
            paragraph.paragraph_format.space_after = Pt(6)
        _add_run(paragraph, f"{label}: ", bold=True, size=9)
        _add_run(paragraph, value, size=9)

    grid = document.add_table(rows=2, cols=7)
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    grid.autofit = False
    top, sub = grid.rows
    risk_comparison, risk_intervention = _risk_headings(table)
    for column, text in ((0, _OUTCOMES), (3, _RELATIVE), (4, _PARTICIPANTS), (5, _CERTAINTY), (6, _COMMENTS)):
        _header_cell(top.cells[column].merge(sub.cells[column]), text)
    _header_cell(top.cells[1].merge(top.cells[2]), _ABSOLUTE)
    _header_cell(sub.cells[1], risk_comparison)
    _header_cell(sub.cells[2], risk_intervention)
    for header in (top, sub):
        _row_property(header, "w:tblHeader")
        _row_property(header, "w:cantSplit")
        for tc in header._tr.tc_lst:  # each part of a merged cell, or Word shades only its first part
            _shade(tc, _HEADER_FILL)

    if not table.rows:
        empty = grid.add_row()
        merged = empty.cells[0].merge(empty.cells[6])
        _add_run(_cell_paragraph(merged, center=True), NO_OUTCOMES, italic=True, size=_TABLE_PT)
    for row in table.rows:
        grid_row = grid.add_row()
        _row_property(grid_row, "w:cantSplit")
        cells = grid_row.cells
        _add_run(_cell_paragraph(cells[0]), row.outcome, bold=True, size=_TABLE_PT)
        if row.detail:
            _add_run(_cell_paragraph(cells[0], first=False), row.detail, size=_TABLE_PT)
        if row.timepoint:
            _add_run(_cell_paragraph(cells[0], first=False), f"Follow-up: {row.timepoint}", size=_TABLE_PT)
        _add_run(_cell_paragraph(cells[1]), row.risk_control, size=_TABLE_PT)
        _add_run(_cell_paragraph(cells[2]), row.risk_intervention, size=_TABLE_PT)
        if row.difference:
            difference = _cell_paragraph(cells[2], first=not row.risk_intervention)
            difference.paragraph_format.space_before = Pt(3 if row.risk_intervention else 0)
            _add_run(difference, row.difference, size=_TABLE_PT)
        _add_run(_cell_paragraph(cells[3]), row.relative_effect, size=_TABLE_PT)
        _add_run(_cell_paragraph(cells[4]), row.participants, size=_TABLE_PT)
        certainty = _cell_paragraph(cells[5], center=True)
        if row.certainty_symbols:
            _add_run(certainty, row.certainty_symbols, size=_TABLE_PT + 2, symbols=True)
            certainty = _cell_paragraph(cells[5], first=False, center=True)
        _add_run(certainty, row.certainty_label, size=_TABLE_PT)
        if row.footnote_marks:
            _add_run(certainty, ",".join(row.footnote_marks), superscript=True, size=_TABLE_PT)
        _add_run(_cell_paragraph(cells[6]), row.comments, size=_TABLE_PT)
    _set_widths(grid)

    for index, (mark, text) in enumerate(table.footnotes):
        note = _note(document, before=6 if index == 0 else 0)
        _add_run(note, mark, superscript=True, size=_NOTE_PT)
        _add_run(note, f" {text}", size=_NOTE_PT)
    if table.explanation:
        _add_run(_note(document, before=6), table.explanation, size=_NOTE_PT)
    grades = _note(document, before=6)
    grades.paragraph_format.keep_with_next = True
    _add_run(grades, GRADE_GRADES_HEADING, bold=True, size=_NOTE_PT)
    for label, definition in GRADE_GRADES:
        grade = _note(document)
        _add_run(grade, f"{label}: ", bold=True, size=_NOTE_PT)
        _add_run(grade, definition, size=_NOTE_PT)


def to_docx(tables: Sequence[SofTable], *, title: str) -> bytes:
    """The tables as a Word document: A4 landscape, one table per comparison (each from a new page), header rows
    repeated on every page, footnotes, the explanation and the GRADE grades below each table."""
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = _A4_LONG, _A4_SHORT
    section.left_margin = section.right_margin = _MARGIN
    section.top_margin = section.bottom_margin = _MARGIN

    for name, size in (("Normal", 10), ("Title", 18), ("Heading 1", 13)):
        style = cast(ParagraphStyle, document.styles[name])  # the default template defines these
        _set_fonts(style.element.get_or_add_rPr().get_or_add_rFonts(), _BODY_FONT, _BODY_FONT)
        style.font.size = Pt(size)
        if name != "Normal":
            style.font.color.rgb = RGBColor(0, 0, 0)
    document.core_properties.title = _x(title)

    _add_run(document.add_heading(level=0), title)
    for index, table in enumerate(tables):
        _docx_table(document, table, new_page=index > 0)

    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
