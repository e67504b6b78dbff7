"""The extraction history page: who changed what, when, old and new; as blinding allows."""

import pytest
from django.urls import reverse

from extraction.services import extracting as X

pytestmark = pytest.mark.django_db


def test_history_page_shows_each_change_to_its_reader_only(cast, seed, web):
    rid = seed.review.pk
    mine = X.extraction_start(user=cast.carol, review_id=rid, study_id=seed.hardy.pk)
    theirs = X.extraction_start(user=cast.erin, review_id=rid, study_id=seed.hardy.pk)
    X.extraction_save(user=cast.carol, review_id=rid, extraction_id=mine.pk, version=1,
                      values={"methods_duration": "28 days"})  # fmt: skip
    X.extraction_save(user=cast.carol, review_id=rid, extraction_id=mine.pk, version=2,
                      values={"methods_duration": "4 weeks"})  # fmt: skip
    X.extraction_save(user=cast.erin, review_id=rid, extraction_id=theirs.pk, version=1,
                      values={"methods_duration": "secret of erin"})  # fmt: skip
    url = reverse("extraction:history", args=[rid, mine.pk])
    page = web("carol").get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "<del>28 days</del>" in text and "<ins>4 weeks</ins>" in text and "Duration of follow-up" in text
    assert "secret of erin" not in text
    assert web("carol").get(reverse("extraction:history", args=[rid, theirs.pk])).status_code == 404
    assert "secret of erin" in web("bob").get(reverse("extraction:history", args=[rid, theirs.pk])).content.decode()
    assert web("dave").get(url).status_code == 404
    assert web("dave").get(reverse("extraction:history", args=[cast.other_review.pk, mine.pk])).status_code == 404
    assert web("anonymous").get(url).status_code == 302
