"""REST API of the form builder (extraction/api_forms.py): each write's happy path, the anonymous user (401), a
reviewer (403), an outsider (404), another review's form, section or field (404, nothing changed), and the
refusals the pages make (a published form, a stale version, a used form, a duplicate key...)."""

from typing import Any

import pytest

from extraction.default_form import DEFAULT_FORM_NAME, DEFAULT_SECTIONS
from extraction.models import ExtractionForm, FormField, FormSection
from extraction.services import forms as services
from extraction.services.forms import current_form

pytestmark = pytest.mark.django_db
Status = ExtractionForm.Status


@pytest.fixture
def draft(cast) -> ExtractionForm:
    """bob's draft "Pilot": a section "Methods" holding a text field "Setting", and a section "Notes", empty."""
    rid = cast.review.pk
    form = services.form_create(user=cast.bob, review_id=rid, name="Pilot")
    methods = services.section_add(user=cast.bob, review_id=rid, form_id=form.pk, title="Methods")
    services.field_add(user=cast.bob, review_id=rid, form_id=form.pk, section_id=methods.pk, label="Setting")
    services.section_add(user=cast.bob, review_id=rid, form_id=form.pk, title="Notes")
    form.refresh_from_db()
    return form


@pytest.fixture
def theirs(cast) -> ExtractionForm:
    """A draft of another review (dave's), with a section and a field: its ids must not reach ours."""
    rid = cast.other_review.pk
    form = services.form_create(user=cast.dave, review_id=rid, name="Theirs")
    section = services.section_add(user=cast.dave, review_id=rid, form_id=form.pk, title="Theirs")
    services.field_add(user=cast.dave, review_id=rid, form_id=form.pk, section_id=section.pk, label="Theirs")
    form.refresh_from_db()
    return form


def base(form: ExtractionForm) -> str:
    return f"/api/v1/reviews/{form.review_id}/forms/{form.pk}/"


def fresh(form: ExtractionForm) -> ExtractionForm:
    return ExtractionForm.objects.get(pk=form.pk)


def section(form: ExtractionForm, title: str) -> FormSection:
    return FormSection.objects.get(form=form, title=title)


def field(form: ExtractionForm, label: str) -> FormField:
    return FormField.objects.get(form=form, label=label)


def structure(form: ExtractionForm) -> list[tuple[str, list[str]]]:
    return [(s["title"], [f["label"] for f in s["fields"]]) for s in services.form_structure(form)]


def snapshot(form: ExtractionForm) -> tuple[Any, ...]:
    """Everything a write could change on a form, to show that a refused one changed nothing."""
    row = fresh(form)
    return row.status, row.version, structure(row), [(f.key, f.type, f.required) for f in row.fields.all()]


# --- each endpoint by role ------------------------------------------------------------------------------------
# (method, path after the form's base or the review's forms/, body) -> who may; a reviewer gets 403, an outsider
# 404, the anonymous user 401, and nothing changes for any of them.


def writes(form: ExtractionForm) -> list[tuple[str, str, dict[str, Any]]]:
    methods, notes = section(form, "Methods"), section(form, "Notes")
    setting = field(form, "Setting")
    v = form.version
    return [
        ("post", "new-version/", {}),
        ("post", "publish/", {"version": v}),
        ("delete", "", {}),
        ("post", "sections/", {"title": "Outcomes", "version": v}),
        ("patch", f"sections/{methods.pk}/", {"title": "Design", "version": v}),
        ("delete", f"sections/{notes.pk}/", {}),
        ("post", f"sections/{methods.pk}/fields/", {"label": "Country", "version": v}),
        ("patch", f"fields/{setting.pk}/", {"label": "Place", "version": v}),
        ("delete", f"fields/{setting.pk}/", {}),
        ("post", "reorder/", {"sections": [{"id": notes.pk}, {"id": methods.pk, "fields": [setting.pk]}],
                              "version": v}),
        ("post", "move/", {"kind": "section", "id": notes.pk, "direction": "up", "version": v}),
    ]  # fmt: skip


