"""Reviewers screening and extracting at once, for locust (run by tests/load/run.py, which seeds the data and
writes the plan this file reads from SIEVE_LOAD_PLAN).

Each simulated reviewer logs in through the login page as its own account (load01, load02, ...), then:

- a screener (4 in 5) opens the screening page once (GET), then repeats the screening step as the keyboard flow
  makes it: POST a decision on the record shown, as the page's htmx form does (`HX-Request`), whose answer is the
  next record's pane (include/exclude/maybe drawn from a seeded generator). The step is that one request;
- an extractor (1 in 5) opens a study's page and its extraction (POST extract, which redirects to the page) and saves
  text cells one at a time as the page does when an input is left, with the page's version (optimistic
  concurrency: a 409 would mean a lost update, and counts as a failure).

Between steps a reviewer waits SIEVE_LOAD_PACE seconds (run.py --pace; default 2-6, the fastest keyboard screening
of titles; published screening rates are nearer 30-60 s a record for careful work, so this is several times the
real load per person; 0.5-2 is a stress pace no one keeps).

Every decision the server confirmed (the answer is the next record, with no error) is written to
SIEVE_LOAD_DIR/decisions-<pid>.jsonl as [username, record, stage, decision, "stored"]; a decision the server
refused because the record's outcome was settled in the meantime (possible when a team has more than two
screeners) is written with "refused". run.py compares the stored ones with the database."""

import itertools
import json
import os
import random
import time
from pathlib import Path
from typing import Any, ClassVar, TextIO

import gevent
from gevent.event import Event
from locust import between, events, task
from locust.contrib.fasthttp import FastHttpUser
from locust.env import Environment

from tests.load import pages

STAGE = "title_abstract"
STEP = "screening step (decide, answered with the next)"
# Text cells of the default form (extraction/default_form.py): any text is valid, so a refusal is a failure.
CELLS = ("methods_duration", "methods_setting", "methods_funding", "participants_condition", "outcomes_timepoints")
CHOICES = (("exclude", 0.7), ("include", 0.15), ("maybe", 0.15))

PLAN: dict[str, Any] = (
    json.loads(Path(os.environ["SIEVE_LOAD_PLAN"]).read_text()) if "SIEVE_LOAD_PLAN" in os.environ else {}
)
SEED = int(os.environ.get("SIEVE_LOAD_SEED", "20261202"))
PACE = tuple(float(x) for x in os.environ.get("SIEVE_LOAD_PACE", "2-6").split("-", 1))
# The measured phase: every reviewer logs in first (a login hashes the password, ~0.5 s of CPU: 50 of them at
# once would take the two cores for a while, which reviewers who log in once a day never do together), then all
# work for SIEVE_LOAD_SECONDS, after which the runner quits. Without SIEVE_LOAD_USERS (locust run by hand) each
# reviewer starts as soon as it is logged in, for as long as --run-time says.
USERS = int(os.environ.get("SIEVE_LOAD_USERS", "0"))
SECONDS = float(os.environ.get("SIEVE_LOAD_SECONDS", "0"))
LOGIN_WAIT = 300.0
_accounts = itertools.count()
_logged_in = 0
_all_in = Event()
_results: TextIO | None = None


def _folder() -> Path:
    return Path(os.environ.get("SIEVE_LOAD_DIR", "var/load"))


def _arrived(environment: Environment) -> None:
    global _logged_in
    _logged_in += 1
    if _logged_in < USERS or _all_in.is_set():
        return
    _all_in.set()
    started = time.time()
    (_folder() / "phase.json").write_text(json.dumps({"start": started}))
    if SECONDS and environment.runner is not None:
        gevent.spawn_later(SECONDS, _finish, environment, started)


def _finish(environment: Environment, started: float) -> None:
    (_folder() / "phase.json").write_text(json.dumps({"start": started, "end": time.time()}))
    if environment.runner is not None:
        environment.runner.quit()


def _record(row: list[Any]) -> None:
    global _results
    if _results is None:
        _results = (_folder() / f"decisions-{os.getpid()}.jsonl").open("a", buffering=1)
    _results.write(json.dumps(row) + "\n")


@events.quitting.add_listener
def _close(**_kwargs: Any) -> None:
    if _results is not None:
        _results.close()


