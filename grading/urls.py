"""Risk-of-bias pages (included under /reviews/ by config/urls.py)."""

from django.urls import path

from grading import views_rob

app_name = "rob"

urlpatterns = [
    path("<int:review_id>/risk-of-bias/", views_rob.overview, name="overview"),
]
