"""The overview's "Waiting for you": each role sees its own next steps, and a blinded reviewer learns nothing of
the others' decisions from it."""

import re

import pytest

from screening.models import Outcome
from screening.tests.test_screening import decide, make_records

pytestmark = pytest.mark.django_db


def waiting(web, who, review):
    html = web(who).get(f"/reviews/{review.pk}/").content.decode()
    section = re.search(r'<section aria-labelledby="next-steps".*?</section>', html, re.S)
    assert section, "the overview has no 'Waiting for you' section"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section.group(0)))


def test_an_empty_review_asks_its_owner_for_a_search_and_tells_a_reviewer_nothing_waits(cast, web):
    assert "No searches imported yet." in waiting(web, "alice", cast.review)
    text = waiting(web, "carol", cast.review)
    assert "No searches" not in text and "Nothing waits for you in this review now." in text


def test_records_to_screen_are_counted_per_person_and_conflicts_only_for_editors(cast, web):
    review = cast.review
    records = make_records(review, 3)
    decide(cast.carol, review, records[0], "include")
    decide(cast.alice, review, records[0], "exclude")
    assert Outcome.objects.get(record=records[0]).status == Outcome.Status.CONFLICT
    decide(cast.carol, review, records[1], "exclude")

    carol = waiting(web, "carol", review)
    assert "1 record for you to screen on title and abstract." in carol
    assert "conflict" not in carol  # blinded: nothing says the first record is in conflict
    alice = waiting(web, "alice", review)
    assert "2 records for you to screen on title and abstract." in alice
    assert "1 screening conflict to resolve." in alice
    bob = waiting(web, "bob", review)  # the editor has screened nothing
    assert "3 records for you to screen on title and abstract." in bob and "1 screening conflict" in bob


def test_outsiders_do_not_get_the_overview(cast, web):
    assert web("dave").get(f"/reviews/{cast.review.pk}/").status_code == 404
