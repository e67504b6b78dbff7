"""Risk-of-bias plots as rendered, kept in Django's cache under a hash of everything they show, so that a page
shown again, or its download, does not draw the same plot again (a traffic-light plot of 300 studies takes
seconds with matplotlib). A change of any judgement, label, weight or title is another key."""

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.core.cache import cache

TIMEOUT = 24 * 3600


def rendered(render: Callable[..., bytes], /, **inputs: Any) -> bytes:
    """`render(**inputs)`, from the cache when these inputs were drawn before by the same function."""
    what = json.dumps([render.__module__, render.__qualname__, inputs], sort_keys=True, default=str)
    key = "rob-plot:" + hashlib.sha256(what.encode()).hexdigest()
    found = cache.get(key)
    if found is None:
        found = render(**inputs)
        cache.set(key, found, TIMEOUT)
    return found
