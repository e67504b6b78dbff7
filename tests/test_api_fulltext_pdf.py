"""GET /api/v1/reviews/{id}/records/{id}/fulltext.pdf: the PDF for token clients, to members only (every
member may read a full text, so no role is too small; an outsider gets 404 as for any object of the review)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from screening.tests.test_fulltext import PDF, passed, url

pytestmark = pytest.mark.django_db

__all__ = ["passed"]  # the fixture, imported to be used here


def pdf_url(cast, record):
    return f"/api/v1/reviews/{cast.review.pk}/records/{record.pk}/fulltext.pdf"


def test_members_download_the_pdf_with_a_token(cast, api, passed):
    record, _ = passed
    upload = api("carol").put(url(cast, record), {"file": SimpleUploadedFile("trial.pdf", PDF)}, format="multipart")
    assert upload.status_code == 200, upload.json()
    for who in ("alice", "bob", "carol"):
        response = api(who).get(pdf_url(cast, record), HTTP_ACCEPT="application/pdf")
        assert response.status_code == 200, who
        assert response["Content-Type"] == "application/pdf" and b"".join(response.streaming_content) == PDF
        assert response["X-Content-Type-Options"] == "nosniff" and response["Content-Security-Policy"] == "sandbox"
        assert 'filename="trial.pdf"' in response["Content-Disposition"]


def test_anonymous_outsider_and_no_pdf(cast, api, passed):
    record, excluded = passed
    api("carol").put(url(cast, record), {"file": SimpleUploadedFile("trial.pdf", PDF)}, format="multipart")
    assert api("anonymous").get(pdf_url(cast, record)).status_code == 401
    outsider = api("dave").get(pdf_url(cast, record))
    assert outsider.status_code == 404 and outsider.json() == {"detail": "Not found."}
    none = api("carol").get(pdf_url(cast, excluded))
    assert none.status_code == 404 and none.json() == {"detail": "This record has no PDF."}
