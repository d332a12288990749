"""Server-rendered SVG geometry for the dashboard's charts (the numbers are also shown as tables)."""

from __future__ import annotations

from .nps import Score, display, significant_change

WIDTH, HEIGHT, PAD = 640, 220, 30


def bars(counts: list[int]) -> list[dict]:
    top = max(counts) or 1
    step = (WIDTH - 2 * PAD) / len(counts)
    out = []
    for score, count in enumerate(counts):
        height = (HEIGHT - 2 * PAD) * count / top
        colour = "#198754" if score >= 9 else "#adb5bd" if score >= 7 else "#dc3545"
        out.append({
            "score": score, "count": count, "x": PAD + score * step + 2, "width": step - 4,
            "y": HEIGHT - PAD - height, "height": height, "colour": colour,
            "label_x": PAD + score * step + step / 2,
        })  # fmt: skip
    return out


def _y(nps: float) -> float:
    return PAD + (HEIGHT - 2 * PAD) * (100 - nps) / 200


def trend(rows: list[tuple]) -> dict:
    """A line of NPS per period, the margin as a band, and each period's change label."""
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
            "period": period, "score": score, "x": x, "y": _y(score.nps), "shown": display(score.nps),
            "margin": display(score.margin),
            "change": "" if previous is None else ("significant change" if change else "no significant change"),
        })  # fmt: skip
        previous = score
    return {
        "line": " ".join(points),
        "band": " ".join(upper + list(reversed(lower))),
        "rows": table,
        "zero_y": _y(0),
        "width": WIDTH,
        "height": HEIGHT,
    }
