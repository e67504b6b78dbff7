"""Screening end to end through the services and the API: decisions, outcomes, conflicts, blinding, roles,
agreement against scikit-learn, PRISMA counts, concurrency (PostgreSQL) and a flat query count per step."""

import threading

import pytest
from django.db import connection
from sklearn.metrics import cohen_kappa_score

from reviews.models import Import, Membership, Record
from reviews.tests.factories import MembershipFactory, UserFactory
from screening import services
from screening.models import Decision, Outcome
from screening.prisma import check

TA, FT = "title_abstract", "full_text"


def make_records(review, n, *, source="MEDLINE (Ovid)", kind="database"):
    batch = Import.objects.create(
        review=review, source=source, source_kind=kind, filename="x.ris", content_hash=f"h{source}{n}",
        status=Import.Status.SUCCEEDED,
    )  # fmt: skip
    Record.objects.bulk_create(
        Record(review=review, batch=batch, position=i, title=f"Ketamine trial {source} {i}", abstract="Pain.")
        for i in range(1, n + 1)
    )
    return list(Record.objects.filter(batch=batch).order_by("id"))


def decide(user, review, record, decision, stage=TA, reason="", evaluate=True):
    made = services.decision_create(
        user=user, review_id=review.pk, record_id=record.pk, stage=stage, decision=decision, reason=reason
    )
    if evaluate:
        services.outcome_evaluate(record_id=record.pk, stage=stage)
    return made


@pytest.mark.parametrize(
    "stage,decisions,expected",
    [
        (TA, [("include", ""), ("include", "")], ("include", "")),
        (TA, [("include", ""), ("maybe", "")], ("include", "")),
        (TA, [("maybe", ""), ("maybe", "")], ("maybe", "")),
        (TA, [("exclude", ""), ("exclude", "")], ("exclude", "")),
        (TA, [("include", ""), ("exclude", "")], None),
        (TA, [("maybe", ""), ("exclude", "")], None),
        (TA, [("maybe", "")], ("maybe", "")),
        (FT, [("include", ""), ("include", "")], ("include", "")),
        (FT, [("exclude", "Wrong population"), ("exclude", "Wrong population")], ("exclude", "Wrong population")),
        (FT, [("exclude", "Wrong population"), ("exclude", "Wrong outcome")], None),
        (FT, [("include", ""), ("exclude", "Wrong outcome")], None),
        (FT, [("maybe", ""), ("include", "")], None),
    ],
)
def test_judge(stage, decisions, expected):
    assert services.judge(stage, decisions) == expected


def test_agreement_settles_and_disagreement_is_one_conflict_the_editor_resolves(cast, erin):
    review = cast.review
    agree, disagree = make_records(review, 2)
    decide(cast.carol, review, agree, "include")
    assert not Outcome.objects.filter(record=agree).exists()  # one of two decisions: nothing yet
    decide(erin, review, agree, "maybe")
    assert Outcome.objects.get(record=agree, stage=TA).decision == "include"

    decide(cast.carol, review, disagree, "include")
    decide(erin, review, disagree, "exclude")
    services.outcome_evaluate(record_id=disagree.pk, stage=TA)  # the sweep again: still one conflict
    conflict = Outcome.objects.get(record=disagree, stage=TA)
    assert conflict.status == "conflict" and conflict.decision == "" and conflict.conflict_found_at

    resolved = services.conflict_resolve(user=cast.bob, review_id=review.pk, conflict_id=conflict.pk, decision="maybe")
    assert (resolved.status, resolved.decision, resolved.resolved_by) == ("resolved", "maybe", cast.bob)
    with pytest.raises(services.ServiceConflict):
        services.conflict_resolve(user=cast.bob, review_id=review.pk, conflict_id=conflict.pk, decision="exclude")
    # A late change by a reviewer cannot overwrite the resolution.
    mine = Decision.objects.get(record=disagree, reviewer=erin)
    with pytest.raises(services.ServiceConflict):
        services.decision_update(user=erin, review_id=review.pk, decision_id=mine.pk, decision="include")
    services.outcome_evaluate(record_id=disagree.pk, stage=TA)
    assert Outcome.objects.get(pk=conflict.pk).decision == "maybe"


