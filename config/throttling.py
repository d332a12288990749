"""A per-token rate limit for the API: over API_RATE_PER_TOKEN, 429 with Retry-After.

Counted with the customer pages' fixed windows (config/ratelimit.py, one cache round trip). If the
cache is down the API is not refused for it (fail open, logged), like an answer never is.
"""

import logging
import time

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from .ratelimit import over_limit, parse

logger = logging.getLogger(__name__)


class TokenRateThrottle(BaseThrottle):
    def allow_request(self, request, view) -> bool:
        token = request.auth
        key = f"api-token:{token.pk}" if getattr(token, "pk", None) else None
        if key is None:  # a signed-in session (the docs page): the login rate limits apply instead
            return True
        self.rate = settings.API_RATE_PER_TOKEN
        self.now = time.time()
        try:
            return not over_limit([(key, self.rate)], now=self.now)
        except Exception:  # noqa: BLE001 - the cache is down: serve, and say so in the log
            logger.warning("API rate limit not counted: the cache is unavailable.", exc_info=True)
            return True

    def wait(self) -> float:
        _, period = parse(self.rate)
        return period - (self.now % period)
