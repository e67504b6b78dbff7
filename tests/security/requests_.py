"""How the matrix sends a request: one client per role (session login for pages, the API token for /api/), a
plausible body for writes, each request inside a savepoint that is rolled back so that every request sees the
same seeded data, and a fingerprint of the database to show that a refused write changed nothing."""

from typing import Any

from django.apps import apps
from django.db import connection, transaction
from django.test import Client
from rest_framework.authtoken.models import Token

from tests.security.urls_walk import Pattern, kind_of, url_for
from tests.security.world import Seeded, World

ROLES = ("anonymous", "outsider", "reviewer", "editor", "owner")
WHO = {"anonymous": None, "outsider": "dave", "reviewer": "carol", "editor": "bob", "owner": "alice"}
API_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
PAGE_METHODS = ("GET", "POST")  # the pages write with POST forms (htmx included) only

# Extra query strings a GET needs to reach the code behind the access check.
QUERY = {"api-extraction-export": "?kind=consensus"}


def clients(world: World) -> dict[str, tuple[Client, Client]]:
    """{role: (page client logged in by session, API client sending the role's token)}."""
    made = {}
    for role in ROLES:
        page, api = Client(), Client()
        username = WHO[role]
        user = world.user(username) if username else None
        if user is not None:
            page.force_login(user)
            token, _ = Token.objects.get_or_create(user=user)
            api.defaults["HTTP_AUTHORIZATION"] = f"Token {token.key}"
        made[role] = (page, api)
    return made


def target(pattern: Pattern, seeded: Seeded) -> Any:
    """The object the URL names last (the one a write would change)."""
    for kwarg in reversed(pattern.kwargs):
        kind = kind_of(pattern, kwarg)
        if kind is not None:
            return seeded[kind]
    return seeded.review


def body(pattern: Pattern, seeded: Seeded) -> dict[str, Any]:
    """One body for every write: the keys the app's forms and serializers read, with valid values from the
    seeded review and the version of the object written, so that an allowed role gets past validation to the
    access check of the object (a refused role must be refused whatever it sends)."""
    version = getattr(target(pattern, seeded), "version", 0)
    return {
        "version": version, "record": seeded["record"].pk, "study": seeded["study"].pk, "decision": "include",
        "reason": "", "judgement": "low", "support": "From the methods section.", "overall": "low",
        "name": "Security matrix", "label": "Security matrix", "title": "Security matrix", "role": "editor",
        "username": "erin", "take": seeded.reviewer.username, "status": "complete", "note": "",
        "changed": f"field-{seeded['field'].key}", f"field-{seeded['field'].key}": "Security matrix",
    }  # fmt: skip


def send(client: Client, pattern: Pattern, method: str, url: str, seeded: Seeded) -> Any:
    if method == "GET":
        return client.get(url + QUERY.get(pattern.name, ""))
    data = body(pattern, seeded)
    if pattern.api:
        return client.generic(method, url, data=_json(data), content_type="application/json")
    if method == "POST":
        return client.post(url, data=data)
    return client.generic(method, url)


def _json(data: dict[str, Any]) -> str:
    import json

    return json.dumps(data)


def request_rolled_back(client: Client, pattern: Pattern, method: str, url: str, seeded: Seeded, check: Any = None):
    """Send the request in a savepoint rolled back afterwards; `check(response)` runs before the rollback."""
    with transaction.atomic():
        response = send(client, pattern, method, url, seeded)
        extra = check(response) if check else None
        transaction.set_rollback(True)
    return response, extra


def _models() -> list[Any]:
    skip = {"sessions", "contenttypes", "admin", "authtoken"}  # a login or a token lookup is not a write
    return [m for m in apps.get_models() if m._meta.app_label not in skip and not m._meta.proxy]


def _fingerprint_sql() -> str:
    parts = []
    for model in _models():
        names = {f.name: f.column for f in model._meta.concrete_fields}
        changed = [names[n] for n in ("version", "updated_at") if n in names]
        latest = f"MAX({qn(changed[0])})" if changed else "NULL"
        parts.append(  # names from the models, quoted by the backend; nothing from a request
            f"SELECT '{model._meta.label}', COUNT(*), MAX({qn(model._meta.pk.column)}), "  # noqa: S608
            f"CAST({latest} AS VARCHAR(40)) FROM {qn(model._meta.db_table)}"
        )
    return " UNION ALL ".join(parts)


def qn(name: str) -> str:
    return connection.ops.quote_name(name)


def fingerprint() -> list[tuple[Any, ...]]:
    """For every table: its row count, highest id and latest version (or updated_at), in one query. A write
    changes at least one of them: rows added or removed, a version bumped, and every model the app writes keeps
    django-simple-history rows, whose table grows on any save (a role changed in place included)."""
    with connection.cursor() as cursor:
        cursor.execute(_fingerprint_sql())
        return sorted(cursor.fetchall())


__all__ = ["ROLES", "clients", "fingerprint", "request_rolled_back", "url_for"]
