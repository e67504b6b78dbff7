from django.apps import AppConfig


class GradingConfig(AppConfig):
    name = "grading"
    verbose_name = "Risk of bias, GRADE and Summary of Findings"
