from django.urls import path

from core.token_api import TokenView

urlpatterns = [path("auth/token/", TokenView.as_view(), name="api-token")]
