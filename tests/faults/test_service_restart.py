"""PostgreSQL and Redis restarted under a reviewer who is screening: while a service is down, requests fail at
once with a clean 503 (a page, JSON for the API, Retry-After), never a 500 traceback or a hang; once it is back,
requests succeed, and every decision is stored once. A decision made while Redis (the task queue) is down is
saved; the conflict it makes is flagged by the periodic outcomes sweep.

The servers are private (initdb on a free port, redis-server on another): the shared ones are never restarted,
so these tests run on the embedded default too. The app runs in gunicorn, as in production."""

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import pytest
import redis
import requests

from tests.faults.services import PrivatePostgres, PrivateRedis, Server, manage

SETUP = """
import json
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.authtoken.models import Token
from reviews.models import Import, Membership, Record, Review

alice = User.objects.create_user("alice", password="correct horse battery staple")
review = Review.objects.create(title="Restarts", created_by=alice)
Membership.objects.create(review=review, user=alice, role="owner")
sessions, tokens = {}, {}
for name in ("carol", "erin"):
    user = User.objects.create_user(name, password="correct horse battery staple")
    Membership.objects.create(review=review, user=user, role="reviewer")
    client = Client()
    client.force_login(user)
    sessions[name] = client.cookies["sessionid"].value
    tokens[name] = Token.objects.create(user=user).key
batch = Import.objects.create(review=review, source="MEDLINE", filename="x.ris", content_hash="h", status="succeeded")
Record.objects.bulk_create(
    Record(review=review, batch=batch, position=i, title=f"Ketamine trial {i}", abstract="Pain.") for i in range(1, 11)
)
records = list(Record.objects.filter(batch=batch).order_by("position").values_list("pk", flat=True))
print(json.dumps({"review": review.pk, "records": records, "sessions": sessions, "tokens": tokens}))
"""
HTMX = {"HX-Request": "true"}
TIMEOUT = 30  # a request that takes longer is a hang: requests raises


@dataclass
class Stack:
    postgres: PrivatePostgres
    redis: PrivateRedis
    server: Server
    env: dict[str, str]
    review: int
    records: list[int]
    sessions: dict[str, str]
    tokens: dict[str, str]

    def browser(self, who: str) -> requests.Session:
        """A logged-in reviewer's browser, with the CSRF cookie a page gives."""
        client = requests.Session()
        client.cookies.set("sessionid", self.sessions[who])
        page = client.get(self.screen_url, timeout=TIMEOUT)
        assert page.status_code == 200, page.text[:500]
        client.headers["X-CSRFToken"] = client.cookies.get("csrftoken") or ""
        return client

    @property
    def screen_url(self) -> str:
        return f"{self.server.url}/reviews/{self.review}/screening/title_abstract/"

    def decide(self, client: requests.Session, record: int, decision: str) -> requests.Response:
        data = {"record": str(record), "decision": decision}
        return client.post(f"{self.screen_url}decide/", data=data, headers=HTMX, timeout=TIMEOUT)

    def api_decide(self, who: str, record: int, decision: str) -> requests.Response:
        url = f"{self.server.url}/api/v1/reviews/{self.review}/screening/title_abstract/decisions/"
        headers = {"Authorization": f"Token {self.tokens[who]}"}
        return requests.post(url, json={"record": record, "decision": decision}, headers=headers, timeout=TIMEOUT)

    def rows(self, sql: str, *params: object) -> list[tuple]:
        with psycopg2.connect(self.postgres.url) as db, db.cursor() as cursor:
            cursor.execute(sql, params)
            found = cursor.fetchall()
        db.close()
        return found

    def decisions(self, record: int) -> list[tuple]:
        return self.rows(
            "SELECT u.username, d.decision FROM screening_decision d JOIN auth_user u ON u.id = d.reviewer_id "
            "WHERE d.record_id = %s ORDER BY u.username",
            record,
        )


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    home: Path = tmp_path_factory.mktemp("restarts")
    postgres = PrivatePostgres()
    private_redis: PrivateRedis | None = None
    server: Server | None = None
    try:
        private_redis = PrivateRedis()
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
        env |= {
            "DJANGO_SETTINGS_MODULE": "tests.faults.server_settings",
            "DATABASE_URL": postgres.url,
            "REDIS_URL": private_redis.url,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "SIEVE_VAR_DIR": str(home / "var"),
            "DATABASE_CONNECT_TIMEOUT": "3",
        }
        manage(env, "migrate", "--noinput")
        made = json.loads(manage(env, "shell", "-c", SETUP).strip().splitlines()[-1])
        server = Server(env, home / "server.log")
        yield Stack(postgres, private_redis, server, env, **made)
    finally:
        if server is not None:
            server.stop()
        if private_redis is not None:
            private_redis.stop()
        postgres.destroy()


