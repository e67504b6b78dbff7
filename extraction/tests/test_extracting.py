"""Dual extraction: starting, saving values and outcome data (validation, versions), completing, the worker's
comparison (a discrepancy on every field type, consensus of agreed values), the editor's resolutions, form
versions, blinding and history."""

import threading
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404

from core.exceptions import ServiceConflict
from extraction import selectors
from extraction.models import Discrepancy, Extraction, FieldValue, OutcomeData
from extraction.services import extracting as X
from extraction.services import forms as F
from extraction.services import studies as S
from reviews.models import AuditEvent

pytestmark = pytest.mark.django_db


def start(user, seed, study):
    return X.extraction_start(user=user, review_id=seed.review.pk, study_id=study.pk)


def save(user, extraction, values, version=None):
    extraction.refresh_from_db()
    return X.extraction_save(
        user=user, review_id=extraction.review_id, extraction_id=extraction.pk,
        version=extraction.version if version is None else version, values=values,
    )  # fmt: skip


def data(user, extraction, rows, replace=False):
    extraction.refresh_from_db()
    return X.outcome_data_save(
        user=user, review_id=extraction.review_id, extraction_id=extraction.pk, version=extraction.version,
        rows=rows, replace=replace,
    )  # fmt: skip


def complete(user, extraction):
    extraction.refresh_from_db()
    return X.extraction_set_status(
        user=user, review_id=extraction.review_id, extraction_id=extraction.pk, version=extraction.version,
        status="complete",
    )  # fmt: skip


REQUIRED = {"methods_design": "Parallel RCT", "participants_condition": "Cancer pain", "outcomes_reported": "Pain"}


def required_values(study):
    values = dict(REQUIRED)
    for arm in study.arms.all():
        values |= {
            f"participants_randomised@{arm.pk}": arm.randomised,
            f"participants_completed@{arm.pk}": arm.completed,
            f"interventions_description@{arm.pk}": arm.intervention or arm.name,
        }
    return values


# --- starting -----------------------------------------------------------------------------------------------------


def test_a_study_takes_as_many_extractors_as_the_review_needs(cast, seed):
    a = start(cast.carol, seed, seed.hardy)
    assert start(cast.carol, seed, seed.hardy) == a  # the same one again
    start(cast.erin, seed, seed.hardy)
    with pytest.raises(ServiceConflict, match="already has its 2 extractors"):
        start(cast.bob, seed, seed.hardy)


def test_only_an_editor_assigns_an_extraction_to_another_member(cast, seed):
    made = X.extraction_start(user=cast.bob, review_id=seed.review.pk, study_id=seed.yang.pk, reviewer_id=cast.carol.pk)
    assert made.reviewer == cast.carol
    with pytest.raises(ValidationError, match="Only an editor"):
        X.extraction_start(user=cast.carol, review_id=seed.review.pk, study_id=seed.yang.pk, reviewer_id=cast.erin.pk)
    with pytest.raises(ValidationError, match="Not a member"):
        X.extraction_start(user=cast.bob, review_id=seed.review.pk, study_id=seed.yang.pk, reviewer_id=cast.dave.pk)


def test_outsiders_and_other_reviews_studies_are_not_found(cast, seed):
    with pytest.raises(Http404):
        start(cast.dave, seed, seed.hardy)
    with pytest.raises(Http404):
        X.extraction_start(user=cast.dave, review_id=cast.other_review.pk, study_id=seed.hardy.pk)


# --- saving values ------------------------------------------------------------------------------------------------


