"""The API's JSON parser: DRF's, with what the database cannot store refused as a 400 up front.

A body nested too deeply would crash the parser; a NUL character or a lone UTF-16 surrogate
("\\ud800", valid JSON but not valid Unicode text) would pass every serializer and fail deep in
PostgreSQL. Each is answered 400 with a message instead.
"""

from __future__ import annotations

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


def _storable(value, depth: int = 0) -> None:
    if depth > 64:
        raise ParseError("JSON parse error - the document is nested too deeply.")
    if isinstance(value, str):
        if "\x00" in value:
            raise ParseError("The body contains a NUL character, which can't be stored.")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ParseError("The body contains a lone surrogate (invalid Unicode text).") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _storable(key, depth)
            _storable(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _storable(item, depth + 1)


class SafeJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply.") from None
        _storable(data)
        return data
