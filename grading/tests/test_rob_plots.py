"""Traffic-light and summary risk-of-bias plots (grading.plots; pure, no database)."""

from __future__ import annotations

from typing import Any

import pytest
from defusedxml import ElementTree
from matplotlib.patches import Rectangle

from grading.plots import (
    COLOURS,
    summary_bar_figure,
    summary_bar_png,
    summary_bar_svg,
    traffic_light_figure,
    traffic_light_png,
    traffic_light_svg,
)

_SVG = "{http://www.w3.org/2000/svg}"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

ROWS: list[tuple[str, dict[str, str], str]] = [
    (
        "Ketamine crossover 2010",
        {"D1": "some concerns", "D2": "low", "D3": "low", "D4": "low", "D5": "low"},
        "some concerns",
    ),
    ("Two-dose crossover 2012", {"D1": "high", "D2": "low", "D3": "no information", "D4": "low", "D5": "low"}, "high"),
    ("Parallel trial 2018", {"D1": "low", "D2": "low", "D3": "low", "D4": "low", "D5": "low"}, "low"),
]


def _root(svg: bytes) -> Any:
    return ElementTree.fromstring(svg)


def _all_text(root: Any) -> str:
    return " ".join("".join(element.itertext()) for element in root.iter(f"{_SVG}text"))


def test_traffic_light_svg_parses_with_title_desc_labels_and_colours() -> None:
    svg = traffic_light_svg(ROWS, tool="rob2", title="Risk of bias: pain intensity")
    root = _root(svg)
    assert root.find(f"{_SVG}title").text == "Risk of bias: pain intensity"
    desc = root.find(f"{_SVG}desc").text
    assert "3 studies" in desc
    assert "1 low, 1 some concerns, 1 high" in desc
    text = _all_text(root)
    for label in ("Ketamine crossover 2010", "Two-dose crossover 2012", "Parallel trial 2018"):
        assert label in text
    assert "D1: Bias arising from the randomisation process" in text
    assert "D5: Bias in selection of the reported result" in text
    for symbol in ("+", "−", "×", "?"):
        assert symbol in text
    body = svg.decode()
    for key in ("low", "some_concerns", "high", "no_information"):
        assert f"fill: {COLOURS[key]}" in body
    assert f"fill: {COLOURS['critical']}" not in body  # RoB 2 has no critical


def test_traffic_light_figure_has_one_circle_per_judgement() -> None:
    fig = traffic_light_figure(ROWS, tool="rob2", title="t")
    circles = [p for p in fig.axes[0].patches if (p.get_gid() or "").startswith("rob-")]
    # 3 studies × (5 domains + overall) + the 4 circles of the key.
    assert len(circles) == 3 * 6 + 4
    assert sum(p.get_gid() == "rob-high" for p in circles) == 2 + 1


def test_robins_uses_critical_and_rob1_uses_unclear() -> None:
    rows = [("Cohort 2015", {f"D{i}": "low" for i in range(1, 8)} | {"D1": "critical", "D2": "serious"}, "critical")]
    svg = traffic_light_svg(rows, tool="robins", title="ROBINS-I").decode()
    assert f"fill: {COLOURS['critical']}" in svg
    assert "!" in _all_text(_root(svg.encode()))
    assert "D1: Bias due to confounding" in _all_text(_root(svg.encode()))
    rob1 = [("Trial 1999", {"D1": "unclear", "D7": "low"}, "unclear")]
    text = _all_text(_root(traffic_light_svg(rob1, tool="rob1", title="RoB 1")))
    assert "Unclear" in text
    assert "D2: Allocation concealment (selection bias)" in text