def test_values_are_validated_at_the_field_and_nothing_is_saved_on_an_error(cast, seed):
    a = start(cast.carol, seed, seed.hardy)
    ketamine = seed.arm(seed.hardy, "Ketamine")
    with pytest.raises(ValidationError) as caught:
        save(
            cast.carol, a,
            {"participants_condition": "Cancer pain", f"participants_randomised@{ketamine.pk}": "93.5",
             "methods_design": "Cohort", "participants_randomised": "93", "no_such_field": "x",
             f"participants_age@{ketamine.pk + 1000}": "60"},
        )  # fmt: skip
    errors = caught.value.message_dict
    assert "not a whole number" in errors[f"participants_randomised@{ketamine.pk}"][0]
    assert "not one of the options" in errors["methods_design"][0]
    assert "per arm" in errors["participants_randomised"][0]
    assert "Not a field" in errors["no_such_field"][0]
    assert f"participants_age@{ketamine.pk + 1000}" in errors
    assert not FieldValue.objects.filter(extraction=a).exists()  # all or nothing
    a.refresh_from_db()
    assert a.version == 1


def test_a_stale_version_is_refused_with_what_changed(cast, seed):
    a = start(cast.carol, seed, seed.hardy)
    ketamine = seed.arm(seed.hardy, "Ketamine")
    save(cast.carol, a, {f"participants_randomised@{ketamine.pk}": "93"}, version=1)
    with pytest.raises(ServiceConflict) as caught:
        save(cast.carol, a, {f"participants_randomised@{ketamine.pk}": "90"}, version=1)
    assert "Randomised (Ketamine): 93" in caught.value.message
    assert FieldValue.objects.get(extraction=a).value == 93


def test_an_empty_input_removes_the_value_and_history_keeps_it(cast, seed):
    a = start(cast.carol, seed, seed.hardy)
    save(cast.carol, a, {"participants_condition": "Cancer pain"})
    save(cast.carol, a, {"participants_condition": "Refractory cancer pain"})
    save(cast.carol, a, {"participants_condition": ""})
    assert FieldValue.objects.get(extraction=a).value is None
    history = FieldValue.history.filter(extraction_id=a.pk).order_by("history_date")
    assert [(h.history_type, h.value, h.history_user) for h in history] == [
        ("+", "Cancer pain", cast.carol),
        ("~", "Refractory cancer pain", cast.carol),
        ("~", None, cast.carol),
    ]
    with pytest.raises(ServiceConflict, match="Condition: emptied"):
        save(cast.carol, a, {"participants_condition": "Pain"}, version=3)


def test_another_reviewers_extraction_cannot_be_written_or_read_while_blinded(cast, seed):
    a = start(cast.carol, seed, seed.hardy)
    b = start(cast.erin, seed, seed.hardy)
    with pytest.raises(Http404):
        save(cast.erin, a, {"participants_condition": "x"})
    seed.review.my_role = "reviewer"
    assert list(selectors.extraction_list(review=seed.review, user=cast.carol)) == [a]
    with pytest.raises(Http404):
        selectors.extraction_get(review=seed.review, user=cast.carol, extraction_id=b.pk)
    seed.review.my_role = "editor"
    assert set(selectors.extraction_list(review=seed.review, user=cast.bob)) == {a, b}
    S.settings_update(user=cast.alice, review_id=seed.review.pk, version=None, blinded=False)
    seed.review.my_role = "reviewer"
    assert set(selectors.extraction_list(review=seed.review, user=cast.carol)) == {a, b}


# --- outcome data -------------------------------------------------------------------------------------------------


def test_outcome_data_is_validated_per_row_and_field(cast, seed):
    a = start(cast.carol, seed, seed.mercadante)
    c = seed.comparison.pk
    with pytest.raises(ValidationError) as caught:
        data(
            cast.carol, a,
            [
                {"comparison": c, "outcome": seed.adverse.pk, "events_1": 11, "total_1": 10, "total_2": "10.5"},
                {"comparison": c, "outcome": seed.pain.pk, "mean_1": "3.2", "sd_1": "0", "total_1": 10},
                {"comparison": c, "outcome": seed.pain_giv.pk, "estimate": "-1.1", "se": "-0.2", "events_1": 3},
                {"comparison": 999999, "outcome": seed.pain.pk},
            ],
        )  # fmt: skip
    errors = caught.value.message_dict
    assert "cannot be more than participants" in errors["rows[0].events_1"][0]
    assert "not a whole number" in errors["rows[0].total_2"][0]
    assert "must be positive" in errors["rows[1].sd_1"][0]
    assert "must be positive" in errors["rows[2].se"][0]
    assert "generic inverse variance" in errors["rows[2].events_1"][0]
    assert "No comparison" in errors["rows[3].comparison"][0]
    assert not OutcomeData.objects.exists()


