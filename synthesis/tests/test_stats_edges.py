"""synthesis.stats by hand: single studies, zero cells, exclusions, identical studies, bad input, subgroups,
leave-one-out, the result's shape, and property tests that it only ever raises StatsInputError."""

import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from synthesis import stats, stats_engine
from synthesis.stats import StatsInputError, StudyData

RESULT_KEYS = {
    "measure", "model", "method", "hksj", "pooled", "ratio", "estimate", "ci_low", "ci_high", "log_estimate", "se",
    "z", "p", "t_df", "tau2", "tau", "i2", "h2", "q", "df", "p_heterogeneity", "prediction_low", "prediction_high",
    "studies", "participants", "events_1", "total_1", "events_2", "total_2", "per_study", "notes", "subgroups",
    "subgroup_test", "leave_one_out",
}  # fmt: skip
STUDY_KEYS = {
    "label", "subgroup", "effect", "ci_low", "ci_high", "yi", "se", "weight", "excluded", "corrected", "events_1",
    "total_1", "events_2", "total_2", "mean_1", "sd_1", "mean_2", "sd_2", "estimate", "se_given",
}  # fmt: skip
SUBGROUP_KEYS = {
    "name", "estimate", "ci_low", "ci_high", "log_estimate", "se", "tau2", "i2", "q", "df", "p_heterogeneity",
    "studies", "participants",
}  # fmt: skip
POOLED_KEYS = {
    "estimate", "ci_low", "ci_high", "log_estimate", "se", "z", "p", "t_df", "tau2", "tau", "i2", "h2", "q", "df",
    "p_heterogeneity", "prediction_low", "prediction_high",
}  # fmt: skip
ALL_MODELS = [
    ("fixed", "IV", False), ("fixed", "MH", False), ("fixed", "PETO", False), ("random", "DL", False),
    ("random", "REML", False), ("random", "PM", False), ("random", "ML", False), ("random", "DL", True),
    ("random", "REML", True),
]  # fmt: skip


def table(label: str, e1: int, n1: int, e2: int, n2: int, subgroup: str = "") -> StudyData:
    return StudyData(label=label, subgroup=subgroup, events_1=e1, total_1=n1, events_2=e2, total_2=n2)


TRIALS = [
    table("Hardy 2012", 12, 100, 20, 98, "adults"),
    table("Yang 1996", 5, 40, 11, 42, "adults"),
    table("Okafor 2019", 30, 210, 33, 205, "children"),
    table("Lindqvist 2004", 8, 64, 19, 61, "children"),
    table("Mendes 2015", 22, 150, 21, 149, "adults"),
    table("Ito 2008", 3, 30, 9, 31, "children"),
]


def valid_models(measure: str) -> list[tuple[str, str, bool]]:
    return [
        (model, method, hksj)
        for model, method, hksj in ALL_MODELS
        if not (method == "MH" and measure not in ("RR", "OR", "RD")) and not (method == "PETO" and measure != "OR")
    ]


def assert_json(result: dict) -> None:
    json.dumps(result, allow_nan=False)

    def walk(value):
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        else:
            assert value is None or type(value) in (bool, int, float, str), type(value)
            if isinstance(value, float):
                assert math.isfinite(value)

    walk(result)


# --- shape ---------------------------------------------------------------------------------------------------


def test_result_has_exactly_the_agreed_keys():
    result = stats.analyse(TRIALS, measure="RR", model="random", method="REML")
    assert set(result) == RESULT_KEYS
    assert all(set(row) == STUDY_KEYS for row in result["per_study"])
    assert all(set(row) == SUBGROUP_KEYS for row in result["subgroups"])
    assert set(result["subgroup_test"]) == {"q", "df", "p", "i2"}
    assert all(
        set(row) == {"omitted", "estimate", "ci_low", "ci_high", "tau2", "i2"} for row in result["leave_one_out"]
    )
    assert [row["label"] for row in result["per_study"]] == [t.label for t in TRIALS]
    assert sum(row["weight"] for row in result["per_study"]) == pytest.approx(100)
    assert (result["events_1"], result["total_1"]) == (80, 594)
    assert result["participants"] == 594 + 586
    assert_json(result)


@pytest.mark.parametrize("measure", ["RR", "OR", "RD"])
def test_every_model_of_dichotomous_data_is_json(measure):
    for model, method, hksj in valid_models(measure):
        result = stats.analyse(TRIALS, measure=measure, model=model, method=method, hksj=hksj)
        assert_json(result)
        assert result["ratio"] is (measure != "RD")
        assert (result["tau2"] is None) is (model == "fixed")
        assert (result["t_df"] == 5) is hksj


