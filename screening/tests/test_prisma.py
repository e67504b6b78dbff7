"""The PRISMA 2020 flow diagram: its consistency check, and the SVG it draws, read back as XML."""

import dataclasses
import subprocess
import sys
from pathlib import Path
from xml.etree.ElementTree import Element  # noqa: S405 - type only; parsing goes through defusedxml

import pytest
from defusedxml.ElementTree import fromstring

from screening.prisma import FONT, LINE_H, PAD_X, PrismaCounts, check, render_svg, text_width

NS = "{http://www.w3.org/2000/svg}"

LEFT = ["identified", "screened", "sought", "assessed", "included"]
RIGHT = ["removed", "excluded", "not-retrieved", "reports-excluded"]
CONNECTIONS = {
    ("identified", "screened"),
    ("screened", "sought"),
    ("sought", "assessed"),
    ("assessed", "included"),
    ("identified", "removed"),
    ("screened", "excluded"),
    ("sought", "not-retrieved"),
    ("assessed", "reports-excluded"),
}

# identified 120 - duplicates 20 = screened 100; - 80 excluded = sought 20; - 2 = assessed 18; - 4 = reports 14
COUNTS = PrismaCounts(
    databases={"MEDLINE (Ovid)": 70, "Embase (Ovid)": 30},
    registers={"ClinicalTrials.gov": 12, "WHO ICTRP": 8},
    duplicates_removed=20,
    screened=100,
    excluded_screening=80,
    sought=20,
    not_retrieved=2,
    assessed=18,
    excluded_reasons={"Wrong study design": 3, "Too few participants": 1},
    studies_included=12,
    reports_included=14,
)

BIG = PrismaCounts(
    databases={"MEDLINE (Ovid)": 1_234_567, "Embase (Ovid)": 2_345},
    registers={"ClinicalTrials.gov": 1_001},
    duplicates_removed=9_876,
    other_removed=1_500,
    screened=1_226_537,
    excluded_screening=1_224_000,
    sought=2_537,
    not_retrieved=1_100,
    assessed=1_437,
    excluded_reasons={"Wrong comparator": 1_250, "Wrong outcome": 40},
    studies_included=120,
    reports_included=147,
)


def parse(counts: PrismaCounts = COUNTS, **kwargs: str) -> Element:
    return fromstring(render_svg(counts, **kwargs))


def classes(el: Element) -> list[str]:
    return (el.get("class") or "").split()


def texts(root: Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{NS}text")]


def group(root: Element, kind: str) -> Element:
    (found,) = [g for g in root.iter(f"{NS}g") if classes(g) == ["box-group", kind]]
    return found


def box_text(root: Element, kind: str) -> str:
    return " ".join(t.text or "" for t in group(root, kind).iter(f"{NS}text"))


def rect(el: Element) -> tuple[float, float, float, float]:
    return tuple(float(el.get(a, "0")) for a in ("x", "y", "width", "height"))  # type: ignore[return-value]


def boxes(root: Element) -> dict[str, tuple[float, float, float, float]]:
    """Each flow box's rectangle, by kind."""
    found = [r for r in root.iter(f"{NS}rect") if "box" in classes(r)]
    return {classes(r)[1]: rect(r) for r in found}


def arrows(root: Element) -> list[Element]:
    return [el for el in root.iter() if el.get("marker-end")]


def ends(arrow: Element) -> tuple[float, float, float, float]:
    return tuple(float(arrow.get(a, "nan")) for a in ("x1", "y1", "x2", "y2"))  # type: ignore[return-value]


def height(root: Element) -> float:
    return float(root.get("height", "0"))


# --- check ------------------------------------------------------------------------------------------------------


def test_check_passes_consistent_counts() -> None:
    assert check(COUNTS) == []
    assert check(BIG) == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"screened": 95, "excluded_screening": 75},
            "records screened (95) should equal records identified (120) minus duplicates removed (20) minus other "
            "removals (0) = 100",
        ),
        (
            {"other_removed": 5},
            "records screened (100) should equal records identified (120) minus duplicates removed (20) minus other "
            "removals (5) = 95",
        ),
        (
            {"sought": 21, "not_retrieved": 3},
            "reports sought for retrieval (21) should equal records screened (100) minus records excluded (80) = 20",
        ),
        (
            {"assessed": 17, "reports_included": 13},
            "reports assessed for eligibility (17) should equal reports sought for retrieval (20) minus reports not "
            "retrieved (2) = 18",
        ),
        (
            {"reports_included": 15},
            "reports of included studies (15) should equal reports assessed for eligibility (18) minus reports "
            "excluded (4) = 14",
        ),
        (
            {"studies_included": 15},
            "studies included in review (15) should not exceed reports of included studies (14)",
        ),
        (
            {"excluded_reasons": {"Wrong study design": 5, "Too few participants": -1}},
            "reports excluded for reason 'Too few participants' (-1) should not be negative",
        ),
    ],
    ids=["screened", "other-removed", "sought", "assessed", "reports-included", "studies-included", "negative"],
)
def test_check_names_the_box_that_does_not_add_up(changes: dict, message: str) -> None:
    assert check(dataclasses.replace(COUNTS, **changes)) == [message]