def test_a_multi_arm_trial_gives_one_row_per_dose_and_crossover_trials_paired_effects(cast, seed):
    a = start(cast.carol, seed, seed.mercadante)
    c, placebo = seed.comparison.pk, seed.arm(seed.mercadante, "Placebo").pk
    rows = [
        {"comparison": c, "outcome": seed.adverse.pk, "subgroup": "0.25 mg/kg", "events_1": 1, "total_1": 10,
         "events_2": 0, "total_2": 10, "arm_1": seed.arm(seed.mercadante, "Ketamine 0.25").pk, "arm_2": placebo},
        {"comparison": c, "outcome": seed.adverse.pk, "subgroup": "0.5 mg/kg", "events_1": 4, "total_1": 10,
         "events_2": 0, "total_2": 10, "arm_1": seed.arm(seed.mercadante, "Ketamine 0.5").pk, "arm_2": placebo},
        {"comparison": c, "outcome": seed.pain_giv.pk, "subgroup": "0.5 mg/kg", "estimate": "-2.1", "se": "0.62"},
    ]  # fmt: skip
    data(cast.carol, a, rows)
    stored = {(r.outcome_id, r.subgroup): r for r in OutcomeData.objects.filter(extraction=a)}
    assert stored[(seed.adverse.pk, "0.5 mg/kg")].events_1 == 4
    assert stored[(seed.pain_giv.pk, "0.5 mg/kg")].se == Decimal("0.62")
    with pytest.raises(ValidationError, match="given twice"):
        data(cast.carol, a, [rows[0], rows[0]])
    data(cast.carol, a, [rows[2]], replace=True)
    assert list(OutcomeData.objects.filter(extraction=a).values_list("subgroup", "outcome_id")) == [
        ("0.5 mg/kg", seed.pain_giv.pk)
    ]


def test_completing_needs_every_required_field_per_arm(cast, seed):
    a = start(cast.carol, seed, seed.mercadante)
    with pytest.raises(ValidationError) as caught:
        complete(cast.carol, a)
    message = caught.value.message_dict["status"][0]
    assert "Study design" in message and "Randomised (Ketamine 0.25)" in message and "Completed (Placebo)" in message
    save(cast.carol, a, required_values(seed.mercadante))
    assert complete(cast.carol, a).status == Extraction.Status.COMPLETE


# --- comparison and consensus -------------------------------------------------------------------------------------

EVERY_TYPE: list[tuple[str, dict[str, Any], Any, Any, Any]] = [
    ("text", {}, "Cancer pain", "  cancer PAIN", "Bone pain"),
    ("long_text", {}, "Sealed envelopes", "sealed envelopes ", "Opaque envelopes"),
    ("integer", {}, "20", 20, "19"),
    ("decimal", {"unit": "mg/kg"}, "0.5", "0.50", "0.25"),
    ("single_choice", {"choices": ["Yes", "No", "Unclear"]}, "Unclear", "Unclear", "No"),
    ("multiple_choice", {"choices": ["Nausea", "Sedation", "Hallucinations"]}, ["Nausea", "Sedation"],
     ["Sedation", "Nausea"], ["Nausea"]),
    ("yes_no", {}, "yes", True, "no"),
    ("date", {}, "2012-01-31", "2012-01-31", "2012-02-01"),
]  # fmt: skip