def test_confidence_level():
    at95 = stats.analyse(TRIALS, measure="OR", model="fixed", method="IV")
    at90 = stats.analyse(TRIALS, measure="OR", model="fixed", method="IV", level=0.9)
    assert at90["ci_high"] < at95["ci_high"]
    assert math.log(at90["ci_high"]) == pytest.approx(at90["log_estimate"] + sps.norm.isf(0.05) * at90["se"])
    row = at90["per_study"][0]
    assert math.log(row["ci_low"]) == pytest.approx(row["yi"] - sps.norm.isf(0.05) * row["se"])


# --- a single study ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("model", "method", "hksj"), ALL_MODELS)
def test_single_study_is_its_own_estimate_without_heterogeneity(model, method, hksj):
    only = [table("Hardy 2012", 12, 100, 20, 98)]
    result = stats.analyse(only, measure="OR", model=model, method=method, hksj=hksj)
    row = result["per_study"][0]
    if method == "IV" or model == "random":
        assert result["log_estimate"] == pytest.approx(row["yi"], abs=1e-14)
        assert result["se"] == pytest.approx(row["se"], abs=1e-14)
        assert (result["ci_low"], result["ci_high"]) == pytest.approx((row["ci_low"], row["ci_high"]), abs=1e-14)
    assert result["studies"] == 1 and result["df"] == 0
    for key in ("q", "p_heterogeneity", "i2", "h2", "tau2", "tau", "prediction_low", "prediction_high", "t_df"):
        assert result[key] is None, key
    assert result["leave_one_out"] == [] and row["weight"] == 100
    if hksj:
        assert any("needs 2 or more studies" in note for note in result["notes"])
    assert_json(result)


# --- zero cells and excluded studies -------------------------------------------------------------------------


def test_zero_cell_gets_half_added_to_every_cell():
    studies = [table("Hardy 2012", 0, 10, 5, 10), *TRIALS[1:4]]
    result = stats.analyse(studies, measure="RR", model="fixed", method="IV")
    hardy = result["per_study"][0]
    # a = 0.5, n1 = 11, c = 5.5, n2 = 11: ln RR = ln((0.5/11)/(5.5/11)) = −ln 11; var = 1/0.5 − 1/11 + 1/5.5 − 1/11
    assert hardy["yi"] == pytest.approx(-math.log(11), abs=1e-14)
    assert hardy["se"] ** 2 == pytest.approx(2.0, abs=1e-14)
    assert hardy["corrected"] is True and hardy["excluded"] is None
    assert hardy["effect"] == pytest.approx(1 / 11)
    assert result["notes"] == ["0.5 added to each cell of 1 study with a zero cell (Hardy 2012)."]
    # the odds ratio: ln((0.5·5.5)/(10.5·5.5)) = −ln 21, var = 1/0.5 + 1/10.5 + 1/5.5 + 1/5.5
    odds = stats.analyse(studies, measure="OR", model="random", method="DL")["per_study"][0]
    assert odds["yi"] == pytest.approx(-math.log(21), abs=1e-14)
    assert odds["se"] ** 2 == pytest.approx(2 + 1 / 10.5 + 2 / 5.5, abs=1e-14)
    # and the raw event counts are still what the row shows
    assert (hardy["events_1"], hardy["total_1"]) == (0, 10)


def test_zero_cells_note_lists_every_corrected_study():
    studies = [table("Hardy 2012", 0, 10, 5, 10), table("Yang 1996", 4, 20, 0, 20), *TRIALS[2:4]]
    result = stats.analyse(studies, measure="OR", model="random", method="REML")
    assert result["notes"] == ["0.5 added to each cell of 2 studies with a zero cell (Hardy 2012, Yang 1996)."]
    mh = stats.analyse(studies, measure="OR", model="fixed", method="MH")
    assert mh["notes"][0] == (
        "0.5 added to each cell of 2 studies with a zero cell (Hardy 2012, Yang 1996)"
        " (in the Mantel–Haenszel sums too, as RevMan does)."
    )
    rd = stats.analyse(studies, measure="RD", model="fixed", method="MH")
    assert "the Mantel–Haenszel estimate uses the raw counts" in rd["notes"][0]


