"""Imports end to end through the API and pages: upload, worker, progress, failure, duplicates of files,
records, deduplication, roles. Runs eagerly on the embedded default and through a real worker with REDIS_URL."""

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from reviews.models import DuplicateGroup, Import, Record
from reviews.services.imports import import_process

REAL_WORKER = not settings.CELERY_TASK_ALWAYS_EAGER
pytestmark = pytest.mark.django_db(transaction=REAL_WORKER)

RIS_MEDLINE = """TY  - JOUR
TI  - Intrathecal ketamine added to morphine for refractory cancer pain: a randomised crossover trial
AU  - Yang, C. Y.
AU  - Wong, C. S.
PY  - 1996
JO  - Canadian Journal of Anaesthesia
VL  - 43
IS  - 4
SP  - 379
EP  - 383
DO  - 10.1007/BF03011718
AB  - Twenty patients with cancer pain received intrathecal ketamine with morphine.
ER  - 

TY  - JOUR
TI  - Subcutaneous ketamine for cancer pain: a randomised placebo-controlled trial
AU  - Hardy, J.
AU  - Quinn, S.
PY  - 2012
JO  - Journal of Clinical Oncology
VL  - 30
SP  - 3611
EP  - 3617
DO  - https://doi.org/10.1200/JCO.2012.42.1081
AB  - One hundred and eighty-five adults with chronic cancer pain were randomised.
ER  - 
"""

RIS_EMBASE = """TY  - JOUR
T1  - Subcutaneous ketamine for cancer pain: a randomized placebo-controlled trial.
A1  - Hardy J.
A1  - Quinn S.
Y1  - 2012
JF  - J Clin Oncol
VL  - 30
IS  - 29
SP  - 3611
DO  - 10.1200/jco.2012.42.1081
ER  - 

TY  - JOUR
T1  - Oral methadone for neuropathic cancer pain
A1  - Someone A.
Y1  - 2015
JF  - Pain Medicine
ER  - 
"""


def upload(client, review, content: str | bytes, *, name="medline.ris", **fields):
    data = content.encode() if isinstance(content, str) else content
    body = {"file": SimpleUploadedFile(name, data), "source": "MEDLINE (Ovid)", "source_kind": "database", **fields}
    return client.post(f"/api/v1/reviews/{review.pk}/imports/", body, format="multipart")


def run_upload(tasks, client, review, content, **kwargs):
    with tasks.run():
        response = upload(client, review, content, **kwargs)
    assert response.status_code == 202, response.json()
    return response, tasks.wait_import(response.json()["id"])


def test_import_adds_records_and_reports_progress(cast, api, web, tasks):
    response, batch = run_upload(tasks, api("bob"), cast.review, RIS_MEDLINE, searched_on="2017-03-01")
    body = response.json()
    assert body["status"] in ("queued", "running", "succeeded") and body["source"] == "MEDLINE (Ovid)"
    assert batch.status == "succeeded", batch.errors
    assert (batch.format, batch.progress, batch.records_found, batch.records_added) == ("ris", 100, 2, 2)
    detail = api("carol").get(f"/api/v1/reviews/{cast.review.pk}/imports/{batch.pk}/").json()
    assert {k: detail[k] for k in ("status", "progress", "format", "records_found", "records_added", "errors")} == {
        "status": "succeeded",
        "progress": 100,
        "format": "ris",
        "records_found": 2,
        "records_added": 2,
        "errors": [],
    }
    records = api("carol").get(f"/api/v1/reviews/{cast.review.pk}/records/").json()
    assert records["count"] == 2
    first = records["results"][0]
    assert first["title"].startswith("Intrathecal ketamine added to morphine")
    assert first["authors"] == ["Yang, C. Y.", "Wong, C. S."]
    assert (first["year"], first["doi"], first["pages"], first["source"]) == (
        1996,
        "10.1007/bf03011718",
        "379-383",
        "MEDLINE (Ovid)",
    )
    assert records["results"][1]["doi"] == "10.1200/jco.2012.42.1081"
    raw = api("carol").get(f"/api/v1/reviews/{cast.review.pk}/records/{first['id']}/").json()["raw"]
    assert raw["TI"] == [first["title"]] and raw["SP"] == ["379"]
    assert raw["AB"] == ["Twenty patients with cancer pain received intrathecal ketamine with morphine."]
    # Stored without repeating the title and abstract, given back whole.
    stored = Record.objects.get(pk=first["id"]).raw
    assert stored["TI"] == [{"=": "title"}] and stored["AB"] == [{"=": "abstract"}]
    page = web("carol").get(reverse("reviews:record_detail", args=[cast.review.pk, first["id"]])).content.decode()
    assert '<th scope="row" class="text-nowrap">AB</th><td>Twenty patients with cancer pain' in page


