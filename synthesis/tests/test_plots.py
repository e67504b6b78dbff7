"""Forest and funnel plots (synthesis/plots.py), fed summary dicts shaped like synthesis.stats.analyse()'s."""

from __future__ import annotations

import itertools
import math
import random
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import defusedxml.ElementTree as ET
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.text import Text

from synthesis import plots

SVG = "{http://www.w3.org/2000/svg}"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
Z95 = 1.959963984540054


# ---------------------------------------------------------------------------------------------------------------
# Fixtures: summaries built by hand (stats.py is not imported; its output shape is the contract)


def _study(label: str, yi: float | None, se: float | None, *, ratio: bool, **fields: Any) -> dict[str, Any]:
    back = math.exp if ratio else (lambda u: u)
    row: dict[str, Any] = {
        "label": label,
        "subgroup": None,
        "effect": None if yi is None else back(yi),
        "ci_low": None if yi is None or se is None else back(yi - Z95 * se),
        "ci_high": None if yi is None or se is None else back(yi + Z95 * se),
        "yi": yi,
        "se": se,
        "weight": None,
        "excluded": None,
        "corrected": False,
        "events_1": None,
        "total_1": None,
        "events_2": None,
        "total_2": None,
        "mean_1": None,
        "sd_1": None,
        "mean_2": None,
        "sd_2": None,
        "estimate": None,
        "se_given": None,
    }
    row.update(fields)
    return row


def _binary(label: str, e1: int, n1: int, e2: int, n2: int, **fields: Any) -> dict[str, Any]:
    """A risk-ratio row from a 2x2 table (0.5 added to every cell when one is zero)."""
    corrected = 0 in (e1, e2, n1 - e1, n2 - e2)
    a, c = (e1 + 0.5, e2 + 0.5) if corrected else (e1, e2)
    m1, m2 = (n1 + 1, n2 + 1) if corrected else (n1, n2)
    yi = math.log((a / m1) / (c / m2))
    se = math.sqrt(1 / a - 1 / m1 + 1 / c - 1 / m2)
    return _study(
        label, yi, se, ratio=True, events_1=e1, total_1=n1, events_2=e2, total_2=n2, corrected=corrected, **fields
    )


def _pool(rows: list[dict[str, Any]], *, ratio: bool, tau2: float = 0.0) -> dict[str, Any]:
    """Inverse-variance pooling (tau² given), enough to give the fixtures consistent numbers."""
    usable = [r for r in rows if r["yi"] is not None and r["se"] is not None and not r["excluded"]]
    weights = [1 / (r["se"] ** 2 + tau2) for r in usable]
    total = sum(weights)
    estimate = sum(w * r["yi"] for w, r in zip(weights, usable, strict=True)) / total
    se = math.sqrt(1 / total)
    fixed = [1 / r["se"] ** 2 for r in usable]
    fixed_mean = sum(w * r["yi"] for w, r in zip(fixed, usable, strict=True)) / sum(fixed)
    q = sum(w * (r["yi"] - fixed_mean) ** 2 for w, r in zip(fixed, usable, strict=True))
    df = len(usable) - 1
    back = math.exp if ratio else (lambda u: u)
    return {
        "weights": [100 * w / total for w in weights],
        "log_estimate": estimate,
        "estimate": back(estimate),
        "ci_low": back(estimate - Z95 * se),
        "ci_high": back(estimate + Z95 * se),
        "se": se,
        "z": estimate / se,
        "p": math.erfc(abs(estimate / se) / math.sqrt(2)),
        "q": q,
        "df": df,
        "i2": max(0.0, 100 * (q - df) / q) if q > 0 else 0.0,
        "p_heterogeneity": 0.3 if df else None,
        "usable": usable,
    }


