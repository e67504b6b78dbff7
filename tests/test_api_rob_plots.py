"""GET risk-of-bias/{traffic-light,summary}.{svg,png}: the page's plot downloads for API clients (editors and
owners; reviewers only once assessment is not blinded)."""

import pytest

from extraction.tests.conftest import erin, seed
from grading.tests.test_certainty import ketamine

pytestmark = pytest.mark.django_db

__all__ = ["erin", "ketamine", "seed"]  # fixtures, imported to be used here


def test_plots_of_the_consensus(cast, api, web, ketamine):
    base = f"/api/v1/reviews/{ketamine.review.pk}/risk-of-bias"
    svg = api("bob").get(f"{base}/traffic-light.svg", HTTP_ACCEPT="image/svg+xml")
    assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml"
    text = svg.content.decode()
    assert "<svg" in text and "Hardy 2012" in text and "whole studies" in text
    png = api("alice").get(f"{base}/summary.png")
    assert png.status_code == 200 and png["Content-Type"] == "image/png" and png.content.startswith(b"\x89PNG")
    # Named as the page names it: the review, the plot, the outcome when there is one.
    assert png["Content-Disposition"].endswith('-risk-of-bias-summary-bar.png"'), png["Content-Disposition"]
    page = web("alice").get(f"/reviews/{ketamine.review.pk}/risk-of-bias/summary/?format=png")
    assert png["Content-Disposition"] == page["Content-Disposition"]
    assert api("bob").get(f"{base}/summary.svg").status_code == 200
    assert api("bob").get(f"{base}/traffic-light.png").status_code == 200


def test_roles_and_bad_input(cast, api, ketamine):
    url = f"/api/v1/reviews/{ketamine.review.pk}/risk-of-bias/traffic-light.svg"
    assert api("anonymous").get(url).status_code == 401
    assert api("dave").get(url).status_code == 404
    blinded = api("carol").get(url)
    assert blinded.status_code == 403 and "blinded" in blinded.json()["detail"]
    for bad in ("x", "999999999", str(10**30)):
        response = api("bob").get(url, {"outcome": bad})
        assert response.status_code == 404 and response.json() == {"detail": "Not found."}, bad


def test_nothing_to_plot_before_a_consensus(cast, api, seed):
    response = api("bob").get(f"/api/v1/reviews/{seed.review.pk}/risk-of-bias/summary.svg")
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
