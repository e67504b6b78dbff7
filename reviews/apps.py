from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "reviews"
    verbose_name = "Reviews, members, sources, import and deduplication"

    def ready(self) -> None:
        from reviews import audit

        audit.connect()
