"""Full texts: PDF upload checked by size and content, served only to members, "not retrieved" for PRISMA."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from screening.models import FullText
from screening.tests.test_screening import decide, make_records

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def passed(cast, settings, tmp_path):
    """A record whose title/abstract outcome is include (one reviewer is enough here)."""
    settings.MEDIA_ROOT = tmp_path
    from screening import services

    services.settings_update(user=cast.alice, review_id=cast.review.pk, version=None, reviewers_needed=1)
    record, excluded = make_records(cast.review, 2)
    decide(cast.carol, cast.review, record, "include")
    decide(cast.carol, cast.review, excluded, "exclude")
    return record, excluded


def url(cast, record):
    return f"/api/v1/reviews/{cast.review.pk}/records/{record.pk}/fulltext/"


def test_upload_serve_to_members_only_and_remove(cast, api, web, passed):
    record, _ = passed
    response = api("carol").put(
        url(cast, record), {"file": SimpleUploadedFile("../../etc/trial.pdf", PDF)}, format="multipart"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["filename"] == "trial.pdf" and body["url"].endswith("/fulltext.pdf")
    stored = FullText.objects.get(record=record)
    assert stored.file.name and "trial" not in stored.file.name and ".." not in stored.file.name
    pdf = web("carol").get(body["url"])
    assert (
        pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and b"".join(pdf.streaming_content) == PDF
    )
    assert pdf["X-Content-Type-Options"] == "nosniff"
    assert web("dave").get(body["url"]).status_code == 404
    assert web("anonymous").get(body["url"]).status_code == 302
    assert api("carol").delete(url(cast, record)).status_code == 204
    assert not FullText.objects.filter(record=record).exists()


def test_not_a_pdf_too_big_or_not_at_full_text_is_refused(cast, api, passed):
    record, excluded = passed
    fake = api("carol").put(
        url(cast, record), {"file": SimpleUploadedFile("x.pdf", b"MZ\x90 not a pdf")}, format="multipart"
    )
    assert fake.status_code == 400 and "not a PDF" in fake.json()["detail"]
    with override_settings(SIEVE_MAX_PDF_MB=0):
        big = api("carol").put(url(cast, record), {"file": SimpleUploadedFile("x.pdf", PDF)}, format="multipart")
    assert big.status_code == 400 and "limit" in big.json()["detail"]
    early = api("carol").put(url(cast, excluded), {"file": SimpleUploadedFile("x.pdf", PDF)}, format="multipart")
    assert early.status_code == 409
    both = api("carol").put(url(cast, record), {"not_retrieved": True, "file": SimpleUploadedFile("x.pdf", PDF)})
    assert both.status_code == 400
    assert not FullText.objects.exists()


def test_not_retrieved_leaves_the_queue_and_counts_in_prisma(cast, api, passed):
    record, _ = passed
    next_url = f"/api/v1/reviews/{cast.review.pk}/screening/full_text/next/"
    assert api("carol").get(next_url).json()["id"] == record.pk
    marked = api("carol").put(
        url(cast, record), {"not_retrieved": True, "note": "Library could not get it"}, format="json"
    )
    assert marked.status_code == 200 and marked.json()["not_retrieved"] is True
    assert api("carol").get(next_url).status_code == 204
    counts = api("bob").get(f"/api/v1/reviews/{cast.review.pk}/prisma/").json()
    assert (counts["sought"], counts["not_retrieved"], counts["assessed"]) == (1, 1, 0)


def test_screening_page_offers_the_pdf_controls_at_full_text(cast, web, passed):
    record, _ = passed
    page = web("carol").get(f"/reviews/{cast.review.pk}/screening/full_text/").content.decode()
    assert "Attach the PDF" in page and "Could not retrieve it" in page
    upload = web("carol").post(
        f"/reviews/{cast.review.pk}/records/{record.pk}/fulltext/",
        {"action": "upload", "file": SimpleUploadedFile("paper.pdf", PDF)},
    )
    assert upload.status_code == 302
    page = web("carol").get(f"/reviews/{cast.review.pk}/screening/full_text/").content.decode()
    assert "Open the PDF" in page and "paper.pdf" in page
