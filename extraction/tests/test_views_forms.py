"""Form builder pages: the list of forms and versions, the builder of a draft (htmx pieces and plain posts),
validation at the field, reordering, publishing and versions, refusals (published, stale), roles and scoping."""

import json
import re

import pytest

from extraction.default_form import DEFAULT_FORM_NAME, DEFAULT_SECTIONS
from extraction.models import ExtractionForm, FormField, FormSection
from extraction.services import forms as services

HTMX = {"HTTP_HX_REQUEST": "true"}
Status = ExtractionForm.Status


@pytest.fixture
def draft(cast):
    """bob's draft "Pilot" with one section, "Methods", holding one text field, "Setting"."""
    form = services.form_create(user=cast.bob, review_id=cast.review.pk, name="Pilot")
    section = services.section_add(user=cast.bob, review_id=cast.review.pk, form_id=form.pk, title="Methods")
    services.field_add(
        user=cast.bob, review_id=cast.review.pk, form_id=form.pk, section_id=section.pk, label="Setting", type="text"
    )
    form.refresh_from_db()
    return form


def base(form: ExtractionForm) -> str:
    return f"/reviews/{form.review_id}/forms/{form.pk}/"


def field_data(prefix: str, version: int | None = None, **values: object) -> dict[str, object]:
    data: dict[str, object] = {f"{prefix}-{name}": value for name, value in values.items()}
    if version is not None:
        data["version"] = version
    return data


def at_field(html: str, auto_id: str) -> str:
    """The HTML of the wrapper of one input (label, input, its errors and help), to assert a message is there."""
    marker = f'id="div_{auto_id}"'
    assert marker in html, f"no input {auto_id}"
    return html.split(marker, 1)[1].split('id="div_id_', 1)[0]


def version_of(form: ExtractionForm) -> int:
    return ExtractionForm.objects.get(pk=form.pk).version


def structure(form: ExtractionForm) -> list[tuple[str, list[str]]]:
    return [(s["title"], [f["key"] for f in s["fields"]]) for s in services.form_structure(form)]


# --- roles and scoping ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("who,expected", [("alice", 200), ("bob", 200), ("carol", 200), ("dave", 404)])
def test_pages_by_role(cast, web, draft, who, expected):
    assert web(who).get(f"/reviews/{cast.review.pk}/forms/").status_code == expected
    assert web(who).get(base(draft)).status_code == expected


def test_anonymous_is_sent_to_login(cast, web, draft):
    client = web("anonymous")
    for response in (
        client.get(f"/reviews/{cast.review.pk}/forms/"),
        client.get(base(draft)),
        client.post(f"{base(draft)}sections/", {"new-section-title": "Outcomes", "version": draft.version}),
    ):
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert draft.sections.count() == 1


def test_reviewer_reads_and_previews_but_cannot_write(cast, web, draft):
    client = web("carol")
    listing = client.get(f"/reviews/{cast.review.pk}/forms/").content.decode()
    assert "Pilot" in listing and "Preview" in listing and "Create form" not in listing and ">Publish<" not in listing
    preview = client.get(base(draft)).content.decode()
    assert "Setting" in preview and "This is how extractors see the form." in preview
    assert "Add a section" not in preview and "hx-post" not in preview
    section = draft.sections.get()
    field = draft.fields.get()
    writes = [
        (f"/reviews/{cast.review.pk}/forms/new/", {"name": "Mine", "start": "empty"}),
        (f"/reviews/{cast.review.pk}/forms/default/", {}),
        (f"{base(draft)}sections/", {"new-section-title": "Outcomes"}),
        (f"{base(draft)}sections/{section.pk}/", {f"section-{section.pk}-title": "Renamed"}),
        (f"{base(draft)}sections/{section.pk}/delete/", {}),
        (f"{base(draft)}sections/{section.pk}/fields/", field_data(f"add-{section.pk}", label="X", type="text")),
        (f"{base(draft)}fields/{field.pk}/", field_data(f"field-{field.pk}", label="X", key="x", type="text")),
        (f"{base(draft)}fields/{field.pk}/delete/", {}),
        (f"{base(draft)}reorder/", {"order": json.dumps([{"id": section.pk, "fields": [field.pk]}])}),
        (f"{base(draft)}move/", {"kind": "field", "id": field.pk, "direction": "up"}),
        (f"{base(draft)}publish/", {}),
        (f"{base(draft)}new-version/", {}),
        (f"{base(draft)}delete/", {}),
    ]
    for url, data in writes:
        assert client.post(url, data, **HTMX).status_code == 403, url
        assert client.post(url, data).status_code == 403, url
    assert client.get(f"{base(draft)}fields/{field.pk}/?edit=1", **HTMX).status_code == 403
    assert structure(draft) == [("Methods", ["setting"])] and version_of(draft) == draft.version
    assert ExtractionForm.objects.filter(review=cast.review).count() == 1


