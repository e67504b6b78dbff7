"""Query parameters of the screening API's lists (applied by core.filters.filter_queryset after the selectors
have scoped them to the review, the stage and, while blinded, the reviewer's own decisions)."""

import django_filters

from screening.models import Choice, Decision, Outcome


class DecisionFilter(django_filters.FilterSet):
    decision = django_filters.ChoiceFilter(choices=Choice.choices, help_text="Only decisions of this kind.")
    reviewer = django_filters.CharFilter(
        field_name="reviewer__username", help_text="Only this reviewer's decisions (username); yours while blinded."
    )
    record = django_filters.NumberFilter(field_name="record_id", help_text="Only the decisions on this record.")
    ordering = django_filters.OrderingFilter(
        fields=(("updated_at", "updated_at"), ("created_at", "created_at"), ("record_id", "record")),
        help_text="Default: newest change first (`-updated_at`).",
    )

    class Meta:
        model = Decision
        fields: list[str] = []


class ConflictFilter(django_filters.FilterSet):
    ordering = django_filters.OrderingFilter(
        fields=(("conflict_found_at", "conflict_found_at"), ("record_id", "record")),
        help_text="Default: oldest conflict first (`conflict_found_at`).",
    )

    class Meta:
        model = Outcome
        fields: list[str] = []
