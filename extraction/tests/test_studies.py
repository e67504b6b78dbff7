"""Studies, their reports and arms; outcomes and comparisons; forms and their versions (services)."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from core.exceptions import ServiceConflict
from extraction.default_form import DEFAULT_FORM_NAME, DEFAULT_SECTIONS
from extraction.models import ExtractionForm, FormField, Study, StudyReport
from extraction.services import forms as F
from extraction.services import studies as S
from screening import services as screening
from screening.models import Stage
from screening.tests.test_screening import make_records

pytestmark = pytest.mark.django_db


def include_at_full_text(cast, records):
    for record in records:
        for stage in (Stage.TITLE_ABSTRACT, Stage.FULL_TEXT):
            for user in (cast.carol, cast.erin):
                screening.decision_create(
                    user=user, review_id=cast.review.pk, record_id=record.pk, stage=stage, decision="include"
                )
            screening.outcome_evaluate(record_id=record.pk, stage=stage)


def test_studies_are_made_from_included_records_with_cochrane_style_ids(cast, erin):
    records = make_records(cast.review, 4)
    authors = [["Hardy, Janet", "Quinn, S."], ["MERCADANTE, S"], ["Yang C Y"], ["Hardy, J"]]
    for record, names, year in zip(records, authors, (2012, 2000, 1996, 2012), strict=True):
        record.authors, record.year = names, year
        record.save()
    include_at_full_text(cast, records[:3] + records[3:])
    made = S.studies_create_from_included(user=cast.bob, review_id=cast.review.pk)
    assert [s.label for s in made] == ["Hardy 2012", "Mercadante 2000", "Yang 1996", "Hardy 2012a"]
    assert all(s.reports.get().primary for s in made)
    assert S.studies_create_from_included(user=cast.bob, review_id=cast.review.pk) == []  # each record once
    with pytest.raises(PermissionDenied):
        S.studies_create_from_included(user=cast.carol, review_id=cast.review.pk)


def test_moving_a_report_to_another_study_keeps_its_history_and_a_primary_on_both(cast):
    records = make_records(cast.review, 3)
    rid = cast.review.pk
    hardy = S.study_create(user=cast.bob, review_id=rid, label="Hardy 2012", record_ids=[records[0].pk, records[1].pk])
    assert [r.primary for r in hardy.reports.order_by("id")] == [True, False]
    other = S.study_create(user=cast.bob, review_id=rid, label="Hardy 2012a", record_ids=[records[2].pk])
    S.report_add(user=cast.bob, review_id=rid, study_id=other.pk, record_id=records[0].pk)
    report = StudyReport.objects.get(record=records[0])
    assert report.study == other and not report.primary
    assert hardy.reports.get().record == records[1] and hardy.reports.get().primary  # promoted
    assert [h.study_id for h in report.history.order_by("history_date")] == [hardy.pk, other.pk]
    S.report_set_primary(user=cast.bob, review_id=rid, study_id=other.pk, record_id=records[0].pk)
    assert other.reports.get(primary=True).record == records[0]
    with pytest.raises(Http404):
        S.report_set_primary(user=cast.bob, review_id=rid, study_id=other.pk, record_id=records[1].pk)


def test_study_labels_are_unique_and_stale_edits_refused(cast):
    rid = cast.review.pk
    study = S.study_create(user=cast.bob, review_id=rid, label="Yang 1996", design="crossover")
    with pytest.raises(ValidationError, match="already has a study"):
        S.study_create(user=cast.bob, review_id=rid, label="Yang 1996")
    with pytest.raises(ValidationError) as caught:
        S.study_create(user=cast.bob, review_id=rid, label="X", design="case series")
    assert "design" in caught.value.message_dict
    S.study_update(user=cast.bob, review_id=rid, study_id=study.pk, version=1, notes="Intrathecal")
    with pytest.raises(ServiceConflict, match="your version 1, now 2"):
        S.study_update(user=cast.bob, review_id=rid, study_id=study.pk, version=1, notes="Other")
    with pytest.raises(ValidationError, match="Not a field of a study"):
        S.study_update(user=cast.bob, review_id=rid, study_id=study.pk, version=2, review=cast.other_review.pk)
    with pytest.raises(Http404):
        S.study_update(user=cast.dave, review_id=cast.other_review.pk, study_id=study.pk, version=2, notes="x")
    assert Study.objects.get(pk=study.pk).notes == "Intrathecal"


def test_arms_check_their_numbers(cast):
    rid = cast.review.pk
    study = S.study_create(user=cast.bob, review_id=rid, label="Hardy 2012")
    S.arm_create(user=cast.bob, review_id=rid, study_id=study.pk, name="Ketamine", randomised=93, completed=75)
    with pytest.raises(ValidationError, match="More completed"):
        S.arm_create(user=cast.bob, review_id=rid, study_id=study.pk, name="Placebo", randomised=92, completed=93)
    with pytest.raises(ValidationError, match="already has an arm"):
        S.arm_create(user=cast.bob, review_id=rid, study_id=study.pk, name="Ketamine")
    with pytest.raises(ValidationError) as caught:
        S.arm_create(user=cast.bob, review_id=rid, study_id=study.pk, name="Placebo", randomised=-1)
    assert "randomised" in caught.value.message_dict
    with pytest.raises(PermissionDenied):
        S.arm_create(user=cast.carol, review_id=rid, study_id=study.pk, name="Placebo")


def test_outcomes_and_comparisons(cast, seed):
    rid = seed.review.pk
    with pytest.raises(ValidationError) as caught:
        S.outcome_create(user=cast.bob, review_id=rid, name="Satisfaction", type="ordinal")
    assert "type" in caught.value.message_dict
    with pytest.raises(ValidationError, match="already has the outcome"):
        S.outcome_create(user=cast.bob, review_id=rid, name="Pain intensity", type="continuous",
                         timepoint="End of treatment")  # fmt: skip
    S.outcome_create(user=cast.bob, review_id=rid, name="Pain intensity", type="continuous", timepoint="Day 3")
    with pytest.raises(ValidationError, match="already has the comparison"):
        S.comparison_create(user=cast.bob, review_id=rid, name="Ketamine versus placebo", intervention="K", control="P")
    from extraction.services import extracting as X

    extraction = X.consensus_start(user=cast.bob, review_id=rid, study_id=seed.hardy.pk)
    X.outcome_data_save(
        user=cast.bob, review_id=rid, extraction_id=extraction.pk, version=None,
        rows=[{"comparison": seed.comparison.pk, "outcome": seed.adverse.pk, "events_1": 1, "total_1": 93}],
    )  # fmt: skip
    with pytest.raises(ServiceConflict, match="can no longer change"):
        S.outcome_update(user=cast.bob, review_id=rid, outcome_id=seed.adverse.pk, version=1, type="continuous")
    with pytest.raises(ServiceConflict, match="has data"):
        S.outcome_delete(user=cast.bob, review_id=rid, outcome_id=seed.adverse.pk)
    with pytest.raises(ServiceConflict, match="has data"):
        S.comparison_delete(user=cast.bob, review_id=rid, comparison_id=seed.comparison.pk)
    S.outcome_update(user=cast.bob, review_id=rid, outcome_id=seed.adverse.pk, version=1, name="Hallucinations (any)")


def test_the_default_form_follows_cochranes_characteristics_of_included_studies(cast):
    form = F.current_form(cast.review)
    assert (form.name, form.number, form.status) == (DEFAULT_FORM_NAME, 1, "published")
    assert [s.title for s in form.sections.order_by("position")] == [
        "Methods", "Participants", "Interventions", "Outcomes", "Notes"
    ]  # fmt: skip
    assert form.fields.count() == sum(len(s["fields"]) for s in DEFAULT_SECTIONS)
    assert set(form.fields.filter(per_arm=True).values_list("key", flat=True)) >= {
        "participants_randomised", "participants_completed", "interventions_dose", "interventions_route"
    }  # fmt: skip
    assert F.current_form(cast.review) == form  # made once
    draft = F.form_new_draft(user=cast.bob, review_id=cast.review.pk, form_id=form.pk)
    form.delete()
    with pytest.raises(ServiceConflict, match="publish the draft"):
        F.current_form(cast.review)
    F.form_publish(user=cast.bob, review_id=cast.review.pk, form_id=draft.pk)
    assert F.current_form(cast.review) == draft


def test_a_form_is_edited_as_a_draft_published_then_versioned(cast):
    rid = cast.review.pk
    form = F.form_create(user=cast.bob, review_id=rid, name="Adverse events")
    with pytest.raises(ValidationError, match="at least one field"):
        F.form_publish(user=cast.bob, review_id=rid, form_id=form.pk)
    section = F.section_add(user=cast.bob, review_id=rid, form_id=form.pk, title="Harms", version=1)
    with pytest.raises(ServiceConflict, match="your version 1, now 2"):
        F.section_add(user=cast.bob, review_id=rid, form_id=form.pk, title="Late", version=1)
    with pytest.raises(ValidationError) as caught:
        F.field_add(user=cast.bob, review_id=rid, form_id=form.pk, section_id=section.pk, label="Event",
                    type="single_choice", choices="Only one")  # fmt: skip
    assert "at least two options" in caught.value.message_dict["choices"][0]
    with pytest.raises(ValidationError, match="Only number fields have a unit"):
        F.field_add(user=cast.bob, review_id=rid, form_id=form.pk, section_id=section.pk, label="Event", unit="mg")
    a = F.field_add(user=cast.bob, review_id=rid, form_id=form.pk, section_id=section.pk, label="Dose (mg/kg)",
                    type="decimal", unit="mg/kg")  # fmt: skip
    b = F.field_add(user=cast.bob, review_id=rid, form_id=form.pk, section_id=section.pk, label="Dose (mg/kg)")
    assert (a.key, b.key) == ("dose_mg_kg", "dose_mg_kg_2")  # made from the label: numbered
    with pytest.raises(ValidationError, match="has the key"):  # typed: refused
        F.field_add(user=cast.bob, review_id=rid, form_id=form.pk, section_id=section.pk, label="X", key="dose_mg_kg")
    with pytest.raises(ValidationError, match="has the key"):
        F.field_update(user=cast.bob, review_id=rid, form_id=form.pk, field_id=b.pk, key="dose_mg_kg")
    F.form_reorder(user=cast.bob, review_id=rid, form_id=form.pk, sections=[{"id": section.pk, "fields": [b.pk, a.pk]}])
    assert list(FormField.objects.filter(form=form).order_by("position").values_list("pk", flat=True)) == [b.pk, a.pk]
    with pytest.raises(ServiceConflict, match="changed since"):
        F.form_reorder(user=cast.bob, review_id=rid, form_id=form.pk, sections=[{"id": section.pk, "fields": [a.pk]}])
    published = F.form_publish(user=cast.bob, review_id=rid, form_id=form.pk)
    with pytest.raises(ServiceConflict, match="published"):
        F.field_delete(user=cast.bob, review_id=rid, form_id=form.pk, field_id=a.pk)
    draft = F.form_new_draft(user=cast.bob, review_id=rid, form_id=published.pk)
    assert draft.number == 2 and draft.based_on == published
    assert F.form_new_draft(user=cast.bob, review_id=rid, form_id=published.pk) == draft  # one draft at a time
    assert list(draft.fields.order_by("position").values_list("key", flat=True)) == ["dose_mg_kg_2", "dose_mg_kg"]
    F.form_publish(user=cast.bob, review_id=rid, form_id=draft.pk)
    statuses = dict(ExtractionForm.objects.filter(name="Adverse events").values_list("number", "status"))
    assert statuses == {1: "retired", 2: "published"}
    with pytest.raises(PermissionDenied):
        F.form_create(user=cast.carol, review_id=rid, name="Mine")
    with pytest.raises(Http404):
        F.form_new_draft(user=cast.dave, review_id=cast.other_review.pk, form_id=published.pk)
