from django.conf import settings
from django.http import HttpRequest


def sieve(request: HttpRequest) -> dict:
    return {"signup_allowed": settings.SIEVE_ALLOW_SIGNUP}
