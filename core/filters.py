"""django-filter FilterSets for the API's list endpoints that are plain APIViews (paginated by hand), where
DRF's filter backends do not run: `filter_queryset` applies a FilterSet to a queryset the selector has already
scoped to the review and role, and `filter_parameters` documents its query parameters in the schema.

Ordering is a FilterSet's `ordering` (django-filter's OrderingFilter) with explicit fields, the same syntax as
DRF's OrderingFilter on the viewsets: `?ordering=-year,title`."""

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request


def filter_queryset(request: Request, queryset: QuerySet[Any], filterset_class: type[Any]) -> QuerySet[Any]:
    """The queryset narrowed and ordered by the request's query parameters; a bad value is a 400 that names
    the parameter (e.g. `ordering: Select a valid choice. …`)."""
    filterset = filterset_class(request.query_params, queryset=queryset, request=request)
    if not filterset.is_valid():
        raise ValidationError(filterset.errors)
    return filterset.qs


def filter_parameters(filterset_class: type[Any]) -> list[OpenApiParameter]:
    """The FilterSet's query parameters for `@extend_schema(parameters=…)`."""
    parameters = []
    for name, declared in filterset_class.base_filters.items():
        help_text = str(declared.extra.get("help_text", "") or declared.label or "")
        if isinstance(declared, django_filters.OrderingFilter):
            choices = [value for value, _ in declared.extra["choices"]]
            parameters.append(
                OpenApiParameter(
                    name,
                    {"type": "array", "items": {"type": "string", "enum": choices}},
                    explode=False,
                    description=help_text or "Sort by these fields, comma-separated; `-` before a field: descending.",
                )
            )
        elif isinstance(declared, django_filters.ChoiceFilter):
            choices = [value for value, _ in declared.extra["choices"]]
            parameters.append(OpenApiParameter(name, OpenApiTypes.STR, enum=choices, description=help_text))
        elif isinstance(declared, django_filters.NumberFilter):
            parameters.append(OpenApiParameter(name, OpenApiTypes.INT, description=help_text))
        elif isinstance(declared, django_filters.BooleanFilter):
            parameters.append(OpenApiParameter(name, OpenApiTypes.BOOL, description=help_text))
        elif isinstance(declared, django_filters.IsoDateTimeFilter | django_filters.DateTimeFilter):
            parameters.append(OpenApiParameter(name, OpenApiTypes.DATETIME, description=help_text))
        else:
            parameters.append(OpenApiParameter(name, OpenApiTypes.STR, description=help_text))
    return parameters
