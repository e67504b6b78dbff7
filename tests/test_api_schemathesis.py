"""The whole REST API fuzzed against its own OpenAPI schema (Schemathesis), as an owner, an editor, a reviewer and
an outsider of a review holding realistic data: the seed ketamine review's three trials with outcome data, an
analysis, risk of bias and certainty, plus imported records, screening decisions with a conflict and a study report.

For every operation of the live schema (served by the app itself, so a new endpoint is fuzzed as soon as it is
routed) a bounded, derandomised number of generated requests is sent through the WSGI app, and each response must
be no 5xx, have a documented status code and content type, and a body that matches the documented schema. Path
parameters are drawn from the ids that exist in the review (and the generated ones), so requests reach the code
behind the 404 rather than stopping at it.

Writes stay inside the test's transaction: each role gets a freshly built review, operations run reads first and
deletions last, and the review's own deletion is checked separately (test_owner_deletes_the_review).

Run alone: `.venv/bin/python -m pytest tests/test_api_schemathesis.py -q -p no:randomly`;
SIEVE_FUZZ_EXAMPLES=<n> sets the examples per operation (default below).
"""

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from extraction import models as extraction_models
from extraction.services import studies as study_services
from extraction.tests.conftest import erin, seed
from grading import models as grading_models
from grading.rob import ROB2_DOMAINS, ROBINS_DOMAINS
from grading.tests.test_certainty import ketamine
from reviews import models as review_models
from reviews.tests.factories import UserFactory
from screening import models as screening_models
from screening import services as screening_services
from synthesis.models import Analysis

pytestmark = pytest.mark.django_db

__all__ = ["erin", "ketamine", "seed"]  # fixtures, imported to be used here

