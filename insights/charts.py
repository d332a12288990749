"""Server-rendered SVG geometry for the dashboard's charts (the numbers are also shown as tables)."""

from __future__ import annotations

from surveys.models import Category, category_for

from .nps import Score, display, significant_change

WIDTH, HEIGHT, PAD = 640, 220, 30
COLOURS = {Category.PROMOTER: "#198754", Category.PASSIVE: "#adb5bd", Category.DETRACTOR: "#dc3545"}


def bars(counts: list[int]) -> list[dict]:
    top = max(counts) or 1
    step = (WIDTH - 2 * PAD) / len(counts)
    out = []
    for score, count in enumerate(counts):
        height = (HEIGHT - 2 * PAD) * count / top
        colour = COLOURS[category_for(score)]
        out.append({
            "score": score, "count": count, "x": PAD + score * step + 2, "width": step - 4,
            "y": HEIGHT - PAD - height, "height": height, "colour": colour,
            "label_x": PAD + score * step + step / 2,
        })  # fmt: skip
    return out


def _y(nps: float) -> float:
    return PAD + (HEIGHT - 2 * PAD) * (100 - nps) / 200


def period_label(start, grain: str) -> str:
    """2026-Q3 for a quarter, Nov 2026 for a month."""
    if grain == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return start.strftime("%b %Y")


def trend(rows: list[tuple], grain: str = "month") -> dict:
    """A line of NPS per period, the margin as a band, each period's change label, and the axes:
    gridlines at −100, −50, 0, +50, +100 and the periods' names (every other one when crowded)."""
    points, upper, lower, table = [], [], [], []
    usable = [(p, s) for p, s in rows if s.nps is not None]
    step = (WIDTH - 2 * PAD) / max(len(usable) - 1, 1)
    previous: Score | None = None
    for i, (period, score) in enumerate(usable):
        x = PAD + i * step
        points.append(f"{x:.1f},{_y(score.nps):.1f}")
        upper.append(f"{x:.1f},{_y(min(score.nps + score.margin, 100)):.1f}")
        lower.append(f"{x:.1f},{_y(max(score.nps - score.margin, -100)):.1f}")
        change = significant_change(previous, score) if previous else None
        table.append({
            "period": period, "label": period_label(period, grain), "x": x, "y": _y(score.nps),
            "show_label": len(usable) <= 8 or i % 2 == 0 or i == len(usable) - 1, "shown": display(score.nps),
            "score": score,
            "margin": display(score.margin),
            "change": "" if previous is None else ("significant change" if change else "no significant change"),
        })  # fmt: skip
        previous = score
    return {
        "line": " ".join(points),
        "band": " ".join(upper + list(reversed(lower))),
        "rows": table,
        "zero_y": _y(0),
        "grid": [{"y": _y(v), "label": f"{v:+d}" if v else "0"} for v in (100, 50, 0, -50, -100)],
        "width": WIDTH,
        "height": HEIGHT,
    }
