"""Routes of the form builder pages (included by extraction/urls.py, namespace `extraction`)."""

from django.urls import path

from extraction import views_forms as v

FORM = "<int:review_id>/forms/<int:form_id>"

urlpatterns = [
    path("<int:review_id>/forms/", v.forms, name="forms"),
    path("<int:review_id>/forms/new/", v.form_create, name="form_create"),
    path("<int:review_id>/forms/default/", v.form_create_default, name="form_create_default"),
    path(f"{FORM}/", v.form_builder, name="form_builder"),
    path(f"{FORM}/new-version/", v.form_new_draft, name="form_new_draft"),
    path(f"{FORM}/publish/", v.form_publish, name="form_publish"),
    path(f"{FORM}/delete/", v.form_delete, name="form_delete"),
    path(f"{FORM}/reorder/", v.form_reorder, name="form_reorder"),
    path(f"{FORM}/move/", v.form_move, name="form_move"),
    path(f"{FORM}/sections/", v.section_add, name="form_section_add"),
    path(f"{FORM}/sections/<int:section_id>/", v.section, name="form_section"),
    path(f"{FORM}/sections/<int:section_id>/delete/", v.section_delete, name="form_section_delete"),
    path(f"{FORM}/sections/<int:section_id>/fields/", v.field_add, name="form_field_add"),
    path(f"{FORM}/fields/<int:field_id>/", v.field, name="form_field"),
    path(f"{FORM}/fields/<int:field_id>/delete/", v.field_delete, name="form_field_delete"),
]
