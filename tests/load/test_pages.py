"""The load test reads Sieve's pages the way they are (tests/load/pages.py), and seeds what it says it seeds.
The load test itself is `make load` (tests/load/run.py), not part of the suite: it needs a minute and the whole
machine. These run the views it drives in process, so a changed template breaks them here, not in the load test."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from extraction.services import studies
from reviews.models import Record
from screening import services
from screening.models import Decision
from screening.tests.test_screening import decide, make_records
from tests.load import pages, seed

pytestmark = pytest.mark.django_db
TA = "title_abstract"


def _screen(client, review) -> str:
    answer = client.get(reverse("screening:screen", args=[review.pk, TA]))
    assert answer.status_code == 200
    return answer.content.decode()


def _decide(client, review, record_id: int, decision: str) -> str:
    url = reverse("screening:decide", args=[review.pk, TA])
    answer = client.post(url, {"record": record_id, "decision": decision}, HTTP_HX_REQUEST="true")
    assert answer.status_code == 200
    return answer.content.decode()


def test_screening_step_as_the_load_test_reads_it(cast, web):
    records = make_records(cast.review, 3)
    carol = web("carol")
    html = _screen(carol, cast.review)
    assert pages.record_shown(html) == records[0].pk
    assert pages.csrf_token(html)
    assert not pages.queue_empty(html)

    pane = _decide(carol, cast.review, records[0].pk, "include")
    assert pages.refusal(pane) is None
    assert pages.record_shown(pane) == records[1].pk
    assert Decision.objects.filter(reviewer=cast.carol, record=records[0]).get().decision == "include"


def test_a_refused_decision_is_read_as_settled(cast, web):
    records = make_records(cast.review, 2)
    carol = web("carol")
    assert pages.record_shown(_screen(carol, cast.review)) == records[0].pk
    # While carol reads the record, the two others agree on it and the worker settles its outcome.
    decide(cast.alice, cast.review, records[0], "exclude", evaluate=False)
    decide(cast.bob, cast.review, records[0], "exclude")

    pane = _decide(carol, cast.review, records[0].pk, "include")
    refused = pages.refusal(pane)
    assert refused is not None and "settled" in refused
    assert not Decision.objects.filter(reviewer=cast.carol).exists()


def test_the_end_of_the_queue_is_read_as_such(cast, web):
    html = _screen(web("carol"), cast.review)
    assert pages.record_shown(html) is None
    assert pages.queue_empty(html)


def test_a_cell_save_as_the_load_test_reads_it(cast, web):
    study = studies.study_create(user=cast.alice, review_id=cast.review.pk, label="Hardy 2012")
    carol = web("carol")
    opened = carol.post(reverse("extraction:extract_start", args=[cast.review.pk, study.pk]), follow=True)
    shown = pages.extraction_shown(opened.content.decode())
    assert shown is not None
    extraction_id, version = shown
    assert 'name="field-methods_setting"' in opened.content.decode()

    url = reverse("extraction:extract_save", args=[cast.review.pk, extraction_id])
    posted = {"changed": "field-methods_setting", "field-methods_setting": "Hospice, UK", "version": version}
    saved = carol.post(url, posted, HTTP_HX_REQUEST="true")
    assert saved.status_code == 200
    assert pages.version_saved(saved.content.decode()) == version + 1
    stale = carol.post(url, posted, HTTP_HX_REQUEST="true")
    assert stale.status_code == 409  # a save with the old version is refused, as the load test counts it


def test_seed_makes_teams_and_studies_and_reads_back_only_new_decisions(db):
    plan = seed.seed(users=5, team=2, records=8, studies=6)
    assert plan["users"] == ["load01", "load02", "load03", "load04", "load05"]
    reviews = [plan["screening"][user] for user in plan["users"]]
    assert reviews[0] == reviews[1] != reviews[2] == reviews[3] != reviews[4]
    takers: dict[int, int] = {}
    for assigned in plan["extraction"]["studies"].values():
        assert assigned
        for study in assigned:
            takers[study] = takers.get(study, 0) + 1
    assert len(takers) == 6 and max(takers.values()) <= 2  # a study takes two extractors
    assert Decision.objects.count() == 2 * 2 + 2 * 2 + 2  # a quarter of each review decided by its team
    assert seed.decisions(plan["seeded_up_to"]) == []

    user = User.objects.get(username="load01")
    waiting = Record.objects.filter(review_id=reviews[0]).order_by("id")[2]
    services.decision_create(user=user, review_id=reviews[0], record_id=waiting.pk, stage=TA, decision="maybe")
    assert seed.decisions(plan["seeded_up_to"]) == [["load01", waiting.pk, TA, "maybe"]]
    assert user.check_password(plan["password"])
