"""A database or Redis that is down answers 503 with a Retry-After header and a message, not a 500 traceback.

Django turns an exception into a response inside the middleware layer where it is raised, so an outer
middleware never sees it (a session or user loaded by another middleware, a template rendered after the view).
This middleware therefore answers in two ways: `process_exception` for an error raised by a view, and, for
one raised anywhere else in the request, a `got_request_exception` receiver that marks the request, so that the
500 response Django made for it is replaced on its way out. Register it first in MIDDLEWARE (outermost).
No library does this for Django (django-health-check reports, it does not answer requests)."""

import json
import logging
import sys
from collections.abc import Callable

import kombu.exceptions
import redis.exceptions
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader

logger = logging.getLogger(__name__)

# What a service being down raises: the database (psycopg's errors, wrapped by Django), Redis as cache (redis-py)
# and as Celery's broker (kombu, once its publish retries are spent).
UNAVAILABLE = (
    OperationalError,
    InterfaceError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    kombu.exceptions.OperationalError,
)
RETRY_AFTER_SECONDS = 30
MESSAGE = "The database or the task queue is unavailable for a moment; nothing was lost. Try again shortly."
_MARK = "_sieve_service_unavailable"


def is_unavailable(exc: BaseException | None) -> bool:
    # OperationalError covers "the server closed the connection" as well as lock timeouts and the like: all are
    # transient, and a retry is the right advice for each.
    return isinstance(exc, UNAVAILABLE)


def unavailable_response(request: HttpRequest) -> HttpResponse:
    """503: JSON for the API (the shape of core.api.exception_handler), otherwise a page (for htmx, the same with
    an event that carries the message). Renders no context processor: they would query the database that is
    down."""
    response: HttpResponse
    if request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", ""):
        response = JsonResponse({"detail": MESSAGE}, status=503)
    else:
        response = HttpResponse(loader.get_template("503.html").render({"message": MESSAGE}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    if request.headers.get("HX-Request"):
        # htmx swaps no 5xx answer; it does fire the events a response names, even on an error, for the page's
        # script to show the message where the swap would have gone.
        response["HX-Trigger"] = json.dumps({"sieve:unavailable": {"message": MESSAGE}})
    response["Cache-Control"] = "no-store"
    return response


@receiver(got_request_exception, dispatch_uid="sieve-service-unavailable")
def _mark_unavailable(sender: object, request: HttpRequest | None = None, **kwargs: object) -> None:
    # Sent by Django while it handles the exception, so sys.exc_info() is the exception itself.
    if request is not None and is_unavailable(sys.exc_info()[1]):
        setattr(request, _MARK, True)


class ServiceUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(request, _MARK, False) and response.status_code == 500:
            return unavailable_response(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_unavailable(exception):
            return None
        logger.warning("%s %s: service unavailable: %s", request.method, request.path, exception)
        return unavailable_response(request)
