from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "exports"
    verbose_name = "Exports to other tools (RIS, CSV, JSON, RevMan 5) and the import of a JSON export"
