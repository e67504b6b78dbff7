"""Settings for `make test`.

Embedded default (no DATABASE_URL/REDIS_URL): SQLite and eager tasks. With DATABASE_URL and REDIS_URL set
(CI's second run), PostgreSQL and Redis, and tests that need a worker start a real one.
"""

from .base import *  # noqa: F403
from .base import REDIS_URL, env

SECRET_KEY = "test-only-secret-key-not-for-any-deployment-0123456789abcdef"  # noqa: S105
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {"auth": "1000/min"},
}
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
# Close connections after each request/task so that threads (live server, worker) let the test database go.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
# The process's memory, even where REDIS_URL is set: a test may clear the cache, and in Redis that would empty
# the Celery broker's database too. The throttle tests run against Redis explicitly (core/tests/test_throttling.py).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "sieve-test"}}