def test_bad_file_fails_with_where_and_adds_nothing(cast, api, tasks):
    garbage = "TY  - JOUR\nTI  - fine\nER  - \n" + "\x00\x01\x02 binary junk " * 50
    _, batch = run_upload(tasks, api("bob"), cast.review, garbage)
    assert batch.status == "failed"
    assert batch.errors and batch.errors[0]["message"]
    assert Record.objects.filter(batch=batch).count() == 0
    assert api("bob").get(f"/api/v1/reviews/{cast.review.pk}/records/").json()["count"] == 0


def test_unrecognised_file_fails_with_message(cast, api, tasks):
    _, batch = run_upload(tasks, api("bob"), cast.review, "just some notes\nthat are not an export\n", name="notes.txt")
    assert batch.status == "failed"
    assert "does not recognise this file's format" in batch.errors[0]["message"]
    assert batch.errors[0]["line"] == 1


def test_same_file_twice_is_refused_unless_confirmed(cast, api, tasks):
    run_upload(tasks, api("bob"), cast.review, RIS_MEDLINE)
    again = upload(api("bob"), cast.review, RIS_MEDLINE, name="renamed.ris")
    assert again.status_code == 409
    assert "already imported" in again.json()["detail"]
    assert Import.objects.filter(review=cast.review).count() == 1
    _, batch = run_upload(
        tasks, api("bob"), cast.review, RIS_MEDLINE, name="renamed.ris", confirm_duplicate_file="true"
    )
    assert batch.status == "succeeded"
    # Every record of the second copy is a duplicate of the first.
    assert batch.duplicates_found == 2
    assert Record.objects.filter(batch=batch, duplicate_of__isnull=False).count() == 2


@override_settings(SIEVE_MAX_IMPORT_MB=0)
def test_size_limit(cast, api):
    response = upload(api("bob"), cast.review, RIS_MEDLINE)
    assert response.status_code == 400
    assert "the limit is 0 MB (SIEVE_MAX_IMPORT_MB)" in response.json()["errors"]["file"][0]
    assert not Import.objects.exists()


def test_type_and_field_checks(cast, api):
    client = api("bob")
    exe = upload(client, cast.review, "MZ...", name="setup.exe")
    assert exe.status_code == 400 and "setup.exe: Sieve imports" in exe.json()["errors"]["file"][0]
    empty = upload(client, cast.review, b"", name="empty.ris")
    assert empty.status_code == 400
    no_source = upload(client, cast.review, RIS_MEDLINE, source="")
    assert no_source.status_code == 400 and "source" in no_source.json()["errors"]
    bad_kind = upload(client, cast.review, RIS_MEDLINE, source_kind="library")
    assert bad_kind.status_code == 400 and "source_kind" in bad_kind.json()["errors"]
    assert not Import.objects.exists()


@pytest.mark.parametrize(
    "who,expected", [("anonymous", 401), ("dave", 404), ("carol", 403), ("bob", 202), ("alice", 202)]
)
def test_import_role_matrix(cast, api, tasks, who, expected):
    with tasks.run():
        response = upload(api(who), cast.review, RIS_MEDLINE)
    assert response.status_code == expected
    assert Import.objects.filter(review=cast.review).count() == (1 if expected == 202 else 0)


