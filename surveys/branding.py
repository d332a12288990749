"""Branding on what customers see: the accent colour's stylesheet, the logo, and the checks on both."""

from __future__ import annotations

LOGO_MAX_BYTES = 200 * 1024
# Only raster formats that mail clients show and that cannot carry script (an SVG could).
LOGO_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}


def _luminance(hex_colour: str) -> float:
    """WCAG relative luminance of #RRGGBB."""

    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast_with_white(hex_colour: str) -> float:
    """WCAG contrast ratio between a colour and white (1 to 21); 0 for a value that isn't #RRGGBB."""
    try:
        return 1.05 / (_luminance(hex_colour) + 0.05)
    except (ValueError, TypeError, IndexError):
        return 0.0


def logo_type(data: bytes) -> str | None:
    """The content type of a PNG or JPEG by its first bytes; None for anything else."""
    for magic, content_type in LOGO_TYPES.items():
        if data.startswith(magic):
            return content_type
    return None


def stylesheet(accent: str) -> str:
    """The customer pages' accent, as CSS custom properties (public.css reads them)."""
    return f":root {{ --accent: {accent}; --link: {accent}; }}\n"