def _summary(measure: str, rows: list[dict[str, Any]], *, pooled: bool = True, **overrides: Any) -> dict[str, Any]:
    ratio = overrides.pop("ratio", measure in {"RR", "OR"})
    model = overrides.pop("model", "random")
    tau2 = overrides.pop("tau2", 0.05 if model == "random" else None)
    pooled_result = _pool(rows, ratio=ratio, tau2=tau2 or 0.0)
    if pooled:
        for row, weight in zip(pooled_result["usable"], pooled_result["weights"], strict=True):
            row["weight"] = weight
    summary: dict[str, Any] = {
        "measure": measure,
        "model": model,
        "method": "REML" if model == "random" else "MH",
        "hksj": False,
        "pooled": pooled,
        "ratio": ratio,
        "estimate": pooled_result["estimate"] if pooled else None,
        "ci_low": pooled_result["ci_low"] if pooled else None,
        "ci_high": pooled_result["ci_high"] if pooled else None,
        "log_estimate": pooled_result["log_estimate"] if pooled else None,
        "se": pooled_result["se"] if pooled else None,
        "z": pooled_result["z"] if pooled else None,
        "p": pooled_result["p"] if pooled else None,
        "t_df": None,
        "tau2": tau2,
        "tau": math.sqrt(tau2) if tau2 is not None else None,
        "i2": pooled_result["i2"],
        "h2": None,
        "q": pooled_result["q"],
        "df": pooled_result["df"],
        "p_heterogeneity": pooled_result["p_heterogeneity"],
        "prediction_low": None,
        "prediction_high": None,
        "studies": len(rows),
        "participants": sum((r["total_1"] or 0) + (r["total_2"] or 0) for r in rows),
        "events_1": sum(r["events_1"] or 0 for r in rows) if measure in {"RR", "OR", "RD"} else None,
        "total_1": sum(r["total_1"] or 0 for r in rows),
        "events_2": sum(r["events_2"] or 0 for r in rows) if measure in {"RR", "OR", "RD"} else None,
        "total_2": sum(r["total_2"] or 0 for r in rows),
        "per_study": rows,
        "notes": [],
        "subgroups": [],
        "subgroup_test": None,
        "leave_one_out": [],
    }
    summary.update(overrides)
    return summary


BCG = [
    ("Aronson 1948", 4, 123, 11, 139, "random"),
    ("Ferguson & Simes 1949", 6, 306, 29, 303, "random"),
    ("Rosenthal et al 1960", 3, 231, 11, 220, "random"),
    ("Hart & Sutherland 1977", 62, 13598, 248, 12867, "random"),
    ("Frimodt-Moller et al 1973", 33, 5069, 47, 5808, "alternate"),
    ("Stein & Aronson 1953", 180, 1541, 372, 1451, "alternate"),
    ("Vandiviere et al 1973", 8, 2545, 10, 629, "random"),
    ("TPT Madras 1980", 505, 88391, 499, 88391, "random"),
    ("Coetzee & Berjak 1968", 29, 7499, 45, 7277, "random"),
    ("Rosenthal et al 1961", 17, 1716, 65, 1665, "systematic"),
    ("Comstock et al 1974", 186, 50634, 141, 27338, "systematic"),
    ("Comstock & Webster 1969", 5, 2498, 3, 2341, "systematic"),
    ("Comstock et al 1976", 27, 16913, 29, 17854, "systematic"),
]


def bcg_summary(**overrides: Any) -> dict[str, Any]:
    """Thirteen BCG trials, pooled with random effects (REML), with the published heterogeneity numbers."""
    rows = [_binary(label, e1, n1, e2, n2) for label, e1, n1, e2, n2, _ in BCG]
    summary = _summary(
        "RR",
        rows,
        tau2=0.3132,
        q=152.233,
        i2=92.22,
        h2=12.86,
        p_heterogeneity=5.7e-26,
        prediction_low=0.1532,
        prediction_high=1.5637,
    )
    summary.update(overrides)
    return summary