def test_outsider_gets_404_everywhere(cast, web, draft):
    client = web("dave")
    section = draft.sections.get()
    assert client.get(base(draft)).status_code == 404
    assert client.post(f"{base(draft)}sections/", {"new-section-title": "Outcomes"}, **HTMX).status_code == 404
    assert client.post(f"{base(draft)}sections/{section.pk}/delete/").status_code == 404
    assert client.post(f"{base(draft)}publish/").status_code == 404
    assert structure(draft) == [("Methods", ["setting"])] and draft.sections.count() == 1


def test_another_reviews_form_is_404_and_nothing_changes(cast, web, draft):
    theirs = services.form_create(user=cast.dave, review_id=cast.other_review.pk, name="Theirs", from_default=True)
    their_section = theirs.sections.all()[0]
    their_field = theirs.fields.all()[0]
    before = (structure(theirs), version_of(theirs))
    client = web("bob")
    mine = f"/reviews/{cast.review.pk}/forms/{theirs.pk}/"
    assert client.get(mine).status_code == 404
    attempts = [
        (f"{mine}sections/", {"new-section-title": "Outcomes"}),
        (f"{mine}sections/{their_section.pk}/delete/", {}),
        (f"{mine}sections/{their_section.pk}/fields/", field_data(f"add-{their_section.pk}", label="X", type="text")),
        (f"{mine}fields/{their_field.pk}/delete/", {}),
        (f"{mine}publish/", {}),
        (f"{mine}delete/", {}),
        (f"{mine}new-version/", {}),
        # Their section and field ids under my own draft.
        (f"{base(draft)}sections/{their_section.pk}/delete/", {}),
        (
            f"{base(draft)}fields/{their_field.pk}/",
            field_data(f"field-{their_field.pk}", label="X", key="x", type="text"),
        ),
        (
            f"{base(draft)}sections/{their_section.pk}/fields/",
            field_data(f"add-{their_section.pk}", label="X", type="text"),
        ),
    ]
    for url, data in attempts:
        assert client.post(url, data, **HTMX).status_code == 404, url
    assert (structure(theirs), version_of(theirs)) == before
    assert ExtractionForm.objects.filter(review=cast.other_review).count() == 1
    assert structure(draft) == [("Methods", ["setting"])]


# --- the list of forms ----------------------------------------------------------------------------------------


def test_without_a_form_the_list_offers_the_default_and_creates_it_published(cast, web):
    client = web("bob")
    page = client.get(f"/reviews/{cast.review.pk}/forms/").content.decode()
    assert "no extraction form yet" in page and DEFAULT_FORM_NAME in page
    assert "Create the default form now" in page
    assert "Create the default form now" not in web("carol").get(f"/reviews/{cast.review.pk}/forms/").content.decode()
    response = client.post(f"/reviews/{cast.review.pk}/forms/default/")
    form = ExtractionForm.objects.get(review=cast.review)
    assert response.status_code == 302 and response["Location"] == base(form)
    assert form.status == Status.PUBLISHED and form.published_at is not None
    assert [s.title for s in form.sections.all()] == [s["title"] for s in DEFAULT_SECTIONS]
    page = client.get(f"/reviews/{cast.review.pk}/forms/").content.decode()
    assert "Create the default form now" not in page and "Published" in page and "New version" in page
    builder = client.get(base(form)).content.decode()
    assert "Make a new version to change it" in builder and "Add a section" not in builder
    assert "Participants" in builder and "Intervention arm" in builder  # per-arm fields previewed by arm