def test_mantel_haenszel_adds_half_to_the_cells_of_zero_cell_studies_as_revman():
    studies = [table("Hardy 2012", 0, 10, 5, 10), *TRIALS[1:4]]
    # Hardy's cells a, b, c, d = 0, 10, 5, 5 become 0.5, 10.5, 5.5, 5.5 (n1 = n2 = 11); the others are unchanged.
    a = np.array([0.5, 5, 30, 8.0])
    n1 = np.array([11, 40, 210, 64.0])
    c = np.array([5.5, 11, 33, 19.0])
    n2 = np.array([11, 42, 205, 61.0])
    n = n1 + n2
    expected = math.log((a * n2 / n).sum() / (c * n1 / n).sum())
    result = stats.analyse(studies, measure="RR", model="fixed", method="MH")
    assert result["log_estimate"] == pytest.approx(expected, abs=1e-14)
    assert result["per_study"][0]["corrected"] is True
    # Q is measured around the MH estimate with the corrected per-study values (metafor rma.mh)
    y = np.array([row["yi"] for row in result["per_study"]])
    v = np.array([row["se"] ** 2 for row in result["per_study"]])
    assert result["q"] == pytest.approx(((y - expected) ** 2 / v).sum(), rel=1e-12)
    # MH weights are c·n1/N (RevMan): a study's share of S
    w = c * n1 / n
    assert [row["weight"] for row in result["per_study"]] == pytest.approx(list(100 * w / w.sum()))


def test_study_without_events_is_excluded_from_ratios_and_kept_for_risk_difference():
    studies = [*TRIALS[:4], table("Zhou 2001", 0, 20, 0, 25)]
    for measure, method in (("RR", "IV"), ("OR", "IV"), ("RR", "MH"), ("OR", "MH"), ("OR", "PETO")):
        result = stats.analyse(studies, measure=measure, model="fixed", method=method)
        zhou = result["per_study"][-1]
        assert zhou["excluded"] == "no events in either group"
        assert zhou["effect"] is zhou["yi"] is zhou["weight"] is None
        assert result["studies"] == 4
        assert result["participants"] == 198 + 82 + 415 + 125  # Zhou's 45 are not pooled
        assert result["total_1"] == 100 + 40 + 210 + 64 + 20  # but RevMan's totals show every study
        assert "1 study with no events in either group excluded from pooling (Zhou 2001)." in result["notes"]
        without = stats.analyse(TRIALS[:4], measure=measure, model="fixed", method=method)
        assert result["log_estimate"] == pytest.approx(without["log_estimate"], abs=1e-14)
        assert result["se"] == pytest.approx(without["se"], abs=1e-14)
        assert [r["omitted"] for r in result["leave_one_out"]] == [
            f"{s.label} ({s.subgroup})" if s.subgroup else s.label for s in TRIALS[:4]
        ]
    rd = stats.analyse(studies, measure="RD", model="random", method="DL")
    zhou = rd["per_study"][-1]
    assert zhou["excluded"] is None and zhou["corrected"] is True and rd["studies"] == 5
    assert zhou["yi"] == pytest.approx(0.5 / 21 - 0.5 / 26, abs=1e-15)
    assert zhou["weight"] > 0
    rd_mh = stats.analyse(studies, measure="RD", model="fixed", method="MH")
    assert rd_mh["studies"] == 5 and rd_mh["per_study"][-1]["weight"] > 0


def test_study_with_events_in_everyone_is_excluded_from_ratios():
    studies = [*TRIALS[:3], table("Full 1999", 10, 10, 12, 12)]
    result = stats.analyse(studies, measure="OR", model="random", method="DL")
    assert result["per_study"][-1]["excluded"] == "events in every participant of both groups"
    assert (
        "1 study with events in every participant of both groups excluded from pooling (Full 1999)."
        in (result["notes"])
    )
    assert stats.analyse(studies, measure="RD", model="random", method="DL")["studies"] == 4


def test_no_study_left_to_pool_reports_none_with_a_note():
    studies = [table("Zhou 2001", 0, 20, 0, 25), table("Full 1999", 10, 10, 12, 12)]
    result = stats.analyse(studies, measure="RR", model="random", method="REML")
    assert result["studies"] == 0 and result["estimate"] is None and result["df"] is None
    assert "Pooled estimate not available: No study could be pooled." in result["notes"]
    assert_json(result)