def test_check_formats_large_numbers_and_reports_every_problem() -> None:
    problems = check(dataclasses.replace(BIG, screened=1_000_000, studies_included=200))
    assert problems[0] == (
        "records screened (1,000,000) should equal records identified (1,237,913) minus duplicates removed (9,876) "
        "minus other removals (1,500) = 1,226,537"
    )
    assert problems[1].startswith("reports sought for retrieval (2,537) should equal records screened (1,000,000)")
    assert problems[2] == "studies included in review (200) should not exceed reports of included studies (147)"
    assert len(problems) == 3


def test_counts_are_frozen_and_keyword_only() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        COUNTS.screened = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        PrismaCounts({}, {}, 0, 0, 0, 0, 0, 0, 0, {}, 0, 0)  # type: ignore[misc]
    assert (COUNTS.identified, COUNTS.identified_databases, COUNTS.identified_registers) == (120, 100, 20)
    assert COUNTS.reports_excluded == 4


# --- the SVG document -------------------------------------------------------------------------------------------


def test_svg_is_a_standalone_accessible_document() -> None:
    svg = render_svg(COUNTS)
    root = fromstring(svg)
    assert root.tag == f"{NS}svg"
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" version="1.1" ')
    assert root.get("role") == "img"
    assert root.get("font-family") == "sans-serif"
    w, h = float(root.get("width", "0")), height(root)
    assert root.get("viewBox", "").split() == ["0", "0", f"{w:g}", f"{h:g}"]
    assert w > 0 and h > 0
    title, desc = root[0], root[1]
    assert (title.tag, desc.tag) == (f"{NS}title", f"{NS}desc")
    assert title.text == "PRISMA 2020 flow diagram"
    assert root.get("aria-labelledby", "").split() == [title.get("id"), desc.get("id")]
    assert "records screened, n = 100" in (desc.text or "")
    assert "MEDLINE (Ovid), n = 70" in (desc.text or "")
    # White background covering the picture, light blue phase bars.
    background = next(r for r in root.iter(f"{NS}rect") if classes(r) == ["background"])
    assert rect(background) == (0, 0, w, h) and background.get("fill") == "#ffffff"
    bars = [r for r in root.iter(f"{NS}rect") if classes(r) == ["phase-bar"]]
    assert len(bars) == 3 and {b.get("fill") for b in bars} == {"#a9c8ea"}


def test_no_scripts_and_no_external_resources() -> None:
    root = parse(COUNTS, title="Review")
    tags = {el.tag.removeprefix(NS) for el in root.iter()}
    assert tags <= {"svg", "title", "desc", "defs", "marker", "path", "rect", "g", "text", "line"}
    for el in root.iter():
        for name, value in el.attrib.items():
            assert "href" not in name and "://" not in value and not name.startswith("on"), (name, value)


