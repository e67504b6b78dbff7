# mypy: disable-error-code="attr-defined"
"""Formula injection (issue 8): every CSV download of a review (records, the three extraction CSVs, the Summary of
Findings) neutralises a cell a spreadsheet would run as a formula, whichever field the text sits in.

The review's text fields are given values that start with `=`, `+`, `-`, `@`, a tab, a carriage return, a space
before `=`, or a full-width `＝`. The values are written to the rows directly, as an import or an older version
could have stored them: the exports must be safe whatever the services let through. Each CSV is parsed with the
csv module: it starts with a BOM, no cell starts (or starts after blanks) with a formula character unless it is
a plain number, and each planted value is there, prefixed with `'` (so that the check can fail)."""

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from extraction.models import Arm, Comparison, Outcome, Study
from extraction.services import extracting as E
from extraction.tests.conftest import erin, seed
from grading.models import CertaintyRating
from grading.tests.test_certainty import accept_proposals, ketamine, pain, view_of
from reviews.models import Import, Record
from screening import services as screening_services

__all__ = ["erin", "ketamine", "seed"]

pytestmark = pytest.mark.django_db

TA = "title_abstract"
BOM = b"\xef\xbb\xbf"
# What a spreadsheet may take for the start of a formula (a leading tab or CR hides one; the full-width forms are
# read as the ASCII ones by some spreadsheets). Kept here, not imported, so that a narrower list in core.csv_safe
# fails this test.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# A plain number, which a spreadsheet reads as a number and never as a formula (negative estimates stay numeric).
NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")

TITLE = '=HYPERLINK("http://x")'
AUTHOR, JOURNAL, KEYWORD = "+cmd", "@SUM(1)", "-2+3"
ABSTRACT, DOI, PAGES, KIND = "\r=1+1", "\t=1", " =1+2", "\uff1d1+1"
REASON = "@reason"
STUDY, ARM, CONDITION, RAW = "\t=1", "=arm", "@SUM(1)", "+raw"
COMPARISON, INTERVENTION, CONTROL = "+comp", "@int", "\r=ctl"
OUTCOME, UNIT, TIMEPOINT, SUBGROUP, NOTE = "-2+3", "=u", "+t", "=sub", "-note"
COMMENTS = "@SUM(1)"


@pytest.fixture
def planted(cast, ketamine):
    """The ketamine review with a formula in each text field that the CSV downloads write."""
    seed, review, carol, erin_, bob = ketamine, ketamine.review, cast.carol, cast.erin, cast.bob
    rid = review.pk
    batch = Import.objects.create(
        review=review, source="=cmd|' /C calc'!A0", source_kind="database", filename="x.ris", size=10,
        content_hash="ef" * 32, status=Import.Status.SUCCEEDED, records_found=1, records_added=1,
        searched_on=timezone.now().date(), created_by=cast.alice,
    )  # fmt: skip
    record = Record.objects.create(
        review=review, batch=batch, position=1, title=TITLE, authors=[AUTHOR, "Hardy J"], journal=JOURNAL,
        keywords=[KEYWORD], abstract=ABSTRACT, doi=DOI, pages=PAGES, publication_type=KIND, year=2001,
    )  # fmt: skip
    for who in (carol, erin_):
        screening_services.decision_create(
            user=who, review_id=rid, record_id=record.pk, stage=TA, decision="exclude", reason=REASON
        )
    screening_services.outcome_evaluate(record_id=record.pk, stage=TA)

    # Outcome data for the renamed outcome, before the renaming (the services check the names of new rows).
    consensus = E.consensus_start(user=bob, review_id=rid, study_id=seed.yang.pk)
    E.extraction_save(
        user=bob, review_id=rid, extraction_id=consensus.pk, version=None, values={"participants_condition": CONDITION}
    )
    E.outcome_data_save(
        user=bob, review_id=rid, extraction_id=consensus.pk, version=None,
        rows=[{**pain(seed, 3.0, 2.0, 20, 3.9, 2.1, 20), "subgroup": SUBGROUP, "note": NOTE}],
    )  # fmt: skip
    own = E.extraction_start(user=carol, review_id=rid, study_id=seed.yang.pk)
    E.extraction_save(
        user=carol, review_id=rid, extraction_id=own.pk, version=None, values={"participants_condition": RAW}
    )
    accept_proposals(cast, seed, view_of(cast, seed, seed.pain))
    CertaintyRating.objects.filter(review=review).update(comments=COMMENTS)
    Study.objects.filter(pk=seed.yang.pk).update(label=STUDY)
    Arm.objects.filter(study=seed.yang, name="Ketamine").update(name=ARM)
    Comparison.objects.filter(pk=seed.comparison.pk).update(name=COMPARISON, intervention=INTERVENTION, control=CONTROL)
    Outcome.objects.filter(pk=seed.pain.pk).update(name=OUTCOME, unit=UNIT, timepoint=TIMEPOINT)
    return seed