def test_create_an_empty_form_and_a_copy_of_the_default(cast, web):
    client = web("bob")
    url = f"/reviews/{cast.review.pk}/forms/new/"
    response = client.post(url, {"name": "Pilot", "start": "empty"})
    pilot = ExtractionForm.objects.get(name="Pilot")
    assert response.status_code == 302 and response["Location"] == base(pilot)
    assert pilot.status == Status.DRAFT and pilot.sections.count() == 0
    client.post(url, {"name": "Full", "start": "default"})
    full = ExtractionForm.objects.get(name="Full")
    assert full.status == Status.DRAFT and full.fields.count() == sum(len(s["fields"]) for s in DEFAULT_SECTIONS)
    # Refusals at the name: empty, taken.
    empty = client.post(url, {"name": "  ", "start": "empty"}).content.decode()
    assert "Give the form a name." in at_field(empty, "id_name")
    taken = client.post(url, {"name": "Pilot", "start": "empty"})
    assert taken.status_code == 200 and "already has a form “Pilot”" in at_field(taken.content.decode(), "id_name")
    page = client.get(f"/reviews/{cast.review.pk}/forms/").content.decode()
    assert page.count("Draft") >= 2 and "Edit" in page
    assert "No version is published yet: until one is, extraction uses the default form" in page


def test_list_shows_each_version_with_counts(cast, web, draft, django_assert_max_num_queries):
    services.form_create_default(review=cast.review, user=cast.bob)
    client = web("carol")
    with django_assert_max_num_queries(5):
        page = client.get(f"/reviews/{cast.review.pk}/forms/").content.decode()
    assert "Pilot" in page and DEFAULT_FORM_NAME in page and "Version 1" in page
    assert re.search(r">\s*26\s*</td>", page)  # the default form's fields
    assert "Draft" in page and "Published" in page


# --- the builder: sections and fields -------------------------------------------------------------------------


def test_builder_page_of_a_draft_is_editable_in_constant_queries(cast, web, django_assert_max_num_queries):
    form = services.form_create(user=cast.bob, review_id=cast.review.pk, name="Big", from_default=True)
    client = web("bob")
    with django_assert_max_num_queries(7):
        page = client.get(base(form)).content.decode()
    assert "Add a section" in page and page.count('class="builder-field') >= 26
    assert f'id="form-version" value="{form.version}"' in page and "form_builder.js" in page
    assert "Alt" in page and "builder-announce" in page


def test_add_a_section_with_htmx(cast, web, draft):
    response = web("bob").post(
        f"{base(draft)}sections/",
        {"new-section-title": "Outcomes", "new-section-help_text": "As reported.", "version": draft.version},
        **HTMX,
    )
    html = response.content.decode()
    section = FormSection.objects.get(form=draft, title="Outcomes")
    assert response.status_code == 200 and f'id="section-{section.pk}"' in html and "<html" not in html
    assert f'id="form-version" value="{draft.version + 1}" hx-swap-oob="true"' in html
    assert 'id="section-add"' in html and "Added the section “Outcomes”." in html
    assert section.help_text == "As reported." and section.position == 2
    # An empty title is refused at the title, in the add form (retargeted there).
    response = web("bob").post(
        f"{base(draft)}sections/", {"new-section-title": "", "version": draft.version + 1}, **HTMX
    )
    assert response["HX-Retarget"] == "#section-add"
    assert "Give the section a title." in at_field(response.content.decode(), "id_new-section-title")


FIELD_TYPES = [
    {"label": "Notes on setting", "type": "text"},
    {"label": "Inclusion criteria", "type": "long_text", "required": "on", "help_text": "As written."},
    {"label": "Participants randomised", "type": "integer", "per_arm": "on"},
    {"label": "Mean age", "type": "decimal", "unit": "years", "per_arm": "on"},
    {"label": "Route", "type": "single_choice", "choices": "Oral\nIntravenous\n\n Oral \nOther"},
    {"label": "Outcomes measured", "type": "multiple_choice", "choices": "Pain\nNausea"},
    {"label": "Authors contacted", "type": "yes_no"},
    {"label": "Study start", "type": "date", "key": "start_date"},
]


