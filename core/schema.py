"""The OpenAPI schema class of every view (REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]).

Apart from core.api because drf-spectacular's openapi module imports DRF's generic views, which import the
default pagination class from core.api."""

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import permissions

from core.api import ErrorSerializer


class AutoSchema(SpectacularAutoSchema):
    """Documents, on every operation, the errors that any view can answer besides the ones it declares (a
    missing token, a role too small, an object or page not found, bad input, a throttled request), and gives
    every error response the JSON body of `exception_handler`."""

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        for code, description in self._implicit_errors().items():
            responses.setdefault(code, {"description": description})
        error = self.resolve_serializer(ErrorSerializer, "response").ref
        for code, response in responses.items():
            if code[0] in "45" and not response.get("content"):
                response["content"] = {"application/json": {"schema": error}}
        return responses

    def get_operation_id(self) -> str:
        # A hand-paginated APIView answers a page serializer, not `many=True`: still a list, not a retrieve.
        operation_id: str = super().get_operation_id()
        if self.method == "GET" and self._answers_a_page() and operation_id.endswith("_retrieve"):
            return operation_id.removesuffix("_retrieve") + "_list"
        return operation_id

    def _answers_a_page(self) -> bool:
        responses = self.get_response_serializers()
        main = responses.get(200) if isinstance(responses, dict) else responses
        if isinstance(main, OpenApiResponse):
            main = main.response
        return bool(getattr(main, "is_page", False))

    def _implicit_errors(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        takes_input = self.method in ("POST", "PUT", "PATCH") or any(
            p.get("in") == "query" for p in self._get_parameters()
        )
        if takes_input:
            errors["400"] = "Invalid input: `detail` and the field errors under `errors`."
        if not all(isinstance(p, permissions.AllowAny) for p in self.view.get_permissions()):
            errors["401"] = "Not logged in / no token."
            errors["403"] = "Your role in this review does not allow this."
            errors["404"] = "No such review or object, you are not a member of the review, or no such page."
        if self.view.get_throttles():
            errors["429"] = "Too many attempts: `detail` says when to try again (also in Retry-After)."
        return errors
