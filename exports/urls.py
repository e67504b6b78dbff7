from django.urls import path

from exports import views

app_name = "exports"

urlpatterns = [
    path("<int:review_pk>/export/", views.export_page, name="page"),
    path("import/", views.import_review, name="import"),
    path("import/<int:transfer_id>/", views.import_status, name="import_status"),
]