@pytest.fixture
def typed_form(cast, seed):
    """A new published form version with one field of every type, study-level, and one per arm."""
    rid = seed.review.pk
    draft = F.form_new_draft(user=cast.bob, review_id=rid, form_id=seed.form.pk)
    section = F.section_add(user=cast.bob, review_id=rid, form_id=draft.pk, title="Every type")
    for field_type, extra, *_ in EVERY_TYPE:
        for per_arm in (False, True):
            F.field_add(
                user=cast.bob, review_id=rid, form_id=draft.pk, section_id=section.pk, label=f"A {field_type}",
                key=f"t_{field_type}{'_arm' if per_arm else ''}", type=field_type, per_arm=per_arm, **extra,
            )  # fmt: skip
    return F.form_publish(user=cast.bob, review_id=rid, form_id=draft.pk)


@pytest.mark.parametrize("per_arm", [False, True])
def test_a_discrepancy_is_flagged_on_every_field_type_and_agreement_goes_to_the_consensus(
    cast, seed, typed_form, per_arm
):
    study = seed.hardy
    arm = seed.arm(study, "Ketamine")
    suffix = f"_arm@{arm.pk}" if per_arm else ""
    a, b = start(cast.carol, seed, study), start(cast.erin, seed, study)
    assert a.form == typed_form
    base = required_values(study)
    save(cast.carol, a, base | {f"t_{t}{suffix}": va for t, _, va, _, _ in EVERY_TYPE})
    # erin agrees (after trimming, case folding, exact numbers, sets) on every type except where she differs
    save(cast.erin, b, base | {f"t_{t}{suffix}": same for t, _, _, same, _ in EVERY_TYPE})
    complete(cast.carol, a)
    complete(cast.erin, b)
    assert X.compare(study_id=study.pk, form_id=typed_form.pk)["flagged"] == 0
    assert not Discrepancy.objects.exists()
    consensus = X.consensus_for(study, typed_form)
    agreed = {v.field.key: v.value for v in FieldValue.objects.filter(extraction=consensus).select_related("field")}
    assert agreed["t_decimal" + ("_arm" if per_arm else "")] == "0.5"
    save(cast.erin, b, {f"t_{t}{suffix}": other for t, _, _, _, other in EVERY_TYPE})
    result = X.compare(study_id=study.pk, form_id=typed_form.pk)
    assert result["flagged"] == len(EVERY_TYPE)
    flagged = {d.key: d for d in Discrepancy.objects.filter(study=study)}
    expected_keys = {
        f"field:t_{t}{'_arm' if per_arm else ''}" + (f":{arm.pk}" if per_arm else "") for t, *_ in EVERY_TYPE
    }
    assert set(flagged) == expected_keys
    integer = flagged[f"field:t_integer{'_arm' if per_arm else ''}" + (f":{arm.pk}" if per_arm else "")]
    assert integer.values == {"carol": 20, "erin": 19}
    # values the reviewers no longer agree on leave the consensus (the worker wrote them)
    assert not FieldValue.objects.filter(extraction=consensus, field__key__startswith="t_").exists()


def test_open_discrepancies_go_when_the_reviewers_agree_again_and_resolved_ones_reopen_when_values_change(cast, seed):
    study = seed.yang
    a, b = start(cast.carol, seed, study), start(cast.erin, seed, study)
    base = required_values(study)
    save(cast.carol, a, base | {"methods_duration": "2 days"})
    save(cast.erin, b, base | {"methods_duration": "3 days", "methods_setting": "Italy"})
    complete(cast.carol, a), complete(cast.erin, b)
    X.compare(study_id=study.pk, form_id=seed.form.pk)
    assert set(Discrepancy.objects.values_list("key", flat=True)) == {"field:methods_duration", "field:methods_setting"}
    save(cast.carol, a, {"methods_setting": "italy"})
    X.compare(study_id=study.pk, form_id=seed.form.pk)
    assert set(Discrepancy.objects.values_list("key", flat=True)) == {"field:methods_duration"}
    duration = Discrepancy.objects.get()
    X.discrepancy_resolve(user=cast.bob, review_id=seed.review.pk, discrepancy_id=duration.pk, take="erin")
    X.compare(study_id=study.pk, form_id=seed.form.pk)  # nothing changed: stays resolved
    duration.refresh_from_db()
    assert duration.status == "resolved" and duration.resolution == "3 days"
    save(cast.carol, a, {"methods_duration": "4 days"})
    X.compare(study_id=study.pk, form_id=seed.form.pk)
    duration.refresh_from_db()
    assert duration.status == "open" and duration.values == {"carol": "4 days", "erin": "3 days"}
    # the editor's value stays in the consensus meanwhile: the worker never overwrites it
    consensus = X.consensus_for(study, seed.form)
    assert FieldValue.objects.get(extraction=consensus, field__key="methods_duration").value == "3 days"


