"""The former name of `load_demo`, kept for scripts that call it: the demo users and their review, loaded once,
and the login printed."""

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Same as load_demo: load the demo users and the demo review (once) and print their login."

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("load_demo", stdout=self.stdout, stderr=self.stderr)