def test_add_every_type_of_field_with_htmx(cast, web, draft):
    client = web("bob")
    section = draft.sections.get()
    version = draft.version
    for spec in FIELD_TYPES:
        response = client.post(
            f"{base(draft)}sections/{section.pk}/fields/", field_data(f"add-{section.pk}", version, **spec), **HTMX
        )
        html = response.content.decode()
        added = FormField.objects.get(form=draft, label=spec["label"])
        assert response.status_code == 200 and f'id="field-{added.pk}"' in html, html
        version += 1
        assert f'id="form-version" value="{version}" hx-swap-oob="true"' in html
        assert f'id="field-add-{section.pk}" open hx-swap-oob="true"' in html  # a fresh form, to add the next
    fields = {f.label: f for f in draft.fields.all()}
    assert fields["Mean age"].unit == "years" and fields["Mean age"].per_arm and fields["Mean age"].type == "decimal"
    assert fields["Participants randomised"].per_arm and fields["Participants randomised"].unit == ""
    assert fields["Route"].choices == ["Oral", "Intravenous", "Other"]
    assert fields["Outcomes measured"].choices == ["Pain", "Nausea"]
    assert fields["Inclusion criteria"].required and fields["Inclusion criteria"].help_text == "As written."
    assert fields["Study start"].key == "start_date" and fields["Authors contacted"].key == "authors_contacted"
    assert [f.label for f in FormField.objects.filter(section=section).order_by("position")] == [
        "Setting",
        *[spec["label"] for spec in FIELD_TYPES],
    ]
    # The preview shows each type as extractors will see it.
    preview = client.get(f"{base(draft)}?preview=1").content.decode()
    for snippet in (
        'type="date"',
        'type="number" step="any"',
        'type="number" step="1"',
        'type="checkbox"',
        ">years</span>",
        "Intervention arm",
        "<textarea",
    ):
        assert snippet in preview, snippet


def test_a_key_made_from_a_taken_label_is_made_unique(cast, web, draft):
    section = draft.sections.get()
    web("bob").post(
        f"{base(draft)}sections/{section.pk}/fields/",
        field_data(f"add-{section.pk}", draft.version, label="Setting", type="text"),
        **HTMX,
    )
    assert sorted(draft.fields.values_list("key", flat=True)) == ["setting", "setting_2"]


def test_edit_a_field_with_htmx_and_without(cast, web, draft):
    client = web("bob")
    field = draft.fields.get()
    url = f"{base(draft)}fields/{field.pk}/"
    editing = client.get(f"{url}?edit=1", **HTMX).content.decode()
    assert f'id="id_field-{field.pk}-label"' in editing and 'value="Setting"' in editing and "autofocus" in editing
    assert client.get(url, **HTMX).content.decode().count("<form") == 2  # back to the row: move, delete
    response = client.post(
        url,
        field_data(
            f"field-{field.pk}",
            draft.version,
            label="Setting and country",
            key="setting",
            type="single_choice",
            choices="Hospital\nCommunity",
        ),
        **HTMX,
    )
    html = response.content.decode()
    assert response.status_code == 200 and "Setting and country" in html and "Hospital · Community" in html
    assert f'value="{draft.version + 1}" hx-swap-oob="true"' in html
    field.refresh_from_db()
    assert (field.label, field.type, field.choices, field.key) == (
        "Setting and country",
        "single_choice",
        ["Hospital", "Community"],
        "setting",
    )
    # Without JavaScript: the edit link opens the form in the page, the post redirects back to the field.
    page = client.get(f"{base(draft)}?field={field.pk}").content.decode()
    assert f'id="id_field-{field.pk}-label"' in page
    response = client.post(
        url,
        field_data(f"field-{field.pk}", draft.version + 1, label="Setting", key="where", type="text", required="on"),
    )
    assert response.status_code == 302 and response["Location"] == f"{base(draft)}#field-{field.pk}"
    field.refresh_from_db()
    assert (field.label, field.key, field.type, field.choices, field.required) == ("Setting", "where", "text", [], True)