@pytest.mark.parametrize("who,expected", [("anonymous", 401), ("dave", 404), ("carol", 200), ("bob", 200)])
def test_read_role_matrix(cast, api, who, expected):
    client = api(who)
    for path in ("imports/", "records/", "duplicates/"):
        assert client.get(f"/api/v1/reviews/{cast.review.pk}/{path}").status_code == expected, path


def test_cross_source_duplicates_are_merged_and_can_be_split(cast, api, tasks):
    run_upload(tasks, api("bob"), cast.review, RIS_MEDLINE)
    _, embase = run_upload(tasks, api("bob"), cast.review, RIS_EMBASE, name="embase.ris", source="Embase (Ovid)")
    assert embase.duplicates_found == 1
    client = api("carol")
    unique = client.get(f"/api/v1/reviews/{cast.review.pk}/records/?duplicates=exclude").json()
    assert unique["count"] == 3
    only = client.get(f"/api/v1/reviews/{cast.review.pk}/records/?duplicates=only").json()
    assert only["count"] == 1
    groups = client.get(f"/api/v1/reviews/{cast.review.pk}/duplicates/?status=auto").json()
    assert groups["count"] == 1
    group = groups["results"][0]
    assert sorted(r["source"] for r in group["records"]) == ["Embase (Ovid)", "MEDLINE (Ovid)"]
    # Reviewers cannot split; editors can, and the pair is not proposed again by a later deduplication.
    assert client.post(f"/api/v1/reviews/{cast.review.pk}/duplicates/{group['id']}/split/").status_code == 403
    split = api("bob").post(f"/api/v1/reviews/{cast.review.pk}/duplicates/{group['id']}/split/")
    assert split.status_code == 200 and split.json()["status"] == "split"
    assert client.get(f"/api/v1/reviews/{cast.review.pk}/records/?duplicates=exclude").json()["count"] == 4
    from reviews.services.duplicates import dedupe_review

    dedupe_review(review_id=cast.review.pk)
    assert Record.objects.filter(review=cast.review, duplicate_of__isnull=False).count() == 0
    # A person can still merge them on purpose.
    ids = [r["id"] for r in group["records"]]
    merged = api("bob").post(f"/api/v1/reviews/{cast.review.pk}/duplicates/merge/", {"records": ids}, format="json")
    assert merged.status_code == 200 and merged.json()["status"] == "confirmed"
    assert merged.json()["decided_by"] == "bob"
    assert Record.objects.filter(review=cast.review, duplicate_of__isnull=False).count() == 1


def test_merge_refuses_records_of_another_review(cast, api, tasks):
    run_upload(tasks, api("bob"), cast.review, RIS_MEDLINE)
    mine = list(Record.objects.filter(review=cast.review).values_list("pk", flat=True))
    with tasks.run():
        other = upload(api("dave"), cast.other_review, RIS_EMBASE, name="e.ris")
    foreign = tasks.wait_import(other.json()["id"])
    theirs = Record.objects.filter(batch=foreign).values_list("pk", flat=True).first()
    assert theirs is not None
    response = api("bob").post(
        f"/api/v1/reviews/{cast.review.pk}/duplicates/merge/", {"records": [mine[0], theirs]}, format="json"
    )
    assert response.status_code == 400
    assert f"Not records of this review: {theirs}." in response.json()["errors"]["records"][0]
    assert Record.objects.get(pk=theirs).duplicate_of is None


def test_records_filters(cast, api, tasks):
    run_upload(tasks, api("bob"), cast.review, RIS_MEDLINE)
    run_upload(tasks, api("bob"), cast.review, RIS_EMBASE, name="embase.ris", source="Embase (Ovid)")
    client = api("carol")
    base = f"/api/v1/reviews/{cast.review.pk}/records/"
    assert client.get(base + "?source=Embase%20(Ovid)").json()["count"] == 2
    assert client.get(base + "?q=methadone").json()["count"] == 1
    assert client.get(base + "?q=10.1007/bf03011718").json()["count"] == 1
    assert client.get(base + "?duplicates=maybe").status_code == 400


