"""Routes of the certainty and Summary of Findings API (included at /api/v1/ by config/urls.py)."""

from django.urls import path

from grading import api_certainty as api

SPOT = "reviews/<int:review_pk>/certainty/<int:comparison_pk>/<int:outcome_pk>"

urlpatterns = [
    path("reviews/<int:review_pk>/certainty/", api.CertaintyListView.as_view(), name="api-certainty-list"),
    path(f"{SPOT}/", api.CertaintyDetailView.as_view(), name="api-certainty-detail"),
    path(f"{SPOT}/sign-off/", api.CertaintySignOffView.as_view(), name="api-certainty-sign-off"),
    path(f"{SPOT}/history/", api.CertaintyHistoryView.as_view(), name="api-certainty-history"),
    path(f"{SPOT}/risk-of-bias-plot.svg", api.CertaintyRobPlotSvgView.as_view(), name="api-certainty-rob-plot-svg"),
    path(f"{SPOT}/risk-of-bias-plot.png", api.CertaintyRobPlotPngView.as_view(), name="api-certainty-rob-plot-png"),
    path(
        "reviews/<int:review_pk>/summary-of-findings/",
        api.SummaryOfFindingsView.as_view(),
        name="api-summary-of-findings",
    ),
]