def test_rename_and_delete_a_section_and_delete_a_field(cast, web, draft):
    client = web("bob")
    section = draft.sections.get()
    field = draft.fields.get()
    head = client.get(f"{base(draft)}sections/{section.pk}/?edit=1", **HTMX).content.decode()
    assert f'id="id_section-{section.pk}-title"' in head
    response = client.post(
        f"{base(draft)}sections/{section.pk}/",
        {f"section-{section.pk}-title": "Study methods", "version": draft.version},
        **HTMX,
    )
    assert "Study methods" in response.content.decode()
    section.refresh_from_db()
    assert section.title == "Study methods"
    response = client.post(f"{base(draft)}fields/{field.pk}/delete/", {"version": draft.version + 1}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and 'hx-swap-oob="true"' in html and "Deleted the field “Setting”." in html
    assert not draft.fields.exists()
    response = client.post(f"{base(draft)}sections/{section.pk}/delete/", {"version": draft.version + 2})
    assert response.status_code == 302 and not draft.sections.exists()


# --- validation at the field ------------------------------------------------------------------------------------


def test_choice_field_without_options_is_refused_at_the_options(cast, web, draft):
    section = draft.sections.get()
    prefix = f"add-{section.pk}"
    response = web("bob").post(
        f"{base(draft)}sections/{section.pk}/fields/",
        field_data(prefix, draft.version, label="Route", type="single_choice"),
        **HTMX,
    )
    html = response.content.decode()
    assert response["HX-Retarget"] == f"#field-add-{section.pk}"
    assert "at least two options" in at_field(html, f"id_{prefix}-choices")
    assert 'value="Route"' in html  # what was typed stays
    # The same without JavaScript: the whole page, the message at the field.
    page = web("bob").post(
        f"{base(draft)}sections/{section.pk}/fields/",
        field_data(prefix, draft.version, label="Route", type="multiple_choice", choices="Oral"),
    )
    choices = at_field(page.content.decode(), f"id_{prefix}-choices")
    assert page.status_code == 200 and "at least two options" in choices
    assert "autofocus" in choices  # the browser goes to the refused input, wherever it is on the page
    assert draft.fields.count() == 1 and version_of(draft) == draft.version


def test_unit_on_a_text_field_is_refused_at_the_unit(cast, web, draft):
    field = draft.fields.get()
    prefix = f"field-{field.pk}"
    response = web("bob").post(
        f"{base(draft)}fields/{field.pk}/",
        field_data(prefix, draft.version, label="Setting", key="setting", type="text", unit="mg"),
        **HTMX,
    )
    assert "Only number fields have a unit." in at_field(response.content.decode(), f"id_{prefix}-unit")
    field.refresh_from_db()
    assert field.unit == ""


def test_empty_label_is_refused_at_the_label(cast, web, draft):
    section = draft.sections.get()
    prefix = f"add-{section.pk}"
    response = web("bob").post(
        f"{base(draft)}sections/{section.pk}/fields/",
        field_data(prefix, draft.version, label="  ", type="text"),
        **HTMX,
    )
    assert "Give the field a label." in at_field(response.content.decode(), f"id_{prefix}-label")
    field = draft.fields.get()
    response = web("bob").post(
        f"{base(draft)}fields/{field.pk}/",
        field_data(f"field-{field.pk}", draft.version, label="", key="setting", type="text"),
    )
    assert "Give the field a label." in at_field(response.content.decode(), f"id_field-{field.pk}-label")
    assert draft.fields.get().label == "Setting"


def test_duplicate_key_is_refused_at_the_key(cast, web, draft):
    section = draft.sections.get()
    prefix = f"add-{section.pk}"
    client = web("bob")
    response = client.post(
        f"{base(draft)}sections/{section.pk}/fields/",
        field_data(prefix, draft.version, label="Country", key="setting", type="text"),
        **HTMX,
    )
    assert "Another field of this form has the key “setting”." in at_field(
        response.content.decode(), f"id_{prefix}-key"
    )
    assert draft.fields.count() == 1
    other = services.field_add(
        user=cast.bob, review_id=cast.review.pk, form_id=draft.pk, section_id=section.pk, label="Country", type="text"
    )
    response = client.post(
        f"{base(draft)}fields/{other.pk}/",
        field_data(f"field-{other.pk}", version_of(draft), label="Country", key="setting", type="text"),
        **HTMX,
    )
    assert "has the key “setting”" in at_field(response.content.decode(), f"id_field-{other.pk}-key")
    bad = client.post(
        f"{base(draft)}fields/{other.pk}/",
        field_data(f"field-{other.pk}", version_of(draft), label="Country", key="Country!", type="text"),
        **HTMX,
    )
    assert "lower-case letters" in at_field(bad.content.decode(), f"id_field-{other.pk}-key")
    assert FormField.objects.get(pk=other.pk).key == "country"


# --- reordering -------------------------------------------------------------------------------------------------


def _two_sections(cast, draft):
    rid = cast.review.pk
    methods = draft.sections.get()
    country = services.field_add(
        user=cast.bob, review_id=rid, form_id=draft.pk, section_id=methods.pk, label="Country", type="text"
    )
    outcomes = services.section_add(user=cast.bob, review_id=rid, form_id=draft.pk, title="Outcomes")
    pain = services.field_add(
        user=cast.bob, review_id=rid, form_id=draft.pk, section_id=outcomes.pk, label="Pain", type="text"
    )
    return methods, outcomes, draft.fields.get(key="setting"), country, pain


def test_reorder_endpoint_moves_fields_within_and_between_sections_and_sections(cast, web, draft):
    methods, outcomes, setting, country, pain = _two_sections(cast, draft)
    order = [{"id": outcomes.pk, "fields": [country.pk, pain.pk]}, {"id": methods.pk, "fields": [setting.pk]}]
    version = version_of(draft)
    response = web("bob").post(f"{base(draft)}reorder/", {"order": json.dumps(order), "version": version}, **HTMX)
    assert response.status_code == 200
    assert f'id="form-version" value="{version + 1}" hx-swap-oob="true"' in response.content.decode()
    assert structure(draft) == [("Outcomes", ["country", "pain"]), ("Methods", ["setting"])]
    # An order that misses a field is refused (409), as is one that is not JSON (400).
    stale = web("bob").post(f"{base(draft)}reorder/", {"order": json.dumps(order[:1]), "version": version + 1}, **HTMX)
    assert stale.status_code == 409 and "Reload" in stale.content.decode()
    assert stale["HX-Retarget"] == "#builder-messages"
    bad = web("bob").post(f"{base(draft)}reorder/", {"order": "[{", "version": version + 1}, **HTMX)
    assert bad.status_code == 400 and "not valid JSON" in bad.content.decode()
    assert structure(draft) == [("Outcomes", ["country", "pain"]), ("Methods", ["setting"])]


def test_move_buttons_without_javascript(cast, web, draft):
    methods, outcomes, setting, country, pain = _two_sections(cast, draft)
    client = web("bob")
    url = f"{base(draft)}move/"
    response = client.post(url, {"kind": "field", "id": pain.pk, "direction": "up", "version": version_of(draft)})
    assert response.status_code == 302 and response["Location"] == f"{base(draft)}#field-{pain.pk}"
    assert structure(draft) == [("Methods", ["setting", "country", "pain"]), ("Outcomes", [])]
    client.post(url, {"kind": "field", "id": pain.pk, "direction": "up", "version": version_of(draft)})
    client.post(url, {"kind": "section", "id": outcomes.pk, "direction": "up", "version": version_of(draft)})
    assert structure(draft) == [("Outcomes", []), ("Methods", ["setting", "pain", "country"])]
    client.post(url, {"kind": "section", "id": outcomes.pk, "direction": "up", "version": version_of(draft)})  # top
    assert structure(draft) == [("Outcomes", []), ("Methods", ["setting", "pain", "country"])]


# --- refusals: published, stale -------------------------------------------------------------------------------


def test_a_published_form_is_not_editable(cast, web, draft):
    services.form_publish(user=cast.bob, review_id=cast.review.pk, form_id=draft.pk)
    draft.refresh_from_db()
    section, field = draft.sections.get(), draft.fields.get()
    client = web("bob")
    page = client.get(base(draft)).content.decode()
    assert "Make a new version to change it" in page and "Add a section" not in page and "hx-post" not in page
    response = client.post(
        f"{base(draft)}fields/{field.pk}/",
        field_data(f"field-{field.pk}", draft.version, label="Changed", key="setting", type="text"),
        **HTMX,
    )
    assert response.status_code == 409 and "is published: make a new draft" in response.content.decode()
    assert response["HX-Retarget"] == "#builder-messages"
    response = client.post(f"{base(draft)}sections/{section.pk}/delete/", {"version": draft.version})
    assert response.status_code == 302
    assert "is published" in client.get(response["Location"]).content.decode()
    response = client.post(f"{base(draft)}delete/")
    assert response.status_code == 302 and ExtractionForm.objects.filter(pk=draft.pk).exists()
    assert draft.fields.get().label == "Setting" and draft.sections.count() == 1


def test_a_stale_version_is_refused_with_a_reload_link(cast, web, draft):
    old = draft.version
    services.section_add(user=cast.alice, review_id=cast.review.pk, form_id=draft.pk, title="Alice's", version=old)
    field = draft.fields.get()
    response = web("bob").post(
        f"{base(draft)}fields/{field.pk}/",
        field_data(f"field-{field.pk}", old, label="Changed", key="setting", type="text"),
        **HTMX,
    )
    html = response.content.decode()
    assert response.status_code == 409 and "Someone else changed this draft" in html
    assert f'href="{base(draft)}">Reload</a>' in html
    response = web("bob").post(f"{base(draft)}sections/", {"new-section-title": "Mine", "version": old}, **HTMX)
    assert response.status_code == 409
    assert draft.fields.get().label == "Setting" and draft.sections.count() == 2


# --- publishing and versions ----------------------------------------------------------------------------------


def test_publish_then_a_new_version_keeps_the_keys(cast, web, draft):
    client = web("bob")
    empty = services.form_create(user=cast.bob, review_id=cast.review.pk, name="Empty")
    response = client.post(f"{base(empty)}publish/", {"version": empty.version})
    assert "Add at least one field" in client.get(response["Location"]).content.decode()
    response = client.post(f"{base(draft)}publish/", {"version": draft.version})
    assert response.status_code == 302 and response["Location"] == base(draft)
    draft.refresh_from_db()
    assert draft.status == Status.PUBLISHED and draft.published_at is not None
    assert "is published: new extractions use it" in client.get(base(draft)).content.decode()

    response = client.post(f"{base(draft)}new-version/")
    second = ExtractionForm.objects.get(name="Pilot", number=2)
    assert response.status_code == 302 and response["Location"] == base(second)
    assert second.status == Status.DRAFT and second.based_on == draft
    assert structure(second) == structure(draft)
    assert "Add a section" in client.get(base(second)).content.decode()
    # Asking again returns the same draft; the published one's page links to it.
    client.post(f"{base(draft)}new-version/")
    assert ExtractionForm.objects.filter(name="Pilot").count() == 2
    assert "Edit the new version (draft, version 2)" in client.get(base(draft)).content.decode()

    section = second.sections.get()
    client.post(
        f"{base(second)}sections/{section.pk}/fields/",
        field_data(f"add-{section.pk}", second.version, label="Country", type="text"),
    )
    client.post(f"{base(second)}publish/", {"version": version_of(second), "next": "list"})
    draft.refresh_from_db()
    second.refresh_from_db()
    assert (draft.status, second.status) == (Status.RETIRED, Status.PUBLISHED)
    assert structure(draft) == [("Methods", ["setting"])]  # the old version stays as it was
    assert structure(second) == [("Methods", ["setting", "country"])]
    listing = client.get(f"/reviews/{cast.review.pk}/forms/").content.decode()
    assert "Retired" in listing and "Version 2" in listing


def test_delete_a_draft(cast, web, draft):
    client = web("bob")
    response = client.post(f"{base(draft)}delete/")
    assert response.status_code == 302 and response["Location"] == f"/reviews/{cast.review.pk}/forms/"
    assert not ExtractionForm.objects.filter(pk=draft.pk).exists()
    assert "Deleted the draft of “Pilot”" in client.get(response["Location"]).content.decode()
