"""The client's IP address behind trusted reverse proxies (TRUSTED_PROXIES), for rate limits.

Without trusted proxies it is REMOTE_ADDR. When the request comes from a trusted proxy, X-Forwarded-For
is read from the right, skipping the trusted proxies, and the first address that is not one of them is
the client's; addresses to its left were written by the client and are never believed.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings


@lru_cache(maxsize=1)
def _networks(spec: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in spec)


def _trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _networks(tuple(settings.TRUSTED_PROXIES)))


def client_ip(request) -> str:
    remote = request.META.get("REMOTE_ADDR", "") or "0.0.0.0"  # noqa: S104 - a unix socket has none
    if not settings.TRUSTED_PROXIES or not _trusted(remote):
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return remote  # a malformed header: count the proxy, never crash
    return remote