def test_mantel_haenszel_ratio_without_events_in_one_group_is_estimated_from_the_corrected_cells():
    studies = [table("A", 0, 20, 3, 20), table("B", 0, 30, 5, 31)]
    result = stats.analyse(studies, measure="RR", model="fixed", method="MH")
    # RevMan: A → 0.5, 20.5, 3.5, 17.5 (n1 = 21, n2 = 21); B → 0.5, 30.5, 5.5, 26.5 (n1 = 31, n2 = 32).
    a, n1, c, n2 = np.array([0.5, 0.5]), np.array([21.0, 31]), np.array([3.5, 5.5]), np.array([21.0, 32])
    n = n1 + n2
    assert result["log_estimate"] == pytest.approx(math.log((a * n2 / n).sum() / (c * n1 / n).sum()), abs=1e-14)
    assert stats.analyse(studies, measure="RR", model="fixed", method="IV")["estimate"] is not None
    # Without events in group 1 and no correction to make (RD pools raw counts) the MH RD is still estimable.
    assert stats.mantel_haenszel(studies, "RD").estimate < 0


def test_a_subgroup_with_nothing_to_pool_has_no_estimate_and_no_test_of_differences():
    studies = [
        table("A", 2, 10, 3, 10, "x"),
        table("D", 4, 10, 3, 12, "x"),
        table("E", 5, 14, 6, 13, "x"),
        table("B", 0, 10, 0, 10, "y"),  # no events in either group: nothing to pool in subgroup y
        table("C", 0, 12, 0, 12, "y"),
    ]
    result = stats.analyse(studies, measure="RR", model="fixed", method="MH")
    assert result["studies"] == 3
    assert [row["omitted"] for row in result["leave_one_out"]] == ["A (x)", "D (x)", "E (x)"]  # not the excluded
    without_a = stats.analyse(studies[1:], measure="RR", model="fixed", method="MH")
    assert result["leave_one_out"][0]["estimate"] == pytest.approx(without_a["estimate"], abs=1e-14)
    x, y = result["subgroups"]
    assert (x["name"], x["studies"]) == ("x", 3) and x["estimate"] == pytest.approx(result["estimate"], abs=1e-14)
    assert (y["name"], y["estimate"], y["studies"]) == ("y", None, 0)
    assert result["subgroup_test"] is None  # one subgroup estimate is not a comparison
    assert_json(result)


# --- identical studies ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["DL", "REML", "PM", "ML"])
def test_identical_studies_have_no_heterogeneity(method):
    same = [table(f"Trial {i}", 12, 100, 20, 98) for i in range(5)]
    result = stats.analyse(same, measure="RR", model="random", method=method)
    assert result["tau2"] == 0 and result["i2"] == 0 and result["h2"] == 1
    assert result["q"] == pytest.approx(0, abs=1e-20)
    assert result["p_heterogeneity"] == pytest.approx(1)
    assert all(row["tau2"] == 0 for row in result["leave_one_out"])
    # same estimates, different precision: still Q = 0, tau² = 0
    giv = [StudyData(label=f"T{i}", estimate=0.3, se=se) for i, se in enumerate((0.1, 0.2, 0.3, 0.4))]
    result = stats.analyse(giv, measure="GIV", model="random", method=method, hksj=True)
    assert result["tau2"] == 0 and result["i2"] == 0 and result["q"] == pytest.approx(0, abs=1e-20)
    assert result["estimate"] == pytest.approx(0.3) and result["se"] == pytest.approx(0, abs=1e-12)  # KH scale 0
    assert_json(result)
    fixed = stats.analyse(giv, measure="GIV", model="fixed", method="IV")
    assert fixed["i2"] == 0 and fixed["h2"] == pytest.approx(0, abs=1e-20)


# --- bad input -----------------------------------------------------------------------------------------------


