# mypy: disable-error-code="index"
"""Outcome summaries in the worker: analyses made when consensus data appears, marked stale by any change and
recomputed once per burst, stored as current only from the inputs as they are, settings checked, a worker that
dies mid-task leaves the summary stale (not wrong) and the next run fixes it."""

import time

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.exceptions import ServiceConflict
from extraction.services import extracting as X
from extraction.services import studies as S
from synthesis import services
from synthesis.models import Analysis, SynthesisQueue

pytestmark = pytest.mark.django_db


def consensus_data(cast, seed, study, rows):
    extraction = X.consensus_start(user=cast.bob, review_id=seed.review.pk, study_id=study.pk)
    return X.outcome_data_save(
        user=cast.bob, review_id=seed.review.pk, extraction_id=extraction.pk, version=None, rows=rows
    )


def adverse(seed, e1, n1, e2, n2, **extra):
    return {"comparison": seed.comparison.pk, "outcome": seed.adverse.pk, "events_1": e1, "total_1": n1,
            "events_2": e2, "total_2": n2, **extra}  # fmt: skip


def run_worker(review):
    return services.recompute_review(review_id=review.pk)


def test_consensus_data_makes_a_stale_analysis_with_the_defaults_and_the_worker_summarises_it(cast, seed):
    consensus_data(cast, seed, seed.hardy, [adverse(seed, 4, 93, 1, 92)])
    consensus_data(cast, seed, seed.yang, [adverse(seed, 3, 20, 0, 20)])
    analysis = Analysis.objects.get()
    assert (analysis.effect_measure, analysis.model, analysis.method, analysis.status) == (
        "RR",
        "random",
        "REML",
        "stale",
    )
    assert SynthesisQueue.objects.get(review=seed.review).queued
    assert run_worker(seed.review) == {"current": 1}
    analysis.refresh_from_db()
    assert analysis.status == "current" and analysis.result["studies"] == 2
    assert [s["label"] for s in analysis.result["per_study"]] == ["Hardy 2012", "Yang 1996"]
    assert analysis.result["participants"] == 93 + 92 + 20 + 20
    assert not SynthesisQueue.objects.get(review=seed.review).queued


def test_reviewers_extractions_do_not_feed_summaries(cast, seed):
    mine = X.extraction_start(user=cast.carol, review_id=seed.review.pk, study_id=seed.hardy.pk)
    X.outcome_data_save(user=cast.carol, review_id=seed.review.pk, extraction_id=mine.pk, version=None,
                        rows=[adverse(seed, 4, 93, 1, 92)])  # fmt: skip
    assert not Analysis.objects.exists()


def test_a_change_during_the_computation_is_not_stored_as_current(cast, seed, monkeypatch):
    consensus_data(cast, seed, seed.hardy, [adverse(seed, 4, 93, 1, 92)])
    real = services.summarise

    def summarise_while_someone_edits(analysis, studies):
        consensus_data(cast, seed, seed.hardy, [adverse(seed, 5, 93, 1, 92)])  # lands mid-computation
        return real(analysis, studies)

    monkeypatch.setattr(services, "summarise", summarise_while_someone_edits)
    assert run_worker(seed.review) == {"changed meanwhile": 1}
    analysis = Analysis.objects.get()
    assert analysis.status == "stale"
    assert SynthesisQueue.objects.get(review=seed.review).queued  # the next run is on its way
    monkeypatch.setattr(services, "summarise", real)
    run_worker(seed.review)
    analysis.refresh_from_db()
    assert analysis.status == "current" and analysis.result["per_study"][0]["events_1"] == 5


def test_a_worker_dying_mid_task_leaves_the_summary_stale_and_the_next_run_fixes_it(cast, seed, monkeypatch):
    consensus_data(cast, seed, seed.hardy, [adverse(seed, 4, 93, 1, 92)])
    run_worker(seed.review)
    before = Analysis.objects.get().result
    consensus_data(cast, seed, seed.hardy, [adverse(seed, 8, 93, 1, 92)])

    def killed(analysis, studies):
        raise SystemExit("worker killed")  # what a worker lost mid-task looks like from the database: nothing stored

    monkeypatch.setattr(services, "summarise", killed)
    with pytest.raises(SystemExit):
        run_worker(seed.review)
    analysis = Analysis.objects.get()
    assert analysis.status == "stale" and analysis.result == before  # old numbers, marked stale: not wrong
    monkeypatch.undo()
    # The task is redelivered (acks late); the sweep also requeues analyses left stale.
    Analysis.objects.update(changed_at=analysis.changed_at.replace(year=2000))
    SynthesisQueue.objects.update(queued_at=analysis.changed_at.replace(year=2000))
    assert services.sweep() == 1
    run_worker(seed.review)
    analysis.refresh_from_db()
    assert analysis.status == "current" and analysis.result["per_study"][0]["events_1"] == 8


