"""Outcome-summary pages (included under /reviews/ by config/urls.py)."""

from django.urls import path

from synthesis import views

app_name = "synthesis"

analysis = "<int:review_id>/analyses/<int:analysis_id>"

urlpatterns = [
    path("<int:review_id>/analyses/", views.analyses, name="analyses"),
    path(f"{analysis}/", views.analysis, name="analysis"),
    path(f"{analysis}/status/", views.analysis_status, name="analysis_status"),
    path(f"{analysis}/settings/", views.analysis_settings, name="analysis_settings"),
]