def continuous(label: str = "Hardy 2012", **values: float | None) -> StudyData:
    fields = {"mean_1": 5.0, "sd_1": 1.0, "total_1": 20, "mean_2": 6.0, "sd_2": 1.5, "total_2": 22} | values
    return StudyData(label=label, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("study", "measure", "message"),
    [
        (continuous(sd_1=0.0), "MD", "Hardy 2012: SD of group 1 must be positive."),
        (continuous(sd_2=-1.0), "SMD", "Hardy 2012: SD of group 2 must be positive."),
        (continuous(total_1=0), "MD", "Hardy 2012: total of group 1 must be positive."),
        (continuous(mean_2=float("nan")), "MD", "Hardy 2012: mean of group 2 must be a finite number."),
        (continuous(sd_1=None), "MD", "Hardy 2012: SD of group 1 is missing."),
        (continuous(total_1=1, total_2=2), "SMD", "Hardy 2012: a standardised mean difference needs at least 4"),
        (StudyData(label="Yang 1996", estimate=0.2, se=-0.1), "GIV", "Yang 1996: SE must be positive."),
        (StudyData(label="Yang 1996", estimate=0.2, se=0), "GIV", "Yang 1996: SE must be positive."),
        (StudyData(label="Yang 1996", se=0.1), "GIV", "Yang 1996: estimate is missing."),
        (StudyData(label="Yang 1996", estimate=1e16, se=0.1), "GIV", "Yang 1996: estimate is implausibly large."),
        (StudyData(label="Yang 1996", estimate=0.1, se=1e-200), "GIV", "Yang 1996: its values are too extreme"),
        (table("Ito 2008", 12, 10, 3, 10), "RR", "Ito 2008: events of group 1 (12) must not exceed its total (10)."),
        (table("Ito 2008", 1, 10, -3, 10), "OR", "Ito 2008: events of group 2 must not be negative."),
        (table("Ito 2008", 0, 0, 3, 10), "RD", "Ito 2008: total of group 1 must be positive."),
        (table("Ito 2008", 1, -5, 3, 10), "RD", "Ito 2008: total of group 1 must be positive."),
        (StudyData(label="Ito 2008", events_1=1.5, total_1=10, events_2=3, total_2=10),  # type: ignore[arg-type]
         "RR", "Ito 2008: events of group 1 must be a whole number."),
        (StudyData(label="Ito 2008", events_1=1, total_1=10, events_2=3), "RR", "Ito 2008: total of group 2 is "
         "missing."),
        (StudyData(label="", events_1="3", total_1=10, events_2=3, total_2=9),  # type: ignore[arg-type]
         "RR", "Study 2: events of group 1 must be a number."),
    ],
)  # fmt: skip
def test_impossible_values_are_refused_naming_the_study_and_field(study, measure, message):
    studies = [TRIALS[0], study] if measure in ("RR", "OR", "RD") else [study]
    with pytest.raises(StatsInputError) as raised:
        stats.analyse(studies, measure=measure, model="random", method="DL")
    assert str(raised.value).startswith(message)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"measure": "RR", "model": "fixed", "method": "DL"}, "not a fixed-effect method"),
        ({"measure": "RR", "model": "random", "method": "MH"}, "not a random-effect method"),
        ({"measure": "RR", "model": "fixed", "method": "PETO"}, "Peto method pools odds ratios only"),
        ({"measure": "MD", "model": "fixed", "method": "MH"}, "Mantel–Haenszel method needs"),
        ({"measure": "RR", "model": "fixed", "method": "IV", "hksj": True}, "random-effects models only"),
        ({"measure": "HR", "model": "fixed", "method": "IV"}, "Unknown effect measure"),
        ({"measure": "RR", "model": "mixed", "method": "IV"}, "Unknown model"),
        ({"measure": "RR", "model": "fixed", "method": "IV", "level": 95}, "confidence level"),
    ],
)
def test_invalid_option_combinations_are_refused(options, message):
    with pytest.raises(StatsInputError, match=message):
        stats.analyse(TRIALS, **options)


def test_no_studies_is_refused():
    with pytest.raises(StatsInputError, match="no studies"):
        stats.analyse([], measure="RR", model="fixed", method="MH")


# --- not pooled ----------------------------------------------------------------------------------------------


def test_not_pooled_gives_study_rows_only():
    result = stats.analyse(TRIALS, measure="RR", model="random", method="REML", pooled=False)
    assert result["pooled"] is False
    assert all(result[key] is None for key in POOLED_KEYS)
    assert result["subgroups"] == [] and result["subgroup_test"] is None and result["leave_one_out"] == []
    assert all(row["weight"] is None for row in result["per_study"])
    pooled = stats.analyse(TRIALS, measure="RR", model="random", method="REML")
    for shown, full in zip(result["per_study"], pooled["per_study"], strict=True):
        assert (shown["effect"], shown["ci_low"], shown["ci_high"]) == (full["effect"], full["ci_low"], full["ci_high"])
    assert not any(note.startswith("Not pooled") for note in result["notes"])  # the caller says why
    assert result["studies"] == 6 and result["participants"] == 1180  # descriptive counts stay
    assert_json(result)


# --- subgroups -----------------------------------------------------------------------------------------------