@pytest.mark.parametrize("who,expected", [("anonymous", 401), ("carol", 403), ("dave", 404)])
def test_no_write_for_the_anonymous_a_reviewer_or_an_outsider(cast, api, draft, who, expected):
    before = snapshot(draft)
    client = api(who)
    create = client.post(f"/api/v1/reviews/{cast.review.pk}/forms/", {"name": "Mine"})
    assert create.status_code == expected, create.content
    default = client.post(f"/api/v1/reviews/{cast.review.pk}/forms/", {"default": True})
    assert default.status_code == expected
    for method, path, body in writes(draft):
        response = getattr(client, method)(base(draft) + path, body)
        assert response.status_code == expected, (method, path, response.content)
        assert "detail" in response.json()
    assert snapshot(draft) == before
    assert ExtractionForm.objects.filter(review=cast.review).count() == 1


def test_a_reviewer_is_refused_before_the_body_is_read(cast, api, draft):
    """403, not a 400 about the body: a reviewer learns first that the role does not allow it."""
    response = api("carol").post(base(draft) + "sections/", {"title": ""})
    assert response.status_code == 403


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_owner_and_editor_may_write(cast, api, draft, who):
    response = api(who).post(base(draft) + "sections/", {"title": "Outcomes", "version": draft.version})
    assert response.status_code == 201, response.content
    assert structure(fresh(draft))[-1] == ("Outcomes", [])


def test_members_still_read_forms(cast, api, draft):
    for who in ("alice", "bob", "carol"):
        assert api(who).get(base(draft)).json()["name"] == "Pilot"
    assert api("dave").get(base(draft)).status_code == 404


# --- another review's ids (IDOR) ------------------------------------------------------------------------------


def test_another_reviews_form_section_and_field_are_404_and_unchanged(cast, api, draft, theirs):
    """bob edits his review's URLs with dave's form, section and field ids: 404 each, and neither form changes."""
    mine, other = snapshot(draft), snapshot(theirs)
    their_section, their_field = section(theirs, "Theirs"), field(theirs, "Theirs")
    ours = f"/api/v1/reviews/{cast.review.pk}/forms/"
    bob = api("bob")
    v = theirs.version
    for method, path, body in [
        ("get", f"{theirs.pk}/", {}),
        ("delete", f"{theirs.pk}/", {}),
        ("post", f"{theirs.pk}/new-version/", {}),
        ("post", f"{theirs.pk}/publish/", {"version": v}),
        ("post", f"{theirs.pk}/sections/", {"title": "Sneaky", "version": v}),
        ("patch", f"{theirs.pk}/sections/{their_section.pk}/", {"title": "Sneaky", "version": v}),
        ("delete", f"{theirs.pk}/sections/{their_section.pk}/", {}),
        ("patch", f"{theirs.pk}/fields/{their_field.pk}/", {"label": "Sneaky", "version": v}),
        ("delete", f"{theirs.pk}/fields/{their_field.pk}/", {}),
        ("post", f"{theirs.pk}/move/", {"kind": "field", "id": their_field.pk, "direction": "up", "version": v}),
        # Our form with their section or field ids.
        ("patch", f"{draft.pk}/sections/{their_section.pk}/", {"title": "Sneaky", "version": draft.version}),
        ("delete", f"{draft.pk}/sections/{their_section.pk}/", {}),
        ("post", f"{draft.pk}/sections/{their_section.pk}/fields/", {"label": "Sneaky", "version": draft.version}),
        ("patch", f"{draft.pk}/fields/{their_field.pk}/", {"label": "Sneaky", "version": draft.version}),
        ("delete", f"{draft.pk}/fields/{their_field.pk}/", {}),
        ("post", f"{draft.pk}/move/", {"kind": "field", "id": their_field.pk, "direction": "up",
                                        "version": draft.version}),
    ]:  # fmt: skip
        response = getattr(bob, method)(ours + path, body)
        assert response.status_code == 404, (method, path, response.content)
    # A field of our form moved into their section: 404 too.
    setting = field(draft, "Setting")
    response = bob.patch(base(draft) + f"fields/{setting.pk}/", {"section": their_section.pk, "version": draft.version})
    assert response.status_code == 404
    assert snapshot(draft) == mine
    assert snapshot(theirs) == other


# --- forms ----------------------------------------------------------------------------------------------------