def bcg_subgroup_summary() -> dict[str, Any]:
    rows = [_binary(label, e1, n1, e2, n2, subgroup=alloc) for label, e1, n1, e2, n2, alloc in BCG]
    summary = _summary("RR", rows, tau2=0.3132, q=152.233, i2=92.22, p_heterogeneity=5.7e-26)
    subgroups = []
    for name in ("random", "alternate", "systematic"):
        members = [r for r in rows if r["subgroup"] == name]
        result = _pool(members, ratio=True, tau2=0.3)
        subgroups.append(
            {
                "name": name,
                "estimate": result["estimate"],
                "ci_low": result["ci_low"],
                "ci_high": result["ci_high"],
                "log_estimate": result["log_estimate"],
                "se": result["se"],
                "tau2": 0.3,
                "i2": result["i2"],
                "q": result["q"],
                "df": result["df"],
                "p_heterogeneity": 0.01,
                "studies": len(members),
                "participants": sum(r["total_1"] + r["total_2"] for r in members),
            }
        )
    summary["subgroups"] = subgroups
    summary["subgroup_test"] = {"q": 1.86, "df": 2, "p": 0.39, "i2": 0.0}
    return summary


def ketamine_summary() -> dict[str, Any]:
    """The seed review: three ketamine trials, four rows (Mercadante's two doses), pooling judged inappropriate."""
    rows = [
        _binary("Yang 1996", 8, 10, 3, 10),
        _binary("Mercadante 2000 (0.25 mg/kg)", 6, 10, 2, 5),
        _binary("Mercadante 2000 (0.5 mg/kg)", 8, 10, 2, 5),
        _binary("Hardy 2012", 31, 93, 25, 92),
    ]
    return _summary(
        "RR",
        rows,
        pooled=False,
        studies=3,
        notes=["Pooling judged inappropriate: routes, doses and designs (two crossover trials) differ."],
    )


def pain_md_summary() -> dict[str, Any]:
    data = [
        ("Adams 2004", -1.2, 0.45, 3.1, 1.9, 40, 4.3, 2.1, 41),
        ("Baker 2007", -0.4, 0.60, 4.0, 2.2, 25, 4.4, 2.0, 24),
        ("Chen 2010", -2.1, 0.35, 2.8, 1.5, 60, 4.9, 1.7, 58),
        ("Dubois 2013", -0.9, 0.50, 3.5, 2.0, 33, 4.4, 2.4, 35),
        ("Evans 2019", 0.3, 0.80, 5.2, 2.6, 15, 4.9, 2.5, 16),
    ]
    rows = [
        _study(
            label,
            yi,
            se,
            ratio=False,
            mean_1=m1,
            sd_1=s1,
            total_1=n1,
            mean_2=m2,
            sd_2=s2,
            total_2=n2,
        )
        for label, yi, se, m1, s1, n1, m2, s2, n2 in data
    ]
    return _summary("MD", rows, hksj=True, t_df=4, prediction_low=-2.9, prediction_high=0.8)