@pytest.mark.parametrize(
    ("rows", "tool", "message"),
    [
        (ROWS, "rob3", "tool must be one of"),
        ([("A", {"D6": "low"}, "low")], "rob2", "unknown domain D6"),
        ([("A", {"D1": "dubious"}, "low")], "rob2", "A D1: unknown RoB 2 judgement 'dubious'"),
        ([], "rob2", "no studies"),
    ],
)
def test_invalid_input_raises_value_error(rows: list[Any], tool: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        traffic_light_svg(rows, tool=tool, title="t")


def _widths(rows: list[Any], weights: dict[str, float] | None, column: str) -> dict[str, float]:
    fig = summary_bar_figure(rows, weights=weights, tool="rob2", title="Summary")
    prefix = f"bar-{column}-"
    return {
        (patch.get_gid() or "")[len(prefix) :]: patch.get_width()
        for patch in fig.axes[0].patches
        if isinstance(patch, Rectangle) and (patch.get_gid() or "").startswith(prefix)
    }


def test_summary_bar_unweighted_shares_of_studies() -> None:
    widths = _widths(ROWS, None, "Overall")
    total = sum(widths.values())
    assert widths["low"] / total == pytest.approx(1 / 3)
    assert widths["some_concerns"] / total == pytest.approx(1 / 3)
    assert widths["high"] / total == pytest.approx(1 / 3)
    d2 = _widths(ROWS, None, "D2")
    assert list(d2) == ["low"]
    assert d2["low"] == pytest.approx(total)


def test_summary_bar_weighting_changes_the_proportions() -> None:
    weights = {"Ketamine crossover 2010": 10.0, "Two-dose crossover 2012": 5.0, "Parallel trial 2018": 85.0}
    widths = _widths(ROWS, weights, "Overall")
    total = sum(widths.values())
    assert widths["low"] / total == pytest.approx(0.85)
    assert widths["some_concerns"] / total == pytest.approx(0.10)
    assert widths["high"] / total == pytest.approx(0.05)
    assert widths["low"] > _widths(ROWS, None, "Overall")["low"]
    d3 = _widths(ROWS, weights, "D3")
    assert d3["no_information"] / sum(d3.values()) == pytest.approx(0.05)


def test_summary_bar_svg_parses_with_description_and_colours() -> None:
    weights = {"Ketamine crossover 2010": 10.0, "Two-dose crossover 2012": 5.0, "Parallel trial 2018": 85.0}
    svg = summary_bar_svg(ROWS, weights=weights, tool="rob2", title="Summary")
    root = _root(svg)
    assert root.find(f"{_SVG}title").text == "Summary"
    desc = root.find(f"{_SVG}desc").text
    assert "weighted by the analysis weights" in desc
    assert "Overall: low 85%, some concerns 10%, high 5%" in desc
    text = _all_text(root)
    assert "Overall risk of bias" in text
    assert "100%" in text
    for key in ("low", "some_concerns", "high", "no_information"):
        assert f"fill: {COLOURS[key]}" in svg.decode()


def test_summary_bar_rejects_bad_weights() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        summary_bar_svg(ROWS, weights={"Parallel trial 2018": -1.0}, tool="rob2", title="t")
    with pytest.raises(ValueError, match="weight"):
        summary_bar_svg(ROWS, weights={"Someone else": 10.0}, tool="rob2", title="t")


def test_png_signature() -> None:
    assert traffic_light_png(ROWS, tool="rob2", title="t").startswith(_PNG_SIGNATURE)
    assert summary_bar_png(ROWS, weights=None, tool="rob2", title="t").startswith(_PNG_SIGNATURE)


def test_identical_input_gives_identical_bytes() -> None:
    first = traffic_light_svg(ROWS, tool="rob2", title="t")
    assert traffic_light_svg(ROWS, tool="rob2", title="t") == first
    assert summary_bar_svg(ROWS, weights=None, tool="rob2", title="t") == summary_bar_svg(
        ROWS, weights=None, tool="rob2", title="t"
    )
    assert traffic_light_png(ROWS, tool="rob2", title="t") == traffic_light_png(ROWS, tool="rob2", title="t")


def test_a_plot_drawn_again_with_the_same_inputs_comes_from_the_cache():
    from django.core.cache import cache

    from grading import plots as module
    from grading.plot_cache import rendered

    cache.clear()
    calls: list[int] = []

    def counting(**inputs):
        calls.append(1)
        return module.summary_bar_svg(**inputs)

    rows = [("A 2001", {"D1": "low", "D2": "high", "D3": "low", "D4": "low", "D5": "low"}, "high")]
    first = rendered(counting, rows=rows, tool="rob2", title="T")
    assert rendered(counting, rows=rows, tool="rob2", title="T") == first and len(calls) == 1
    rows[0][1]["D2"] = "low"  # another judgement: another plot
    assert rendered(counting, rows=rows, tool="rob2", title="T") != first and len(calls) == 2
    assert rendered(counting, rows=rows, tool="rob2", title="Other title") and len(calls) == 3


def test_a_dollar_sign_in_a_label_or_title_is_text_not_mathtext():
    rows = [("Smith $\\frac$ 2019", {"D1": "low", "D2": "low", "D3": "low", "D4": "low", "D5": "high"}, "high")]
    for svg in (
        traffic_light_svg(rows, tool="rob2", title="Cost $5 vs $10"),
        summary_bar_svg(rows, tool="rob2", title="Pain $x^{2$ score"),
    ):
        text = _all_text(_root(svg))
        assert "$" in text