def test_the_editors_consensus_value_is_not_overwritten_by_agreement(cast, seed):
    study = seed.yang
    a, b = start(cast.carol, seed, study), start(cast.erin, seed, study)
    consensus = X.consensus_start(user=cast.bob, review_id=seed.review.pk, study_id=study.pk)
    save(cast.bob, consensus, {"methods_setting": "Chieti, Italy"})
    base = required_values(study)
    save(cast.carol, a, base | {"methods_setting": "Italy"})
    save(cast.erin, b, base | {"methods_setting": "Italy"})
    complete(cast.carol, a), complete(cast.erin, b)
    X.compare(study_id=study.pk, form_id=seed.form.pk)
    values = dict(FieldValue.objects.filter(extraction=consensus).values_list("field__key", "value"))
    assert values["methods_setting"] == "Chieti, Italy"
    assert values["participants_condition"] == "Cancer pain"


def test_nothing_is_compared_until_both_extractions_are_complete(cast, seed):
    a, b = start(cast.carol, seed, seed.yang), start(cast.erin, seed, seed.yang)
    save(cast.carol, a, required_values(seed.yang))
    save(cast.erin, b, required_values(seed.yang) | {"participants_condition": "Other"})
    complete(cast.carol, a)
    assert X.compare(study_id=seed.yang.pk, form_id=seed.form.pk) == {"waiting": 1}
    assert not Discrepancy.objects.exists()


def test_with_one_extractor_per_study_the_extraction_is_the_consensus(cast, seed):
    S.settings_update(user=cast.alice, review_id=seed.review.pk, version=None, extractors_per_study=1)
    a = start(cast.carol, seed, seed.hardy)
    with pytest.raises(ServiceConflict):
        start(cast.erin, seed, seed.hardy)
    save(cast.carol, a, required_values(seed.hardy))
    data(cast.carol, a, [{"comparison": seed.comparison.pk, "outcome": seed.adverse.pk, "events_1": 4, "total_1": 93,
                          "events_2": 1, "total_2": 92}])  # fmt: skip
    complete(cast.carol, a)
    X.compare(study_id=seed.hardy.pk, form_id=seed.form.pk)
    consensus = X.consensus_for(seed.hardy, seed.form)
    assert FieldValue.objects.filter(extraction=consensus).count() == FieldValue.objects.filter(extraction=a).count()
    row = OutcomeData.objects.get(extraction=consensus)
    assert (row.events_1, row.total_1, row.events_2, row.total_2) == (4, 93, 1, 92)