def test_create_an_empty_form_and_a_copy_of_the_default(cast, api):
    url = f"/api/v1/reviews/{cast.review.pk}/forms/"
    empty = api("bob").post(url, {"name": "  Pilot  "})
    assert empty.status_code == 201, empty.content
    assert (empty.json()["name"], empty.json()["status"], empty.json()["sections"]) == ("Pilot", "draft", [])
    copy = api("alice").post(url, {"name": "Full", "from_default": True})
    assert copy.status_code == 201
    assert [s["title"] for s in copy.json()["sections"]] == [s["title"] for s in DEFAULT_SECTIONS]
    assert copy.json()["status"] == "draft"


def test_create_refuses_a_taken_name_and_a_missing_one_at_the_name(cast, api, draft):
    url = f"/api/v1/reviews/{cast.review.pk}/forms/"
    taken = api("bob").post(url, {"name": "Pilot"})
    assert taken.status_code == 400
    assert "already has a form" in taken.json()["errors"]["name"][0]
    missing = api("bob").post(url, {})
    assert missing.status_code == 400
    assert "name" in missing.json()["errors"]
    both = api("bob").post(url, {"name": "X", "default": True})
    assert both.status_code == 400
    assert "not both" in both.json()["errors"]["name"][0]
    assert ExtractionForm.objects.filter(review=cast.review).count() == 1


def test_create_the_default_form_published_then_it_is_returned(cast, api):
    url = f"/api/v1/reviews/{cast.review.pk}/forms/"
    made = api("bob").post(url, {"default": True})
    assert made.status_code == 201, made.content
    assert (made.json()["name"], made.json()["status"]) == (DEFAULT_FORM_NAME, "published")
    again = api("alice").post(url, {"default": True})
    assert again.status_code == 200
    assert again.json()["id"] == made.json()["id"]
    assert ExtractionForm.objects.filter(review=cast.review).count() == 1


def test_publish_then_new_version_keeps_the_keys_and_retires_on_publish(cast, api, draft):
    published = api("bob").post(base(draft) + "publish/", {"version": draft.version})
    assert published.status_code == 200, published.content
    assert published.json()["status"] == "published"
    made = api("bob").post(base(draft) + "new-version/")
    assert made.status_code == 201
    new = made.json()
    assert (new["number"], new["status"]) == (2, "draft")
    assert [f["key"] for s in new["sections"] for f in s["fields"]] == ["setting"]
    # One draft at a time: asking again returns it.
    assert api("alice").post(base(draft) + "new-version/").json()["id"] == new["id"]
    second = ExtractionForm.objects.get(pk=new["id"])
    assert api("bob").post(base(second) + "publish/", {"version": new["version"]}).status_code == 200
    assert fresh(draft).status == Status.RETIRED


def test_publish_refuses_an_empty_draft_a_stale_version_and_a_published_form(cast, api, draft):
    empty = services.form_create(user=cast.bob, review_id=cast.review.pk, name="Empty")
    refused = api("bob").post(base(empty) + "publish/", {"version": empty.version})
    assert refused.status_code == 400
    assert "at least one field" in refused.json()["errors"]["fields"][0]
    stale = api("bob").post(base(draft) + "publish/", {"version": draft.version - 1})
    assert stale.status_code == 409
    assert "Someone else changed this draft" in stale.json()["detail"]
    assert fresh(draft).status == Status.DRAFT
    assert api("bob").post(base(draft) + "publish/", {"version": draft.version}).status_code == 200
    again = api("bob").post(base(draft) + "publish/", {"version": fresh(draft).version})
    assert again.status_code == 409
    assert "make a new draft" in again.json()["detail"]
    assert api("bob").post(base(draft) + "publish/", {}).json()["errors"]["version"]


def test_delete_a_draft_but_not_a_published_form_extractions_use(cast, api, draft):
    used = current_form(cast.review)
    assert used.status == Status.PUBLISHED
    refused = api("alice").delete(base(used))
    assert refused.status_code == 409
    assert "make a new draft" in refused.json()["detail"]
    assert ExtractionForm.objects.filter(pk=used.pk).exists()
    assert api("bob").delete(base(draft)).status_code == 204
    assert not ExtractionForm.objects.filter(pk=draft.pk).exists()
    assert api("bob").delete(base(draft)).status_code == 404


# --- sections -------------------------------------------------------------------------------------------------