def many_studies_summary(k: int, *, seed: int = 7) -> dict[str, Any]:
    rng = random.Random(seed)  # noqa: S311 - reproducible fixture data, not secrets
    rows = []
    for i in range(k):
        n1, n2 = rng.randint(20, 400), rng.randint(20, 400)
        e1, e2 = rng.randint(1, n1 // 3), rng.randint(1, n2 // 3)
        rows.append(
            _binary(
                f"Trial {i + 1:02d} {rng.choice(['Smith', 'Nguyen', 'Okafor', 'García'])} {1990 + i}", e1, n1, e2, n2
            )
        )
    return _summary("RR", rows)


FAVOURS: dict[str, Any] = {"intervention": "ketamine + opioid", "control": "opioid"}


def _svg_text(svg: bytes) -> str:
    root = ET.fromstring(svg)
    return " ".join(t for t in root.itertext())


def _ids(svg: bytes) -> set[str]:
    return {element.get("id") for element in ET.fromstring(svg).iter() if element.get("id")}


def _squares(fig: Figure) -> PathCollection:
    (squares,) = [c for c in fig.axes[0].collections if c.get_gid() == "study-squares"]
    assert isinstance(squares, PathCollection)
    return squares


def _forest(summary: dict[str, Any], direction: str = "lower_is_better", **kwargs: Any) -> bytes:
    return plots.forest_svg(summary, title="Pain relief", direction=direction, **FAVOURS, **kwargs)


# ---------------------------------------------------------------------------------------------------------------
# Forest plot


def test_forest_svg_is_xml_with_title_desc_labels_and_effects() -> None:
    summary = bcg_summary()
    svg = plots.forest_svg(
        summary,
        title="BCG vaccine: tuberculosis",
        intervention="BCG",
        control="No vaccine",
        direction="lower_is_better",
    )
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert [t.text for t in root.findall(f"{SVG}title")] == ["BCG vaccine: tuberculosis"]
    assert next(iter(root)).tag == f"{SVG}title"  # the first child names the image for screen readers
    desc = root.find(f"{SVG}desc").text
    assert desc.startswith("Forest plot of 13 studies: pooled risk ratio 0.49 (95% CI ")
    assert "random effects (REML)" in desc
    text = _svg_text(svg)
    for row in summary["per_study"]:
        assert row["label"] in text
        assert plots.format_effect(row["effect"], row["ci_low"], row["ci_high"], ratio=True) in text
    assert "Total (95% CI)" in text
    assert plots.format_effect(summary["estimate"], summary["ci_low"], summary["ci_high"], ratio=True) in text
    assert "Heterogeneity: Tau² = 0.31; Chi² = 152.23, df = 12 (P < 0.00001); I² = 92%" in text
    assert "Test for overall effect: Z = " in text
    assert "Random effects (REML)" in text
    assert "100.0%" in text
    assert "Total events" in text
    ids = _ids(svg)
    assert "pooled-diamond" in ids
    assert "prediction-interval" in ids
    assert "font-family: 'DejaVu Sans', Arial, sans-serif" in svg.decode()


def test_not_pooled_has_no_diamond_and_says_so() -> None:
    summary = ketamine_summary()
    svg = _forest(summary, direction="higher_is_better")
    text = _svg_text(svg)
    assert "Not pooled" in text
    assert "pooled-diamond" not in _ids(svg)
    assert "Test for overall effect" not in text
    assert ET.fromstring(svg).find(f"{SVG}desc").text == "Forest plot of 3 studies; not pooled."
    for label in ("Yang 1996", "Mercadante 2000 (0.25 mg/kg)", "Mercadante 2000 (0.5 mg/kg)", "Hardy 2012"):
        assert label in text
    # Weights are only shown for a pooled analysis.
    assert "Weight" not in text
    assert "Pooling judged inappropriate" in text


def test_pooled_has_diamond() -> None:
    assert "pooled-diamond" in _ids(_forest(bcg_summary()))


def test_pooling_asked_for_but_not_estimable() -> None:
    summary = bcg_summary(estimate=None, ci_low=None, ci_high=None, z=None, p=None, q=None, tau2=None, i2=None)
    summary["notes"] = ["Pooled estimate not available: No study could be pooled."]
    svg = _forest(summary)
    assert "pooled-diamond" not in _ids(svg)
    assert "Not estimable" in _svg_text(svg) and "Not pooled" not in _svg_text(svg)
    assert ET.fromstring(svg).find(f"{SVG}desc").text == "Forest plot of 13 studies; pooled estimate not estimable."


def test_favours_labels_follow_the_outcome_direction() -> None:
    def favours(direction: str) -> tuple[str, str]:
        fig = plots.forest_figure(ketamine_summary(), title="t", direction=direction, **FAVOURS)
        texts = {t.get_text(): t for t in fig.texts if t.get_text().startswith("Favours")}
        left, right = sorted(texts.values(), key=lambda t: t.get_position()[0])
        return left.get_text(), right.get_text()

    assert favours("lower_is_better") == ("Favours ketamine + opioid", "Favours opioid")
    assert favours("higher_is_better") == ("Favours opioid", "Favours ketamine + opioid")
    with pytest.raises(ValueError, match="direction"):
        favours("sideways")


def test_ratio_on_log_axis_symmetric_around_one_difference_linear_around_zero() -> None:
    fig = plots.forest_figure(bcg_summary(), title="t", direction="lower_is_better", **FAVOURS)
    (ax,) = fig.axes
    assert ax.get_xscale() == "log"
    low, high = ax.get_xlim()
    assert math.isclose(low * high, 1.0)
    assert 1.0 in list(ax.get_xticks())

    fig = plots.forest_figure(pain_md_summary(), title="t", direction="lower_is_better", unit="points", **FAVOURS)
    (ax,) = fig.axes
    assert ax.get_xscale() == "linear"
    low, high = ax.get_xlim()
    assert math.isclose(low, -high)
    assert "Mean Difference (points)" in [t.get_text() for t in fig.texts]


def test_continuous_rows_show_mean_sd_total_and_hksj() -> None:
    svg = _forest(pain_md_summary(), unit="points")
    text = _svg_text(svg)
    for word in ("Mean", "SD", "Total", "3.1", "1.9", "40", "Adams 2004"):
        assert word in text
    assert "Random effects (REML) with HKSJ" in text
    assert "Test for overall effect: t = " in text and "df = 4" in text
    assert "Prediction interval" in text and "[-2.90, 0.80]" in text


def test_subgroups_have_headers_subtotals_and_the_test_for_differences() -> None:
    svg = _forest(bcg_subgroup_summary())
    text = _svg_text(svg)
    for name in ("random", "alternate", "systematic"):
        assert name in text
    assert text.count("Subtotal (95% CI)") == 3
    assert "Test for subgroup differences: Chi² = 1.86, df = 2 (P = 0.39), I² = 0%" in text
    assert {"subtotal-diamond-1", "subtotal-diamond-2", "subtotal-diamond-3", "pooled-diamond"} <= _ids(svg)


def test_excluded_and_inestimable_studies_have_no_square() -> None:
    summary = bcg_summary()
    summary["per_study"].append(
        _study(
            "Nobody 2001",
            None,
            None,
            ratio=True,
            events_1=0,
            total_1=30,
            events_2=0,
            total_2=31,
            excluded="No events in either group",
        )
    )
    summary["per_study"].append(_study("Missing SE 2005", None, None, ratio=True, events_1=3, total_1=12))
    fig = plots.forest_figure(summary, title="t", direction="lower_is_better", **FAVOURS)
    squares = _squares(fig)
    assert len(np.asarray(squares.get_offsets())) == 13
    text = _svg_text(_forest(summary))
    assert "Nobody 2001" in text and "No events in either group" in text
    assert "Missing SE 2005" in text and "Not estimable" in text and "12" in text


def test_none_everywhere_does_not_crash() -> None:
    keys = list(_study("x", None, None, ratio=True))
    rows = [dict.fromkeys(keys) for _ in range(3)]
    rows[0]["label"] = "Only a label"
    summary: dict[str, Any] = dict.fromkeys(
        ["measure", "model", "method", "hksj", "pooled", "ratio", "estimate", "ci_low", "ci_high", "i2", "q", "df"]
    )
    summary["per_study"] = rows
    for measure in (None, "RR", "MD", "GIV", "SMD", "RD"):
        summary["measure"] = measure
        for pooled in (False, True):
            summary["pooled"] = pooled
            svg = _forest(summary)
            assert "Only a label" in _svg_text(svg)
    assert plots.forest_png(summary, title="t", direction="lower_is_better", **FAVOURS).startswith(PNG_SIGNATURE)
    assert "Not pooled" in _svg_text(_forest({"per_study": None}))


def test_giv_shows_estimate_and_se() -> None:
    rows = [
        _study(f"Cohort {i}", 0.15 * i - 0.3, 0.2, ratio=True, estimate=round(0.15 * i - 0.3, 2), se_given=0.2)
        for i in range(4)
    ]
    text = _svg_text(_forest(_summary("GIV", rows, model="fixed", method="IV", ratio=True, tau2=None)))
    # One number of decimals per column: -0.3 is shown as -0.30 beside -0.15.
    assert "log[Ratio]" in text and "SE" in text and "-0.30" in text and "-0.15" in text and "0.00" in text
    assert "0.74 [0.50, 1.10]" in text  # exp(-0.3 ± 1.96 × 0.2)
    assert "IV, Fixed, 95% CI" in text and "Fixed effect (inverse variance)" in text


def test_same_input_gives_identical_bytes() -> None:
    assert _forest(bcg_summary()) == _forest(bcg_summary())
    png = plots.forest_png(bcg_summary(), title="t", direction="lower_is_better", **FAVOURS)
    assert png == plots.forest_png(bcg_summary(), title="t", direction="lower_is_better", **FAVOURS)
    assert png.startswith(PNG_SIGNATURE)
    assert plots.funnel_svg(bcg_summary(), title="f") == plots.funnel_svg(bcg_summary(), title="f")


def test_threads_draw_the_same_bytes() -> None:
    """Each call owns its Figure; the SVG settings are applied under a lock, so concurrent saves stay stable."""
    expected_svg = _forest(bcg_summary())
    expected_png = plots.forest_png(ketamine_summary(), title="t", direction="lower_is_better", **FAVOURS)

    def draw(i: int) -> bytes:
        if i % 2:
            return plots.forest_png(ketamine_summary(), title="t", direction="lower_is_better", **FAVOURS)
        return _forest(bcg_summary())

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(draw, range(8)))
    assert results == [expected_png if i % 2 else expected_svg for i in range(8)]


