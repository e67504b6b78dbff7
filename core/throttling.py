"""Limits on password guessing: the token endpoint and the login page share one budget per client address
(DRF's `auth` scope, rate REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["auth"], set by SIEVE_AUTH_THROTTLE) and have
another per attempted username, so that neither many addresses against one account nor one address against many
accounts gets more than the rate.

Counts live in Django's default cache (settings CACHES: Redis when REDIS_URL is set, so that every web process
shares them; the process's memory on the embedded default, which serves from one process). A username is counted
whether or not the account exists, so the limit says nothing about which accounts exist."""

import hashlib
from typing import Any

from django.http import HttpRequest
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle

SCOPE = "auth"


class _CurrentRate:
    """DRF binds THROTTLE_RATES when the class is defined; reading the setting on each request lets a changed
    setting (override_settings in a test, a reload) take effect."""

    scope: str | None

    def get_rate(self) -> str | None:
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(SCOPE)
        return None if rate is None else str(rate)


class AuthThrottle(_CurrentRate, AnonRateThrottle):
    """Attempts per client address (anonymous requests only: a logged-in client is not guessing passwords)."""

    scope = SCOPE


class AuthUsernameThrottle(_CurrentRate, SimpleRateThrottle):
    """Attempts per attempted username, case-insensitive; the cache key holds a hash, not the name."""

    scope = SCOPE

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        data = getattr(request, "data", None)
        if data is None:  # a Django request (the login page): the form's POST
            data = request.POST
        username = str(data.get("username", "") if hasattr(data, "get") else "").strip().lower()
        if not username:
            return None
        digest = hashlib.sha256(username.encode()).hexdigest()[:32]
        return self.cache_format % {"scope": f"{SCOPE}-user", "ident": digest}


def login_attempt_wait(request: HttpRequest) -> float | None:
    """Counts a login attempt on the page; None if allowed, else the seconds to wait (at least 1)."""
    waits = []
    for throttle in (AuthThrottle(), AuthUsernameThrottle()):
        if not throttle.allow_request(request, None):  # type: ignore[arg-type]
            waits.append(throttle.wait() or 1.0)
    return max(waits) if waits else None
