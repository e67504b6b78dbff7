"""Extraction pages: studies (views.py), outcomes and comparisons (views_outcomes.py), the extraction page
(views_extraction.py) and its history (views_history.py), the consensus (views_consensus.py), and the form builder
(views_forms.py, its routes in urls_forms.py) and CSV downloads (urls_exports.py)."""

from django.urls import path

from extraction import views, views_consensus, views_extraction, views_history, views_outcomes
from extraction.urls_exports import urlpatterns as export_urlpatterns
from extraction.urls_forms import urlpatterns as form_urlpatterns

app_name = "extraction"

study = "<int:review_id>/studies/<int:study_id>"
extraction = "<int:review_id>/extractions/<int:extraction_id>"

urlpatterns = [
    path("<int:review_id>/studies/", views.studies, name="studies"),
    path("<int:review_id>/studies/new/", views.study_create, name="study_create"),
    path("<int:review_id>/studies/from-included/", views.studies_from_included, name="studies_from_included"),
    path(f"{study}/", views.study, name="study"),
    path(f"{study}/delete/", views.study_delete, name="study_delete"),
    path(f"{study}/extract/", views.extract_start, name="extract_start"),
    path(f"{study}/consensus/", views.consensus_start, name="consensus_start"),
    path(f"{study}/reports/add/", views.report_add, name="report_add"),
    path(f"{study}/reports/<int:record_id>/primary/", views.report_primary, name="report_primary"),
    path(f"{study}/reports/<int:record_id>/remove/", views.report_remove, name="report_remove"),
    path(f"{study}/arms/add/", views.arm_add, name="arm_add"),
    path(f"{study}/arms/<int:arm_id>/", views.arm_edit, name="arm_edit"),
    path(f"{study}/arms/<int:arm_id>/delete/", views.arm_delete, name="arm_delete"),
    path("<int:review_id>/outcomes/", views_outcomes.outcomes, name="outcomes"),
    path("<int:review_id>/outcomes/add/", views_outcomes.outcome_add, name="outcome_add"),
    path("<int:review_id>/outcomes/<int:outcome_id>/", views_outcomes.outcome_edit, name="outcome_edit"),
    path("<int:review_id>/outcomes/<int:outcome_id>/delete/", views_outcomes.outcome_delete, name="outcome_delete"),
    path("<int:review_id>/comparisons/add/", views_outcomes.comparison_add, name="comparison_add"),
    path("<int:review_id>/comparisons/<int:comparison_id>/", views_outcomes.comparison_edit, name="comparison_edit"),
    path(
        "<int:review_id>/comparisons/<int:comparison_id>/delete/",
        views_outcomes.comparison_delete,
        name="comparison_delete",
    ),
    path(f"{extraction}/", views_extraction.extract, name="extract"),
    path(f"{extraction}/save/", views_extraction.extract_save, name="extract_save"),
    path(f"{extraction}/status/", views_extraction.extract_status, name="extract_status"),
    path(f"{extraction}/rows/add/", views_extraction.extract_row_add, name="extract_row_add"),
    path(f"{extraction}/rows/remove/", views_extraction.extract_row_remove, name="extract_row_remove"),
    path(f"{extraction}/upgrade/", views_extraction.extract_upgrade, name="extract_upgrade"),
    path(f"{extraction}/history/", views_history.history, name="history"),
    path(f"{extraction}/history/", views_history.history, name="history"),
    path("<int:review_id>/consensus/", views_consensus.consensus, name="consensus"),
    path(
        "<int:review_id>/consensus/<int:discrepancy_id>/resolve/", views_consensus.resolve, name="discrepancy_resolve"
    ),
    path("<int:review_id>/extraction/settings/", views.settings_page, name="settings"),
    *form_urlpatterns,
    *export_urlpatterns,
]