def test_outcome_data_discrepancies_and_their_resolution(cast, seed):
    study, c = seed.hardy, seed.comparison.pk
    a, b = start(cast.carol, seed, study), start(cast.erin, seed, study)
    for user, extraction, sd in ((cast.carol, a, "1.9"), (cast.erin, b, "1.90")):
        save(user, extraction, required_values(study))
        data(user, extraction, [
            {"comparison": c, "outcome": seed.adverse.pk, "events_1": 4, "total_1": 93, "events_2": 1, "total_2": 92},
            {"comparison": c, "outcome": seed.pain.pk, "mean_1": "3.1", "sd_1": sd, "total_1": 75, "mean_2": "3.2",
             "sd_2": "2.0", "total_2": 74 if user == cast.carol else 47},
        ])  # fmt: skip
        complete(user, extraction)
    X.compare(study_id=study.pk, form_id=seed.form.pk)
    (flagged,) = Discrepancy.objects.all()  # SD 1.9 = 1.90 exactly; only N differs
    assert flagged.key == f"data:{c}:{seed.pain.pk}::total_2"
    assert flagged.values == {"carol": 74, "erin": 47}
    with pytest.raises(ValidationError, match="at least 1"):
        X.discrepancy_resolve(user=cast.bob, review_id=seed.review.pk, discrepancy_id=flagged.pk, value=0)
    with pytest.raises(PermissionDenied):
        X.discrepancy_resolve(user=cast.carol, review_id=seed.review.pk, discrepancy_id=flagged.pk, take="carol")
    with pytest.raises(ValidationError, match="Take the value of one of carol, erin"):
        X.discrepancy_resolve(user=cast.bob, review_id=seed.review.pk, discrepancy_id=flagged.pk, take="bob")
    X.discrepancy_resolve(user=cast.bob, review_id=seed.review.pk, discrepancy_id=flagged.pk, take="carol")
    consensus = X.consensus_for(study, seed.form)
    pain = OutcomeData.objects.get(extraction=consensus, outcome=seed.pain)
    assert (pain.mean_1, pain.sd_1, pain.total_1, pain.total_2) == (Decimal("3.1"), Decimal("1.9"), 75, 74)
    flagged.refresh_from_db()
    assert (flagged.status, flagged.resolved_by) == ("resolved", cast.bob)


def test_a_discrepancy_of_another_review_is_not_found(cast, seed):
    with pytest.raises(Http404):
        X.discrepancy_resolve(user=cast.dave, review_id=cast.other_review.pk, discrepancy_id=1, take="carol")


# --- form versions ------------------------------------------------------------------------------------------------


def test_a_new_form_version_keeps_old_extractions_readable_and_upgrading_carries_values(cast, seed):
    rid = seed.review.pk
    a = start(cast.carol, seed, seed.hardy)
    save(cast.carol, a, required_values(seed.hardy) | {"methods_duration": "28 days"})
    draft = F.form_new_draft(user=cast.bob, review_id=rid, form_id=seed.form.pk)
    duration = draft.fields.get(key="methods_duration")
    F.field_delete(user=cast.bob, review_id=rid, form_id=draft.pk, field_id=duration.pk)
    F.field_add(user=cast.bob, review_id=rid, form_id=draft.pk, section_id=duration.section_id, label="Sponsor")
    F.form_publish(user=cast.bob, review_id=rid, form_id=draft.pk)
    seed.form.refresh_from_db()
    assert seed.form.status == "retired"
    seed.review.my_role = "reviewer"
    page = selectors.extraction_page(review=seed.review, extraction=a)
    shown = {row.field.key: row.value for _, rows in page.sections for row in rows}
    assert shown["methods_duration"] == "28 days"
    assert start(cast.carol, seed, seed.hardy) == a  # her old extraction, until she moves it
    moved = X.extraction_upgrade(user=cast.carol, review_id=rid, extraction_id=a.pk)
    assert moved.form == draft and moved.pk != a.pk
    keys = set(FieldValue.objects.filter(extraction=moved).values_list("field__key", flat=True))
    assert "participants_condition" in keys and "methods_duration" not in keys
    assert FieldValue.objects.filter(extraction=a, field__key="methods_duration").exists()
    # bulk_create writes no history: the audit trail still records each carried value, as carol's
    moved_values = FieldValue.objects.filter(extraction=moved).exclude(value="")
    audited = AuditEvent.objects.filter(object_type="extraction.fieldvalue", action="created", actor=cast.carol)
    assert moved_values.exists()
    assert set(moved_values.values_list("pk", flat=True)) <= set(audited.values_list("object_id", flat=True))
    with pytest.raises(ServiceConflict, match="retired"):
        F.field_add(user=cast.bob, review_id=rid, form_id=seed.form.pk, section_id=duration.section_id, label="X")


