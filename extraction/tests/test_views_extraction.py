"""The extraction page (fields saved one by one with htmx, or the whole form without JavaScript; validation at the
field; stale versions; completion; form versions; blinding; constant queries) and the consensus page."""

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from extraction.models import Discrepancy, Extraction, FieldValue, OutcomeData
from extraction.services import extracting as X
from extraction.services import forms as F
from extraction.services import studies as S
from extraction.tests.test_views import included

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def start(user, seed, study):
    return X.extraction_start(user=user, review_id=seed.review.pk, study_id=study.pk)


def page_url(extraction, path=""):
    return f"/reviews/{extraction.review_id}/extractions/{extraction.pk}/{path}"


def save(user, extraction, values):
    extraction.refresh_from_db()
    return X.extraction_save(user=user, review_id=extraction.review_id, extraction_id=extraction.pk,
                             version=extraction.version, values=values)  # fmt: skip


def required(study, condition="Cancer pain"):
    values = {"methods_design": "Parallel RCT", "participants_condition": condition, "outcomes_reported": "Pain"}
    for arm in study.arms.all():
        values |= {f"participants_randomised@{arm.pk}": arm.randomised,
                   f"participants_completed@{arm.pk}": arm.completed,
                   f"interventions_description@{arm.pk}": arm.intervention or arm.name}  # fmt: skip
    return values


def complete(user, extraction):
    extraction.refresh_from_db()
    X.extraction_set_status(user=user, review_id=extraction.review_id, extraction_id=extraction.pk,
                            version=extraction.version, status="complete")  # fmt: skip


def field_save(client, extraction, name, value, version=None, **extra):
    extraction.refresh_from_db()
    data = {"changed": name, name: value, "version": extraction.version if version is None else version} | extra
    return client.post(page_url(extraction, "save/"), data, **HTMX)


# --- the page ------------------------------------------------------------------------------------------------------


def test_the_page_shows_the_study_and_the_right_input_for_every_field(cast, seed, web):
    (record,) = included(cast.review, 1)
    S.report_add(user=cast.bob, review_id=cast.review.pk, study_id=seed.mercadante.pk, record_id=record.pk)
    mine = start(cast.carol, seed, seed.mercadante)
    low = seed.arm(seed.mercadante, "Ketamine 0.25")
    page = web("carol").get(page_url(mine)).content.decode()
    assert "Extraction of" in page and "Mercadante 2000" in page and record.title in page and "Abstract" in page
    for arm in ("Ketamine 0.25", "Ketamine 0.5", "Placebo"):
        assert f'<th scope="col">{arm}</th>' in page  # a column per arm in the per-arm table
    assert (
        'hx-sync="this:queue all"' in page and f'id="extraction-version" name="version" value="{mine.version}"' in page
    )
    # integer per arm: a number with step 1, one per arm; decimal with its unit; choice; date; long text; yes/no
    assert f'type="number" step="1" inputmode="numeric" id="f-participants_randomised-A{low.pk}"' in page
    assert f'name="field-participants_randomised@{low.pk}"' in page
    assert 'step="any" inputmode="decimal" id="f-participants_age-A' in page and ">years</span>" in page
    assert '<select class="form-select" id="f-methods_design" name="field-methods_design"' in page
    assert (
        'type="date" id="f-methods_start"' in page
        and '<textarea class="form-control" id="f-methods_randomisation"' in page
    )
    assert "Crossover trials: how long between periods." in page  # help text
    assert page.count('<span class="x-req" aria-hidden="true">*</span>') >= 6  # required marks
    assert 'aria-describedby="st-f-methods_duration"' in page and 'id="st-f-methods_duration"' in page
    # outcome data: one row per comparison and outcome, numbers matching the outcome's type, arm pickers
    for name in ("events_1", "total_1", "events_2", "total_2"):
        assert f'name="data-c{seed.comparison.pk}-o{seed.adverse.pk}-{name}"' in page
    for name in ("mean_1", "sd_1", "total_1", "mean_2", "sd_2", "total_2"):
        assert f'name="data-c{seed.comparison.pk}-o{seed.pain.pk}-{name}"' in page
    assert f'name="data-c{seed.comparison.pk}-o{seed.pain_giv.pk}-estimate"' in page
    assert f'name="data-c{seed.comparison.pk}-o{seed.adverse.pk}-arm_1"' in page and "Add row" in page
    assert "Mark complete" in page and "Saving and keys" in page


