"""Risk-of-bias pages (included under /reviews/ by config/urls.py)."""

from django.urls import path

from grading import views_rob, views_rob_assess, views_rob_consensus

app_name = "rob"

base = "<int:review_id>/risk-of-bias"
assessment = f"{base}/assessments/<int:assessment_id>"

urlpatterns = [
    path(f"{base}/", views_rob.overview, name="overview"),
    path(f"{base}/settings/", views_rob.settings_page, name="settings"),
    path(f"{base}/start/", views_rob.start, name="start"),
    path(f"{base}/traffic-light/", views_rob.traffic_light, name="traffic_light"),
    path(f"{base}/summary/", views_rob.summary_bar, name="summary_bar"),
    path(f"{assessment}/", views_rob_assess.assess, name="assess"),
    path(f"{assessment}/domain/", views_rob_assess.domain_save, name="domain_save"),
    path(f"{assessment}/overall/", views_rob_assess.overall_save, name="overall_save"),
    path(f"{assessment}/status/", views_rob_assess.status_save, name="status"),
    path(f"{assessment}/history/", views_rob_assess.history, name="history"),
    path(f"{base}/consensus/", views_rob_consensus.consensus, name="consensus"),
    path(f"{base}/consensus/start/", views_rob_consensus.consensus_start, name="consensus_start"),
    path(
        f"{base}/discrepancies/<int:discrepancy_id>/resolve/", views_rob_consensus.resolve, name="discrepancy_resolve"
    ),
]
