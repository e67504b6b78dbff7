"""API plumbing shared by every app: pagination, the JSON error shape and how the schema documents both."""

import logging
from collections.abc import Iterable
from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.signals import got_request_exception
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, serializers, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.exceptions import ServiceConflict

logger = logging.getLogger("django.request")

# The largest id a database accepts (64-bit signed): ids in request bodies are bounded by it, so that a client's
# 10**30 is a 400 that says so, not an overflow inside the database driver.
MAX_ID = 2**63 - 1

# What a client is told when the server fails: nothing about the cause (that goes to the log).
SERVER_ERROR_DETAIL = "Something went wrong on our side. The error has been logged; try again in a moment."


class Pagination(PageNumberPagination):
    """`{"count", "next", "previous", "results"}`; `?page=` and `?page_size=` (at most 500)."""

    page_size_query_param = "page_size"
    max_page_size = 500


# For views that paginate by hand (an APIView calling Pagination()): what a ListAPIView documents by itself.
PAGE_PARAMETERS = [
    OpenApiParameter("page", OpenApiTypes.INT, description="A page number within the paginated result set."),
    OpenApiParameter(
        "page_size", OpenApiTypes.INT, description="Number of results per page (default 50, at most 500)."
    ),
]


@cache
def page_of(serializer_class: type[serializers.BaseSerializer]) -> type[serializers.Serializer]:
    """The documented shape of a page of `serializer_class` items, for `responses={200: page_of(X)}`."""
    name = serializer_class.__name__.removesuffix("Serializer")
    return type(
        f"{name}PageSerializer",
        (serializers.Serializer,),
        {
            "__doc__": f"A page of {name} items.",
            "is_page": True,  # read by core.schema.AutoSchema
            "count": serializers.IntegerField(help_text="Items in all pages."),
            "next": serializers.URLField(allow_null=True, help_text="The next page, or null on the last."),
            "previous": serializers.URLField(allow_null=True, help_text="The previous page, or null on the first."),
            "results": serializer_class(many=True),
        },
    )


class ErrorSerializer(serializers.Serializer):
    """The body of every API error (4xx and 5xx)."""

    detail = serializers.CharField(help_text="What is wrong, in one sentence.")
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.JSONField(),
        required=False,
        help_text='400 only: the message(s) of each field (nested fields nest), e.g. `{"role": ["…"]}`.',
    )


class AnyAccept(BaseContentNegotiation):
    """For downloads (CSV, images): the file is sent whatever the client accepts (`Accept: text/csv` or
    `image/*` is no 406); an error is JSON."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser:
        return next(iter(parsers))

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This change conflicts with the current state of the object."
    default_code = "conflict"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every API error is JSON with a `detail` message; 400s add the field errors under `errors`."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, ServiceConflict):
        exc = Conflict(exc.message)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        from core.middleware import MESSAGE, RETRY_AFTER_SECONDS, is_unavailable

        if is_unavailable(exc):  # the database or Redis is down: transient, said as such and not logged as a bug
            return Response({"detail": MESSAGE}, status=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
        return _server_error(exc, context)
    if isinstance(exc, exceptions.ValidationError):
        errors = response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
        response.data = {"detail": _first_message(errors), "errors": errors}
    elif not isinstance(response.data, dict) or "detail" not in response.data:
        response.data = {"detail": response.data}
    return response


def _server_error(exc: Exception, context: dict[str, Any]) -> Response | None:
    """An unexpected exception: logged with its traceback (as Django logs a 500), and signalled (so that error
    reporters and the test client see it), while the client gets a JSON 500 that reveals nothing about it."""
    if settings.DEBUG:
        return None  # DRF re-raises: Django's debug page shows the traceback to the developer
    request = getattr(context.get("request"), "_request", None)
    logger.error("Internal Server Error: %s", getattr(request, "path", "?"), exc_info=exc)
    got_request_exception.send(sender=None, request=request)
    return Response({"detail": SERVER_ERROR_DETAIL}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)


def _first_message(errors: Any, prefix: str = "") -> str:
    """A readable one-line summary of the first field error, e.g. `role: "boss" is not a valid choice.`"""
    if isinstance(errors, dict):
        for key, value in errors.items():
            label = "" if key == "non_field_errors" else f"{prefix}{key}"
            return (
                _first_message(value, f"{label}." if label else "")
                if isinstance(value, dict)
                else (f"{label}: {_first_message(value)}" if label else _first_message(value))
            )
        return "Invalid input."
    if isinstance(errors, list) and errors:
        return _first_message(errors[0], prefix)
    return str(errors)