def test_every_number_and_name_appears_in_the_text() -> None:
    shown = texts(parse())
    for name, n in {**COUNTS.databases, **COUNTS.registers, **COUNTS.excluded_reasons}.items():
        assert f"{name} (n = {n})" in shown
    for line in [
        "Records identified from:",
        "Databases (n = 100)",
        "Registers (n = 20)",
        "Records removed before screening:",
        "Duplicate records removed (n = 20)",
        "Records screened (n = 100)",
        "Records excluded (n = 80)",
        "Reports sought for retrieval (n = 20)",
        "Reports not retrieved (n = 2)",
        "Reports assessed for eligibility (n = 18)",
        "Reports excluded:",
        "Studies included in review (n = 12)",
        "Reports of included studies (n = 14)",
        "Identification of studies via databases and registers",
        "Identification",
        "Screening",
        "Included",
    ]:
        assert line in shown, line


def test_lines_sit_in_the_right_boxes() -> None:
    root = parse()
    assert box_text(root, "identified") == (
        "Records identified from: Databases (n = 100) MEDLINE (Ovid) (n = 70) Embase (Ovid) (n = 30) "
        "Registers (n = 20) ClinicalTrials.gov (n = 12) WHO ICTRP (n = 8)"
    )
    assert box_text(root, "removed") == (
        "Records removed before screening: Duplicate records removed (n = 20) Records marked as ineligible by "
        "automation tools (n = 0) Records removed for other reasons (n = 0)"
    )
    assert box_text(root, "excluded") == "Records excluded (n = 80)"
    assert box_text(root, "not-retrieved") == "Reports not retrieved (n = 2)"
    assert box_text(root, "reports-excluded") == (
        "Reports excluded: Wrong study design (n = 3) Too few participants (n = 1)"
    )
    assert box_text(root, "included") == "Studies included in review (n = 12) Reports of included studies (n = 14)"


def test_numbers_have_thousands_separators() -> None:
    root = parse(BIG)
    shown = texts(root)
    for line in [
        "MEDLINE (Ovid) (n = 1,234,567)",
        "Databases (n = 1,236,912)",
        "Records screened (n = 1,226,537)",
        "Records excluded (n = 1,224,000)",
        "Wrong comparator (n = 1,250)",
    ]:
        assert line in shown, line
    assert "n = 1,500" in box_text(root, "removed")
    assert not any("1234567" in t or "1226537" in t for t in shown)


def test_box_and_arrow_counts() -> None:
    root = parse()
    assert sorted(boxes(root)) == sorted(LEFT + RIGHT)
    assert len([r for r in root.iter(f"{NS}rect") if classes(r) == ["header"]]) == 1
    assert len(arrows(root)) == 8
    markers = root.findall(f"{NS}defs/{NS}marker")
    assert len(markers) == 1
    assert {a.get("marker-end") for a in arrows(root)} == {f"url(#{markers[0].get('id')})"}


def test_arrows_join_the_template_boxes_edge_to_edge() -> None:
    root = parse()
    placed = boxes(root)

    def box_at(x: float, y: float) -> set[str]:
        """The boxes whose outline passes through (x, y)."""
        found = set()
        for kind, (bx, by, bw, bh) in placed.items():
            on_vertical = x in (bx, bx + bw) and by <= y <= by + bh
            on_horizontal = y in (by, by + bh) and bx <= x <= bx + bw
            if on_vertical or on_horizontal:
                found.add(kind)
        return found

    joined = set()
    for arrow in arrows(root):
        x1, y1, x2, y2 = ends(arrow)
        assert x1 == x2 or y1 == y2  # straight down or straight across
        assert (y2 > y1) if x1 == x2 else (x2 > x1)  # down the left column, or to the right
        (start,), (end,) = box_at(x1, y1), box_at(x2, y2)
        joined.add((start, end))
    assert joined == CONNECTIONS


