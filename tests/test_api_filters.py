"""Filters and ordering of the list endpoints: they narrow and sort what the member may already see (the
selectors' scoping and blinding come first), and a bad value is a 400 that names the parameter."""

import pytest

from extraction.tests.conftest import erin, seed
from reviews.models import Import
from screening.tests.test_screening import decide, make_records

pytestmark = pytest.mark.django_db

__all__ = ["erin", "seed"]  # fixtures, imported to be used here

TA = "title_abstract"


@pytest.fixture
def screened(cast, erin):
    review = cast.review
    records = make_records(review, 3)
    for record, (carol, erins) in zip(records, [("include", "include"), ("include", "exclude"), ("exclude", "maybe")],
                                      strict=True):  # fmt: skip
        decide(cast.carol, review, record, carol)
        decide(erin, review, record, erins)
    return records


def ids(response) -> list[int]:
    assert response.status_code == 200, response.json()
    return [item["id"] for item in response.json()["results"]]


def test_decisions_filter_by_decision_reviewer_and_record_and_order(cast, api, screened):
    base = f"/api/v1/reviews/{cast.review.pk}/screening/{TA}/decisions/"
    bob = api("bob")
    assert len(ids(bob.get(base))) == 6
    excluded = bob.get(base, {"decision": "exclude"}).json()["results"]
    assert {(d["reviewer"], d["decision"]) for d in excluded} == {("erin", "exclude"), ("carol", "exclude")}
    assert {d["reviewer"] for d in bob.get(base, {"reviewer": "erin"}).json()["results"]} == {"erin"}
    on_first = bob.get(base, {"record": screened[0].pk}).json()["results"]
    assert {d["record"]["id"] if isinstance(d["record"], dict) else d["record"] for d in on_first} == {screened[0].pk}
    oldest_first = ids(bob.get(base, {"ordering": "created_at"}))
    assert oldest_first == sorted(oldest_first)
    # A reviewer still sees only her own while blinded, whatever she asks for.
    assert {d["reviewer"] for d in api("carol").get(base, {"reviewer": "erin"}).json()["results"]} == set()
    bad = bob.get(base, {"ordering": "reviewer__password"})
    assert bad.status_code == 400 and bad.json()["detail"].startswith("ordering:")
    assert bob.get(base, {"decision": "perhaps"}).json()["detail"].startswith("decision:")
    assert api("dave").get(base, {"decision": "include"}).status_code == 404


def test_conflicts_order(cast, api, screened):
    base = f"/api/v1/reviews/{cast.review.pk}/conflicts/"
    forward = ids(api("bob").get(base, {"ordering": "record"}))
    assert len(forward) == 2 and ids(api("bob").get(base, {"ordering": "-record"})) == forward[::-1]
    assert api("carol").get(base, {"ordering": "record"}).status_code == 403


def test_studies_filter_by_design_and_label_and_order(cast, api, seed):
    base = f"/api/v1/reviews/{cast.review.pk}/studies/"
    client = api("carol")
    labels = [s["label"] for s in client.get(base, {"ordering": "label"}).json()["results"]]
    assert labels == ["Hardy 2012", "Mercadante 2000", "Yang 1996"]
    assert [s["label"] for s in client.get(base, {"ordering": "-label"}).json()["results"]] == labels[::-1]
    assert [s["label"] for s in client.get(base, {"design": "parallel"}).json()["results"]] == ["Hardy 2012"]
    assert [s["label"] for s in client.get(base, {"label": "merca"}).json()["results"]] == ["Mercadante 2000"]
    assert client.get(base, {"design": "pilot"}).status_code == 400
    assert api("anonymous").get(base).status_code == 401
    assert api("dave").get(base, {"design": "parallel"}).status_code == 404


def test_records_imports_and_reviews_order(cast, api, screened):
    review = cast.review
    Import.objects.create(review=review, source="Embase", filename="e.ris", content_hash="e",
                          status=Import.Status.FAILED)  # fmt: skip
    client = api("carol")
    records = ids(client.get(f"/api/v1/reviews/{review.pk}/records/", {"ordering": "-id"}))
    assert records == sorted(records, reverse=True) and len(records) == 3
    imports = client.get(f"/api/v1/reviews/{review.pk}/imports/", {"status": "failed"}).json()["results"]
    assert [i["source"] for i in imports] == ["Embase"]
    by_source = client.get(f"/api/v1/reviews/{review.pk}/imports/", {"ordering": "source"}).json()["results"]
    assert [i["source"] for i in by_source] == ["Embase", "MEDLINE (Ovid)"]
    assert client.get(f"/api/v1/reviews/{review.pk}/imports/", {"status": "lost"}).status_code == 400
    assert api("dave").get(f"/api/v1/reviews/{review.pk}/imports/", {"status": "failed"}).status_code == 404
    assert len(ids(client.get("/api/v1/reviews/", {"ordering": "-title"}))) == 1
