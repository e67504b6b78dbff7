"""POST /api/v1/auth/token/: a username and password for an API token."""

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response

from core.throttling import AuthThrottle, AuthUsernameThrottle

__all__ = ["AuthThrottle", "TokenView"]


class TokenView(ObtainAuthToken):
    """Exchange a username and password for an API token. Limited per client address and per username, in
    one budget with the login page (core.throttling)."""

    throttle_classes = [AuthThrottle, AuthUsernameThrottle]

    @extend_schema(
        request=inline_serializer(
            "TokenRequest", {"username": serializers.CharField(), "password": serializers.CharField()}
        ),
        responses={200: inline_serializer("TokenResponse", {"token": serializers.CharField()})},
        tags=["auth"],
    )
    def post(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        return super().post(request, *args, **kwargs)
