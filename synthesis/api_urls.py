"""Routes of the synthesis API (included at /api/v1/ by config/urls.py)."""

from django.urls import path

from synthesis import api

ANALYSIS = "reviews/<int:review_pk>/analyses/<int:pk>"

urlpatterns = [
    path("reviews/<int:review_pk>/analyses/", api.AnalysisListView.as_view(), name="api-analysis-list"),
    path(f"{ANALYSIS}/", api.AnalysisDetailView.as_view(), name="api-analysis-detail"),
    path(f"{ANALYSIS}/forest.svg", api.ForestSvgView.as_view(), name="api-analysis-forest-svg"),
    path(f"{ANALYSIS}/forest.png", api.ForestPngView.as_view(), name="api-analysis-forest-png"),
    path(f"{ANALYSIS}/funnel.svg", api.FunnelSvgView.as_view(), name="api-analysis-funnel-svg"),
    path(f"{ANALYSIS}/funnel.png", api.FunnelPngView.as_view(), name="api-analysis-funnel-png"),
]
