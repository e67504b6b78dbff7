"""The test settings with the cache in Redis, as in production, for the server the restart tests start: so that
everything that depends on Redis in production (the task queue, the cache: login and API throttling) meets the
Redis that is stopped."""

from config.settings.test import *  # noqa: F403
from config.settings.test import DATABASES, REDIS_URL

# Production's persistent connections (checked before reuse), which a database restart breaks under the server.
DATABASES["default"]["CONN_MAX_AGE"] = 60

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