EXAMPLES = int(os.environ.get("SIEVE_FUZZ_EXAMPLES", "5"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
ROLES = {"owner": "alice", "editor": "bob", "reviewer": "carol", "outsider": "dave"}
TA, FT = screening_models.Stage.TITLE_ABSTRACT, screening_models.Stage.FULL_TEXT


@pytest.fixture
def wsgi_app() -> Iterator[Any]:
    """The Django WSGI app, called in the test's thread so it sees the test's transaction. Like Django's test
    client, it must not close the connection at the end of each request (that would end the transaction)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_review(cast, ketamine) -> Any:
    """The ketamine review with what the seed leaves out: imported records, decisions by two reviewers (one
    agreement, one conflict, one record settled for full text), a duplicate group and a record as a study report."""
    review = ketamine.review
    batch = review_models.Import.objects.create(
        review=review, source="MEDLINE (Ovid)", source_kind="database", filename="medline.ris",
        content_hash="fuzz", status=review_models.Import.Status.SUCCEEDED, records_found=6, records_added=6,
    )  # fmt: skip
    review_models.Record.objects.bulk_create(
        review_models.Record(
            review=review,
            batch=batch,
            position=i,
            title=f"Ketamine and morphine for cancer pain, trial {i}",
            abstract="Randomised, double blind.",
            authors=["Yang CY", "Wong CS"],
            year=1996 + i,
            doi=f"10.1/k{i}",
        )  # fmt: skip
        for i in range(1, 7)
    )
    records = list(review_models.Record.objects.filter(batch=batch).order_by("id"))
    erin = ketamine.review.memberships.get(user__username="erin").user
    for record, (first, second) in zip(
        records[:3], [("include", "include"), ("include", "exclude"), ("maybe", "")], strict=True
    ):
        for who, choice in ((cast.carol, first), (erin, second)):
            if choice:
                screening_services.decision_create(
                    user=who, review_id=review.pk, record_id=record.pk, stage=TA, decision=choice
                )
        screening_services.outcome_evaluate(record_id=record.pk, stage=TA)
    study_services.report_add(user=cast.bob, review_id=review.pk, study_id=ketamine.yang.pk, record_id=records[0].pk)
    group = review_models.DuplicateGroup.objects.create(
        review=review, status=review_models.DuplicateGroup.Status.PENDING, score=0.97, reason="Same DOI",
        primary=records[4],
    )  # fmt: skip
    group.records.set(records[4:6])
    return ketamine


def known_ids(review: Any) -> dict[str, list[Any]]:
    """What a path parameter can be, by the collection it names: the ids that exist in this review."""

    def ids(model: Any, **scope: Any) -> list[Any]:
        return list(model.objects.filter(**scope).values_list("pk", flat=True).order_by("pk")[:5])

    r = {"review": review}
    return {
        "members": ids(review_models.Membership, **r),
        "imports": ids(review_models.Import, **r),
        "records": ids(review_models.Record, **r),
        "duplicates": ids(review_models.DuplicateGroup, **r),
        "decisions": ids(screening_models.Decision, **r),
        "conflicts": ids(screening_models.Outcome, **r),
        "studies": ids(extraction_models.Study, **r),
        "reports": list(
            extraction_models.StudyReport.objects.filter(**r).values_list("record_id", flat=True).order_by("pk")
        ),
        "arms": ids(extraction_models.Arm, study__review=review),
        "extractions": ids(extraction_models.Extraction, **r),
        "outcomes": ids(extraction_models.Outcome, **r),
        "comparisons": ids(extraction_models.Comparison, **r),
        "forms": ids(extraction_models.ExtractionForm, **r),
        "sections": ids(extraction_models.FormSection, form__review=review),
        "fields": ids(extraction_models.FormField, form__review=review),
        "discrepancies": ids(extraction_models.Discrepancy, **r),
        "analyses": ids(Analysis, **r),
        "risk-of-bias": ids(grading_models.RobAssessment, **r),
        "rob-discrepancies": ids(grading_models.RobDiscrepancy, **r),
        "domains": [*grading_models.ROB1_DOMAINS, *ROB2_DOMAINS, *ROBINS_DOMAINS],
        "screening": [TA, FT],
    }


def collection_of(path: str, parameter: str) -> str:
    """The collection a path parameter points into: `/studies/{study_pk}/arms/{id}/` -> studies, arms."""
    named = {"study_pk": "studies", "record_pk": "records", "comparison_pk": "comparisons", "outcome_pk": "outcomes"}
    if parameter in named:
        if parameter == "record_pk" and "/reports/" in path:
            return "reports"
        return named[parameter]
    before = re.search(r"/([^/{}]+)/\{" + re.escape(parameter) + r"\}", path)
    collection = before.group(1) if before else ""
    if collection == "discrepancies" and "/risk-of-bias/" in path:
        return "rob-discrepancies"
    return collection


def run_order(method: str, path: str) -> tuple[int, str, str]:
    """Reads first, then writes, deletions last (the review's own deletion is not fuzzed: see below)."""
    rank = {"GET": 0, "POST": 1, "PUT": 1, "PATCH": 1, "DELETE": 2}[method.upper()]
    return rank, path, method


def fuzzer(operation: Any, review: Any, known: dict[str, list[Any]], token: str) -> Any:
    """A bounded, reproducible Hypothesis test of one operation."""

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,  # a request's time is no failure here
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: the first failing request is reported as sent
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        case = data.draw(operation.as_strategy())
        for name, generated in list(case.path_parameters.items()):
            if name == "review_pk" or (name == "id" and operation.path.startswith("/api/v1/reviews/{id}/")):
                case.path_parameters[name] = review.pk
            else:
                choices = known.get(collection_of(operation.path, name), [])
                case.path_parameters[name] = data.draw(st.sampled_from([*choices, generated]), label=name)
        response = case.call(headers={"Authorization": f"Token {token}"})
        case.validate_response(response, checks=CHECKS)

    return check


def fuzz(schema: Any, review: Any, token: str) -> list[str]:
    """Every operation, a bounded number of examples each; returns the failures (the first of each operation)."""
    known = known_ids(review)
    operations = [result.ok() for result in schema.get_all_operations()]
    operations = [op for op in operations if not (op.method.upper() == "DELETE" and op.path == "/api/v1/reviews/{id}/")]
    operations.sort(key=lambda op: run_order(op.method, op.path))
    assert len(operations) > 50, [op.label for op in operations]
    failures = []
    for operation in operations:
        try:
            fuzzer(operation, review, known, token)()
        except (Exception, BaseExceptionGroup) as exc:  # every operation's failure is collected, reported together
            failures.append(f"{operation.label}:\n{exc}"[:3000])
    return failures


@pytest.mark.parametrize("role", list(ROLES))
def test_api_matches_its_schema(role, cast, fuzz_review, wsgi_app, api):
    user = getattr(cast, ROLES[role])
    token = Token.objects.get_or_create(user=user)[0].key
    schema = schemathesis.openapi.from_wsgi(
        "/api/schema/?format=json", wsgi_app, headers={"Authorization": f"Token {token}"}
    )
    failures = fuzz(schema, fuzz_review.review, token)
    assert not failures, f"{len(failures)} operation(s) failed as {role}:\n\n" + "\n\n".join(failures)


def test_owner_deletes_the_review(cast, fuzz_review, api):
    """Not fuzzed above (it would leave nothing to fuzz): only an owner deletes, and then it is gone for everyone."""
    url = f"/api/v1/reviews/{fuzz_review.review.pk}/"
    assert api("anonymous").delete(url).status_code == 401
    assert api("dave").delete(url).status_code == 404
    assert api("bob").delete(url).status_code == 403
    assert api("carol").delete(url).status_code == 403
    assert api("alice").delete(url).status_code == 204
    assert api("alice").get(url).status_code == 404
    assert api("bob").get(url).status_code == 404


def test_a_stranger_with_a_token_sees_no_review(cast, fuzz_review, api):
    """A user who belongs to no review at all: an empty list, and 404 (not 403) on the review's resources."""
    stranger: Any = UserFactory(username="mallory")
    client = api("anonymous")
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=stranger).key}")
    assert client.get("/api/v1/reviews/").json()["results"] == []
    for suffix in ("", "records/", "studies/", "analyses/", "conflicts/", "risk-of-bias/"):
        path = f"/api/v1/reviews/{fuzz_review.review.pk}/{suffix}"
        assert client.get(path).status_code == 404, path
