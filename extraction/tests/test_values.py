"""Extraction values: cleaning each field type's input, and comparing two reviewers' values (numbers exactly, text
after trimming and case folding)."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from extraction import values as V

CHOICES = ["Parallel RCT", "Crossover RCT", "Other"]


@pytest.mark.parametrize(
    "field_type,raw,stored",
    [
        ("text", "  Cancer pain ", "Cancer pain"),
        ("long_text", "Line 1\nLine 2", "Line 1\nLine 2"),
        ("integer", "20", 20),
        ("integer", " 1,850 ", 1850),
        ("integer", "20.0", 20),
        ("integer", 7, 7),
        ("decimal", "0.50", "0.50"),
        ("decimal", " -1.25 ", "-1.25"),
        ("single_choice", "Crossover RCT", "Crossover RCT"),
        ("multiple_choice", ["Other", "Parallel RCT"], ["Parallel RCT", "Other"]),
        ("multiple_choice", "Other", ["Other"]),
        ("yes_no", "yes", True),
        ("yes_no", "No", False),
        ("yes_no", False, False),
        ("date", "2012-01-31", "2012-01-31"),
        ("text", "   ", None),
        ("integer", "", None),
        ("multiple_choice", [], None),
    ],
)
def test_clean_stores_each_type(field_type, raw, stored):
    assert V.clean(field_type, raw, CHOICES) == stored


@pytest.mark.parametrize(
    "field_type,raw,message",
    [
        ("integer", "20.5", "not a whole number"),
        ("integer", "twenty", "not a whole number"),
        ("integer", True, "whole number"),
        ("decimal", "0,5", "not a number"),
        ("decimal", "NaN", "not a finite number"),
        ("decimal", "Infinity", "not a finite number"),
        ("single_choice", "Cluster RCT", "not one of the options"),
        ("multiple_choice", ["Other", "Cohort"], "Not among the options: Cohort"),
        ("yes_no", "maybe", "Answer yes or no"),
        ("date", "31/01/2012", "use YYYY-MM-DD"),
        ("text", "x" * 1001, "At most 1000 characters"),
        ("colour", "red", "Unknown field type"),
    ],
)
def test_clean_refuses_with_a_message(field_type, raw, message):
    with pytest.raises(ValueError, match=message):
        V.clean(field_type, raw, CHOICES)


@pytest.mark.parametrize(
    "field_type,a,b,agree",
    [
        ("text", "Cancer pain", "  cancer PAIN ", True),
        ("text", "Cancer pain", "Cancer  pain", False),
        ("long_text", "Computer-generated list", "computer-generated list\n", True),
        ("long_text", "Sealed envelopes", "Opaque envelopes", False),
        ("integer", 20, 20, True),
        ("integer", 20, 19, False),
        ("decimal", "0.5", "0.50", True),
        ("decimal", "0.1", "0.10000001", False),
        ("decimal", "-1.2", "1.2", False),
        ("single_choice", "Crossover RCT", "Crossover RCT", True),
        ("single_choice", "Crossover RCT", "Parallel RCT", False),
        ("multiple_choice", ["Parallel RCT", "Other"], ["Other", "Parallel RCT"], True),
        ("multiple_choice", ["Parallel RCT"], ["Parallel RCT", "Other"], False),
        ("yes_no", True, True, True),
        ("yes_no", True, False, False),
        ("date", "2012-01-31", "2012-01-31", True),
        ("date", "2012-01-31", "2012-02-01", False),
        ("integer", 20, None, False),
        ("text", None, None, True),
    ],
)
def test_same_compares_each_type(field_type, a, b, agree):
    assert V.same(field_type, [a, b]) is agree


@given(st.decimals(allow_nan=False, allow_infinity=False, places=4))
def test_decimal_round_trip_compares_exactly(number):
    stored = V.clean("decimal", str(number))
    assert V.same("decimal", [stored, str(number)])
    assert V.comparable("decimal", stored) == Decimal(str(number))


@given(st.one_of(st.text(max_size=50), st.integers(), st.booleans(), st.lists(st.text(max_size=5), max_size=3)))
def test_clean_never_raises_anything_but_value_error(raw):
    for field_type in V.TYPES:
        try:
            V.clean(field_type, raw, CHOICES)
        except ValueError as exc:
            assert str(exc)


@pytest.mark.parametrize(
    "outcome_type,row,errors",
    [
        ("dichotomous", {"events_1": 4, "total_1": 10, "events_2": 0, "total_2": 10}, {}),
        ("dichotomous", {"events_1": 11, "total_1": 10}, {"events_1": "Events (11) cannot be more than participants"}),
        ("dichotomous", {"total_2": 0}, {"total_2": "at least 1"}),
        ("continuous", {"mean_1": Decimal("3.1"), "sd_1": Decimal("0"), "total_1": 10}, {"sd_1": "must be positive"}),
        ("continuous", {"sd_2": Decimal("-1")}, {"sd_2": "must be positive"}),
        ("giv", {"estimate": Decimal("-0.9"), "se": Decimal("0")}, {"se": "must be positive"}),
        ("giv", {"estimate": Decimal("-0.9"), "se": Decimal("0.3")}, {}),
    ],
)
def test_outcome_data_checks(outcome_type, row, errors):
    found = V.check_data_row(outcome_type, row)
    assert set(found) == set(errors)
    for name, text in errors.items():
        assert text in found[name]
