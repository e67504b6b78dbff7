from django.apps import AppConfig


class SynthesisConfig(AppConfig):
    name = "synthesis"
    verbose_name = "Outcome summaries, statistics and plots"

    def ready(self) -> None:
        from synthesis import signals  # noqa: F401 - connects the receivers