def test_add_rename_and_delete_a_section_each_answering_the_new_version(cast, api, draft):
    bob, v = api("bob"), draft.version
    added = bob.post(base(draft) + "sections/", {"title": "Outcomes", "help_text": "As reported.", "version": v})
    assert added.status_code == 201, added.content
    body = added.json()
    assert (body["title"], body["help_text"], body["fields"], body["form_version"]) == (
        "Outcomes", "As reported.", [], v + 1,
    )  # fmt: skip
    renamed = bob.patch(base(draft) + f"sections/{body['id']}/", {"title": "Results", "version": v + 1})
    assert renamed.status_code == 200
    assert (renamed.json()["title"], renamed.json()["help_text"], renamed.json()["form_version"]) == (
        "Results", "As reported.", v + 2,
    )  # fmt: skip
    deleted = bob.delete(base(draft) + f"sections/{section(draft, 'Methods').pk}/?version={v + 2}")
    assert deleted.status_code == 200
    titles = [s["title"] for s in deleted.json()["sections"]]
    assert (deleted.json()["version"], titles) == (v + 3, ["Notes", "Results"])
    assert not FormField.objects.filter(form=draft).exists()  # the section's field went with it


def test_section_refusals_at_the_field_and_for_stale_or_published(cast, api, draft):
    bob, v = api("bob"), draft.version
    blank = bob.post(base(draft) + "sections/", {"title": "  ", "version": v})
    assert blank.status_code == 400
    assert list(blank.json()["errors"]) == ["title"]
    methods = section(draft, "Methods")
    stale = bob.patch(base(draft) + f"sections/{methods.pk}/", {"title": "Design", "version": v - 1})
    assert stale.status_code == 409
    stale_delete = bob.delete(base(draft) + f"sections/{methods.pk}/?version={v - 1}")
    assert stale_delete.status_code == 409
    bad_version = bob.delete(base(draft) + f"sections/{methods.pk}/?version=soon")
    assert bad_version.status_code == 400
    assert "version" in bad_version.json()["errors"]
    services.form_publish(user=cast.bob, review_id=cast.review.pk, form_id=draft.pk)
    published = fresh(draft)
    before = snapshot(published)
    for response in (
        bob.post(base(draft) + "sections/", {"title": "More", "version": published.version}),
        bob.patch(base(draft) + f"sections/{methods.pk}/", {"title": "Design", "version": published.version}),
        bob.delete(base(draft) + f"sections/{methods.pk}/"),
    ):
        assert response.status_code == 409
        assert "is published" in response.json()["detail"]
    assert snapshot(published) == before


# --- fields ---------------------------------------------------------------------------------------------------


def test_add_a_field_of_each_kind(cast, api, draft):
    bob, methods, v = api("bob"), section(draft, "Methods"), draft.version
    url = base(draft) + f"sections/{methods.pk}/fields/"
    number = bob.post(url, {"label": "Dose", "type": "decimal", "unit": "mg/kg", "per_arm": True, "version": v})
    assert number.status_code == 201, number.content
    body = number.json()
    assert (body["key"], body["type"], body["unit"], body["per_arm"], body["section"], body["form_version"]) == (
        "dose", "decimal", "mg/kg", True, methods.pk, v + 1,
    )  # fmt: skip
    choice = bob.post(
        url, {"label": "Route", "key": "route", "type": "single_choice", "choices": ["Oral", " IV ", "Oral"],
              "required": True, "version": v + 1},
    )  # fmt: skip
    assert choice.status_code == 201, choice.content
    assert (choice.json()["choices"], choice.json()["required"]) == (["Oral", "IV"], True)
    # A key made from a taken label gets a number.
    again = bob.post(url, {"label": "Setting", "version": v + 2})
    assert again.json()["key"] == "setting_2"


@pytest.mark.parametrize(
    "body,at,says",
    [
        ({"label": "Route", "type": "single_choice", "choices": ["Oral"]}, "choices", "at least two options"),
        ({"label": "Place", "unit": "km"}, "unit", "Only number fields"),
        ({"label": "Place", "key": "setting"}, "key", "Another field of this form has the key"),
        ({"label": "Place", "key": "Not A Key"}, "key", "lower-case"),
        ({"label": ""}, "label", "blank"),
        ({"label": "Place", "type": "colour"}, "type", "not a valid choice"),
    ],
)
def test_a_bad_field_is_refused_at_its_property(cast, api, draft, body, at, says):
    before = snapshot(draft)
    url = base(draft) + f"sections/{section(draft, 'Methods').pk}/fields/"
    response = api("bob").post(url, {**body, "version": draft.version})
    assert response.status_code == 400, response.content
    assert list(response.json()["errors"]) == [at]
    assert says in response.json()["errors"][at][0]
    assert snapshot(draft) == before