def test_a_burst_of_edits_queues_one_recomputation(cast, seed, django_capture_on_commit_callbacks, monkeypatch):
    from synthesis import tasks

    sent: list[tuple] = []
    monkeypatch.setattr(tasks.recompute_task, "apply_async", lambda args, **options: sent.append(args))
    extraction = X.consensus_start(user=cast.bob, review_id=seed.review.pk, study_id=seed.hardy.pk)
    for n in range(50):
        with django_capture_on_commit_callbacks(execute=True):
            X.outcome_data_save(user=cast.bob, review_id=seed.review.pk, extraction_id=extraction.pk, version=None,
                                rows=[adverse(seed, n % 10, 93, 1, 92)])  # fmt: skip
    assert len(sent) == 1  # one queued run for fifty edits
    run_worker(seed.review)
    assert Analysis.objects.get().result["per_study"][0]["events_1"] == 49 % 10
    assert SynthesisQueue.objects.get(review=seed.review).runs == 1


def test_the_same_inputs_are_not_computed_twice(cast, seed, monkeypatch):
    consensus_data(cast, seed, seed.hardy, [adverse(seed, 4, 93, 1, 92)])
    run_worker(seed.review)
    calls: list[int] = []
    real = services.summarise

    def counted(analysis, studies):
        calls.append(1)
        return real(analysis, studies)

    monkeypatch.setattr(services, "summarise", counted)
    S.study_update(user=cast.bob, review_id=seed.review.pk, study_id=seed.yang.pk, version=None, notes="x")
    assert Analysis.objects.get().status == "stale"  # a study changed: recheck
    run_worker(seed.review)
    assert calls == [] and Analysis.objects.get().status == "current"  # same inputs: same summary
    S.study_update(user=cast.bob, review_id=seed.review.pk, study_id=seed.hardy.pk, version=None, label="Hardy 2013")
    run_worker(seed.review)
    assert calls == [1] and Analysis.objects.get().result["per_study"][0]["label"] == "Hardy 2013"


def test_settings_are_checked_and_pooling_can_be_judged_inappropriate(cast, seed):
    consensus_data(cast, seed, seed.hardy, [adverse(seed, 4, 93, 1, 92)])
    consensus_data(cast, seed, seed.yang, [adverse(seed, 3, 20, 0, 20)])
    analysis = Analysis.objects.get()
    rid = seed.review.pk

    def update(who=cast.bob, version=None, **fields):
        return services.analysis_update(user=who, review_id=rid, analysis_id=analysis.pk, version=version, **fields)

    with pytest.raises(ValidationError, match="dichotomous outcome takes RR or OR or RD"):
        update(effect_measure="MD")
    with pytest.raises(ValidationError, match="takes MH, IV"):
        update(model="fixed", method="PETO")
    with pytest.raises(ValidationError, match="random-effects"):
        update(model="fixed", method="MH", hksj=True)
    with pytest.raises(ValidationError, match="random-effects"):
        update(model="fixed", hksj=True)  # refused, not silently dropped
    with pytest.raises(ValidationError, match="Say why pooling is not appropriate"):
        update(pooled=False)
    with pytest.raises(PermissionDenied):
        update(who=cast.carol, pooled=True)
    changed = update(effect_measure="OR", model="fixed", method="PETO")
    assert (changed.method, changed.version, changed.status) == ("PETO", 2, "stale")
    with pytest.raises(ServiceConflict, match="your version 1, now 2"):
        update(version=1, hksj=False)
    update(pooled=False, not_pooled_reason="Clinical heterogeneity: routes, doses and designs differ.")
    run_worker(seed.review)
    result = Analysis.objects.get().result
    assert result["estimate"] is None and result["pooled"] is False
    assert result["notes"][0] == "Not pooled: Clinical heterogeneity: routes, doses and designs differ."
    assert [s["weight"] for s in result["per_study"]] == [None, None]


