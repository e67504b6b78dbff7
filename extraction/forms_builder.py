"""Django forms of the form builder pages (extraction/views_forms.py). They parse what the browser sends; the
rules of a form's content (options of choice fields, units of number fields, key syntax) are the services'
(extraction/services/forms.py), whose messages the views show at the field."""

import json
from typing import Any

from django import forms

from extraction.default_form import DEFAULT_FORM_NAME
from extraction.models import FormField

NUMBER_TYPES = (FormField.Type.INTEGER, FormField.Type.DECIMAL)
CHOICE_TYPES = (FormField.Type.SINGLE_CHOICE, FormField.Type.MULTIPLE_CHOICE)


class FormCreateForm(forms.Form):
    name = forms.CharField(
        max_length=200, error_messages={"required": "Give the form a name."}, widget=forms.TextInput()
    )
    start = forms.ChoiceField(
        label="Start from",
        choices=[
            ("empty", "An empty form"),
            ("default", f"A copy of the default form (“{DEFAULT_FORM_NAME}”)"),
        ],
        initial="empty",
        widget=forms.RadioSelect,
    )


class SectionForm(forms.Form):
    title = forms.CharField(max_length=200, error_messages={"required": "Give the section a title."})
    help_text = forms.CharField(
        label="Help text", required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Shown to extractors under the section's title.",
    )  # fmt: skip


class FieldForm(forms.Form):
    """A field of the form. `taken_keys`: the keys of the form's other fields, so that a key typed by hand that
    is taken is refused at the key (the service would make it unique silently, right for a key made from the
    label but a surprise for one chosen)."""

    label = forms.CharField(max_length=300, error_messages={"required": "Give the field a label."})
    key = forms.CharField(
        max_length=60, required=False,
        help_text="Names the field in exports and across versions. Left empty, it is made from the label.",
    )  # fmt: skip
    type = forms.ChoiceField(choices=FormField.Type.choices, initial=FormField.Type.TEXT)
    unit = forms.CharField(
        max_length=50, required=False, help_text="Number fields only, e.g. “mg/kg”.",
    )  # fmt: skip
    choices = forms.CharField(
        label="Options", required=False, help_text="Choice fields only: one option per line.",
        widget=forms.Textarea(attrs={"rows": 4}),
    )  # fmt: skip
    required = forms.BooleanField(required=False, help_text="Extractors cannot complete without it.")
    per_arm = forms.BooleanField(label="Per arm", required=False, help_text="Asked once for each arm of the study.")
    help_text = forms.CharField(
        label="Help text", required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Shown to extractors under the field.",
    )  # fmt: skip

    def __init__(
        self, *args: Any, taken_keys: frozenset[str] = frozenset(), editing: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.taken_keys = taken_keys
        if editing:
            self.fields["key"].required = True
            self.fields["key"].error_messages["required"] = "Give the field a key: lower-case letters, digits, - and _."
            self.fields["key"].help_text = "Kept by later versions, so that values carry over: change it with care."
        self.fields["type"].widget.attrs["data-field-type"] = ""
        self.fields["label"].widget.attrs["data-label-input"] = ""
        self.fields["key"].widget.attrs.update({"data-key-input": "", "autocomplete": "off", "spellcheck": "false"})

    def clean_key(self) -> str:
        key: str = self.cleaned_data["key"].strip()
        if key and key in self.taken_keys:
            raise forms.ValidationError(f"Another field of this form has the key “{key}”.")
        return key

    def clean_choices(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["choices"].splitlines() if line.strip()]

    def service_fields(self) -> dict[str, Any]:
        """The keyword arguments of services.forms.field_add/field_update. A number type keeps no options and a
        choice type no unit only when the browser sent none (the type's hidden inputs are disabled)."""
        data = dict(self.cleaned_data)
        if not data["key"]:
            data.pop("key")
        return data


def focus_first_error(form: forms.Form) -> None:
    """Put the browser's focus (autofocus) on the first input refused, after a save that failed."""
    for form_field in form.fields.values():
        form_field.widget.attrs.pop("autofocus", None)
    for name, form_field in form.fields.items():
        if name in form.errors:
            form_field.widget.attrs["autofocus"] = True
            return


def field_initial(field: FormField) -> dict[str, Any]:
    return {
        "label": field.label, "key": field.key, "type": field.type, "unit": field.unit,
        "choices": "\n".join(field.choices or []), "required": field.required, "per_arm": field.per_arm,
        "help_text": field.help_text,
    }  # fmt: skip


class ReorderForm(forms.Form):
    """The whole order, as the builder's script sends it: `[{"id": section id, "fields": [field ids]}, …]`."""

    order = forms.CharField()
    version = forms.IntegerField(required=False)

    def clean_order(self) -> list[dict[str, Any]]:
        try:
            order = json.loads(self.cleaned_data["order"])
        except ValueError as exc:
            raise forms.ValidationError("The order is not valid JSON.") from exc
        if not isinstance(order, list) or not all(isinstance(item, dict) for item in order):
            raise forms.ValidationError("Give the order as a list of {id, fields}.")
        return order


class MoveForm(forms.Form):
    """One step up or down of a section or a field (the builder's buttons, without JavaScript). A field moves
    across the edge of its section into the next one, as the keyboard moves it."""

    kind = forms.ChoiceField(choices=[("section", "section"), ("field", "field")])
    id = forms.IntegerField()
    direction = forms.ChoiceField(choices=[("up", "up"), ("down", "down")])
    version = forms.IntegerField(required=False)

    def apply(self, order: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """`order` (as form_reorder takes it) with the item moved; unchanged at the top or the bottom."""
        order = [{"id": s["id"], "fields": list(s["fields"])} for s in order]
        item, up = self.cleaned_data["id"], self.cleaned_data["direction"] == "up"
        if self.cleaned_data["kind"] == "section":
            ids = [s["id"] for s in order]
            if item in ids:
                i = ids.index(item)
                j = i - 1 if up else i + 1
                if 0 <= j < len(order):
                    order[i], order[j] = order[j], order[i]
            return order
        for s_index, section in enumerate(order):
            fields = section["fields"]
            if item not in fields:
                continue
            i = fields.index(item)
            j = i - 1 if up else i + 1
            if 0 <= j < len(fields):
                fields[i], fields[j] = fields[j], fields[i]
            elif up and s_index > 0:
                fields.pop(i)
                order[s_index - 1]["fields"].append(item)
            elif not up and s_index < len(order) - 1:
                fields.pop(i)
                order[s_index + 1]["fields"].insert(0, item)
            break
        return order
