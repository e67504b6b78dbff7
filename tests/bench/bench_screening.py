"""Screening with 100,000 records in a review: the server time of one step (fetch the next record, record a
decision, through the API) at the 95th percentile, against a bare primary-key fetch of a record measured in the
same run. Goal: at most 25 ms at p95. Half the review is already decided by this reviewer and a quarter by the
other, so the queue is met where a reviewer is in the middle of the work.

Runs on the configured database (`DATABASE_URL` for PostgreSQL, else SQLite); `SIEVE_BENCH_SCREENING_RECORDS`
changes the size."""

import os
import statistics
import time

import pytest
from django.contrib.auth.models import User
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from reviews.models import Import, Membership, Record, Review
from screening.models import Decision

pytestmark = pytest.mark.django_db
RECORDS = int(os.environ.get("SIEVE_BENCH_SCREENING_RECORDS", "100000"))
STEPS = 300


def _review_with_records():
    carol, erin = User.objects.create_user(username="carol"), User.objects.create_user(username="erin")
    review = Review.objects.create(title="Bench screening", created_by=carol)
    for user in (carol, erin):
        Membership.objects.create(review=review, user=user, role="reviewer")
    batch = Import.objects.create(
        review=review, source="MEDLINE (Ovid)", filename="b.ris", content_hash="b", status=Import.Status.SUCCEEDED
    )
    abstract = "Ketamine added to opioids for refractory cancer pain in adults. " * 20
    for start in range(0, RECORDS, 10_000):
        Record.objects.bulk_create(
            Record(
                review=review,
                batch=batch,
                position=i,
                title=f"Trial {i} of ketamine",
                abstract=abstract,
                authors=["Hardy, J.", "Quinn, S."],
                year=2012,
                journal="J Clin Oncol",
            )  # fmt: skip
            for i in range(start + 1, min(start + 10_001, RECORDS + 1))
        )
    ids = list(Record.objects.filter(batch=batch).order_by("id").values_list("id", flat=True))
    # carol has decided the first half, erin the first quarter (their outcomes are left to the worker).
    for user, count in ((carol, RECORDS // 2), (erin, RECORDS // 4)):
        Decision.objects.bulk_create(
            (Decision(review=review, record_id=r, stage="title_abstract", reviewer=user, decision="exclude")
             for r in ids[:count]),
            batch_size=10_000,
        )  # fmt: skip
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return review, carol, ids


def test_screening_step_p95_with_100k_records():
    review, carol, ids = _review_with_records()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=carol).key}")
    base = f"/api/v1/reviews/{review.pk}/screening/title_abstract/"
    steps = []
    for n in range(STEPS + 10):
        start = time.perf_counter()
        record = client.get(f"{base}next/").json()
        response = client.post(f"{base}decisions/", {"record": record["id"], "decision": "include"}, format="json")
        elapsed = time.perf_counter() - start
        assert response.status_code == 201, response.json()
        if n >= 10:  # the first steps warm caches and compile queries
            steps.append(elapsed)
    baseline_runs = []
    for record_id in ids[:STEPS]:
        start = time.perf_counter()
        Record.objects.filter(pk=record_id).first()
        baseline_runs.append(time.perf_counter() - start)
    p95 = statistics.quantiles(steps, n=20)[-1]
    baseline = statistics.median(baseline_runs)
    print(
        f"\n[bench] screening step (GET next + POST decision) in a review of {RECORDS:,} records on "
        f"{connection.vendor}: p95 {p95 * 1000:.1f} ms (goal 25 ms), median {statistics.median(steps) * 1000:.1f} ms"
        f" = {p95 / baseline:.0f} × a bare record fetch by primary key ({baseline * 1000:.2f} ms)",
        flush=True,
    )
