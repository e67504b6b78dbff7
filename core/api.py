"""API plumbing shared by every app: pagination and the JSON error shape."""

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.exceptions import ServiceConflict


class Pagination(PageNumberPagination):
    """`{"count", "next", "previous", "results"}`; `?page=` and `?page_size=` (at most 500)."""

    page_size_query_param = "page_size"
    max_page_size = 500


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
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
        response.data = {"detail": _first_message(errors), "errors": errors}
    elif not isinstance(response.data, dict) or "detail" not in response.data:
        response.data = {"detail": response.data}
    return response


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