def test_a_field_saves_as_the_reviewer_leaves_it_and_a_reload_shows_it(cast, seed, web):
    mine = start(cast.carol, seed, seed.hardy)
    client = web("carol")
    response = field_save(client, mine, "field-methods_duration", "28 days")
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert body.startswith('<div id="st-f-methods_duration"') and "Saved" in body
    assert f'id="extraction-version" name="version" value="{mine.version + 1}" hx-swap-oob="true"' in body
    assert FieldValue.objects.get(extraction=mine, field__key="methods_duration").value == "28 days"
    arm = seed.arm(seed.hardy, "Ketamine")
    assert field_save(client, mine, f"field-participants_randomised@{arm.pk}", "93").status_code == 200
    # several ticked boxes of a multiple-choice field; a yes/no
    page = client.get(page_url(mine)).content.decode()
    assert (
        'value="28 days"' in page
        and f'id="f-participants_randomised-A{arm.pk}" name="field-participants_randomised@{arm.pk}" value="93"' in page
    )


def test_every_field_type_saves_through_the_page(cast, seed, web):
    rid = cast.review.pk
    draft = F.form_new_draft(user=cast.bob, review_id=rid, form_id=seed.form.pk)
    section = F.section_add(user=cast.bob, review_id=rid, form_id=draft.pk, title="More")
    F.field_add(user=cast.bob, review_id=rid, form_id=draft.pk, section_id=section.pk, label="Harms", key="harms",
                type="multiple_choice", choices=["Nausea", "Sedation", "Hallucinations"])  # fmt: skip
    F.field_add(user=cast.bob, review_id=rid, form_id=draft.pk, section_id=section.pk, label="Registered",
                key="registered", type="yes_no")  # fmt: skip
    F.form_publish(user=cast.bob, review_id=rid, form_id=draft.pk)
    mine = start(cast.carol, seed, seed.hardy)
    client = web("carol")
    mine.refresh_from_db()
    data = {"changed": "field-harms", "field-harms": ["Nausea", "Hallucinations"], "version": mine.version}
    assert client.post(page_url(mine, "save/"), data, **HTMX).status_code == 200
    assert field_save(client, mine, "field-registered", "no").status_code == 200
    assert field_save(client, mine, "field-methods_start", "2010-03-01").status_code == 200
    values = dict(FieldValue.objects.filter(extraction=mine).values_list("field__key", "value"))
    assert values == {"harms": ["Nausea", "Hallucinations"], "registered": False, "methods_start": "2010-03-01"}
    page = client.get(page_url(mine)).content.decode()
    assert 'value="Nausea" checked' in page and 'value="Sedation" checked' not in page
    assert 'value="no" checked' in page
    # unticking every box: the field is sent empty and its value goes (the row stays, holding nothing, for history)
    mine.refresh_from_db()
    client.post(page_url(mine, "save/"), {"changed": "field-harms", "version": mine.version}, **HTMX)
    assert FieldValue.objects.get(extraction=mine, field__key="harms").value is None
    assert 'value="Nausea" checked' not in client.get(page_url(mine)).content.decode()


def test_a_value_that_does_not_fit_is_refused_at_the_field(cast, seed, web):
    mine = start(cast.carol, seed, seed.hardy)
    arm = seed.arm(seed.hardy, "Ketamine")
    name = f"field-participants_randomised@{arm.pk}"
    response = field_save(web("carol"), mine, name, "abc")
    body = response.content.decode()
    assert response.status_code == 422
    assert body.startswith(f'<div id="st-f-participants_randomised-A{arm.pk}"') and 'data-invalid="true"' in body
    assert "“abc” is not a whole number." in body and "extraction-version" not in body
    assert not FieldValue.objects.filter(extraction=mine).exists()
    mine.refresh_from_db()
    assert mine.version == 1
    # the page's own markup points the input at that status (aria-describedby) and marks it (aria-invalid, by JS)
    page = web("carol").get(page_url(mine)).content.decode()
    assert f'aria-describedby="st-f-participants_randomised-A{arm.pk}"' in page


