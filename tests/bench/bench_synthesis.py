"""Recomputing every outcome summary of a review with 50 outcomes and 30 studies each (one comparison; a third
of the outcomes dichotomous, a third continuous, a third generic inverse variance; random effects, REML, with
leave-one-out), as the worker does after a change touched them all: reading the consensus data, hashing the
inputs, the statistics, storing 50 summaries. Goal: at most 1 s of worker time. Printed next to the pure
statistics module alone on the same data in the same run: the ratio is the cost of everything around the
arithmetic. Runs on the configured database (`DATABASE_URL` for PostgreSQL, else SQLite)."""

import random
import time

import pytest
from django.contrib.auth.models import User

from extraction.models import Comparison, Extraction, Outcome, OutcomeData, Study
from extraction.services.forms import current_form
from reviews.models import Membership, Review
from synthesis import services, stats
from synthesis.models import Analysis
from tests.bench.timing import report

pytestmark = pytest.mark.django_db
OUTCOMES, STUDIES = 50, 30


def _review() -> Review:
    rng = random.Random(7)  # noqa: S311 - reproducible test data, not secrets
    bob = User.objects.create_user(username="bob")
    review = Review.objects.create(title="Bench synthesis", created_by=bob)
    Membership.objects.create(review=review, user=bob, role="editor")
    form = current_form(review)
    comparison = Comparison.objects.create(review=review, name="Ketamine versus placebo", intervention="K", control="P")
    types = ["dichotomous", "continuous", "giv"]
    outcomes = [
        Outcome.objects.create(review=review, position=i, name=f"Outcome {i}", type=types[i % 3])
        for i in range(OUTCOMES)
    ]
    studies = [Study.objects.create(review=review, label=f"Trial {i:02d} 20{i % 20:02d}") for i in range(STUDIES)]
    extractions = [Extraction.objects.create(review=review, study=s, form=form, reviewer=None) for s in studies]
    rows = []
    for outcome in outcomes:
        for extraction in extractions:
            n1, n2 = rng.randint(10, 200), rng.randint(10, 200)
            numbers: dict[str, float]
            if outcome.type == "dichotomous":
                numbers = {"events_1": rng.randint(0, n1 // 2), "total_1": n1, "events_2": rng.randint(0, n2 // 2),
                           "total_2": n2}  # fmt: skip
            elif outcome.type == "continuous":
                numbers = {
                    "mean_1": round(rng.gauss(5, 1), 2),
                    "sd_1": round(rng.uniform(1, 3), 2),
                    "total_1": n1,
                    "mean_2": round(rng.gauss(5.5, 1), 2),
                    "sd_2": round(rng.uniform(1, 3), 2),
                    "total_2": n2,
                }
            else:
                numbers = {"estimate": round(rng.gauss(-0.3, 0.4), 3), "se": round(rng.uniform(0.1, 0.6), 3)}
            rows.append(OutcomeData(extraction=extraction, comparison=comparison, outcome=outcome, **numbers))
    OutcomeData.objects.bulk_create(rows)  # no signals: the analyses are made below, as the signals would
    for outcome in outcomes:
        services.data_changed(comparison_id=comparison.pk, outcome_id=outcome.pk)
    return review


def test_recomputing_every_summary_of_a_large_review():
    review = _review()
    analyses = list(Analysis.objects.filter(review=review).select_related("outcome", "comparison"))
    assert len(analyses) == OUTCOMES
    found = services.consensus_inputs(review_id=review.pk, analyses=analyses)
    inputs = [(a, found[(a.comparison_id, a.outcome_id)]) for a in analyses]

    def arithmetic() -> None:
        for analysis, studies in inputs:
            stats.analyse(studies, measure=analysis.effect_measure, model=analysis.model, method=analysis.method)

    arithmetic()  # warm: imports, caches
    start = time.perf_counter()
    arithmetic()
    pure = time.perf_counter() - start

    Analysis.objects.filter(review=review).update(status="stale", input_hash="")
    start, cpu = time.perf_counter(), time.process_time()
    counts = services.recompute_review(review_id=review.pk)
    worker, worker_cpu = time.perf_counter() - start, time.process_time() - cpu
    assert counts == {"current": OUTCOMES}
    assert all(a.result and a.result["studies"] == STUDIES for a in Analysis.objects.filter(review=review))
    print(f"\n[bench] synthesis: {OUTCOMES} summaries of {STUDIES} studies, worker CPU {worker_cpu:.3f} s (goal ≤ 1 s)")
    report(f"recompute {OUTCOMES} outcome summaries", worker, pure, "the statistics alone")