def test_change_a_field_only_what_is_named_and_move_it_to_another_section(cast, api, draft):
    bob, setting = api("bob"), field(draft, "Setting")
    services.field_update(user=cast.bob, review_id=cast.review.pk, form_id=draft.pk, field_id=setting.pk, required=True)
    v = fresh(draft).version
    changed = bob.patch(base(draft) + f"fields/{setting.pk}/", {"label": "Place", "version": v})
    assert changed.status_code == 200, changed.content
    assert (changed.json()["label"], changed.json()["required"], changed.json()["form_version"]) == (
        "Place",
        True,
        v + 1,
    )
    notes = section(draft, "Notes")
    moved = bob.patch(base(draft) + f"fields/{setting.pk}/", {"section": notes.pk, "version": v + 1})
    assert moved.json()["section"] == notes.pk
    assert structure(fresh(draft)) == [("Methods", []), ("Notes", ["Place"])]
    no_version = bob.patch(base(draft) + f"fields/{setting.pk}/", {"label": "Where"})
    assert no_version.status_code == 400
    assert list(no_version.json()["errors"]) == ["version"]


def test_field_key_clash_on_change_and_published_or_stale_refusals(cast, api, draft):
    rid, methods = cast.review.pk, section(draft, "Methods")
    other = services.field_add(user=cast.bob, review_id=rid, form_id=draft.pk, section_id=methods.pk, label="Other")
    bob, v, setting = api("bob"), fresh(draft).version, field(draft, "Setting")
    clash = bob.patch(base(draft) + f"fields/{other.pk}/", {"key": "setting", "version": v})
    assert clash.status_code == 400
    assert list(clash.json()["errors"]) == ["key"]
    stale = bob.delete(base(draft) + f"fields/{setting.pk}/?version={v - 1}")
    assert stale.status_code == 409
    deleted = bob.delete(base(draft) + f"fields/{setting.pk}/?version={v}")
    assert deleted.status_code == 200
    assert deleted.json()["version"] == v + 1
    assert structure(fresh(draft)) == [("Methods", ["Other"]), ("Notes", [])]
    services.form_publish(user=cast.bob, review_id=rid, form_id=draft.pk)
    version = fresh(draft).version
    assert bob.patch(base(draft) + f"fields/{other.pk}/", {"label": "X", "version": version}).status_code == 409
    assert bob.delete(base(draft) + f"fields/{other.pk}/").status_code == 409
    add = bob.post(base(draft) + f"sections/{methods.pk}/fields/", {"label": "X", "version": version})
    assert add.status_code == 409


# --- order ----------------------------------------------------------------------------------------------------


def test_reorder_moves_sections_and_fields_between_sections(cast, api, draft):
    methods, notes, setting = section(draft, "Methods"), section(draft, "Notes"), field(draft, "Setting")
    order = [{"id": notes.pk, "fields": [setting.pk]}, {"id": methods.pk, "fields": []}]
    response = api("bob").post(base(draft) + "reorder/", {"sections": order, "version": draft.version})
    assert response.status_code == 200, response.content
    assert response.json()["version"] == draft.version + 1
    assert structure(fresh(draft)) == [("Notes", ["Setting"]), ("Methods", [])]


def test_reorder_refuses_a_partial_order_a_bad_shape_and_a_stale_version(cast, api, draft):
    before = snapshot(draft)
    methods, notes, setting = section(draft, "Methods"), section(draft, "Notes"), field(draft, "Setting")
    bob = api("bob")
    partial = bob.post(
        base(draft) + "reorder/", {"sections": [{"id": methods.pk, "fields": [setting.pk]}], "version": draft.version}
    )
    assert partial.status_code == 409
    assert "sections or fields differ" in partial.json()["detail"]
    shape = bob.post(base(draft) + "reorder/", {"sections": [{"fields": ["x"]}], "version": draft.version})
    assert shape.status_code == 400
    assert set(shape.json()["errors"]["sections"]["0"]) == {"id", "fields"}
    full = [{"id": notes.pk, "fields": []}, {"id": methods.pk, "fields": [setting.pk]}]
    stale = bob.post(base(draft) + "reorder/", {"sections": full, "version": draft.version - 1})
    assert stale.status_code == 409
    assert snapshot(draft) == before


