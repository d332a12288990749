"""Fixed-window rate limits, every limit of a request counted in one cache round trip.

The customer pages count two limits per answer (per link and per client IP); counted one by one
through the cache API that is four Redis round trips. Here all of a request's counters go in one
Lua script (INCR, and EXPIRE for a new counter) when the cache is Django's Redis cache, and through
``cache.add``/``cache.incr`` otherwise (the file and memory caches of the embedded default). A
cache that is down raises: the caller decides to fail open (an answer is never refused for it).

Counters are keyed by a hash of what they count (a survey token is a credential, never stored).
"""

from __future__ import annotations

import hashlib
import time

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse(rate: str) -> tuple[int, int]:
    """'10/m' → (10, 60)."""
    count, _, period = rate.partition("/")
    return int(count), PERIODS[period]


def over_limit(limits: list[tuple[str, str]], *, now: float | None = None) -> bool:
    """Count one hit on each (key, rate); True when any counter is over its rate."""
    now = time.time() if now is None else now
    cache = caches["default"]  # the backend itself (django.core.cache.cache is a proxy)
    counters = []
    for key, rate in limits:
        allowed, period = parse(rate)
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]
        counters.append((f"rl:{digest}:{period}:{int(now // period)}", allowed, period))
    if isinstance(cache, RedisCache):
        script = _count_script(cache)
        keys = [cache.make_key(key) for key, _, _ in counters]
        counts = script(keys=keys, args=[period + 1 for _, _, period in counters])
    else:
        counts = []
        for key, _, period in counters:
            cache.add(key, 0, period + 1)
            counts.append(cache.incr(key))
    return any(count > allowed for count, (_, allowed, _) in zip(counts, counters, strict=True))


# INCR each counter, and give a new one its expiry: one command for all of a request's counters
# (a pipeline of INCR and EXPIRE per counter costs twice the client work for the same round trip).
COUNT_SCRIPT = """
local counts = {}
for i, key in ipairs(KEYS) do
  counts[i] = redis.call('INCR', key)
  if counts[i] == 1 then redis.call('EXPIRE', key, ARGV[i]) end
end
return counts
"""


def _count_script(cache: RedisCache):
    """The counting script on the cache's Redis client, both kept on the cache object: Django's
    get_client() builds a new client object on every call, which costs more than the round trip.
    The script runs by its hash (EVALSHA) and is loaded again if the server lost it."""
    script = cache.__dict__.get("_rebound_count_script")
    if script is None:
        client = cache._cache.get_client(write=True)
        script = cache.__dict__["_rebound_count_script"] = client.register_script(COUNT_SCRIPT)
    return script
