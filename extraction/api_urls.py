"""Routes of the extraction API (included at /api/v1/ by config/urls.py)."""

from django.urls import path

from extraction import api, api_exports, api_extractions, api_forms, api_outcomes

REVIEW = "reviews/<int:review_pk>"
STUDY = f"{REVIEW}/studies/<int:study_pk>"
FORM = f"{REVIEW}/forms/<int:form_pk>"

urlpatterns = [
    path(f"{REVIEW}/studies/", api.StudyListView.as_view(), name="api-study-list"),
    path(f"{REVIEW}/studies/from-included/", api.StudiesFromIncludedView.as_view(), name="api-studies-from-included"),
    path(f"{REVIEW}/studies/<int:pk>/", api.StudyDetailView.as_view(), name="api-study-detail"),
    path(f"{STUDY}/reports/", api.ReportListView.as_view(), name="api-report-list"),
    path(f"{STUDY}/reports/<int:record_pk>/", api.ReportDetailView.as_view(), name="api-report-detail"),
    path(f"{STUDY}/arms/", api.ArmListView.as_view(), name="api-arm-list"),
    path(f"{STUDY}/arms/<int:pk>/", api.ArmDetailView.as_view(), name="api-arm-detail"),
    path(f"{STUDY}/extractions/", api_extractions.ExtractionListView.as_view(), name="api-extraction-list"),
    path(
        f"{STUDY}/extractions/<int:pk>/", api_extractions.ExtractionDetailView.as_view(), name="api-extraction-detail"
    ),
    path(
        f"{STUDY}/extractions/<int:pk>/history/",
        api_extractions.ExtractionHistoryView.as_view(),
        name="api-extraction-history",
    ),
    path(
        f"{STUDY}/extractions/<int:pk>/upgrade/",
        api_extractions.ExtractionUpgradeView.as_view(),
        name="api-extraction-upgrade",
    ),
    path(f"{STUDY}/outcome-data/", api_extractions.OutcomeDataView.as_view(), name="api-outcome-data"),
    path(f"{REVIEW}/outcomes/", api_outcomes.OutcomeListView.as_view(), name="api-outcome-list"),
    path(f"{REVIEW}/outcomes/<int:pk>/", api_outcomes.OutcomeDetailView.as_view(), name="api-outcome-detail"),
    path(f"{REVIEW}/comparisons/", api_outcomes.ComparisonListView.as_view(), name="api-comparison-list"),
    path(f"{REVIEW}/comparisons/<int:pk>/", api_outcomes.ComparisonDetailView.as_view(), name="api-comparison-detail"),
    # The form builder's views add the writes to the read-only views of api.py.
    path(f"{REVIEW}/forms/", api_forms.FormListView.as_view(), name="api-form-list"),
    path(f"{REVIEW}/forms/<int:pk>/", api_forms.FormDetailView.as_view(), name="api-form-detail"),
    path(f"{FORM}/new-version/", api_forms.FormNewVersionView.as_view(), name="api-form-new-version"),
    path(f"{FORM}/publish/", api_forms.FormPublishView.as_view(), name="api-form-publish"),
    path(f"{FORM}/reorder/", api_forms.FormReorderView.as_view(), name="api-form-reorder"),
    path(f"{FORM}/move/", api_forms.FormMoveView.as_view(), name="api-form-move"),
    path(f"{FORM}/sections/", api_forms.SectionListView.as_view(), name="api-form-section-list"),
    path(f"{FORM}/sections/<int:pk>/", api_forms.SectionDetailView.as_view(), name="api-form-section-detail"),
    path(f"{FORM}/sections/<int:section_pk>/fields/", api_forms.FieldListView.as_view(), name="api-form-field-list"),
    path(f"{FORM}/fields/<int:pk>/", api_forms.FieldDetailView.as_view(), name="api-form-field-detail"),
    path(f"{REVIEW}/discrepancies/", api_extractions.DiscrepancyListView.as_view(), name="api-discrepancy-list"),
    path(
        f"{REVIEW}/discrepancies/<int:pk>/resolve/",
        api_extractions.DiscrepancyResolveView.as_view(),
        name="api-discrepancy-resolve",
    ),
    path(f"{REVIEW}/extraction/settings/", api.SettingsView.as_view(), name="api-extraction-settings"),
    path(f"{REVIEW}/extraction.csv", api_exports.ExtractionExportView.as_view(), name="api-extraction-export"),
]