def test_subgroups_and_test_for_subgroup_differences_by_hand():
    result = stats.analyse(TRIALS, measure="OR", model="fixed", method="IV")
    assert [g["name"] for g in result["subgroups"]] == ["adults", "children"]
    yi, vi, _ = stats.effect_sizes(TRIALS, "OR")
    groups = [np.array([0, 1, 4]), np.array([2, 3, 5])]
    theta = [(yi[g] / vi[g]).sum() / (1 / vi[g]).sum() for g in groups]
    w = [(1 / vi[g]).sum() for g in groups]
    mean = (w[0] * theta[0] + w[1] * theta[1]) / (w[0] + w[1])
    q_between = w[0] * (theta[0] - mean) ** 2 + w[1] * (theta[1] - mean) ** 2
    test = result["subgroup_test"]
    assert test["q"] == pytest.approx(q_between, rel=1e-12)
    assert test["df"] == 1
    assert test["p"] == pytest.approx(sps.chi2.sf(q_between, 1), rel=1e-12)
    assert test["i2"] == pytest.approx(max(0, 100 * (q_between - 1) / q_between), abs=1e-12)
    # with fixed-effect IV it is the total Q less the Qs within
    within = sum(g["q"] for g in result["subgroups"])
    assert test["q"] == pytest.approx(result["q"] - within, rel=1e-10)
    for group, indices in zip(result["subgroups"], groups, strict=True):
        alone = stats.analyse([TRIALS[i] for i in indices], measure="OR", model="fixed", method="IV")
        assert group["log_estimate"] == pytest.approx(alone["log_estimate"], abs=1e-14)
        assert group["studies"] == 3 and group["df"] == 2
        assert group["participants"] == alone["participants"]


@pytest.mark.parametrize(("model", "method", "hksj"), ALL_MODELS)
def test_subgroups_pool_with_the_same_model(model, method, hksj):
    result = stats.analyse(TRIALS, measure="OR", model=model, method=method, hksj=hksj)
    for group in result["subgroups"]:
        members = [t for t in TRIALS if t.subgroup == group["name"]]
        alone = stats.analyse(members, measure="OR", model=model, method=method, hksj=hksj)
        for key in ("estimate", "ci_low", "ci_high", "se", "tau2", "i2", "q"):
            assert group[key] == pytest.approx(alone[key], abs=1e-12), key
    se = [g["se"] for g in result["subgroups"]]
    theta = [g["log_estimate"] for g in result["subgroups"]]
    w = 1 / np.array(se) ** 2
    mean = (w * theta).sum() / w.sum()
    assert result["subgroup_test"]["q"] == pytest.approx((w * (np.array(theta) - mean) ** 2).sum(), rel=1e-12)


def test_no_subgroups_without_subgroup_labels_or_when_switched_off():
    plain = [StudyData(label=t.label, events_1=t.events_1, total_1=t.total_1, events_2=t.events_2,
                       total_2=t.total_2) for t in TRIALS]  # fmt: skip
    result = stats.analyse(plain, measure="RR", model="fixed", method="MH")
    assert result["subgroups"] == [] and result["subgroup_test"] is None
    off = stats.analyse(TRIALS, measure="RR", model="fixed", method="MH", subgroups=False)
    assert off["subgroups"] == [] and off["subgroup_test"] is None


# --- leave-one-out -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("model", "method", "hksj"), ALL_MODELS)
def test_leave_one_out_equals_separate_analyses(model, method, hksj):
    result = stats.analyse(TRIALS, measure="OR", model=model, method=method, hksj=hksj)
    assert len(result["leave_one_out"]) == len(TRIALS)
    for i, row in enumerate(result["leave_one_out"]):
        rest = TRIALS[:i] + TRIALS[i + 1 :]
        alone = stats.analyse(rest, measure="OR", model=model, method=method, hksj=hksj, leave_one_out=False)
        named = f"{TRIALS[i].label} ({TRIALS[i].subgroup})" if TRIALS[i].subgroup else TRIALS[i].label
        assert row["omitted"] == named
        for key in ("estimate", "ci_low", "ci_high", "tau2", "i2"):
            assert (row[key] is None) is (alone[key] is None), key
            if alone[key] is not None:
                assert row[key] == pytest.approx(alone[key], rel=1e-10, abs=1e-12), key


def test_leave_one_out_needs_three_studies():
    assert stats.analyse(TRIALS[:2], measure="RR", model="random", method="DL")["leave_one_out"] == []
    assert len(stats.analyse(TRIALS[:3], measure="RR", model="random", method="DL")["leave_one_out"]) == 3
    assert stats.analyse(TRIALS, measure="RR", model="random", method="DL", leave_one_out=False)["leave_one_out"] == []