def test_arrows_pass_through_no_box_and_boxes_do_not_overlap() -> None:
    root = parse(BIG, title="A review")
    solid = [rect(r) for r in root.iter(f"{NS}rect") if classes(r) != ["background"]]
    for arrow in arrows(root):
        x1, y1, x2, y2 = ends(arrow)
        for bx, by, bw, bh in solid:
            inside_x = bx < max(x1, x2) and min(x1, x2) < bx + bw
            inside_y = by < max(y1, y2) and min(y1, y2) < by + bh
            crosses = (bx < x1 < bx + bw and inside_y) if x1 == x2 else (by < y1 < by + bh and inside_x)
            assert not crosses, (ends(arrow), (bx, by, bw, bh))
    for i, (ax, ay, aw, ah) in enumerate(solid):
        for bx, by, bw, bh in solid[i + 1 :]:
            assert ax + aw <= bx or bx + bw <= ax or ay + ah <= by or by + bh <= ay


def test_rows_share_a_height_and_phase_bars_span_their_rows() -> None:
    root = parse()
    placed = boxes(root)
    for left, right in zip(LEFT, RIGHT, strict=False):
        assert placed[left][1] == placed[right][1] and placed[left][3] == placed[right][3]
    bars = {
        (g.find(f"{NS}text").text if g.find(f"{NS}text") is not None else None): rect(g.find(f"{NS}rect"))  # type: ignore[union-attr, arg-type]
        for g in root.iter(f"{NS}g")
        if classes(g) == ["phase"]
    }
    spans = {"Identification": ("identified", "identified"), "Screening": ("screened", "assessed")}
    spans["Included"] = ("included", "included")
    for label, (first, last) in spans.items():
        _, top, _, tall = bars[label]
        assert top == placed[first][1]
        assert top + tall == placed[last][1] + placed[last][3]
        assert tall >= text_width(label, 14, bold=True)  # the rotated label fits in its bar


def assert_text_fits(root: Element) -> None:
    """Every line of every box lies inside it, by the renderer's own width estimate, with no two lines overlapping."""
    for kind, (bx, by, bw, bh) in boxes(root).items():
        lines = list(group(root, kind).iter(f"{NS}text"))
        baselines = [float(t.get("y", "0")) for t in lines]
        for t, y in zip(lines, baselines, strict=True):
            x = float(t.get("x", "0"))
            assert bx + PAD_X <= x and x + text_width(t.text or "") <= bx + bw - PAD_X, (kind, t.text)
            assert by + FONT <= y <= by + bh - 3, (kind, t.text)
        assert all(b - a >= LINE_H for a, b in zip(baselines, baselines[1:], strict=False)), kind


def test_text_fits_its_boxes() -> None:
    assert_text_fits(parse())
    assert_text_fits(parse(BIG))


def test_long_lists_make_the_diagram_taller() -> None:
    base = height(parse())
    many_databases = dataclasses.replace(COUNTS, databases={f"Database number {i}": i for i in range(15)})
    many_reasons = dataclasses.replace(COUNTS, excluded_reasons={f"Reason number {i}": 1 for i in range(12)})
    taller = parse(many_databases)
    assert height(taller) >= base + 10 * LINE_H
    assert len(list(group(taller, "identified").iter(f"{NS}text"))) == 3 + 15 + 2
    assert "Database number 14 (n = 14)" in texts(taller)
    assert height(parse(many_reasons)) >= base + 8 * LINE_H
    # The box beside a grown box grows with it: one row, one height.
    placed = boxes(parse(many_reasons))
    assert placed["assessed"][3] == placed["reports-excluded"][3] >= 13 * LINE_H
    assert_text_fits(taller)


def test_long_names_wrap_inside_their_box() -> None:
    name = "Cumulative Index to Nursing and Allied Health Literature via EBSCOhost, searched from inception to 2024"
    reason = "Population not of interest: adults with chronic non-cancer pain or mixed populations not separated"
    word = "https-like-identifier-" * 6  # one word wider than a box: cut into pieces
    counts = dataclasses.replace(
        COUNTS,
        databases={name: 60, word: 40},
        excluded_reasons={reason: 4},
    )
    root = parse(counts)
    assert height(root) > height(parse())
    assert f"{name} (n = 60)" in box_text(root, "identified")  # word-wrapped: lines joined by spaces give it back
    assert f"{reason} (n = 4)" in box_text(root, "reports-excluded")
    lines = texts(root)
    assert word in "".join(lines)
    assert "(n = 60)" in " ".join(lines) and not any(t in ("(n", "=", "60)") for t in lines)  # count kept whole
    assert_text_fits(root)