def test_full_text_needs_a_passed_record_and_a_listed_reason(cast, erin):
    review = cast.review
    passed, excluded = make_records(review, 2)
    for user in (cast.carol, erin):
        decide(user, review, passed, "include")
        decide(user, review, excluded, "exclude")
    with pytest.raises(services.ServiceConflict, match="not at the full-text stage"):
        decide(cast.carol, review, excluded, "include", stage=FT)
    with pytest.raises(services.ValidationError, match="reason"):
        decide(cast.carol, review, passed, "exclude", stage=FT)
    with pytest.raises(services.ValidationError, match="not one of this review's reasons"):
        decide(cast.carol, review, passed, "exclude", stage=FT, reason="Too boring")
    decide(cast.carol, review, passed, "exclude", stage=FT, reason="Wrong outcome")
    decide(erin, review, passed, "exclude", stage=FT, reason="Wrong study design")
    assert Outcome.objects.get(record=passed, stage=FT).status == "conflict"


def test_api_second_decision_is_409_patch_changes_until_settled(cast, erin, api):
    (record,) = make_records(cast.review, 1)
    url = f"/api/v1/reviews/{cast.review.pk}/screening/{TA}/decisions/"
    first = api("carol").post(url, {"record": record.pk, "decision": "exclude"}, format="json")
    assert first.status_code == 201, first.json()
    again = api("carol").post(url, {"record": record.pk, "decision": "include"}, format="json")
    assert again.status_code == 409 and "already decided" in again.json()["detail"]
    changed = api("carol").patch(f"{url}{first.json()['id']}/", {"decision": "include"}, format="json")
    assert changed.status_code == 200 and changed.json()["decision"] == "include"
    assert api("erin").post(url, {"record": record.pk, "decision": "include"}, format="json").status_code == 201
    services.outcome_evaluate(record_id=record.pk, stage=TA)
    late = api("carol").patch(f"{url}{first.json()['id']}/", {"decision": "exclude"}, format="json")
    assert late.status_code == 409
    # Someone else's decision is not mine to change, and another review's record is not reachable.
    assert api("erin").patch(f"{url}{first.json()['id']}/", {"decision": "exclude"}, format="json").status_code == 404
    (foreign,) = make_records(cast.other_review, 1, source="Embase")
    assert api("carol").post(url, {"record": foreign.pk, "decision": "include"}, format="json").status_code == 404


def test_undo_takes_a_decision_back_and_the_conflict_goes(cast, erin, api):
    (record,) = make_records(cast.review, 1)
    decide(cast.carol, cast.review, record, "include")
    mine = decide(erin, cast.review, record, "exclude")
    assert Outcome.objects.get(record=record).status == "conflict"
    url = f"/api/v1/reviews/{cast.review.pk}/screening/{TA}/decisions/{mine.pk}/"
    assert api("erin").delete(url).status_code == 204
    services.outcome_evaluate(record_id=record.pk, stage=TA)
    assert not Outcome.objects.filter(record=record).exists()
    assert Decision.history.filter(id=mine.pk, history_type="-").exists()  # kept in history


def test_next_record_skips_mine_and_settled_then_204(cast, erin, api):
    first, second = make_records(cast.review, 2)
    url = f"/api/v1/reviews/{cast.review.pk}/screening/{TA}/next/"
    assert api("carol").get(url).json()["id"] == first.pk
    decide(cast.carol, cast.review, first, "include")
    assert api("carol").get(url).json()["id"] == second.pk
    decide(cast.carol, cast.review, second, "exclude")
    assert api("carol").get(url).status_code == 204
    assert api("erin").get(url).json()["id"] == first.pk
    assert api("dave").get(url).status_code == 404


def _everything_a_reviewer_reaches(client, review_pk):
    """Every screening read a reviewer can make, as (path, status, body)."""
    paths = [
        f"/api/v1/reviews/{review_pk}/screening/{TA}/next/",
        f"/api/v1/reviews/{review_pk}/screening/{TA}/decisions/",
        f"/api/v1/reviews/{review_pk}/screening/{FT}/decisions/",
        f"/api/v1/reviews/{review_pk}/screening/{TA}/agreement/",
        f"/api/v1/reviews/{review_pk}/conflicts/",
        f"/api/v1/reviews/{review_pk}/prisma/",
        f"/api/v1/reviews/{review_pk}/prisma.svg",
        f"/api/v1/reviews/{review_pk}/screening/settings/",
        f"/api/v1/reviews/{review_pk}/records/",
    ]
    seen = []
    for path in paths:
        response = client.get(path)
        body = response.content.decode()
        seen.append((path, response.status_code, body))
    return seen


