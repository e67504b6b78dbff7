"""Extraction pages: studies, outcomes and comparisons, extraction, consensus (views.py) and the form builder
(views_forms.py, its routes in urls_forms.py)."""

from django.urls import path

from extraction import views
from extraction.urls_exports import urlpatterns as export_urlpatterns
from extraction.urls_forms import urlpatterns as form_urlpatterns

app_name = "extraction"

urlpatterns = [
    path("<int:review_id>/studies/", views.studies, name="studies"),
    *form_urlpatterns,
    *export_urlpatterns,
]
