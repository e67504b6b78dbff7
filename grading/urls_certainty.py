"""Certainty (GRADE) and Summary of Findings pages (included under /reviews/ by config/urls.py)."""

from django.urls import path

from grading import views_certainty

app_name = "certainty"

spot = "<int:review_id>/certainty/<int:comparison_id>/<int:outcome_id>"

urlpatterns = [
    path("<int:review_id>/certainty/", views_certainty.certainty_list, name="list"),
    path(f"{spot}/", views_certainty.certainty_rate, name="rate"),
    path(f"{spot}/sign-off/", views_certainty.certainty_sign_off, name="sign_off"),
    path(f"{spot}/risk-of-bias-plot/", views_certainty.certainty_rob_plot, name="rob_plot"),
    path("<int:review_id>/summary-of-findings/", views_certainty.sof, name="sof"),
]
