"""API errors say what the client did wrong and nothing about the server: a crash is a JSON 500 with a generic
message (the traceback goes to the log), an unknown URL under /api/ a JSON 404, and a 404 reads the same whether
the object does not exist or belongs to a review the client is not a member of."""

import logging

import pytest
from django.test import RequestFactory
from rest_framework.test import APIClient

from core import views as core_views
from core.api import SERVER_ERROR_DETAIL
from extraction.services import studies as study_services
from reviews import api as reviews_api
from reviews.models import Import, Membership, Record

pytestmark = pytest.mark.django_db

SECRET = "password=hunter2 in /srv/sieve/secret.py line 42"


def test_a_crash_in_the_api_is_a_generic_json_500_and_a_logged_traceback(cast, api, monkeypatch, caplog):
    def crash(**kwargs):
        raise RuntimeError(SECRET)

    monkeypatch.setattr(reviews_api.selectors, "review_list_for_user", crash)
    client = api("carol")
    client.raise_request_exception = False
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = client.get("/api/v1/reviews/")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"detail": SERVER_ERROR_DETAIL}
    assert SECRET not in response.content.decode() and "Traceback" not in response.content.decode()
    logged = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert logged and logged[0].exc_info and SECRET in str(logged[0].exc_info[1])


def test_a_crash_outside_a_view_answers_json_under_api_and_the_page_elsewhere():
    factory = RequestFactory()
    api_response = core_views.server_error(factory.get("/api/v1/reviews/"))
    assert api_response.status_code == 500 and api_response["Content-Type"] == "application/json"
    assert api_response.content.decode() == f'{{"detail": "{SERVER_ERROR_DETAIL}"}}'
    page = core_views.server_error(factory.get("/reviews/"))
    assert page.status_code == 500 and "<html" in page.content.decode()


def test_an_unknown_api_url_is_a_json_404(cast, api):
    for url in ("/api/v1/no-such-thing/", "/api/v1/reviews/1/no-such-thing/", "/api/v1/reviews/-1/"):
        response = api("carol").get(url)
        assert response.status_code == 404, url
        assert response["Content-Type"] == "application/json", url
        assert response.json() == {"detail": "Not found."}, url


def test_an_unknown_page_url_is_still_the_html_page(cast, web):
    response = web("carol").get("/reviews/no-such-thing/")
    assert response.status_code == 404 and "<html" in response.content.decode().lower()


@pytest.fixture
def elsewhere(cast):
    """Objects of the other review (dave's), which carol cannot see."""
    other, dave = cast.other_review, cast.dave
    study = study_services.study_create(user=dave, review_id=other.pk, label="Hidden 2020", design="parallel")
    batch = Import.objects.create(
        review=other, source="Embase", filename="e.ris", content_hash="e", status=Import.Status.SUCCEEDED
    )
    record = Record.objects.create(review=other, batch=batch, position=1, title="Hidden trial")
    membership = Membership.objects.get(review=other, user=dave)
    return {"studies": study.pk, "records": record.pk, "members": membership.pk, "imports": batch.pk}


def test_a_404_does_not_tell_whether_the_object_exists_in_another_review(cast, api, elsewhere):
    client = api("carol")
    mine = cast.review.pk
    never = 10**9
    for collection, hidden_id in elsewhere.items():
        hidden = client.get(f"/api/v1/reviews/{mine}/{collection}/{hidden_id}/")
        missing = client.get(f"/api/v1/reviews/{mine}/{collection}/{never}/")
        assert hidden.status_code == missing.status_code == 404, collection
        assert hidden.json() == missing.json(), collection
        assert str(hidden_id) not in hidden.content.decode(), collection
    # The other review itself: the same 404 as a review that never existed, for every role-checked request.
    for path in ("", "records/", "studies/", "members/"):
        hidden = client.get(f"/api/v1/reviews/{cast.other_review.pk}/{path}")
        missing = client.get(f"/api/v1/reviews/{never}/{path}")
        assert hidden.status_code == missing.status_code == 404, path
        assert hidden.json() == missing.json(), path
    hidden_write = client.patch(f"/api/v1/reviews/{cast.other_review.pk}/", {"title": "x"}, format="json")
    missing_write = client.patch(f"/api/v1/reviews/{never}/", {"title": "x"}, format="json")
    assert hidden_write.status_code == missing_write.status_code == 404
    assert hidden_write.json() == missing_write.json()


def test_anonymous_gets_401_json_with_the_token_scheme(cast):
    response = APIClient().get(f"/api/v1/reviews/{cast.review.pk}/")
    assert response.status_code == 401
    assert response.json()["detail"] and response["WWW-Authenticate"].startswith("Token")