def test_prediction_interval_needs_three_studies():
    two = stats.analyse(TRIALS[:2], measure="RR", model="random", method="DL")
    assert two["prediction_low"] is None and two["tau2"] is not None
    three = stats.analyse(TRIALS[:3], measure="RR", model="random", method="DL")
    assert three["prediction_low"] <= three["ci_low"] <= three["ci_high"] <= three["prediction_high"]
    wide = stats.analyse(TRIALS, measure="RR", model="random", method="DL")
    assert wide["tau2"] > 0 and wide["prediction_low"] < wide["ci_low"] and wide["ci_high"] < wide["prediction_high"]


# --- continuous and generic inverse variance -----------------------------------------------------------------


def test_generic_inverse_variance_on_the_log_scale():
    giv = [
        StudyData(label=f"T{i}", estimate=y, se=s) for i, (y, s) in enumerate([(-0.2, 0.1), (0.1, 0.2), (-0.5, 0.25)])
    ]
    ratio = stats.analyse(giv, measure="GIV", model="fixed", method="IV", giv_ratio=True)
    plain = stats.analyse(giv, measure="GIV", model="fixed", method="IV")
    assert ratio["ratio"] is True and plain["ratio"] is False
    assert ratio["estimate"] == pytest.approx(math.exp(plain["estimate"]))
    assert ratio["per_study"][1]["effect"] == pytest.approx(math.exp(0.1))
    assert ratio["per_study"][1]["se_given"] == 0.2 and ratio["per_study"][1]["estimate"] == 0.1
    assert ratio["participants"] is None and ratio["events_1"] is None


def test_standardised_mean_difference_uses_the_exact_bias_correction():
    study = continuous(mean_1=10.0, sd_1=2.0, total_1=5, mean_2=8.0, sd_2=3.0, total_2=6)
    yi, vi, _ = stats.effect_sizes([study], "SMD")
    m = 9
    j = math.gamma(m / 2) / (math.sqrt(m / 2) * math.gamma((m - 1) / 2))
    sp = math.sqrt((4 * 4 + 5 * 9) / m)
    g = j * 2 / sp
    assert yi[0] == pytest.approx(g, rel=1e-14)
    assert vi[0] == pytest.approx(1 / 5 + 1 / 6 + g**2 / 22, rel=1e-14)


# --- the estimators ------------------------------------------------------------------------------------------


def test_r_zeroin_finds_roots_within_its_tolerance():
    root = stats_engine.r_zeroin(lambda x: x**3 - 2, 0.0, 2.0, -2.0, 6.0, 1e-10, 1000)
    assert root == pytest.approx(2 ** (1 / 3), abs=1e-10)
    assert stats_engine.r_zeroin(lambda x: x, 0.0, 1.0, 0.0, 1.0, 1e-4, 100) == 0.0


def test_paule_mandel_widens_metafors_upper_bound_when_needed():
    """metafor stops with "tau2.max too low" when the root lies past max(100, 10·mad(y)²); here it is found."""
    y = np.array([-60.0, 0.0, 1.0, 2.0, 3.0, 60.0])
    v = np.full(6, 0.01)
    tau2 = stats_engine.paule_mandel_one(y, v)
    assert tau2 > max(100, 10 * (1.4826 * np.median(np.abs(y - np.median(y)))) ** 2)
    w = 1 / (v + tau2)
    assert (w * (y - (w * y).sum() / w.sum()) ** 2).sum() == pytest.approx(5, abs=1e-3)


def test_fisher_scoring_converges_to_the_likelihood_root():
    yi = np.array([-0.89, -1.59, -1.35, -1.44, -0.22, -0.79, -1.62, 0.01, -0.47, -1.37, -0.34, 0.45, -0.02])
    vi = np.array([0.33, 0.19, 0.42, 0.02, 0.05, 0.007, 0.22, 0.004, 0.056, 0.073, 0.012, 0.53, 0.071])
    mask = np.ones((1, 13), dtype=bool)
    for method in ("REML", "ML"):
        tau2, converged = stats_engine.fisher_scoring(yi, vi, mask, method)
        assert converged.all()
        assert tau2[0] == pytest.approx(stats_engine._score_root(yi, vi, method), abs=1e-6)


# --- properties ----------------------------------------------------------------------------------------------