def test_processing_twice_changes_nothing(cast, api, tasks):
    _, batch = run_upload(tasks, api("bob"), cast.review, RIS_MEDLINE)
    before = list(Record.objects.filter(batch=batch).values_list("pk", flat=True))
    import_process(import_id=batch.pk)
    assert list(Record.objects.filter(batch=batch).values_list("pk", flat=True)) == before


def test_interrupted_import_is_invisible_then_redone_cleanly(cast, api, tasks):
    with tasks.run():
        response = upload(api("bob"), cast.review, RIS_MEDLINE)
    batch = tasks.wait_import(response.json()["id"])
    # Simulate a worker killed mid-import: rows written, status still running.
    Import.objects.filter(pk=batch.pk).update(status=Import.Status.RUNNING)
    assert api("carol").get(f"/api/v1/reviews/{cast.review.pk}/records/").json()["count"] == 0
    import_process(import_id=batch.pk)
    assert Record.objects.filter(batch=batch).count() == 2
    assert api("carol").get(f"/api/v1/reviews/{cast.review.pk}/records/").json()["count"] == 2


def test_record_without_title_is_reported(cast, api, tasks):
    content = RIS_MEDLINE + "\nTY  - JOUR\nAU  - Nobody, A.\nPY  - 2001\nER  - \n"
    _, batch = run_upload(tasks, api("bob"), cast.review, content)
    assert batch.status == "succeeded" and batch.records_added == 3
    assert batch.warning_count == 1
    assert batch.warnings[0]["record"] == 3 and batch.warnings[0]["message"] == "no title"


# --- pages -------------------------------------------------------------------------------------------------


