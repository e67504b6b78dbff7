"""Routes of the extraction CSV downloads (included by extraction/urls.py, namespace `extraction`)."""

from django.urls import path

from extraction import views_exports

urlpatterns = [
    path("<int:review_id>/extraction/export/<str:kind>.csv", views_exports.export, name="export"),
]
