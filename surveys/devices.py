"""The device class of a response, from the User-Agent header (mobile, tablet, desktop)."""

import re

from .models import DeviceClass

_TABLET = re.compile(r"iPad|Tablet|Kindle|Silk|PlayBook|Android(?!.*Mobile)", re.IGNORECASE)
_MOBILE = re.compile(r"Mobi|iPhone|iPod|Android.*Mobile|Windows Phone|BlackBerry|Opera Mini", re.IGNORECASE)
_BOT = re.compile(r"bot|crawl|spider|preview|curl|wget|python|httpclient", re.IGNORECASE)


def device_class(user_agent: str) -> str:
    if not user_agent or _BOT.search(user_agent):
        return DeviceClass.UNKNOWN
    if _TABLET.search(user_agent):
        return DeviceClass.TABLET
    if _MOBILE.search(user_agent):
        return DeviceClass.MOBILE
    return DeviceClass.DESKTOP
