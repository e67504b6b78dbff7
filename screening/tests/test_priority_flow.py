"""Priority screening end to end: the worker trains on the review's outcomes, the queue offers the most likely
relevant record first, a reviewer can switch to plain order, the page shows the estimate."""

from reviews.models import Import, Record
from screening import priority_service, services
from screening.models import PriorityModel, RecordScore
from screening.selectors import next_record
from screening.tests.test_screening import decide

RELEVANT = "Ketamine added to opioids for refractory cancer pain: a randomised placebo-controlled trial {}"
IRRELEVANT = "Arthroscopic knee surgery versus physiotherapy for meniscal tears in athletes {}"


def _records(review, titles):
    batch = Import.objects.create(review=review, source="MEDLINE (Ovid)", filename="p.ris", content_hash="p",
                                  status=Import.Status.SUCCEEDED)  # fmt: skip
    Record.objects.bulk_create(
        Record(review=review, batch=batch, position=i, title=t, abstract=t) for i, t in enumerate(titles, 1)
    )
    return list(Record.objects.filter(batch=batch).order_by("id"))


def test_priority_orders_the_queue_once_trained_and_plain_order_stays_available(cast, api, web):
    review = cast.review
    services.settings_update(user=cast.alice, review_id=review.pk, version=None, reviewers_needed=1)
    decided = _records(review, [RELEVANT.format(i) if i % 2 else IRRELEVANT.format(i) for i in range(12)])
    waiting = _records(review, [IRRELEVANT.format(f"w{i}") for i in range(5)] + [RELEVANT.format("w-last")])
    for record in decided[:4]:
        decide(cast.carol, review, record, "include" if "Ketamine" in record.title else "exclude")
    assert not priority_service.retrain(review_id=review.pk).ready  # 2 + 2 outcomes: not yet
    assert next_record(review=review, user=cast.bob, stage="title_abstract") == decided[4]
    for record in decided[4:]:
        decide(cast.carol, review, record, "include" if "Ketamine" in record.title else "exclude")
    state = priority_service.retrain(review_id=review.pk, force=True)
    assert state.ready and state.outcomes_used == 12
    assert RecordScore.objects.filter(review=review).count() == len(waiting)
    assert state.relevant_low is not None and state.relevant_high is not None
    assert state.relevant_low <= state.relevant_high

    # The relevant record, imported last, comes first; plain order is import order.
    assert next_record(review=review, user=cast.bob, stage="title_abstract") == waiting[-1]
    assert next_record(review=review, user=cast.bob, stage="title_abstract", plain=True) == waiting[0]
    url = f"/api/v1/reviews/{review.pk}/screening/title_abstract/next/"
    assert api("bob").get(url).json()["id"] == waiting[-1].pk
    assert api("bob").get(f"{url}?order=plain").json()["id"] == waiting[0].pk

    page = web("bob")
    html = page.get(f"/reviews/{review.pk}/screening/title_abstract/").content.decode()
    assert "Priority order" in html and "estimated still unseen" in html and "w-last" in html
    page.post(f"/reviews/{review.pk}/screening/title_abstract/order/", {"order": "plain"})
    html = page.get(f"/reviews/{review.pk}/screening/title_abstract/").content.decode()
    assert "Plain order" in html and "meniscal tears in athletes w0" in html

    # Switched off by the owner: import order for everyone.
    services.settings_update(user=cast.alice, review_id=review.pk, version=None, priority=False)
    assert next_record(review=review, user=cast.bob, stage="title_abstract") == waiting[0]


def test_outcomes_mark_the_model_stale_and_the_sweep_retrains_only_after_enough(cast):
    review = cast.review
    services.settings_update(user=cast.alice, review_id=review.pk, version=None, reviewers_needed=1)
    records = _records(review, [RELEVANT.format(i) if i % 2 else IRRELEVANT.format(i) for i in range(30)])
    for record in records[:12]:
        decide(cast.carol, review, record, "include" if "Ketamine" in record.title else "exclude")
    assert PriorityModel.objects.get(review=review).stale
    priority_service.sweep()
    state = PriorityModel.objects.get(review=review)
    assert state.ready and not state.stale and state.outcomes_used == 12
    decide(cast.carol, review, records[12], "exclude")
    assert PriorityModel.objects.get(review=review).stale
    priority_service.sweep()  # one new outcome: below the retraining step (10), left for later
    assert PriorityModel.objects.get(review=review).outcomes_used == 12
