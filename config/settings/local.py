"""The embedded default for one laptop: `make run`."""

from django.core.management.utils import get_random_secret_key

from .base import *  # noqa: F403
from .base import SECRET_KEY, VAR_DIR, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SIEVE_DEMO_LOGIN_HINT = env.bool("SIEVE_DEMO_LOGIN_HINT", default=True)


def _local_secret_key() -> str:
    # Generated once per checkout and kept out of git, so no secret is ever hard-coded.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(get_random_secret_key())
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = SECRET_KEY or _local_secret_key()
WHITENOISE_AUTOREFRESH = DEBUG
WHITENOISE_USE_FINDERS = True