def test_blinding_a_reviewer_sees_no_difference_when_another_decides(cast, erin, api):
    records = make_records(cast.review, 3)
    decide(cast.carol, cast.review, records[0], "include")
    before = _everything_a_reviewer_reaches(api("carol"), cast.review.pk)
    decide(erin, cast.review, records[0], "exclude")  # a conflict now exists
    decide(erin, cast.review, records[1], "include")
    after = _everything_a_reviewer_reaches(api("carol"), cast.review.pk)
    assert Outcome.objects.filter(status="conflict").count() == 1
    assert before == after
    assert "erin" not in str(after)
    # The editor sees both decisions and the conflict.
    conflicts = api("bob").get(f"/api/v1/reviews/{cast.review.pk}/conflicts/").json()
    assert conflicts["count"] == 1
    assert {d["reviewer"] for d in conflicts["results"][0]["decisions"]} == {"carol", "erin"}


def test_unblinded_reviewers_see_each_others_decisions(cast, erin, api):
    services.settings_update(user=cast.alice, review_id=cast.review.pk, version=None, blinded=False)
    (record,) = make_records(cast.review, 1)
    decide(erin, cast.review, record, "include")
    listed = api("carol").get(f"/api/v1/reviews/{cast.review.pk}/screening/{TA}/decisions/").json()
    assert [d["reviewer"] for d in listed["results"]] == ["erin"]


@pytest.mark.parametrize(
    "who,expected", [("carol", 403), ("dave", 404), ("anonymous", 401), ("bob", 200), ("alice", 200)]
)
def test_editor_only_reads(cast, api, who, expected):
    for path in ("conflicts/", f"screening/{TA}/agreement/", "prisma/", "prisma.svg"):
        assert api(who).get(f"/api/v1/reviews/{cast.review.pk}/{path}").status_code == expected, path


def test_settings_owner_only_and_stale_version_refused(cast, api):
    url = f"/api/v1/reviews/{cast.review.pk}/screening/settings/"
    current = api("carol").get(url).json()
    assert current["reviewers_needed"] == 2 and current["blinded"] is True
    assert "Too few participants" in current["exclusion_reasons"]
    assert api("bob").patch(url, {"reviewers_needed": 1}, format="json").status_code == 403
    ok = api("alice").patch(url, {"reviewers_needed": 1, "version": current["version"]}, format="json")
    assert ok.status_code == 200 and ok.json()["reviewers_needed"] == 1
    stale = api("alice").patch(url, {"blinded": False, "version": current["version"]}, format="json")
    assert stale.status_code == 409
    assert api("alice").patch(url, {"reviewers_needed": 3}, format="json").status_code == 400


def test_kappa_matches_scikit_learn(cast, erin, api):
    labels_a = [
        "include",
        "exclude",
        "exclude",
        "maybe",
        "exclude",
        "include",
        "exclude",
        "exclude",
        "maybe",
        "exclude",
    ]
    labels_b = [
        "include",
        "exclude",
        "include",
        "exclude",
        "exclude",
        "include",
        "exclude",
        "maybe",
        "maybe",
        "exclude",
    ]
    records = make_records(cast.review, len(labels_a))
    for record, a, b in zip(records, labels_a, labels_b, strict=True):
        decide(cast.carol, cast.review, record, a, evaluate=False)
        decide(erin, cast.review, record, b, evaluate=False)
    result = api("bob").get(f"/api/v1/reviews/{cast.review.pk}/screening/{TA}/agreement/").json()
    assert result["records"] == 10
    assert result["kappa"] == pytest.approx(cohen_kappa_score(labels_a, labels_b), abs=1e-12)
    assert result["percent_agreement"] == pytest.approx(70.0)
    low, high = result["kappa_ci"]
    assert low < result["kappa"] < high
    assert result["pairs"][0]["reviewers"] == ["carol", "erin"]


def test_prisma_counts_add_up_and_the_svg_renders(cast, erin, api):
    from defusedxml import ElementTree

    review = cast.review
    medline = make_records(review, 6, source="MEDLINE (Ovid)")
    registry = make_records(review, 2, source="ClinicalTrials.gov", kind="register")
    Record.objects.filter(pk=registry[1].pk).update(duplicate_of=medline[0].pk)
    # Title/abstract: 3 excluded, 4 go on.
    for record in medline[:3]:
        for user in (cast.carol, erin):
            decide(user, review, record, "exclude")
    for record in [*medline[3:], registry[0]]:
        for user in (cast.carol, erin):
            decide(user, review, record, "include")
    # Full text: one not retrieved, one excluded, two included.
    from screening.models import FullText

    FullText.objects.create(review=review, record=medline[3], not_retrieved=True)
    for user in (cast.carol, erin):
        decide(user, review, medline[4], "exclude", stage=FT, reason="Too few participants")
        decide(user, review, medline[5], "include", stage=FT)
        decide(user, review, registry[0], "include", stage=FT)
    counts = api("bob").get(f"/api/v1/reviews/{review.pk}/prisma/").json()
    assert counts["databases"] == {"MEDLINE (Ovid)": 6} and counts["registers"] == {"ClinicalTrials.gov": 2}
    assert (counts["duplicates_removed"], counts["screened"], counts["excluded_screening"]) == (1, 7, 3)
    assert (counts["sought"], counts["not_retrieved"], counts["assessed"]) == (4, 1, 3)
    assert counts["excluded_reasons"] == {"Too few participants": 1}
    assert counts["reports_included"] == 2 and counts["problems"] == []
    svg = api("bob").get(f"/api/v1/reviews/{review.pk}/prisma.svg")
    assert svg["Content-Type"].startswith("image/svg+xml")
    root = ElementTree.fromstring(svg.content)
    assert root.tag.endswith("svg")
    assert "Too few participants" in svg.content.decode()


