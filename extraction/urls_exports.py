"""Routes of the extraction CSV downloads (included by extraction/urls.py, namespace `extraction`)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
