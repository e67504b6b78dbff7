"""Load the ketamine demo review (core/demo) and print how to log in.

`make run` calls it on every start: the first start loads the demo, later ones only print the login. The demo
users' password is generated on the first run, kept in var/demo_password (mode 0600, outside git) and printed
each time; it is never in the code. `--reset` deletes the demo review and loads it again; `--complete` takes
it to a finished review (`--until STAGE` stops after a stage).
"""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from core.demo import complete as finishing
from core.demo import load as demo


class Command(BaseCommand):
    help = "Load the ketamine demo review with its users (once) and print their login."
    # `make run` calls it between `migrate` and the server, which both run the system checks (7 s here): a third
    # run on every start would say nothing new.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--reset", action="store_true", help="Delete the demo review and load it again.")
        parser.add_argument(
            "--complete", action="store_true", help="Take the demo review to the end, as key.json says."
        )
        parser.add_argument(
            "--until",
            choices=list(finishing.STAGES),
            default=None,
            help="With --complete: stop after this stage.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["until"] and not options["complete"]:
            raise CommandError("--until goes with --complete.")
        password = demo.demo_password()
        users = demo.demo_users_ensure(password)
        clock = time.perf_counter()
        with demo.tasks_inline():
            if options["reset"] and demo.demo_delete(users):
                self.stdout.write("Deleted the demo review.")
            review = demo.demo_review_find(users)
            if review is None:
                review = demo.load(users=users, log=self.stdout.write)
                fresh = True
            else:
                fresh = False
                if not demo.demo_review_loaded(review):
                    self.stdout.write(
                        self.style.WARNING(
                            "The demo review exists but its loading did not finish; run `manage.py load_demo "
                            "--reset` to load it again."
                        )
                    )
            if options["complete"]:
                if review.decisions.exists():
                    self.stdout.write(
                        "The demo review has screening decisions already: `--reset --complete` loads and completes "
                        "it afresh."
                    )
                else:
                    finishing.complete(
                        review, users=users, until=options["until"] or "certainty", log=self.stdout.write
                    )
                    fresh = True
        if fresh:
            self.stdout.write(f"Demo ready in {time.perf_counter() - clock:.1f} s: review {review.pk}.")
        for line in demo.login_lines(password):
            self.stdout.write(self.style.SUCCESS(line))
