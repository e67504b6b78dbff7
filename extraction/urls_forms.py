"""Routes of the form builder pages (included by extraction/urls.py, namespace `extraction`)."""

from django.urls import path

from extraction import views_forms

urlpatterns = [
    path("<int:review_id>/forms/", views_forms.forms, name="forms"),
]
