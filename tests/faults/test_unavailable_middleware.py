"""core.middleware: a database or Redis that is down gives a 503 with Retry-After, as a page, as JSON for the
API, with an event for htmx; wherever in the request the error is raised (a view, another middleware). Any other
error is still a 500. The services really stopped: test_service_restart.py."""

from unittest import mock

import kombu.exceptions
import pytest
import redis.exceptions
from django.db import InterfaceError, OperationalError
from django.test import Client

pytestmark = pytest.mark.django_db

DOWN = [
    OperationalError("connection to server at 127.0.0.1 failed: Connection refused"),
    InterfaceError("connection already closed"),
    redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused."),
    kombu.exceptions.OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused."),
]


def _decide(client: Client, cast, **headers: str):  # type: ignore[no-untyped-def]
    url = f"/reviews/{cast.review.pk}/screening/title_abstract/decide/"
    return client.post(url, {"record": "1", "decision": "include"}, headers=headers)


@pytest.mark.parametrize("error", DOWN, ids=lambda e: type(e).__module__ + "." + type(e).__name__)
def test_a_view_that_meets_a_service_down_answers_503_with_a_page(cast, web, error):
    with mock.patch("screening.views.services.decision_create", side_effect=error):
        response = _decide(web("carol"), cast)
    assert response.status_code == 503 and response["Retry-After"] == "30"
    page = response.content.decode()
    assert "Sieve is unavailable for a moment" in page and "nothing was lost" in page
    assert str(error) not in page  # no detail of the failure for the user


def test_htmx_gets_the_message_in_an_event(cast, web):
    with mock.patch("screening.views.services.decision_create", side_effect=DOWN[0]):
        response = _decide(web("carol"), cast, HX_Request="true")
    assert response.status_code == 503
    assert "sieve:unavailable" in response["HX-Trigger"] and "Try again" in response["HX-Trigger"]


def test_the_api_answers_json(cast, api):
    url = f"/api/v1/reviews/{cast.review.pk}/screening/title_abstract/decisions/"
    client = api("carol")
    # DRF's handler (core.api) answers the 503 itself: no traceback logged, no exception signalled (the test
    # client would re-raise a signalled one, so this test fails if the handler makes a 500 of it).
    with (
        mock.patch("screening.services.decision_create", side_effect=DOWN[0]),
        mock.patch("core.api.logger.error") as logged,
    ):
        response = client.post(url, {"record": 1, "decision": "include"}, format="json")
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert "unavailable" in response.json()["detail"]
    # Django still logs the 503 line ("Service Unavailable: ..."), but with no traceback, as no bug.
    assert not any(call.kwargs.get("exc_info") for call in logged.call_args_list), logged.call_args_list


def test_a_service_down_under_another_middleware_is_a_503_too(cast, web):
    # The session is read by the authentication middleware, before any view: Django has made its 500 by the time
    # the error leaves that middleware, and the 503 replaces it.
    client = web("carol")
    client.raise_request_exception = False
    with mock.patch("django.contrib.sessions.backends.db.SessionStore.load", side_effect=DOWN[0]):
        response = client.get(f"/reviews/{cast.review.pk}/screening/title_abstract/")
    assert response.status_code == 503 and "Sieve is unavailable" in response.content.decode()


def test_any_other_error_is_still_a_500(cast, web):
    client = web("carol")
    client.raise_request_exception = False
    with mock.patch("screening.views.services.decision_create", side_effect=ValueError("a bug")):
        response = _decide(client, cast)
    assert response.status_code == 500 and "Retry-After" not in response