def test_a_problem_in_the_data_is_shown_not_raised(cast, seed, monkeypatch):
    from synthesis import stats

    consensus_data(cast, seed, seed.hardy, [adverse(seed, 4, 93, 1, 92)])

    def refuse(*args, **kwargs):
        raise stats.StatsInputError("Hardy 2012: SD of group 1 must be positive.")

    monkeypatch.setattr(stats, "analyse", refuse)
    run_worker(seed.review)
    analysis = Analysis.objects.get()
    assert analysis.status == "current" and analysis.result is None
    assert analysis.error == "Hardy 2012: SD of group 1 must be positive."


def test_an_analysis_whose_data_is_gone_goes(cast, seed):
    extraction = consensus_data(cast, seed, seed.hardy, [adverse(seed, 4, 93, 1, 92)])
    X.outcome_data_save(user=cast.bob, review_id=seed.review.pk, extraction_id=extraction.pk, version=None, rows=[],
                        replace=True)  # fmt: skip
    run_worker(seed.review)
    assert not Analysis.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_picks_up_a_change(cast, seed, celery_worker):
    consensus_data(cast, seed, seed.hardy, [adverse(seed, 4, 93, 1, 92)])
    deadline = time.monotonic() + 30
    while Analysis.objects.filter(status="current").count() != 1:
        assert time.monotonic() < deadline, "the worker did not summarise the change"
        time.sleep(0.1)
    consensus_data(cast, seed, seed.hardy, [adverse(seed, 9, 93, 1, 92)])
    while not (
        (a := Analysis.objects.get()).status == "current" and a.result and a.result["per_study"][0]["events_1"] == 9
    ):
        assert time.monotonic() < deadline + 30, "the worker did not summarise the second change"
        time.sleep(0.1)


def test_a_study_with_incomplete_consensus_data_is_listed_and_left_out_not_fatal(cast, seed):
    consensus_data(cast, seed, seed.hardy, [adverse(seed, 4, 93, 1, 92)])
    consensus_data(cast, seed, seed.yang, [adverse(seed, 3, 20, 0, 20)])
    # Mercadante's higher dose: events of group 1 still in discrepancy, so not in the consensus yet.
    consensus_data(cast, seed, seed.mercadante, [adverse(seed, None, 10, 0, 10, subgroup="0.5 mg/kg")])
    run_worker(seed.review)
    analysis = Analysis.objects.get()
    assert analysis.error == "" and analysis.result["studies"] == 2
    left_out = analysis.result["per_study"][-1]
    assert (left_out["label"], left_out["subgroup"], left_out["effect"]) == ("Mercadante 2000", "0.5 mg/kg", None)
    assert left_out["excluded"] == "incomplete data (events_1 missing)" and left_out["total_1"] == 10
    assert "Left out until their data are complete: Mercadante 2000 (0.5 mg/kg)." in analysis.result["notes"]
    from synthesis import plots

    assert analysis.result is not None
    svg = plots.forest_svg(
        analysis.result, title="t", intervention="K", control="P", direction="lower_is_better"
    ).decode()
    assert "Mercadante 2000" in svg and "Incomplete data" in svg


def test_an_outcome_whose_every_study_is_incomplete_says_so(cast, seed):
    consensus_data(cast, seed, seed.hardy, [adverse(seed, 4, None, 1, 92)])
    run_worker(seed.review)
    analysis = Analysis.objects.get()
    assert analysis.result is None
    assert analysis.error == "No study has complete data for this outcome yet: Hardy 2012 lacks total_1."


def test_a_study_giving_two_rows_is_named_for_the_unit_of_analysis_error(cast, seed):
    consensus_data(cast, seed, seed.hardy, [adverse(seed, 4, 93, 1, 92)])
    run_worker(seed.review)
    assert not any("more than one row" in note for note in Analysis.objects.get().result["notes"])
    rows = [adverse(seed, 1, 10, 0, 10, subgroup="0.25 mg/kg"), adverse(seed, 4, 10, 0, 10, subgroup="0.5 mg/kg")]
    consensus_data(cast, seed, seed.mercadante, rows)
    run_worker(seed.review)
    notes = Analysis.objects.get().result["notes"]
    assert any(n.startswith("Mercadante 2000 gives more than one row") and "23.3.4" in n for n in notes), notes