def assert_unavailable(response: requests.Response, *, api: bool) -> None:
    assert response.status_code == 503, (response.status_code, response.text[:2000])
    assert int(response.headers["Retry-After"]) > 0
    assert "Traceback" not in response.text
    if api:
        assert "unavailable" in response.json()["detail"]
    else:
        assert "Sieve is unavailable for a moment" in response.text and "nothing was lost" in response.text


def test_postgres_restarted_while_screening(stack: Stack):
    carol = stack.browser("carol")
    first, second, third = stack.records[:3]
    assert stack.decide(carol, first, "include").status_code == 200

    stack.postgres.stop()
    try:
        refused = stack.decide(carol, second, "exclude")  # the htmx decision
        assert_unavailable(refused, api=False)
        assert "sieve:unavailable" in refused.headers["HX-Trigger"]
        assert_unavailable(carol.get(stack.screen_url, timeout=TIMEOUT), api=False)  # the page
        assert_unavailable(stack.api_decide("carol", third, "include"), api=True)  # the API
    finally:
        stack.postgres.start()

    # Back: the same decisions are made again and stored, each once; a retry of one is refused, not doubled.
    retried = stack.decide(carol, second, "exclude")
    assert retried.status_code == 200
    print(
        f"\n[faults] PostgreSQL down: 503 in {refused.elapsed.total_seconds() * 1000:.0f} ms; "
        f"first request after the restart 200 in {retried.elapsed.total_seconds() * 1000:.0f} ms"
    )
    assert stack.api_decide("carol", third, "include").status_code == 201
    again = stack.decide(carol, second, "exclude")
    assert again.status_code == 200 and "already decided" in again.text
    assert stack.api_decide("carol", third, "include").status_code == 409
    assert stack.decisions(first) == [("carol", "include")]
    assert stack.decisions(second) == [("carol", "exclude")]
    assert stack.decisions(third) == [("carol", "include")]


def test_redis_restarted_while_screening(stack: Stack):
    carol = stack.browser("carol")
    record, later = stack.records[5], stack.records[6]
    broker = redis.Redis.from_url(stack.redis.url)

    stack.redis.stop()
    try:
        # The decisions are saved even though their evaluation cannot be queued.
        saved = stack.decide(carol, record, "include")
        assert saved.status_code == 200 and "already decided" not in saved.text
        print(f"\n[faults] Redis down: a decision saved in {saved.elapsed.total_seconds() * 1000:.0f} ms")
        assert stack.api_decide("erin", record, "exclude").status_code == 201
        # What needs the cache fails cleanly: asking for an API token (its throttle counts attempts in Redis).
        token = requests.post(
            f"{stack.server.url}/api/v1/auth/token/",
            json={"username": "carol", "password": "correct horse battery staple"},
            timeout=TIMEOUT,
        )
        assert_unavailable(token, api=True)
    finally:
        stack.redis.start()
    assert stack.decisions(record) == [("carol", "include"), ("erin", "exclude")]
    conflicts = "SELECT status FROM screening_outcome WHERE record_id = %s"
    assert stack.rows(conflicts, record) == []  # not evaluated yet: nothing was queued

    # Back: decisions queue their evaluation again, and the sweep (run by the worker's beat) flags the conflict
    # that was not queued, once however often it runs.
    assert stack.decide(carol, later, "include").status_code == 200
    queued = [json.loads(m)["headers"]["task"] for m in broker.lrange("celery", 0, -1)]
    assert "screening.outcome_evaluate" in queued
    sweep = "from screening.services import outcomes_sweep; outcomes_sweep(); outcomes_sweep()"
    manage(stack.env, "shell", "-c", sweep)
    assert stack.rows(conflicts, record) == [("conflict",)]
    assert stack.decisions(record) == [("carol", "include"), ("erin", "exclude")]
