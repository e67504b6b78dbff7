"""Every URL pattern of the project, from the resolver, and a real URL for each built from seeded objects."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver, reverse

from grading.models import ROB1_DOMAINS
from screening.models import Stage


@dataclass(frozen=True)
class Pattern:
    name: str  # namespaced URL name, e.g. "reviews:detail" or "api-review-detail"
    route: str  # the full route, e.g. "reviews/<int:review_id>/"
    kwargs: tuple[str, ...]
    callback: Any

    @property
    def api(self) -> bool:
        return self.route.startswith("api/")


def patterns() -> list[Pattern]:
    """Every pattern but the admin's (Django's own, staff only, tested by Django)."""

    def walk(items: list[Any], prefix: str, namespace: str) -> Iterator[Pattern]:
        for item in items:
            if isinstance(item, URLResolver):
                ns = namespace
                if item.namespace:
                    ns = f"{namespace}:{item.namespace}" if namespace else item.namespace
                yield from walk(item.url_patterns, prefix + str(item.pattern), ns)
            elif isinstance(item, URLPattern):
                name = f"{namespace}:{item.name}" if namespace else str(item.name)
                yield Pattern(name, prefix + str(item.pattern), tuple(item.pattern.converters), item.callback)

    seen: dict[tuple[str, str], Pattern] = {}
    for p in walk(get_resolver().url_patterns, "", ""):
        if p.route.startswith("admin/"):
            continue
        seen.setdefault((p.name, p.route), p)  # a route listed twice in a urls.py is one endpoint
    return list(seen.values())


# What a `pk` names, by the URL's name (DRF routes call every object id `pk`).
PK_KIND = {
    "api-review-detail": "review",
    "api-member-detail": "membership",
    "api-import-detail": "import",
    "api-record-detail": "record",
    "api-duplicate-detail": "group",
    "api-duplicate-split": "group",
    "api-decision-detail": "decision",
    "api-conflict-resolve": "conflict",
    "api-study-detail": "study",
    "api-arm-detail": "arm",
    "api-extraction-detail": "extraction",
    "api-extraction-history": "extraction",
    "api-extraction-upgrade": "extraction",
    "api-outcome-detail": "outcome",
    "api-comparison-detail": "comparison",
    "api-form-detail": "form",
    "api-form-section-detail": "section",
    "api-form-field-detail": "field",
    "api-discrepancy-resolve": "discrepancy",
    "api-analysis-detail": "analysis",
    "api-analysis-forest-svg": "analysis",
    "api-analysis-forest-png": "analysis",
    "api-analysis-funnel-svg": "analysis",
    "api-analysis-funnel-png": "analysis",
    "api-rob-assessment-detail": "assessment",
    "api-rob-judgement": "assessment",
    "api-rob-assessment-history": "assessment",
    "api-rob-discrepancy-resolve": "rob_discrepancy",
}

# What every other path parameter names.
KWARG_KIND = {
    "review_id": "review",
    "review_pk": "review",
    "membership_id": "membership",
    "import_id": "import",
    "record_id": "record",
    "record_pk": "record",
    "group_id": "group",
    "decision_id": "decision",
    "conflict_id": "conflict",
    "study_id": "study",
    "study_pk": "study",
    "arm_id": "arm",
    "outcome_id": "outcome",
    "outcome_pk": "outcome",
    "comparison_id": "comparison",
    "comparison_pk": "comparison",
    "extraction_id": "extraction",
    "form_id": "form",
    "form_pk": "form",
    "section_id": "section",
    "section_pk": "section",
    "field_id": "field",
    "analysis_id": "analysis",
    "assessment_id": "assessment",
    "transfer_id": "transfer",
}

CONSTANTS = {"stage": Stage.TITLE_ABSTRACT.value, "domain": ROB1_DOMAINS[0], "kind": "consensus"}


def kind_of(pattern: Pattern, kwarg: str) -> str | None:
    """The kind of object a path parameter names, None for a constant (stage, domain, export kind)."""
    if kwarg in CONSTANTS:
        return None
    if kwarg == "pk":
        return PK_KIND[pattern.name]
    if kwarg == "discrepancy_id":
        return "rob_discrepancy" if pattern.name.startswith("rob:") else "discrepancy"
    return KWARG_KIND[kwarg]


def url_for(pattern: Pattern, objects: Any, override: dict[str, Any] | None = None) -> str:
    """The pattern's URL with the ids of `objects` (a Seeded), `override` {kwarg: object} replacing some."""
    kwargs: dict[str, Any] = {}
    for kwarg in pattern.kwargs:
        kind = kind_of(pattern, kwarg)
        if kind is None:
            kwargs[kwarg] = CONSTANTS[kwarg]
        elif override and kwarg in override:
            kwargs[kwarg] = override[kwarg].pk
        else:
            kwargs[kwarg] = objects[kind].pk
    return reverse(pattern.name, kwargs=kwargs)
