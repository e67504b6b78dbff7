from django.urls import path

from exports import api_figures, api_json, api_records, api_rm5

urlpatterns = [
    path("reviews/<int:review_pk>/export/ris/", api_records.RisExportView.as_view(), name="api-export-ris"),
    path("reviews/<int:review_pk>/export/csv/", api_records.CsvExportView.as_view(), name="api-export-csv"),
    path("reviews/<int:review_pk>/export/json/", api_json.JsonExportView.as_view(), name="api-export-json"),
    path("reviews/<int:review_pk>/export/rm5/", api_rm5.Rm5ExportView.as_view(), name="api-export-rm5"),
    path("reviews/<int:review_pk>/prisma.png", api_figures.PrismaPngView.as_view(), name="api-prisma-png"),
    path("reviews/import/", api_json.ReviewImportView.as_view(), name="api-review-import"),
    path("reviews/import/<int:transfer_id>/", api_json.ReviewTransferView.as_view(), name="api-review-import-detail"),
]
