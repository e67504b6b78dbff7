"""Query parameters of the extraction API's lists (applied by core.filters.filter_queryset after the selectors
have scoped them to the review)."""

import django_filters

from extraction.models import Study


class StudyFilter(django_filters.FilterSet):
    design = django_filters.ChoiceFilter(choices=Study.Design.choices, help_text="Only studies of this design.")
    label = django_filters.CharFilter(lookup_expr="icontains", help_text="Words in the study ID, e.g. “Hardy”.")
    ordering = django_filters.OrderingFilter(
        fields=(("label", "label"), ("created_at", "created_at"), ("updated_at", "updated_at")),
        help_text="Default: the review's order of studies.",
    )

    class Meta:
        model = Study
        fields: list[str] = []