# --- the worker ---------------------------------------------------------------------------------------------------


def test_completing_enqueues_the_comparison_on_commit(cast, seed, django_capture_on_commit_callbacks, monkeypatch):
    from extraction import tasks

    sent: list[tuple] = []

    def apply_async(args, **options):
        sent.append(tuple(args))
        return tasks.compare_task(*args)

    monkeypatch.setattr(tasks.compare_task, "apply_async", apply_async)
    a, b = start(cast.carol, seed, seed.yang), start(cast.erin, seed, seed.yang)
    save(cast.carol, a, required_values(seed.yang))
    save(cast.erin, b, required_values(seed.yang) | {"participants_condition": "Neuropathic cancer pain"})
    complete(cast.carol, a)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        complete(cast.erin, b)
    assert len(callbacks) == 1
    assert sent[-1] == (seed.yang.pk, seed.form.pk)
    assert Discrepancy.objects.get().key == "field:participants_condition"


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_flags_the_discrepancy(cast, seed, celery_worker):
    import time

    a, b = start(cast.carol, seed, seed.yang), start(cast.erin, seed, seed.yang)
    save(cast.carol, a, required_values(seed.yang))
    save(cast.erin, b, required_values(seed.yang) | {"participants_condition": "Neuropathic cancer pain"})
    complete(cast.carol, a)
    complete(cast.erin, b)
    deadline = time.monotonic() + 30
    while not Discrepancy.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert list(Discrepancy.objects.values_list("key", flat=True)) == ["field:participants_condition"]