def test_title_and_labels_are_escaped() -> None:
    rows = [_binary("O'Brien <pilot> & co 2020", 3, 10, 5, 10)]
    svg = plots.forest_svg(
        _summary("RR", rows, pooled=False),
        title="Death <30 days & more",
        intervention="A&B",
        control="<C>",
        direction="lower_is_better",
    )
    root = ET.fromstring(svg)
    assert root.find(f"{SVG}title").text == "Death <30 days & more"
    assert "O'Brien <pilot> & co 2020" in _svg_text(svg)
    assert "Favours <C>" in _svg_text(svg)


def _text_boxes(fig: Figure) -> list[tuple[Text, Any]]:
    renderer = FigureCanvasAgg(fig).get_renderer()
    return [(t, t.get_window_extent(renderer)) for t in fig.texts if t.get_text()]


@pytest.mark.parametrize(
    "summary",
    [
        pytest.param(many_studies_summary(40), id="40-studies"),
        pytest.param(bcg_subgroup_summary(), id="subgroups"),
        pytest.param(pain_md_summary(), id="continuous"),
        pytest.param(ketamine_summary(), id="not-pooled"),
    ],
)
def test_no_text_overlaps_and_nothing_is_clipped(summary: dict[str, Any]) -> None:
    fig = plots.forest_figure(summary, title="Outcome title", direction="lower_is_better", **FAVOURS)
    boxes = _text_boxes(fig)
    assert len(boxes) > 20
    for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2):
        # Shrunk by half a pixel: boxes that only touch are fine.
        assert not box_a.shrunk(0.99, 0.9).overlaps(box_b.shrunk(0.99, 0.9)), (a.get_text(), b.get_text())
    figure_box = fig.bbox
    (ax,) = fig.axes
    plot_box = ax.get_window_extent()
    for text, box in boxes:
        assert figure_box.x0 <= box.x0 and box.x1 <= figure_box.x1, text.get_text()
        assert figure_box.y0 <= box.y0 and box.y1 <= figure_box.y1, text.get_text()
        # Table text stays left of the plot column; only headings, ticks and Favours labels are drawn over it.
        if plot_box.y0 < box.y0 < plot_box.y1 and box.y1 < plot_box.y1:
            assert box.x1 <= plot_box.x0 or box.x0 >= plot_box.x1, text.get_text()