def test_move_a_section_and_a_field_across_the_edge_of_its_section(cast, api, draft):
    bob, notes, setting, v = api("bob"), section(draft, "Notes"), field(draft, "Setting"), draft.version
    up = bob.post(base(draft) + "move/", {"kind": "section", "id": notes.pk, "direction": "up", "version": v})
    assert up.status_code == 200, up.content
    assert structure(fresh(draft)) == [("Notes", []), ("Methods", ["Setting"])]
    across = bob.post(base(draft) + "move/", {"kind": "field", "id": setting.pk, "direction": "up", "version": v + 1})
    assert across.status_code == 200
    assert structure(fresh(draft)) == [("Notes", ["Setting"]), ("Methods", [])]
    top = bob.post(base(draft) + "move/", {"kind": "section", "id": notes.pk, "direction": "up", "version": v + 2})
    assert top.status_code == 200  # at the top already: the order stays
    assert structure(fresh(draft)) == [("Notes", ["Setting"]), ("Methods", [])]


def test_move_refuses_an_unknown_item_a_bad_direction_and_a_stale_version(cast, api, draft):
    bob, notes, setting, v = api("bob"), section(draft, "Notes"), field(draft, "Setting"), draft.version
    before = snapshot(draft)
    wrong_kind = bob.post(base(draft) + "move/", {"kind": "field", "id": notes.pk, "direction": "up", "version": v})
    assert wrong_kind.status_code == 404
    sideways = bob.post(base(draft) + "move/", {"kind": "field", "id": setting.pk, "direction": "left", "version": v})
    assert sideways.status_code == 400
    assert list(sideways.json()["errors"]) == ["direction"]
    stale = bob.post(base(draft) + "move/", {"kind": "section", "id": notes.pk, "direction": "up", "version": v - 1})
    assert stale.status_code == 409
    assert snapshot(draft) == before


def test_huge_ids_in_a_body_are_a_400_not_an_overflow(cast, api, draft):
    huge = 10**30
    setting = field(draft, "Setting")
    for path, body in (
        ("move/", {"kind": "field", "id": huge, "direction": "up", "version": draft.version}),
        (f"fields/{setting.pk}/", {"section": huge, "version": draft.version}),
        ("reorder/", {"sections": [{"id": huge, "fields": [huge]}], "version": draft.version}),
    ):
        method = api("bob").patch if path.startswith("fields/") else api("bob").post
        response = method(base(draft) + path, body)
        assert response.status_code == 400, (path, response.content)


def test_the_schema_documents_the_form_builder_endpoints(web):
    schema = web("carol").get("/api/schema/?format=json").json()
    forms = "/api/v1/reviews/{review_pk}/forms/"
    expected = {
        "": {"get", "post"},
        "{id}/": {"get", "delete"},
        "{form_pk}/new-version/": {"post"},
        "{form_pk}/publish/": {"post"},
        "{form_pk}/reorder/": {"post"},
        "{form_pk}/move/": {"post"},
        "{form_pk}/sections/": {"post"},
        "{form_pk}/sections/{id}/": {"patch", "delete"},
        "{form_pk}/sections/{section_pk}/fields/": {"post"},
        "{form_pk}/fields/{id}/": {"patch", "delete"},
    }
    for path, methods in expected.items():
        operations = schema["paths"][forms + path]
        assert set(operations) - {"parameters"} == methods, path
        for method, operation in operations.items():
            assert operation["tags"] == ["extraction"], path
            if method != "get":
                assert {"400", "401", "403", "404", "409"} <= set(operation["responses"]), (method, path)
    fields = schema["components"]["schemas"]["FormFieldRequest"]["properties"]
    assert set(fields) == {"label", "key", "type", "required", "help_text", "unit", "choices", "per_arm", "version"}
