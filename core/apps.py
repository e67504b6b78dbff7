from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import pre_save


def _revoke_token_on_new_password(sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    """A new password revokes the user's API token, whichever way it was set (the password page, the admin,
    `manage.py changepassword`): a token that leaked with the old password stops working. Django already ends
    the user's other sessions (the session hash changes)."""
    if instance.pk is None or (update_fields is not None and "password" not in update_fields):
        return
    from rest_framework.authtoken.models import Token

    old = type(instance).objects.filter(pk=instance.pk).values_list("password", flat=True).first()
    if old is not None and old != instance.password:
        Token.objects.filter(user_id=instance.pk).delete()


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Sieve core (accounts, health, API plumbing)"

    def ready(self) -> None:
        pre_save.connect(_revoke_token_on_new_password, sender=settings.AUTH_USER_MODEL, dispatch_uid="sieve-token")