@dataclass(frozen=True)
class CsvDownload:
    name: str
    url: Callable[[int], str]
    who: str
    api: bool
    planted: tuple[str, ...]  # values each of which must start a cell, behind a `'`


def _reverse(name: str, query: str = "", *more: str) -> Callable[[int], str]:
    return lambda review_id: reverse(name, args=[review_id, *more]) + query


# The editors' file gives the reason in the decisions column ("carol: exclude (@reason)"): an agreed exclusion at
# title/abstract has no reason of its own. A blinded reviewer's status is her decision, with its reason.
RECORDS = (TITLE, AUTHOR, JOURNAL, KEYWORD, ABSTRACT, DOI, PAGES, KIND, "=cmd|")
CSV_DOWNLOADS = [
    CsvDownload("records", _reverse("api-export-csv"), "bob", True, RECORDS),
    CsvDownload("records-blinded", _reverse("api-export-csv"), "carol", True, (*RECORDS, REASON)),
    CsvDownload(
        "records-filtered", _reverse("api-export-csv", "?stage=title_abstract&status=excluded"), "bob", True, RECORDS
    ),  # fmt: skip
    CsvDownload(
        "extraction-consensus",
        _reverse("api-extraction-export", "?kind=consensus"),
        "bob",
        True,
        (STUDY, ARM, CONDITION),
    ),  # fmt: skip
    CsvDownload("extraction-raw", _reverse("api-extraction-export", "?kind=raw"), "bob", True, (STUDY, ARM, RAW)),
    CsvDownload(
        "extraction-raw-blinded", _reverse("api-extraction-export", "?kind=raw"), "carol", True, (STUDY, ARM, RAW)
    ),  # fmt: skip
    CsvDownload(
        "extraction-outcome-data",
        _reverse("api-extraction-export", "?kind=outcome_data"),
        "bob",
        True,
        (STUDY, COMPARISON, INTERVENTION, CONTROL, OUTCOME, UNIT, TIMEPOINT, SUBGROUP, NOTE),
    ),  # fmt: skip
    *(
        CsvDownload(f"extraction-{kind}-page", _reverse("extraction:export", "", kind), "bob", False, (STUDY,))
        for kind in ("consensus", "raw", "outcome_data")
    ),
    CsvDownload(
        "sof-api",
        _reverse("api-summary-of-findings", "?format=csv"),
        "bob",
        True,
        (INTERVENTION, OUTCOME, TIMEPOINT, COMMENTS),
    ),  # fmt: skip
    CsvDownload(
        "sof-page", _reverse("certainty:sof", "?format=csv"), "bob", False, (INTERVENTION, OUTCOME, TIMEPOINT, COMMENTS)
    ),  # fmt: skip
]


def dangerous(cell: str) -> bool:
    if NUMBER.fullmatch(cell):
        return False
    return cell.startswith(FORMULA_STARTS) or cell.lstrip().startswith(FORMULA_STARTS)


@pytest.mark.parametrize("download", CSV_DOWNLOADS, ids=lambda d: d.name)
def test_csv_download_neutralises_formulas(cast, planted, api, web, download):
    client = api(download.who) if download.api else web(download.who)
    response = client.get(download.url(planted.review.pk))
    assert response.status_code == 200, (download.name, response.content[:300] if not response.streaming else "")
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body.startswith(BOM), f"{download.name}: no BOM, a spreadsheet would not read it as UTF-8"
    rows = list(csv.reader(io.StringIO(body[len(BOM) :].decode("utf-8"), newline="")))
    assert len(rows) > 1, f"{download.name}: no rows"
    width = len(rows[0])
    assert all(len(row) == width for row in rows), f"{download.name}: rows of different widths"
    unsafe = [(i, cell) for i, row in enumerate(rows) for cell in row if dangerous(cell)]
    assert not unsafe, f"{download.name}: cells a spreadsheet would run: {unsafe}"
    cells = [cell for row in rows for cell in row]
    missing = [value for value in download.planted if not any(cell.startswith("'" + value) for cell in cells)]
    assert not missing, f"{download.name}: planted values not found (prefixed with '): {missing}"


@pytest.mark.parametrize(
    "value, safe",
    [
        ("=1+1", "'=1+1"),
        ("+cmd", "'+cmd"),
        ("-2+3", "'-2+3"),
        ("@SUM(1)", "'@SUM(1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        (" =1", "' =1"),
        ("\n=1", "'\n=1"),
        ("\uff1d1", "'\uff1d1"),
        ("plain", "plain"),
        (-1.5, -1.5),
    ],
)
def test_safe_cell_table(value: Any, safe: Any):
    from core.csv_safe import safe_cell

    assert safe_cell(value) == safe