class Reviewer(FastHttpUser):
    abstract = True
    wait_time = between(PACE[0], PACE[-1])
    # Loopback: a connection per user, kept alive, as a browser does.
    connection_timeout = 10.0
    network_timeout = 30.0
    username = ""
    csrf = ""

    def on_start(self) -> None:
        index = next(_accounts)
        users: list[str] = PLAN["users"]
        self.username = users[index % len(users)]
        self.rng = random.Random(SEED + index)  # noqa: S311 - reproducible choices, not security
        self._login()
        if USERS:
            _arrived(self.environment)
            _all_in.wait(timeout=LOGIN_WAIT)
            gevent.sleep(self.rng.uniform(0, 2))  # the first record read, so that not all start in one instant

    def _login(self) -> None:
        page = self.client.get("/accounts/login/", name="login page")
        self.csrf = pages.csrf_token(page.text or "") or ""
        with self.client.post(
            "/accounts/login/",
            data={"username": self.username, "password": PLAN["password"], "csrfmiddlewaretoken": self.csrf},
            name="login",
            catch_response=True,
        ) as answer:
            if 'name="password"' in (answer.text or ""):  # the login form again: refused
                answer.failure(f"{self.username} could not log in")

    def _post(self, path: str, data: dict[str, str], name: str, **kwargs: Any) -> Any:
        # The token as htmx sends it from the page; Django takes the cookie's secret as well (the login renews it).
        cookie = next((c.value for c in self.client.cookiejar if c.name == "csrftoken"), None)
        self.csrf = cookie or self.csrf
        headers = {"HX-Request": "true", "X-CSRFToken": self.csrf}
        return self.client.post(path, data={"csrfmiddlewaretoken": self.csrf, **data}, headers=headers, name=name,
                                **kwargs)  # fmt: skip


class Screener(Reviewer):
    weight = 4
    done = False

    def on_start(self) -> None:
        super().on_start()
        self.review = PLAN["screening"][self.username]
        self.page = f"/reviews/{self.review}/screening/{STAGE}/"
        self.record: int | None = None

    def _next(self) -> None:
        """The screening page, as the reviewer opens it: the record it offers (or the end of the queue)."""
        with self.client.get(self.page, name="screening: open the page (GET)", catch_response=True) as page:
            html = page.text or ""
            self.record = pages.record_shown(html)
            if self.record is None:
                if pages.queue_empty(html):
                    self.done = True
                else:
                    page.failure("no record and no end of the queue on the screening page")

    @task
    def screen(self) -> None:
        """One screening step as the keyboard flow makes it: the decision is posted by htmx and its answer is the
        next record's pane, swapped in place (no page load between records)."""
        if self.done:
            return
        if self.record is None:
            self._next()
            if self.record is None:
                return
        record = self.record
        decision = self.rng.choices([c for c, _ in CHOICES], weights=[w for _, w in CHOICES])[0]
        with self._post(f"{self.page}decide/", {"record": str(record), "decision": decision, "note": ""},
                        STEP, catch_response=True) as answer:  # fmt: skip
            body = answer.text or ""
            if answer.status_code != 200:
                self.record = None
                return  # counted as a failure by locust
            refused = pages.refusal(body)
            if refused is None:
                _record([self.username, record, STAGE, decision, "stored"])
            elif "settled" in refused:
                _record([self.username, record, STAGE, decision, "refused"])
            else:
                answer.failure(f"decision refused: {refused}")
                self.record = None
                return
            following = pages.record_shown(body)
            if refused is None and following == record:
                answer.failure("the next record offered is the one just decided")
                self.record = None
                return
            self.record = following
            if following is None:
                if pages.queue_empty(body):
                    self.done = True
                else:
                    answer.failure("no next record and no end of the queue in the answer")


class Extractor(Reviewer):
    weight = 1
    saves_per_visit: ClassVar[tuple[int, int]] = (3, 6)

    def on_start(self) -> None:
        super().on_start()
        self.review = PLAN["extraction"]["review"]
        self.extraction = 0
        self.version = 0
        self.saves_left = 0

    def _open(self) -> None:
        study = self.rng.choice(PLAN["extraction"]["studies"][self.username])
        # The study's page first, as a reviewer goes to "Extract" from there.
        self.client.get(f"/reviews/{self.review}/studies/{study}/", name="extraction: study page")
        with self._post(f"/reviews/{self.review}/studies/{study}/extract/", {}, "extraction: open study",
                        catch_response=True) as page:  # fmt: skip
            shown = pages.extraction_shown(page.text or "")
            if shown is None:
                page.failure("the extraction page has no save address or version")
                return
        self.extraction, self.version = shown
        self.saves_left = self.rng.randint(*self.saves_per_visit)

    @task
    def extract(self) -> None:
        if self.saves_left <= 0:
            self._open()
            return
        cell = f"field-{self.rng.choice(CELLS)}"
        value = f"{self.username} {self.rng.randint(1, 10**6)}"
        save = f"/reviews/{self.review}/extractions/{self.extraction}/save/"
        posted = {"changed": cell, cell: value, "version": str(self.version)}
        with self._post(save, posted, "extraction: save cell (POST htmx)", catch_response=True) as answer:
            version = pages.version_saved(answer.text or "")
            if answer.status_code == 200 and version is None:
                answer.failure("a saved cell's answer has no new version")
            elif version is not None:
                self.version = version
        self.saves_left -= 1