def test_import_page_upload_and_progress_partial(cast, web, tasks):
    client = web("bob")
    page = client.get(reverse("reviews:imports", args=[cast.review.pk]))
    assert page.status_code == 200 and b'enctype="multipart/form-data"' in page.content
    with tasks.run():
        response = client.post(
            reverse("reviews:imports", args=[cast.review.pk]),
            {
                "file": SimpleUploadedFile("m.ris", RIS_MEDLINE.encode()),
                "source": "MEDLINE (Ovid)",
                "source_kind": "database",
            },
        )
    batch = Import.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("reviews:import_detail", args=[cast.review.pk, batch.pk])
    tasks.wait_import(batch.pk)
    Import.objects.filter(pk=batch.pk).update(status="running", progress=40, stage="Stored 2,000 records")
    running = client.get(response["Location"], HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' in running and 'aria-valuenow="40"' in running and "<html" not in running
    Import.objects.filter(pk=batch.pk).update(status="succeeded", progress=100)
    done = client.get(response["Location"], HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in done and 'aria-valuenow="100"' in done


def test_import_page_shows_duplicate_file_confirmation(cast, web, tasks):
    client = web("bob")
    url = reverse("reviews:imports", args=[cast.review.pk])
    for _ in range(2):
        with tasks.run():
            response = client.post(
                url,
                {
                    "file": SimpleUploadedFile("m.ris", RIS_MEDLINE.encode()),
                    "source": "MEDLINE",
                    "source_kind": "database",
                },
            )
    assert response.status_code == 200
    body = response.content.decode()
    assert "already imported" in body and 'name="confirm_duplicate_file"' in body


@pytest.mark.parametrize("who,expected", [("anonymous", 302), ("dave", 404), ("carol", 200), ("bob", 200)])
def test_record_pages_role_matrix(cast, web, who, expected):
    client = web(who)
    for name in ("reviews:imports", "reviews:records", "reviews:duplicates"):
        assert client.get(reverse(name, args=[cast.review.pk])).status_code == expected, name


def test_reviewer_cannot_upload_through_page(cast, web):
    response = web("carol").post(
        reverse("reviews:imports", args=[cast.review.pk]),
        {"file": SimpleUploadedFile("m.ris", RIS_MEDLINE.encode()), "source": "MEDLINE", "source_kind": "database"},
    )
    assert response.status_code == 403 and not Import.objects.exists()


def test_duplicates_page_side_by_side_with_differences(cast, web, api, tasks):
    run_upload(tasks, api("bob"), cast.review, RIS_MEDLINE)
    run_upload(tasks, api("bob"), cast.review, RIS_EMBASE, name="embase.ris", source="Embase (Ovid)")
    group = DuplicateGroup.objects.get(review=cast.review)
    body = web("bob").get(reverse("reviews:duplicates", args=[cast.review.pk]) + "?status=auto").content.decode()
    assert "MEDLINE (Ovid)" in body and "Embase (Ovid)" in body
    assert 'class="table-warning"' in body  # the journal names differ
    assert reverse("reviews:duplicate_split", args=[cast.review.pk, group.pk]) in body
    reviewer = web("carol").get(reverse("reviews:duplicates", args=[cast.review.pk]) + "?status=auto").content.decode()
    assert "duplicate_split" not in reviewer and "/split/" not in reviewer
    response = web("bob").post(reverse("reviews:duplicate_split", args=[cast.review.pk, group.pk]), {"status": "auto"})
    assert response.status_code == 302
    group.refresh_from_db()
    assert group.status == "split"


def test_records_page_lists_counts_and_filters(cast, web, api, tasks, django_assert_max_num_queries):
    run_upload(tasks, api("bob"), cast.review, RIS_MEDLINE)
    run_upload(tasks, api("bob"), cast.review, RIS_EMBASE, name="embase.ris", source="Embase (Ovid)")
    client = web("carol")
    url = reverse("reviews:records", args=[cast.review.pk])
    with django_assert_max_num_queries(8):
        body = client.get(url).content.decode()
    assert "4 records" in body and "Embase (Ovid)" in body
    assert "1 record" in client.get(url + "?q=methadone").content.decode()
    assert "3 records" in client.get(url + "?duplicates=exclude").content.decode()


def test_overview_shows_search_counts(cast, web, api, tasks):
    empty = web("carol").get(reverse("reviews:detail", args=[cast.review.pk])).content.decode()
    assert "No searches imported yet." in empty
    run_upload(tasks, api("bob"), cast.review, RIS_MEDLINE)
    run_upload(tasks, api("bob"), cast.review, RIS_EMBASE, name="embase.ris", source="Embase (Ovid)")
    body = web("carol").get(reverse("reviews:detail", args=[cast.review.pk])).content.decode()
    assert "MEDLINE (Ovid): 2 records" in body and "Embase (Ovid): 2 records" in body
    assert "4 records, 1 duplicate removed" in body


def test_records_page_paginates_keeping_filters(cast, web, api, tasks):
    many = "".join(f"TY  - JOUR\nTI  - Trial number {n} of ketamine\nPY  - 2001\nER  - \n\n" for n in range(60))
    run_upload(tasks, api("bob"), cast.review, many, name="many.ris")
    client = web("carol")
    first = client.get(reverse("reviews:records", args=[cast.review.pk]) + "?q=ketamine").content.decode()
    assert "60 records" in first and "Page 1 of 2" in first
    assert 'href="?q=ketamine&amp;page=2"' in first
    second = client.get(reverse("reviews:records", args=[cast.review.pk]) + "?q=ketamine&page=2").content.decode()
    assert second.count('class="border-bottom py-2"') == 10


def test_kept_apart_holds_through_an_existing_group(cast, api, tasks):
    """A and B merged automatically; a person keeps B apart from C; a later import brings C's twin of A: the
    engine's certain pair (A, C) would put B and C in one group, so it waits for a person instead."""
    from reviews.services.duplicates import dedupe_review

    run_upload(tasks, api("bob"), cast.review, RIS_MEDLINE)
    run_upload(tasks, api("bob"), cast.review, RIS_EMBASE, name="embase.ris", source="Embase (Ovid)")
    hardy = list(Record.objects.filter(review=cast.review, title__icontains="Subcutaneous ketamine").order_by("id"))
    assert len(hardy) == 2 and hardy[1].duplicate_of_id == hardy[0].pk
    # A third record of another review-round: the same paper again, kept apart by a person from hardy[1].
    third = (
        "TY  - JOUR\nTI  - Subcutaneous ketamine for cancer pain: a randomised placebo-controlled trial\n"
        "AU  - Hardy, J.\nAU  - Quinn, S.\nPY  - 2012\nJO  - Journal of Clinical Oncology\nVL  - 30\n"
        "SP  - 3611\nEP  - 3617\nDO  - 10.1200/JCO.2012.42.1081\nER  - \n"
    )
    _, batch = run_upload(tasks, api("bob"), cast.review, third, name="central.ris", source="CENTRAL")
    new = Record.objects.get(batch=batch)
    # Undo whatever was merged, then record the person's decision that hardy[1] and the new record differ.
    for group in DuplicateGroup.objects.filter(review=cast.review, records=new):
        group.records.remove(new)
    Record.objects.filter(pk=new.pk).update(duplicate_of=None)
    apart = DuplicateGroup.objects.create(review=cast.review, status="split", primary=hardy[1])
    apart.records.add(hardy[1], new)
    dedupe_review(review_id=cast.review.pk)
    new.refresh_from_db()
    assert new.duplicate_of_id is None, "a certain pair merged records a person kept apart, through a group"
    assert DuplicateGroup.objects.filter(review=cast.review, status="pending", records=new).exists()


def test_objects_of_another_review_are_not_reachable_through_mine(cast, api, web, tasks):
    """Import, record and duplicate-group ids of dave's review, used in the URLs of alice's review: 404, and
    nothing of dave's changes or shows."""
    with tasks.run():
        upload(api("dave"), cast.other_review, RIS_MEDLINE)
    with tasks.run():
        upload(api("dave"), cast.other_review, RIS_MEDLINE, name="again.ris", confirm_duplicate_file="true")
    theirs = Import.objects.filter(review=cast.other_review).order_by("id")
    for batch in theirs:
        tasks.wait_import(batch.pk)
    record = Record.objects.filter(review=cast.other_review).first()
    assert record is not None
    group = DuplicateGroup.objects.get(review=cast.other_review, status="auto", records=record)
    mine = cast.review.pk
    client = api("alice")
    for path in (f"imports/{theirs[0].pk}/", f"records/{record.pk}/", f"duplicates/{group.pk}/"):
        assert client.get(f"/api/v1/reviews/{mine}/{path}").status_code == 404, path
    assert client.post(f"/api/v1/reviews/{mine}/duplicates/{group.pk}/split/").status_code == 404
    pages = web("alice")
    assert pages.get(reverse("reviews:import_detail", args=[mine, theirs[0].pk])).status_code == 404
    assert pages.get(reverse("reviews:record_detail", args=[mine, record.pk])).status_code == 404
    assert pages.post(reverse("reviews:duplicate_split", args=[mine, group.pk])).status_code == 404
    assert pages.post(reverse("reviews:duplicate_merge", args=[mine, group.pk])).status_code == 404
    group.refresh_from_db()
    assert group.status == "auto" and group.decided_by is None
    assert Record.objects.filter(review=cast.other_review, duplicate_of__isnull=False).count() == 2
    listed = client.get(f"/api/v1/reviews/{mine}/records/?q={record.doi}").json()
    assert listed["count"] == 0


def test_duplicates_page_query_count_is_flat(cast, web, api, tasks, django_assert_max_num_queries):
    many = "".join(
        f"TY  - JOUR\nTI  - Ketamine trial number {n} in adults with cancer pain\nAU  - Author{n}, A.\nPY  - 2001\n"
        f"DO  - 10.1000/sieve.{n}\nER  - \n\n"
        for n in range(12)
    )
    run_upload(tasks, api("bob"), cast.review, many, name="a.ris")
    run_upload(tasks, api("bob"), cast.review, many, name="b.ris", source="Embase", confirm_duplicate_file="true")
    assert DuplicateGroup.objects.filter(review=cast.review, status="auto").count() == 12
    client = web("bob")
    with django_assert_max_num_queries(9):
        body = client.get(reverse("reviews:duplicates", args=[cast.review.pk]) + "?status=auto").content.decode()
    assert body.count('class="card mb-3 duplicate-group"') == 12
    assert 'Merged automatically <span class="badge text-bg-light">12</span>' in body


def test_stored_records_equal_the_parsed_ones_byte_for_byte(cast, api, tasks):
    """What the bulk writer escapes (backslashes, tabs, paragraphs, quotes, NUL from a JSON escape) comes back
    from the database exactly as parsed, in every column and in the tags as exported."""
    from reviews.importers import parse_file

    content = (
        "TY  - JOUR\n"
        'TI  - A \\N title with \\\\ backslashes, "quotes", a\ttab and \\t \\n escapes\n'
        "AU  - O'Brien, J.\\\n"
        "AU  - Zhāng, W.\n"
        "PY  - 2020\n"
        "AB  - First paragraph ends here.\n"
        "\n"
        "Second paragraph, with a \\ backslash.\n"
        "KW  - a\\b\n"
        "N1  - \\.\n"
        "ER  - \n"
    )
    _, batch = run_upload(tasks, api("bob"), cast.review, content)
    assert batch.status == "succeeded", batch.errors
    (parsed,) = parse_file(content.encode())[1]
    stored = Record.objects.get(batch=batch)
    for name in ("title", "abstract", "authors", "year", "keywords", "url", "journal", "pages", "doi"):
        assert getattr(stored, name) == getattr(parsed, name), name
    assert "\n" in stored.abstract and "\\ backslash" in stored.abstract
    assert stored.raw_as_exported == parsed.raw
    assert stored.raw_as_exported["N1"] == ["\\."]


def test_keeping_a_pending_pair_apart_keeps_a_merge_of_either_with_a_third_record(cast):
    """A record merged (by a person) with one record and queued as a possible duplicate of another: keeping that
    pair apart settles the pair only; the merge stands (found by the ketamine demo's browser test)."""
    from reviews.services.duplicates import duplicate_group_split, duplicates_merge
    from screening.tests.test_screening import make_records

    first, second, third = make_records(cast.review, 3)
    duplicates_merge(user=cast.bob, review_id=cast.review.pk, record_ids=[first.pk, second.pk])
    pending = DuplicateGroup.objects.create(review=cast.review, status="pending", score=0.8, primary=third)
    pending.records.add(third, second)
    duplicate_group_split(user=cast.bob, review_id=cast.review.pk, group_id=pending.pk)
    second.refresh_from_db()
    assert second.duplicate_of_id == first.pk
    assert DuplicateGroup.objects.get(pk=pending.pk).status == "split"


@pytest.mark.django_db(transaction=True)
def test_an_import_another_process_is_working_on_is_left_to_it(cast):
    """A task delivered twice at once (or the demo loader beside a worker) must not process one import twice:
    the second run deleted the first one's rows under it. On PostgreSQL a live process holds the import's
    advisory lock; a dead one's lock goes with its connection."""
    from django.db import connection, connections

    from reviews.services.imports import IMPORT_LOCK_SPACE

    if connection.vendor != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's; SQLite has one writer and the embedded set-up one worker")
    batch = Import.objects.create(
        review=cast.review, source="MEDLINE (Ovid)", filename="m.ris", content_hash="h-lock",
        file=SimpleUploadedFile("m.ris", RIS_MEDLINE.encode()),
    )  # fmt: skip
    other = connections.create_connection("default")  # another worker's session
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [IMPORT_LOCK_SPACE, batch.pk])
        assert import_process(import_id=batch.pk).status == Import.Status.QUEUED
        assert not Record.objects.filter(batch=batch).exists()
    finally:
        other.close()  # the other worker dies: its lock goes with its connection
    assert import_process(import_id=batch.pk).status == Import.Status.SUCCEEDED
    assert Record.objects.filter(batch=batch).count() == 2
