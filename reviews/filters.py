"""Query parameters of the imports list (DRF's DjangoFilterBackend, on the queryset the selector scoped)."""

import django_filters

from reviews.models import Import


class ImportFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Import.Status.choices, help_text="Only imports in this state.")
    source_kind = django_filters.ChoiceFilter(choices=Import.SourceKind.choices, help_text="Only this kind of source.")

    class Meta:
        model = Import
        fields: list[str] = []
