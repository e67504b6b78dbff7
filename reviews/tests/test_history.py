"""The audit trail: every change of a review or membership is kept, with who made it."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_review_edits_are_kept_with_their_author(cast, web):
    web("alice").post(reverse("reviews:edit", args=[cast.review.pk]), {"title": "Renamed by alice", "version": "1"})
    history = list(cast.review.history.order_by("history_id"))
    assert [h.title for h in history][-1] == "Renamed by alice"
    assert history[-1].history_user == cast.alice
    assert history[-1].history_type == "~"
    assert history[0].title == "Ketamine as an adjuvant to opioids for cancer pain"


def test_membership_changes_and_removal_are_kept(cast, api):
    carol = cast.review.memberships.get(user=cast.carol)
    client = api("alice")
    client.patch(f"/api/v1/reviews/{cast.review.pk}/members/{carol.pk}/", {"role": "editor"})
    client.delete(f"/api/v1/reviews/{cast.review.pk}/members/{carol.pk}/")
    records = list(carol.history.model.objects.filter(id=carol.pk).order_by("history_id"))
    assert [(r.history_type, r.role) for r in records] == [("+", "reviewer"), ("~", "editor"), ("-", "editor")]
    assert records[-1].history_user == cast.alice
    assert records[-2].history_user == cast.alice


def test_deleted_review_stays_in_history(cast, api):
    review_id = cast.review.pk
    api("alice").delete(f"/api/v1/reviews/{review_id}/")
    last = cast.review.history.model.objects.filter(id=review_id).latest("history_id")
    assert last.history_type == "-" and last.history_user == cast.alice