def test_figure_grows_with_rows() -> None:
    small = plots.forest_figure(many_studies_summary(5), title="t", direction="lower_is_better", **FAVOURS)
    large = plots.forest_figure(many_studies_summary(40), title="t", direction="lower_is_better", **FAVOURS)
    assert large.get_figheight() > small.get_figheight() + 35 * 13 / 72 - 0.01


def test_square_area_follows_weight() -> None:
    summary = bcg_summary()
    fig = plots.forest_figure(summary, title="t", direction="lower_is_better", **FAVOURS)
    squares = _squares(fig)
    sizes = list(squares.get_sizes())
    weights = [row["weight"] for row in summary["per_study"]]
    heaviest = weights.index(max(weights))
    lightest = weights.index(min(weights))
    assert sizes[heaviest] == max(sizes)
    ratio = sizes[heaviest] / sizes[lightest]
    assert ratio == pytest.approx(max(weights) / min(weights), rel=0.01) or sizes[lightest] == 9.0

    not_pooled = plots.forest_figure(ketamine_summary(), title="t", direction="lower_is_better", **FAVOURS)
    squares = _squares(not_pooled)
    assert len(set(squares.get_sizes())) == 1


def test_p_values_the_revman_way() -> None:
    assert plots.format_p(3e-7) == "P < 0.00001"
    assert plots.format_p(6.3e-5) == "P < 0.0001"
    assert plots.format_p(0.00042) == "P = 0.0004"
    assert plots.format_p(0.0031) == "P = 0.003"
    assert plots.format_p(0.29) == "P = 0.29"
    assert plots.format_effect(0.4894, 0.3441, 0.6962, ratio=True) == "0.49 [0.34, 0.70]"
    assert plots.format_effect(-1.234, -2.5, 0.031, ratio=False) == "-1.23 [-2.50, 0.03]"


