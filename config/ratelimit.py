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
from redis.exceptions import NoScriptError

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse(rate: str) -> tuple[int, int]:
    """'10/m' → (10, 60)."""
    count, _, period = rate.partition("/")
    return int(count), PERIODS[period]


def over_limit(limits: list[tuple[str, str]], *, now: float | None = None) -> bool:
    """Count one hit on each (key, rate); True when any counter is over its rate."""
    count = Count(limits, now)
    try:
        return count.over()
    finally:
        count.close()


class Count:
    """The hits of one request, counted: ``over()`` says whether any counter is over its rate.

    On Redis the script is sent when the count starts and its reply is read by ``over()``, so the
    caller can do other work — the answer's database lookup — while Redis counts: one round trip's
    wait fewer per answer. Always ``close()`` it (a reply never read must not stay on a pooled
    connection). Raises, from either step, if the cache is down."""

    def __init__(self, limits: list[tuple[str, str]], now: float | None = None):
        now = time.time() if now is None else now
        cache = caches["default"]  # the backend itself (django.core.cache.cache is a proxy)
        self.counters = []
        for key, rate in limits:
            allowed, period = parse(rate)
            digest = hashlib.sha256(key.encode()).hexdigest()[:32]
            self.counters.append((f"rl:{digest}:{period}:{int(now // period)}", allowed, period))
        self.counts: list[int] | None = None
        self.connection = None
        if not isinstance(cache, RedisCache):
            self.counts = []
            for key, _, period in self.counters:
                cache.add(key, 0, period + 1)
                self.counts.append(cache.incr(key))
            return
        self.script = _count_script(cache)
        self.keys = [cache.make_key(key) for key, _, _ in self.counters]
        self.args = [period + 1 for _, _, period in self.counters]
        self.pool = self.script.registered_client.connection_pool
        connection = self.pool.get_connection()
        try:
            connection.send_command("EVALSHA", self.script.sha, len(self.keys), *self.keys, *self.args)
        except BaseException:
            self._drop(connection)
            raise
        self.connection = connection

    def over(self) -> bool:
        if self.counts is None:
            connection, self.connection = self.connection, None
            try:
                self.counts = connection.read_response()
            except NoScriptError:  # the server lost its scripts (a restart): load it, count again
                self.pool.release(connection)
                self.counts = self.script(keys=self.keys, args=self.args)
            except BaseException:
                self._drop(connection)
                raise
            else:
                self.pool.release(connection)
        return any(count > allowed for count, (_, allowed, _) in zip(self.counts, self.counters, strict=True))

    def close(self) -> None:
        """A reply never read: drop the connection rather than hand it back with the reply on it."""
        if self.connection is not None:
            connection, self.connection = self.connection, None
            self._drop(connection)

    def _drop(self, connection) -> None:
        connection.disconnect()
        self.pool.release(connection)


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