@pytest.mark.django_db(transaction=True)
def test_two_sessions_saving_the_same_extraction_at_once_give_one_success_and_one_conflict(cast, seed):
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is tested on PostgreSQL (CI's second run); SQLite serialises writers")
    from django.db import connections

    a = start(cast.carol, seed, seed.hardy)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def work(text: str) -> None:
        try:
            barrier.wait()
            X.extraction_save(
                user=cast.carol, review_id=seed.review.pk, extraction_id=a.pk, version=1,
                values={"participants_condition": text},
            )  # fmt: skip
            outcomes.append("saved")
        except ServiceConflict:
            outcomes.append("conflict")
        except Exception as exc:  # noqa: BLE001 - any other error is the failure this test looks for
            outcomes.append(repr(exc))
        finally:
            connections.close_all()

    for _ in range(10):
        outcomes.clear()
        FieldValue.objects.filter(extraction=a).delete()
        Extraction.objects.filter(pk=a.pk).update(version=1)
        threads = [threading.Thread(target=work, args=(t,)) for t in ("Cancer pain", "Bone pain")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["conflict", "saved"]
        assert FieldValue.objects.filter(extraction=a).count() == 1
        assert Extraction.objects.get(pk=a.pk).version == 2


def test_the_history_of_every_value_says_who_when_old_and_new(cast, seed):
    a = start(cast.carol, seed, seed.hardy)
    ketamine = seed.arm(seed.hardy, "Ketamine")
    save(cast.carol, a, {f"participants_randomised@{ketamine.pk}": "93"})
    save(cast.carol, a, {f"participants_randomised@{ketamine.pk}": "92"})
    row = {"comparison": seed.comparison.pk, "outcome": seed.adverse.pk, "events_1": 4, "total_1": 93}
    data(cast.carol, a, [row])
    data(cast.carol, a, [row | {"events_1": 5}])
    changes = selectors.value_history(extraction=a)
    assert sorted((c.what, c.old, c.new) for c in changes) == sorted(
        [
            ("Ketamine versus placebo › Hallucinations: events_1", "4", "5"),
            ("Ketamine versus placebo › Hallucinations: events_1", "", "4"),
            ("Ketamine versus placebo › Hallucinations: total_1", "", "93"),
            ("Randomised (Ketamine)", "93", "92"),
            ("Randomised (Ketamine)", "", "93"),
        ]
    )
    assert {c.who for c in changes} == {"carol"}
    assert [c.when for c in changes] == sorted((c.when for c in changes), reverse=True)
    assert len(changes) == 5 and all(c.when for c in changes)


def test_the_arms_of_a_multi_arm_trials_rows_are_compared_and_agreed_ones_go_to_the_consensus(cast, seed):
    study, c = seed.mercadante, seed.comparison.pk
    low, high, placebo = (seed.arm(study, n).pk for n in ("Ketamine 0.25", "Ketamine 0.5", "Placebo"))
    a, b = start(cast.carol, seed, study), start(cast.erin, seed, study)
    for user, extraction, arm_2 in ((cast.carol, a, placebo), (cast.erin, b, placebo)):
        save(user, extraction, required_values(study))
        data(user, extraction, [
            {"comparison": c, "outcome": seed.adverse.pk, "subgroup": "0.25 mg/kg", "arm_1": low, "arm_2": arm_2,
             "events_1": 1, "total_1": 10, "events_2": 0, "total_2": 10},
            {"comparison": c, "outcome": seed.adverse.pk, "subgroup": "0.5 mg/kg", "arm_1": high if user == cast.carol
             else low, "arm_2": arm_2, "events_1": 4, "total_1": 10, "events_2": 0, "total_2": 10},
        ])  # fmt: skip
        complete(user, extraction)
    X.compare(study_id=study.pk, form_id=seed.form.pk)
    rows = {r.subgroup: r for r in OutcomeData.objects.filter(extraction=X.consensus_for(study, seed.form))}
    assert (rows["0.25 mg/kg"].arm_1_id, rows["0.25 mg/kg"].arm_2_id) == (low, placebo)
    assert (rows["0.5 mg/kg"].arm_1_id, rows["0.5 mg/kg"].arm_2_id) == (None, placebo)  # they differ: the editor says
    assert rows["0.5 mg/kg"].events_1 == 4
    (flagged,) = Discrepancy.objects.filter(study=study)
    assert flagged.key == f"data:{c}:{seed.adverse.pk}:0.5 mg/kg:arm_1"
    assert flagged.values == {"carol": "Ketamine 0.5", "erin": "Ketamine 0.25"}
    assert "arm of group 1" in flagged.label
    with pytest.raises(ValidationError, match="No arm “Ketamine 1” in this study"):
        X.discrepancy_resolve(user=cast.bob, review_id=seed.review.pk, discrepancy_id=flagged.pk, value="Ketamine 1")
    X.discrepancy_resolve(user=cast.bob, review_id=seed.review.pk, discrepancy_id=flagged.pk, take="carol")
    rows["0.5 mg/kg"].refresh_from_db()
    assert rows["0.5 mg/kg"].arm_1_id == high


def test_an_arm_given_empty_is_cleared_and_one_not_named_is_kept(cast, seed):
    study, c = seed.mercadante, seed.comparison.pk
    low, placebo = seed.arm(study, "Ketamine 0.25").pk, seed.arm(study, "Placebo").pk
    a = start(cast.carol, seed, study)
    row = {"comparison": c, "outcome": seed.adverse.pk, "arm_1": low, "arm_2": placebo, "events_1": 1, "total_1": 10}
    data(cast.carol, a, [row])
    data(cast.carol, a, [{"comparison": c, "outcome": seed.adverse.pk, "events_1": 2}])
    stored = OutcomeData.objects.get(extraction=a)
    assert (stored.arm_1_id, stored.arm_2_id, stored.events_1, stored.total_1) == (low, placebo, 2, 10)
    data(cast.carol, a, [{"comparison": c, "outcome": seed.adverse.pk, "arm_1": ""}])
    stored.refresh_from_db()
    assert (stored.arm_1_id, stored.arm_2_id) == (None, placebo)