@pytest.mark.parametrize(
    "name",
    ['Smith & Jones <"Trials"> Register', "a < b && c > d", "O'Brien \"quoted\" & <tag attr='x'/>", "]]> &amp;"],
)
def test_names_are_escaped_and_round_trip(name: str) -> None:
    counts = dataclasses.replace(
        COUNTS,
        registers={name: 12, "WHO ICTRP": 8},
        excluded_reasons={f"Reason {name}": 3, "Too few participants": 1},
    )
    svg = render_svg(counts, title=f"Review of {name}")
    assert name not in svg  # every one holds a character that must be escaped in text
    assert "&amp;" in svg or "&lt;" in svg or "&gt;" in svg
    root = fromstring(svg)
    assert f"{name} (n = 12)" in box_text(root, "identified")
    assert f"Reason {name} (n = 3)" in box_text(root, "reports-excluded")
    assert root[0].text == f"PRISMA 2020 flow diagram: Review of {name}"
    assert f"{name}, n = 12" in (root[1].text or "")
    assert f"Review of {name}" in " ".join(t.text or "" for t in root.iter(f"{NS}text") if classes(t) == ["heading"])
    assert not [el for el in root.iter() if el.tag.removeprefix(NS) in ("tag", "script")]


def test_control_characters_are_dropped_so_the_xml_stays_valid() -> None:
    counts = dataclasses.replace(COUNTS, registers={"Bad\x00name\x1b here\tand\nthere": 20})
    root = parse(counts, title="T\x01itle")
    assert "Badname here and there (n = 20)" in texts(root)
    assert root[0].text == "PRISMA 2020 flow diagram: Title"


def test_title_is_drawn_above_the_header() -> None:
    plain, titled = parse(), parse(title="Ketamine as an adjuvant to opioids for cancer pain")
    heading = [t for t in titled.iter(f"{NS}text") if classes(t) == ["heading"]]
    assert [t.text for t in heading] == ["Ketamine as an adjuvant to opioids for cancer pain"]
    header = next(r for r in titled.iter(f"{NS}rect") if classes(r) == ["header"])
    assert float(heading[0].get("y", "0")) < rect(header)[1]
    assert height(titled) > height(plain)
    assert not [t for t in plain.iter(f"{NS}text") if classes(t) == ["heading"]]


def test_empty_sources_and_reasons_still_draw_every_box() -> None:
    counts = PrismaCounts(
        databases={},
        registers={},
        duplicates_removed=0,
        screened=0,
        excluded_screening=0,
        sought=0,
        not_retrieved=0,
        assessed=0,
        excluded_reasons={},
        studies_included=0,
        reports_included=0,
    )
    assert check(counts) == []
    root = parse(counts)
    assert sorted(boxes(root)) == sorted(LEFT + RIGHT) and len(arrows(root)) == 8
    assert box_text(root, "identified") == "Records identified from: Databases (n = 0) Registers (n = 0)"
    assert box_text(root, "reports-excluded") == "Reports excluded (n = 0)"


def test_output_is_deterministic_and_ids_differ_between_diagrams() -> None:
    assert render_svg(COUNTS) == render_svg(COUNTS)
    ids = [{el.get("id") for el in parse(c).iter() if el.get("id")} for c in (COUNTS, BIG)]
    assert len(ids[0]) == len(ids[1]) == 3 and not ids[0] & ids[1]


def test_module_does_not_import_django() -> None:
    root = Path(__file__).resolve().parents[2]
    code = "import sys, screening.prisma; sys.exit('django' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=root, check=False).returncode == 0