def test_outcome_data_events_above_total_is_refused_at_the_field(cast, seed, web):
    mine = start(cast.carol, seed, seed.hardy)
    client = web("carol")
    token = f"c{seed.comparison.pk}-o{seed.adverse.pk}"
    row = {f"data-{token}-{name}": "" for name in ("events_2", "total_2", "arm_1", "arm_2", "note")}
    row |= {f"data-{token}-events_1": "12", f"data-{token}-total_1": "10"}
    response = client.post(page_url(mine, "save/"), row | {"changed": f"data-{token}-total_1", "version": 1}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 422 and not OutcomeData.objects.exists()
    assert body.startswith(f'<div id="st-d-{token}-total_1"') and "Not saved" in body
    assert f'id="st-d-{token}-events_1"' in body and "Events (12) cannot be more than participants (10)." in body
    # "abc" in a number of the row: the message at that number
    response = client.post(page_url(mine, "save/"), row | {f"data-{token}-events_1": "abc",
                           "changed": f"data-{token}-events_1", "version": 1}, **HTMX)  # fmt: skip
    assert response.status_code == 422 and "“abc” is not a whole number." in response.content.decode()
    # fixed: the whole row saves, as the page shows it
    ketamine = seed.arm(seed.hardy, "Ketamine")
    good = row | {f"data-{token}-events_1": "4", f"data-{token}-arm_1": str(ketamine.pk)}
    response = client.post(page_url(mine, "save/"), good | {"changed": f"data-{token}-events_1", "version": 1}, **HTMX)
    assert response.status_code == 200 and "Saved" in response.content.decode()
    saved = OutcomeData.objects.get(extraction=mine)
    assert (saved.events_1, saved.total_1, saved.arm_1) == (4, 10, ketamine)
    assert f'id="st-d-{token}-total_1" class="x-status small" data-invalid="false" hx-swap-oob="true">' in (
        response.content.decode()
    )  # the other input's old message goes


def test_a_stale_version_is_refused_with_409_and_nothing_is_overwritten(cast, seed, web):
    mine = start(cast.carol, seed, seed.hardy)
    first, second = web("carol"), web("carol")  # the same reviewer in two tabs
    assert field_save(first, mine, "field-methods_setting", "Australia", version=1).status_code == 200
    response = field_save(second, mine, "field-methods_setting", "Sydney", version=1)
    body = response.content.decode()
    assert response.status_code == 409
    assert response["HX-Retarget"] == "#extraction-alert" and response["HX-Reswap"] == "innerHTML"
    assert 'role="alert"' in body and "saved elsewhere since you opened it" in body and "Setting and country" in body
    assert f'href="{page_url(mine)}">Reload</a>' in body
    assert 'id="st-f-methods_setting"' in body and "Not saved" in body
    assert FieldValue.objects.get(extraction=mine, field__key="methods_setting").value == "Australia"
    # marking complete on a stale version too
    response = second.post(page_url(mine, "status/"), {"status": "complete", "version": 1}, **HTMX)
    assert response.status_code == 409
    mine.refresh_from_db()
    assert mine.status == "in_progress"


def test_without_javascript_the_whole_form_posts_saves_and_comes_back(cast, seed, web):
    mine = start(cast.carol, seed, seed.hardy)
    client = web("carol")
    arm, placebo = seed.arm(seed.hardy, "Ketamine"), seed.arm(seed.hardy, "Placebo")
    token = f"c{seed.comparison.pk}-o{seed.adverse.pk}"
    data = {
        "version": 1,
        "fields": ["field-methods_design", "field-methods_duration", f"field-participants_randomised@{arm.pk}",
                   "field-methods_funding"],
        "field-methods_design": "Parallel RCT", "field-methods_duration": "", "field-methods_funding": "NHMRC",
        f"field-participants_randomised@{arm.pk}": "93",
        "rows": [token, f"c{seed.comparison.pk}-o{seed.pain.pk}"],
        f"data-{token}-events_1": "4", f"data-{token}-total_1": "93", f"data-{token}-events_2": "1",
        f"data-{token}-total_2": "92", f"data-{token}-arm_1": str(arm.pk), f"data-{token}-arm_2": str(placebo.pk),
        f"data-{token}-note": "",
    }  # fmt: skip
    response = client.post(page_url(mine), data)
    assert response.status_code == 302 and response["Location"] == page_url(mine)
    values = dict(FieldValue.objects.filter(extraction=mine).values_list("field__key", "value"))
    assert values == {"methods_design": "Parallel RCT", "methods_funding": "NHMRC", "participants_randomised": 93}
    row = OutcomeData.objects.get(extraction=mine)  # the untouched pain row stays unsaved
    assert (row.events_1, row.total_1, row.events_2, row.total_2, row.arm_2) == (4, 93, 1, 92, placebo)
    page = client.get(response["Location"]).content.decode()
    assert "Saved." in page and 'value="NHMRC"' in page and f'name="data-r{row.pk}-total_2" value="92"' in page
    # a refused whole form: the message at the field, what was typed kept, nothing saved
    mine.refresh_from_db()
    bad = data | {
        "version": mine.version,
        f"field-participants_randomised@{arm.pk}": "abc",
        "field-methods_funding": "X",
    }
    response = client.post(page_url(mine), bad)
    page = response.content.decode()
    assert response.status_code == 200 and "“abc” is not a whole number." in page
    assert f'value="abc" aria-describedby="st-f-participants_randomised-A{arm.pk}" aria-invalid="true"' in page
    assert FieldValue.objects.get(extraction=mine, field__key="methods_funding").value == "NHMRC"
    # a stale whole form: 409 and the message at the top
    response = client.post(page_url(mine), data | {"version": 1})
    assert response.status_code == 409 and "saved elsewhere since you opened it" in response.content.decode()


def test_mark_complete_lists_the_missing_required_fields_then_completes_and_reopens(cast, seed, web):
    mine = start(cast.carol, seed, seed.hardy)
    client = web("carol")
    response = client.post(page_url(mine, "status/"), {"status": "complete", "version": 1}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 422 and body.startswith('<div id="extraction-head"')
    assert "fill the required fields first" in body and "<li>Randomised (Placebo)</li>" in body
    save(cast.carol, mine, required(seed.hardy))
    mine.refresh_from_db()
    response = client.post(page_url(mine, "status/"), {"status": "complete", "version": mine.version}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and "Reopen" in body and "hx-swap-oob" in body
    mine.refresh_from_db()
    assert mine.status == "complete"
    response = client.post(page_url(mine, "status/"), {"status": "in_progress", "version": mine.version})
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.status == "in_progress"


def test_subgroup_rows_are_added_and_removed(cast, seed, web):
    mine = start(cast.carol, seed, seed.mercadante)
    client = web("carol")
    token = f"c{seed.comparison.pk}-o{seed.pain_giv.pk}"
    response = client.post(page_url(mine, "rows/add/"), {"add_row": token, f"subgroup-{token}": "0.25 mg/kg",
                                                          "version": 1}, **HTMX)  # fmt: skip
    body = response.content.decode()
    row = OutcomeData.objects.get(extraction=mine, subgroup="0.25 mg/kg")
    assert response.status_code == 200 and body.startswith(f'\n<section id="cell-{token}"')
    assert f'name="data-r{row.pk}-estimate"' in body and 'hx-swap-oob="true"' in body
    response = client.post(page_url(mine, "rows/add/"), {"add_row": token, f"subgroup-{token}": "0.25 mg/kg",
                                                          "version": 2}, **HTMX)  # fmt: skip
    assert response.status_code == 422 and "already has a row" in response.content.decode()
    X.outcome_data_save(user=cast.carol, review_id=cast.review.pk, extraction_id=mine.pk, version=None,
                        rows=[{"comparison": seed.comparison.pk, "outcome": seed.pain_giv.pk, "subgroup": "0.5 mg/kg",
                               "estimate": "-1.2", "se": "0.4"}])  # fmt: skip
    mine.refresh_from_db()
    response = client.post(page_url(mine, "rows/remove/"), {"remove_row": f"r{row.pk}", "version": mine.version},
                           **HTMX)  # fmt: skip
    assert response.status_code == 200
    assert list(OutcomeData.objects.filter(extraction=mine).values_list("subgroup", "estimate", "se")) == [
        ("0.5 mg/kg", Decimal("-1.2"), Decimal("0.4"))
    ]


def test_a_new_form_version_keeps_the_old_extraction_readable_and_moves_it_on_request(cast, seed, web):
    mine = start(cast.carol, seed, seed.hardy)
    save(cast.carol, mine, {"methods_duration": "28 days", "methods_funding": "NHMRC"})
    rid = cast.review.pk
    draft = F.form_new_draft(user=cast.bob, review_id=rid, form_id=seed.form.pk)
    duration = draft.fields.get(key="methods_duration")
    F.field_delete(user=cast.bob, review_id=rid, form_id=draft.pk, field_id=duration.pk)
    F.field_add(user=cast.bob, review_id=rid, form_id=draft.pk, section_id=duration.section_id, label="Sponsor")
    F.form_publish(user=cast.bob, review_id=rid, form_id=draft.pk)
    client = web("carol")
    page = client.get(page_url(mine)).content.decode()
    assert 'value="28 days"' in page and "version 1 (retired)" in page and "Move to version 2" in page
    response = client.post(page_url(mine, "upgrade/"))
    moved = Extraction.objects.get(reviewer=cast.carol, form=draft)
    assert response["Location"] == page_url(moved)
    page = client.get(page_url(moved)).content.decode()
    assert 'value="NHMRC"' in page and "Sponsor" in page and "28 days" not in page
    old = client.get(page_url(mine)).content.decode()  # still readable, read-only, with its own fields
    assert "28 days" in old and "Washout period" in old and "Open the version 2 extraction" in old
    assert 'name="field-methods_duration"' not in old


def _form_with(cast, name, n):
    """A published form with n fields of every type in turn (a third of them per arm)."""
    rid = cast.review.pk
    form = F.form_create(user=cast.bob, review_id=rid, name=name)
    section = F.section_add(user=cast.bob, review_id=rid, form_id=form.pk, title="All")
    kinds: list[tuple[str, dict[str, Any]]] = [
        ("text", {}), ("long_text", {}), ("integer", {"per_arm": True}), ("decimal", {"unit": "mg"}),
        ("single_choice", {"choices": ["A", "B"]}), ("multiple_choice", {"choices": ["A", "B", "C"]}),
        ("yes_no", {"per_arm": True}), ("date", {}), ("text", {"per_arm": True}),
    ]  # fmt: skip
    for i in range(n):
        kind, extra = kinds[i % len(kinds)]
        F.field_add(user=cast.bob, review_id=rid, form_id=form.pk, section_id=section.pk, label=f"F{i}", key=f"f{i}",
                    type=kind, required=i % 2 == 0, **extra)  # fmt: skip
    return F.form_publish(user=cast.bob, review_id=rid, form_id=form.pk)


def _filled(cast, seed, form):
    extraction = Extraction.objects.create(review=cast.review, study=seed.mercadante, form=form, reviewer=cast.carol)
    values: dict[str, Any] = {}
    sample = {"text": "x", "long_text": "y", "integer": 3, "decimal": "0.5", "single_choice": "A",
              "multiple_choice": ["A", "C"], "yes_no": "yes", "date": "2000-01-02"}  # fmt: skip
    arms = list(seed.mercadante.arms.all())
    for f in form.fields.all():
        if f.per_arm:
            values |= {f"{f.key}@{arm.pk}": sample[f.type] for arm in arms}
        else:
            values[f.key] = sample[f.type]
    save(cast.carol, extraction, values)
    X.outcome_data_save(user=cast.carol, review_id=cast.review.pk, extraction_id=extraction.pk, version=None, rows=[
        {"comparison": seed.comparison.pk, "outcome": seed.adverse.pk, "events_1": 1, "total_1": 10},
        {"comparison": seed.comparison.pk, "outcome": seed.pain_giv.pk, "subgroup": "0.5", "estimate": "1", "se": "1"},
    ])  # fmt: skip
    return extraction


def test_the_page_takes_the_same_number_of_queries_for_10_and_60_fields(cast, seed, web, django_assert_max_num_queries):
    small, large = _form_with(cast, "Small", 10), _form_with(cast, "Large", 60)
    assert seed.mercadante.arms.count() == 3
    client = web("carol")
    counts = []
    for form in (small, large):
        extraction = _filled(cast, seed, form)
        assert FieldValue.objects.filter(extraction=extraction).count() >= (60 if form == large else 10)
        client.get(page_url(extraction))  # warm (the session, the settings row)
        with CaptureQueriesContext(connection) as queries:
            page = client.get(page_url(extraction))
        assert page.status_code == 200 and 'value="0.5"' in page.content.decode()
        counts.append(len(queries))
        with django_assert_max_num_queries(14):
            client.get(page_url(extraction))
    assert counts[0] == counts[1], counts


# --- who sees and writes what --------------------------------------------------------------------------------------


def test_anonymous_outsiders_and_other_reviews_ids(cast, seed, web):
    mine = start(cast.carol, seed, seed.hardy)
    response = web("anonymous").get(page_url(mine))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert web("dave").get(page_url(mine)).status_code == 404
    other = f"/reviews/{cast.other_review.pk}/extractions/{mine.pk}/"
    assert web("dave").get(other).status_code == 404
    response = web("dave").post(f"{other}save/", {"changed": "field-methods_setting", "field-methods_setting": "X",
                                                  "version": 1}, **HTMX)  # fmt: skip
    assert response.status_code == 404
    for path in ("status/", "upgrade/", "rows/add/"):
        assert web("dave").post(f"{other}{path}", {"status": "complete", "version": 1}).status_code == 404
    mine.refresh_from_db()
    assert mine.version == 1 and mine.status == "in_progress" and not FieldValue.objects.exists()


def test_blinding_carol_never_sees_erins_extraction_or_values(cast, seed, web):
    mine, hers = start(cast.carol, seed, seed.hardy), start(cast.erin, seed, seed.hardy)
    save(cast.erin, hers, {"methods_setting": "Secret setting of erin"})
    carol = web("carol")
    assert carol.get(page_url(hers)).status_code == 404
    response = field_save(carol, hers, "field-methods_setting", "Overwritten")
    assert response.status_code == 404
    assert FieldValue.objects.get(extraction=hers).value == "Secret setting of erin"
    page = carol.get(page_url(mine)).content.decode()
    assert "Secret setting of erin" not in page and "erin" not in page
    assert carol.post(f"/reviews/{cast.review.pk}/studies/{seed.hardy.pk}/consensus/").status_code == 403


def test_an_editor_reads_a_reviewers_extraction_without_writing_it(cast, seed, web):
    mine = start(cast.carol, seed, seed.hardy)
    save(cast.carol, mine, {"methods_setting": "Australia"})
    page = web("bob").get(page_url(mine)).content.decode()
    assert "Australia" in page and "Read-only" in page and 'name="field-methods_setting"' not in page
    assert field_save(web("bob"), mine, "field-methods_setting", "X").status_code == 404
    assert FieldValue.objects.get(extraction=mine).value == "Australia"


def discrepant(cast, seed):
    """carol and erin extract Hardy 2012, differing in the setting and one number of the adverse events."""
    a, b = start(cast.carol, seed, seed.hardy), start(cast.erin, seed, seed.hardy)
    for user, extraction, setting, events in (
        (cast.carol, a, "Australia, 14 sites", 4),
        (cast.erin, b, "Australia, 12 sites", 5),
    ):
        save(user, extraction, required(seed.hardy) | {"methods_setting": setting})
        X.outcome_data_save(user=user, review_id=cast.review.pk, extraction_id=extraction.pk, version=None, rows=[
            {"comparison": seed.comparison.pk, "outcome": seed.adverse.pk, "events_1": events, "total_1": 93,
             "events_2": 1, "total_2": 92},
        ])  # fmt: skip
        complete(user, extraction)
    X.compare(study_id=seed.hardy.pk, form_id=seed.form.pk)
    return a, b


def test_the_consensus_extraction_opens_in_the_extraction_page_with_discrepancies_marked(cast, seed, web):
    discrepant(cast, seed)
    client = web("bob")
    response = client.post(f"/reviews/{cast.review.pk}/studies/{seed.hardy.pk}/consensus/")
    consensus = Extraction.objects.get(study=seed.hardy, reviewer__isnull=True)
    assert response["Location"] == page_url(consensus)
    page = client.get(page_url(consensus)).content.decode()
    assert "Consensus of" in page and "2 spots of this study have an open discrepancy" in page
    assert page.count('<span class="badge text-bg-danger">Discrepancy</span>') == 1 + 2  # the notice, 2 spots
    assert "carol: Australia, 14 sites · erin: Australia, 12 sites" in page and "carol: 4 · erin: 5" in page
    assert 'name="field-methods_setting"' in page  # the editor writes the consensus
    assert 'value="Cancer pain"' in page  # agreed values are there already
    assert field_save(client, consensus, "field-methods_setting", "Australia, 14 sites").status_code == 200


# --- the consensus page --------------------------------------------------------------------------------------------


def test_the_consensus_page_shows_values_side_by_side_and_resolves_with_htmx(cast, seed, web):
    discrepant(cast, seed)
    client = web("bob")
    page = client.get(f"/reviews/{cast.review.pk}/consensus/").content.decode()
    assert "Hardy 2012" in page and "Setting and country" in page
    assert "14 sites" in page and "12 sites" in page and '<mark class="x-diff">14</mark>' in page
    assert "Use carol's: 4" in page and "Use erin's: 5" in page
    setting = Discrepancy.objects.get(key="field:methods_setting")
    events = Discrepancy.objects.exclude(pk=setting.pk).get()
    resolve = f"/reviews/{cast.review.pk}/consensus/{events.pk}/resolve/"
    response = client.post(resolve, {"take": "erin", "back": "status=open"}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and body.startswith(f'\n<div id="d-{events.pk}"') and "Resolved" in body
    assert '<span id="open-count" hx-swap-oob="true">1</span>' in body
    consensus = Extraction.objects.get(study=seed.hardy, reviewer__isnull=True)
    assert OutcomeData.objects.get(extraction=consensus).events_1 == 5
    # a new value that does not fit: the message at that discrepancy
    response = client.post(resolve, {"value": "200"}, **HTMX)
    assert response.status_code == 422 and "cannot be more than participants" in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    response = client.post(f"/reviews/{cast.review.pk}/consensus/{setting.pk}/resolve/",
                           {"value": "Australia (14 sites)", "back": "status=open"})  # fmt: skip
    assert response.status_code == 302
    assert FieldValue.objects.get(extraction=consensus, field__key="methods_setting").value == "Australia (14 sites)"
    page = client.get(f"/reviews/{cast.review.pk}/consensus/?status=resolved").content.decode()
    assert "Resolved</span> by bob" in page and "Australia (14 sites)" in page
    assert "No open discrepancies" in client.get(f"/reviews/{cast.review.pk}/consensus/").content.decode()


def test_consensus_is_for_editors_and_its_own_review(cast, seed, web):
    discrepant(cast, seed)
    flagged = Discrepancy.objects.get(key="field:methods_setting")
    assert web("carol").get(f"/reviews/{cast.review.pk}/consensus/").status_code == 403
    assert web("carol").post(f"/reviews/{cast.review.pk}/consensus/{flagged.pk}/resolve/",
                             {"take": "carol"}).status_code == 403  # fmt: skip
    assert web("dave").post(f"/reviews/{cast.other_review.pk}/consensus/{flagged.pk}/resolve/",
                            {"take": "carol"}).status_code == 404  # fmt: skip
    flagged.refresh_from_db()
    assert flagged.status == "open"


def test_the_consensus_page_offers_the_studys_arms_for_a_row_whose_arms_differ(cast, seed, web):
    from django.urls import reverse

    from extraction.services import extracting as X

    study, c = seed.mercadante, seed.comparison.pk
    arm = {a.name: a.pk for a in study.arms.all()}
    for user, high in ((cast.carol, "Ketamine 0.5"), (cast.erin, "Ketamine 0.25")):
        extraction = X.extraction_start(user=user, review_id=seed.review.pk, study_id=study.pk)
        X.outcome_data_save(
            user=user, review_id=seed.review.pk, extraction_id=extraction.pk, version=None,
            rows=[{"comparison": c, "outcome": seed.adverse.pk, "subgroup": "0.5 mg/kg", "arm_1": arm[high],
                   "arm_2": arm["Placebo"], "events_1": 4, "total_1": 10}],
        )  # fmt: skip
        Extraction.objects.filter(pk=extraction.pk).update(status="complete")
    X.compare(study_id=study.pk, form_id=seed.form.pk)
    flagged = Discrepancy.objects.get(study=study)
    page = web("bob").get(reverse("extraction:consensus", args=[seed.review.pk])).content.decode()
    assert "arm of group 1 (intervention)" in page and "One of: Ketamine 0.25; Ketamine 0.5; Placebo." in page
    answer = web("bob").post(
        reverse("extraction:discrepancy_resolve", args=[seed.review.pk, flagged.pk]),
        {"take": "", "value": "Placebo 2"},
        HTTP_HX_REQUEST="true",
    )
    assert "No arm “Placebo 2” in this study" in answer.content.decode()
    web("bob").post(reverse("extraction:discrepancy_resolve", args=[seed.review.pk, flagged.pk]), {"take": "carol"})
    consensus = X.consensus_for(study, seed.form)
    assert OutcomeData.objects.get(extraction=consensus).arm_1_id == arm["Ketamine 0.5"]
