"""REST API of the certainty page's risk-of-bias plot (`GET …/certainty/{comparison}/{outcome}/risk-of-bias-plot.svg`
and `.png`): the page's plot, the page's readers (editors and owners; reviewers once neither extraction nor risk of
bias is blinded), 404 for outsiders, another review's ids and an outcome without consensus risk of bias."""

import pytest
from django.urls import reverse

from extraction.models import ExtractionSettings
from extraction.services import studies as study_services
from grading.models import RobAssessment, RobSettings
from grading.tests.test_certainty import ketamine

pytestmark = pytest.mark.django_db
__all__ = ["ketamine"]  # the fixture, imported to be used here

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def plot_url(seed, fmt: str, comparison=None, outcome=None) -> str:
    comparison_id = seed.comparison.pk if comparison is None else comparison
    outcome_id = seed.pain.pk if outcome is None else outcome
    return f"/api/v1/reviews/{seed.review.pk}/certainty/{comparison_id}/{outcome_id}/risk-of-bias-plot.{fmt}"


def unblind(seed) -> None:
    ExtractionSettings.objects.update_or_create(review=seed.review, defaults={"blinded": False})
    RobSettings.objects.filter(review=seed.review).update(blinded=False)


def test_the_plot_is_the_pages_plot_as_svg_and_png(cast, ketamine, api, web):
    seed = ketamine
    page = reverse("certainty:rob_plot", args=[seed.review.pk, seed.comparison.pk, seed.pain.pk])
    svg = api("bob").get(plot_url(seed, "svg"))
    assert svg.status_code == 200, svg.content
    assert svg["Content-Type"] == "image/svg+xml"
    assert svg["X-Content-Type-Options"] == "nosniff"
    assert svg["Content-Disposition"] == (
        f'attachment; filename="risk-of-bias-weighted-review-{seed.review.pk}-outcome-{seed.pain.pk}.svg"'
    )
    text = svg.content.decode()
    assert "<svg" in text and "Risk of bias: Pain intensity" in text and "Overall: unclear 100%" in text
    assert svg.content == web("bob").get(page, {"format": "svg"}).content
    png = api("alice").get(plot_url(seed, "png"), HTTP_ACCEPT="image/png")
    assert png.status_code == 200
    assert png["Content-Type"] == "image/png"
    assert png.content[:8] == PNG_SIGNATURE
    assert png.content == web("alice").get(page, {"format": "png"}).content


def test_anonymous_401_outsider_404_reviewer_403_while_blinded(cast, ketamine, api):
    seed = ketamine
    for fmt in ("svg", "png"):
        assert api("anonymous").get(plot_url(seed, fmt)).status_code == 401
        assert api("dave").get(plot_url(seed, fmt)).status_code == 404
        blinded = api("carol").get(plot_url(seed, fmt))
        assert blinded.status_code == 403
        assert "blinded" in blinded.json()["detail"]


def test_a_reviewer_reads_it_only_once_neither_extraction_nor_risk_of_bias_is_blinded(cast, ketamine, api):
    seed = ketamine
    ExtractionSettings.objects.update_or_create(review=seed.review, defaults={"blinded": False})
    assert api("carol").get(plot_url(seed, "svg")).status_code == 403  # risk of bias still blinded
    unblind(seed)
    response = api("carol").get(plot_url(seed, "svg"))
    assert response.status_code == 200
    assert b"<svg" in response.content


def test_another_reviews_comparison_or_outcome_is_404(cast, ketamine, api):
    seed = ketamine
    other = cast.other_review.pk
    theirs = study_services.comparison_create(
        user=cast.dave, review_id=other, name="Theirs", intervention="A", control="B"
    )
    their_outcome = study_services.outcome_create(user=cast.dave, review_id=other, name="Theirs", type="dichotomous")
    for comparison, outcome in ((theirs.pk, seed.pain.pk), (seed.comparison.pk, their_outcome.pk), (theirs.pk,
                                their_outcome.pk)):  # fmt: skip
        response = api("bob").get(plot_url(seed, "svg", comparison, outcome))
        assert response.status_code == 404, (comparison, outcome)
        assert response["Content-Type"] == "application/json"


def test_no_consensus_risk_of_bias_is_404(cast, ketamine, api):
    seed = ketamine
    assert api("bob").get(plot_url(seed, "svg")).status_code == 200
    RobAssessment.objects.filter(review=seed.review, assessor__isnull=True).delete()
    for fmt in ("svg", "png"):
        response = api("bob").get(plot_url(seed, fmt))
        assert response.status_code == 404
        assert "detail" in response.json()


def test_the_schema_documents_both_downloads(cast, web):
    schema = web("carol").get("/api/schema/?format=json").json()
    base = "/api/v1/reviews/{review_pk}/certainty/{comparison_pk}/{outcome_pk}/risk-of-bias-plot."
    for fmt, media in (("svg", "image/svg+xml"), ("png", "image/png")):
        operation = schema["paths"][base + fmt]["get"]
        assert operation["tags"] == ["certainty"]
        assert media in operation["responses"]["200"]["content"]
        assert {"401", "403", "404"} <= set(operation["responses"])
