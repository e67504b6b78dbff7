"""Routes of the risk-of-bias API (included at /api/v1/ by config/urls.py)."""

from django.urls import path

from grading import api_rob, api_rob_plots

ROB = "reviews/<int:review_pk>/risk-of-bias"

urlpatterns = [
    path(f"{ROB}/", api_rob.RobAssessmentListView.as_view(), name="api-rob-assessment-list"),
    path(f"{ROB}/traffic-light.svg", api_rob_plots.TrafficLightSvgView.as_view(), name="api-rob-traffic-light-svg"),
    path(f"{ROB}/traffic-light.png", api_rob_plots.TrafficLightPngView.as_view(), name="api-rob-traffic-light-png"),
    path(f"{ROB}/summary.svg", api_rob_plots.SummarySvgView.as_view(), name="api-rob-summary-svg"),
    path(f"{ROB}/summary.png", api_rob_plots.SummaryPngView.as_view(), name="api-rob-summary-png"),
    path(f"{ROB}/<int:pk>/", api_rob.RobAssessmentDetailView.as_view(), name="api-rob-assessment-detail"),
    path(f"{ROB}/<int:pk>/domains/<str:domain>/", api_rob.RobJudgementView.as_view(), name="api-rob-judgement"),
    path(f"{ROB}/<int:pk>/history/", api_rob.RobAssessmentHistoryView.as_view(), name="api-rob-assessment-history"),
    path(f"{ROB}/consensus/", api_rob.RobConsensusView.as_view(), name="api-rob-consensus"),
    path(f"{ROB}/settings/", api_rob.RobSettingsView.as_view(), name="api-rob-settings"),
    path(f"{ROB}/discrepancies/", api_rob.RobDiscrepancyListView.as_view(), name="api-rob-discrepancy-list"),
    path(
        f"{ROB}/discrepancies/<int:pk>/resolve/",
        api_rob.RobDiscrepancyResolveView.as_view(),
        name="api-rob-discrepancy-resolve",
    ),
]