def test_prisma_check_names_what_does_not_add_up(cast):
    from screening.selectors import prisma_counts

    make_records(cast.review, 3)
    counts = prisma_counts(review=cast.review)
    assert counts.screened == 3 and check(counts)  # nothing decided yet: screened records are not accounted for


def test_screening_step_query_count_does_not_grow(cast, erin, api, django_assert_max_num_queries):
    url = f"/api/v1/reviews/{cast.review.pk}/screening/{TA}/"
    counts = []
    for size in (5, 200):
        make_records(cast.review, size, source=f"S{size}")
        client = api("carol")
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as fetched:
            record = client.get(f"{url}next/").json()
        with CaptureQueriesContext(connection) as posted:
            assert (
                client.post(
                    f"{url}decisions/", {"record": record["id"], "decision": "exclude"}, format="json"
                ).status_code
                == 201
            )
        counts.append((len(fetched), len(posted)))
    assert counts[0] == counts[1]
    assert counts[0][0] <= 6 and counts[0][1] <= 14


@pytest.mark.django_db(transaction=True)
def test_twenty_threads_deciding_at_once_leave_one_decision_each():
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is tested on PostgreSQL (CI's second run); SQLite serialises writers")
    from django.contrib.auth.models import User
    from django.db import connections

    from reviews.models import Review

    users = [User.objects.create_user(username=f"r{i}") for i in range(4)]
    editor = User.objects.create_user(username="ed")
    review = Review.objects.create(title="Concurrent", created_by=users[0])
    for user in users:
        Membership.objects.create(review=review, user=user, role="reviewer")
    Membership.objects.create(review=review, user=editor, role="editor")
    records = make_records(review, 5)
    statuses: list[int | str] = []
    barrier = threading.Barrier(20)

    def work(n: int) -> None:
        user = users[n % 4]
        try:
            barrier.wait()
            for record in records:
                choice = "include" if (n + record.pk) % 2 else "exclude"
                try:
                    decide(user, review, record, choice)
                    statuses.append(201)
                except services.ServiceConflict:
                    statuses.append(409)
        except Exception as exc:  # noqa: BLE001 - any other error is the failure this test looks for
            statuses.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(s in (201, 409) for s in statuses), [s for s in statuses if s not in (201, 409)]
    for record in records:
        per_reviewer = list(Decision.objects.filter(record=record).values_list("reviewer_id", flat=True))
        assert len(per_reviewer) == len(set(per_reviewer))
        assert Outcome.objects.filter(record=record, stage=TA).count() == 1  # two decisions: settled or a conflict
    assert statuses.count(201) == Decision.objects.filter(review=review).count()


def test_next_record_is_the_first_of_the_queue(cast, erin):
    """The hand-written next-record query against the ORM's queue, on a review in every state: the first record
    waiting after the last one the reviewer decided, else the first waiting from the start."""
    import random

    from screening.selectors import next_record, queue_for

    records = make_records(cast.review, 30)
    Record.objects.filter(pk=records[7].pk).update(duplicate_of=records[6].pk)
    rng = random.Random(4)  # noqa: S311 - test data
    for record in records[:24]:
        if record.pk == records[7].pk:
            continue
        for user in rng.sample([cast.carol, erin], rng.choice([1, 2])):
            decide(user, cast.review, record, rng.choice(["include", "exclude", "maybe"]))
    for record in records[:12]:  # some go on to full text and are decided there
        outcome = Outcome.objects.filter(record=record, stage=TA).first()
        if outcome and outcome.decision in ("include", "maybe") and rng.random() < 0.5:
            decide(cast.carol, cast.review, record, "include", stage=FT)
    mine = Decision.objects.filter(reviewer=cast.carol, stage=TA).order_by("-record_id")[0]
    mine.delete()  # taken back (undo): waiting again
    for user in (cast.carol, erin, cast.bob):
        for stage in (TA, FT):
            review = cast.review
            last = Decision.objects.filter(reviewer=user, stage=stage).order_by("-record_id").first()
            ahead = queue_for(review=review, user=user, stage=stage, after=last.record_id).first() if last else None
            expected = ahead or queue_for(review=review, user=user, stage=stage).first()
            assert next_record(review=review, user=user, stage=stage) == expected, (user, stage)
    assert queue_for(review=cast.review, user=cast.carol, stage=TA).filter(pk=mine.record_id).exists()


def test_agreement_is_computed_by_the_worker_and_shown_to_editors(cast, erin, web, django_capture_on_commit_callbacks):
    from screening.models import AgreementSummary

    records = make_records(cast.review, 4)
    with django_capture_on_commit_callbacks(execute=True):
        for record, (a, b) in zip(records, [("include", "include"), ("exclude", "exclude"), ("include", "exclude"),
                                            ("exclude", "exclude")], strict=True):  # fmt: skip
            decide(cast.carol, cast.review, record, a)
            decide(erin, cast.review, record, b)
    summary = AgreementSummary.objects.get(review=cast.review)
    if summary.stale:  # the eager task ran inside the burst; the sweep catches up (as the beat would)
        services.outcomes_sweep(review_id=cast.review.pk)
        summary.refresh_from_db()
    expected = cohen_kappa_score(
        ["include", "exclude", "include", "exclude"], ["include", "exclude", "exclude", "exclude"]
    )
    assert not summary.stale and summary.data["title_abstract"]["kappa"] == pytest.approx(expected)
    assert summary.data["title_abstract"]["pairs"][0]["reviewers"] == ["carol", "erin"]
    page = web("bob").get(f"/reviews/{cast.review.pk}/").content.decode()
    assert "Cohen" in page and "75.0% of 4" in page
    assert "Cohen" not in web("carol").get(f"/reviews/{cast.review.pk}/").content.decode()


def test_a_refusal_does_not_tell_a_blinded_reviewer_the_outcome(cast, erin, api):
    third = UserFactory(username="finn")
    MembershipFactory(review=cast.review, user=third, role=Membership.Role.REVIEWER)
    cast.finn = third
    (record,) = make_records(cast.review, 1)
    decide(cast.carol, cast.review, record, "include")
    decide(erin, cast.review, record, "include")
    url = f"/api/v1/reviews/{cast.review.pk}/screening/{TA}/decisions/"
    refused = api("finn").post(url, {"record": record.pk, "decision": "exclude"}, format="json")
    assert refused.status_code == 409
    assert "include" not in refused.json()["detail"] and "settled" in refused.json()["detail"]


def test_full_text_resolution_needs_include_or_a_listed_exclusion_reason(cast, erin, api):
    (record,) = make_records(cast.review, 1)
    for user in (cast.carol, erin):
        decide(user, cast.review, record, "include")
    decide(cast.carol, cast.review, record, "include", stage=FT)
    decide(erin, cast.review, record, "exclude", stage=FT, reason="Wrong outcome")
    conflict = Outcome.objects.get(record=record, stage=FT)
    url = f"/api/v1/reviews/{cast.review.pk}/conflicts/{conflict.pk}/resolve/"
    assert api("bob").post(url, {"decision": "maybe"}, format="json").status_code == 400
    assert api("bob").post(url, {"decision": "exclude"}, format="json").status_code == 400
    assert api("bob").post(url, {"decision": "exclude", "reason": "Not a reason"}, format="json").status_code == 400
    assert Outcome.objects.get(pk=conflict.pk).status == "conflict"
    done = api("bob").post(url, {"decision": "exclude", "reason": "Wrong outcome"}, format="json")
    assert done.status_code == 200 and done.json()["reason"] == "Wrong outcome"


def test_another_reviews_conflict_is_not_reachable(cast, erin, api):
    from screening.models import Outcome as OutcomeModel

    (foreign,) = make_records(cast.other_review, 1, source="Embase")
    outcome = OutcomeModel.objects.create(
        review=cast.other_review, record=foreign, stage=TA, status="conflict", conflict_found_at=foreign.created_at
    )
    url = f"/api/v1/reviews/{cast.review.pk}/conflicts/{outcome.pk}/resolve/"
    assert api("bob").post(url, {"decision": "include"}, format="json").status_code == 404
    assert OutcomeModel.objects.get(pk=outcome.pk).status == "conflict"