@st.composite
def two_by_two(draw: st.DrawFn) -> StudyData:
    size = st.one_of(st.integers(1, 20), st.integers(1, 2000))
    n1, n2 = draw(size), draw(size)

    def events(n: int) -> st.SearchStrategy[int]:  # zero and all-event arms often: rare-event reviews
        return st.one_of(st.just(0), st.just(n), st.integers(0, n))

    return StudyData(
        label=draw(st.text(max_size=8)),
        subgroup=draw(st.sampled_from(["", "A", "B"])),
        events_1=draw(events(n1)),
        total_1=n1,
        events_2=draw(events(n2)),
        total_2=n2,
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    studies=st.lists(two_by_two(), min_size=1, max_size=9),
    measure=st.sampled_from(["RR", "OR", "RD"]),
    choice=st.sampled_from(ALL_MODELS),
    pooled=st.booleans(),
)
def test_valid_tables_always_give_finite_json(studies, measure, choice, pooled):
    model, method, hksj = choice
    try:
        result = stats.analyse(studies, measure=measure, model=model, method=method, hksj=hksj, pooled=pooled)
    except StatsInputError as exc:
        assert method == "PETO" and measure != "OR", exc  # only the invalid option pairing may be refused
        return
    assert_json(result)
    assert set(result) == RESULT_KEYS
    assert len(result["per_study"]) == len(studies)


garbage = st.one_of(
    st.none(),
    st.integers(-5, 50),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=3),
    st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(
        st.fixed_dictionaries(
            {
                f: garbage
                for f in (
                    "events_1",
                    "total_1",
                    "events_2",
                    "total_2",
                    "mean_1",
                    "sd_1",
                    "mean_2",
                    "sd_2",
                    "estimate",
                    "se",
                )
            }
        ),
        min_size=0,
        max_size=5,
    ),  # fmt: skip
    measure=st.sampled_from([*stats.MEASURES, "HR"]),
    choice=st.sampled_from(ALL_MODELS),
)
def test_garbage_raises_only_stats_input_errors(rows, measure, choice):
    model, method, hksj = choice
    studies = [StudyData(label=f"Study {i}", **row) for i, row in enumerate(rows)]
    try:
        result = stats.analyse(studies, measure=measure, model=model, method=method, hksj=hksj)
    except StatsInputError as exc:
        assert str(exc)
        return
    assert_json(result)


@st.composite
def measured(draw: st.DrawFn) -> StudyData:
    finite = st.floats(-1e6, 1e6, allow_nan=False)
    positive = st.floats(1e-6, 1e6, allow_nan=False)
    return StudyData(
        label=draw(st.text(max_size=8)),
        subgroup=draw(st.sampled_from(["", "A", "B"])),
        mean_1=draw(finite),
        sd_1=draw(positive),
        total_1=draw(st.integers(2, 5000)),
        mean_2=draw(finite),
        sd_2=draw(positive),
        total_2=draw(st.integers(2, 5000)),
        estimate=draw(st.floats(-20, 20)),
        se=draw(st.floats(1e-4, 1e3)),
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    studies=st.lists(measured(), min_size=1, max_size=9),
    measure=st.sampled_from(["MD", "SMD", "GIV"]),
    choice=st.sampled_from([c for c in ALL_MODELS if c[1] not in ("MH", "PETO")]),
    giv_ratio=st.booleans(),
)
def test_valid_continuous_and_generic_data_always_give_finite_json(studies, measure, choice, giv_ratio):
    model, method, hksj = choice
    result = stats.analyse(studies, measure=measure, model=model, method=method, hksj=hksj, giv_ratio=giv_ratio)
    assert_json(result)
    assert result["studies"] == len(studies)


def test_fisher_scoring_falls_back_to_the_root_when_it_does_not_converge(monkeypatch):
    monkeypatch.setattr(stats_engine, "FISHER_MAXITER", 0)
    result = stats.analyse(TRIALS, measure="RR", model="random", method="REML")
    assert "REML Fisher scoring did not converge; tau² is the root of its estimating equation." in result["notes"]
    yi, vi, _ = stats.effect_sizes(TRIALS, "RR")
    assert result["tau2"] == pytest.approx(stats_engine._score_root(yi, vi, "REML"), rel=1e-12)
    monkeypatch.undo()
    assert stats.analyse(TRIALS, measure="RR", model="random", method="REML")["tau2"] == pytest.approx(
        result["tau2"], abs=1e-6
    )