# ---------------------------------------------------------------------------------------------------------------
# Funnel plot


def test_funnel_needs_ten_studies_with_a_standard_error() -> None:
    with pytest.raises(ValueError, match="at least 10 studies with a standard error; this analysis has 4"):
        plots.funnel_svg(ketamine_summary(), title="f")
    summary = bcg_summary()
    for row in summary["per_study"][:4]:
        row["se"] = None
    with pytest.raises(ValueError, match="this analysis has 9"):
        plots.funnel_png(summary, title="f")


def test_funnel_svg_and_png() -> None:
    svg = plots.funnel_svg(bcg_summary(), title="BCG funnel")
    root = ET.fromstring(svg)
    assert root.find(f"{SVG}title").text == "BCG funnel"
    assert root.find(f"{SVG}desc").text.startswith("Funnel plot of 13 studies")
    assert "pseudo-confidence-limits" in _ids(svg)
    fig = plots.funnel_figure(bcg_summary(), title="BCG funnel")
    (ax,) = fig.axes
    assert ax.get_xscale() == "log"
    low, high = ax.get_ylim()
    assert low > high == 0  # inverted: precise studies at the top
    assert plots.funnel_png(bcg_summary(), title="BCG funnel").startswith(PNG_SIGNATURE)
    assert plots.funnel_png(many_studies_summary(12), title="f").startswith(PNG_SIGNATURE)


def test_funnel_for_subgroups_and_differences() -> None:
    fig = plots.funnel_figure(bcg_subgroup_summary(), title="by allocation")
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert {"random", "alternate", "systematic"} <= set(labels)
    rows = [_study(f"S{i}", (i - 6) * 0.3, 0.2 + 0.05 * i, ratio=False) for i in range(12)]
    fig = plots.funnel_figure(_summary("MD", rows), title="md")
    assert fig.axes[0].get_xscale() == "linear"


def test_without_subgroup_sections_a_studys_rows_are_told_apart_by_their_subgroup() -> None:
    summary = {
        "measure": "RR", "model": "random", "method": "REML", "hksj": False, "pooled": False, "ratio": True,
        "per_study": [
            {"label": "Mercadante 2000", "subgroup": "0.25 mg/kg", "effect": 3.0, "ci_low": 0.14, "ci_high": 65.9,
             "events_1": 1, "total_1": 10, "events_2": 0, "total_2": 10},
            {"label": "Mercadante 2000", "subgroup": "0.5 mg/kg", "effect": 9.0, "ci_low": 0.55, "ci_high": 147.95,
             "events_1": 4, "total_1": 10, "events_2": 0, "total_2": 10},
        ],
        "subgroups": [], "notes": [],
    }  # fmt: skip
    svg = plots.forest_svg(
        summary, title="Hallucinations", intervention="Ketamine", control="Placebo", direction="lower_is_better"
    ).decode()
    assert "Mercadante 2000 (0.25 mg/kg)" in svg and "Mercadante 2000 (0.5 mg/kg)" in svg
