"""Small server-side SVG charts for the dashboard (no chart library, no JavaScript needed)."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from navan_voice.recording.index import Bucket, Turn

STAGE_COLORS = {
    "eou_delay": "#8e9aaf",
    "transcription_delay": "#4f86c6",
    "llm_ttft": "#e0a458",
    "tts_ttfb": "#7cb518",
    "tool": "#b56576",
    "e2e": "#333333",
}
TURN_STAGES = ("eou_delay", "transcription_delay", "llm_ttft", "tts_ttfb")


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    color: str
    title: str


def turn_latency_svg(turns: list[Turn], width: int = 640, height: int = 220) -> str:
    """Per-turn stacked bars of the pipeline stages, with end-to-end latency as a marker."""
    if not turns:
        return '<p class="muted">No turns were measured on this call.</p>'
    top = max(
        [t.e2e_latency_ms or 0.0 for t in turns]
        + [sum(_stage(t, s) for s in TURN_STAGES) for t in turns]
        + [1.0]
    )
    pad, plot_h = 30, height - 40
    slot = (width - pad) / len(turns)
    parts: list[str] = []
    for i, turn in enumerate(turns):
        x = pad + i * slot + slot * 0.15
        bar_w = slot * 0.7
        y = float(height - 20)
        for stage in TURN_STAGES:
            value = _stage(turn, stage)
            h = value / top * plot_h
            y -= h
            parts.append(
                _rect(
                    Bar(
                        x,
                        y,
                        bar_w,
                        h,
                        STAGE_COLORS[stage],
                        f"turn {turn.index}: {stage} {value:.0f} ms",
                    )
                )
            )
        if turn.e2e_latency_ms is not None:
            ey = height - 20 - turn.e2e_latency_ms / top * plot_h
            parts.append(
                f'<line x1="{x:.1f}" x2="{x + bar_w:.1f}" y1="{ey:.1f}" y2="{ey:.1f}" '
                f'stroke="{STAGE_COLORS["e2e"]}" stroke-width="2"><title>turn {turn.index}: '
                f"end-to-end {turn.e2e_latency_ms:.0f} ms</title></line>"
            )
        parts.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{height - 6}" font-size="10" '
            f'text-anchor="middle">{turn.index}</text>'
        )
    parts.append(f'<text x="2" y="12" font-size="10">{top:.0f} ms</text>')
    return _svg(width, height, "per-turn latency", parts) + _legend((*TURN_STAGES, "e2e"))


def buckets_svg(
    buckets: list[Bucket], stage: str = "e2e", width: int = 640, height: int = 200
) -> str:
    """p50 and p95 of one stage per time bucket, as two lines."""
    points = [(b, b.stages[stage]) for b in buckets if b.stages.get(stage)]
    points = [(b, s) for b, s in points if s.p50_ms is not None]
    if not points:
        return f'<p class="muted">No {escape(stage)} measurements in this period.</p>'
    top = max((s.p95_ms or s.p50_ms or 0.0) for _, s in points) or 1.0
    pad, plot_h = 30, height - 40
    step = (width - pad - 10) / max(1, len(points) - 1)
    parts: list[str] = []
    for key, color in (("p50_ms", "#4f86c6"), ("p95_ms", "#b56576")):
        coords = []
        for i, (bucket, stats) in enumerate(points):
            value = getattr(stats, key) or 0.0
            x = pad + i * step
            y = height - 20 - value / top * plot_h
            coords.append(f"{x:.1f},{y:.1f}")
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"><title>'
                f"{escape(bucket.start.isoformat(timespec='minutes'))} {key[:3]} "
                f"{value:.0f} ms</title></circle>"
            )
        parts.append(
            f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{" ".join(coords)}"/>'
        )
    parts.append(f'<text x="2" y="12" font-size="10">{top:.0f} ms</text>')
    legend = '<span class="legend"><i style="background:#4f86c6"></i>p50 '
    legend += '<i style="background:#b56576"></i>p95</span>'
    return _svg(width, height, f"{stage} p50/p95 over time", parts) + legend


def _stage(turn: Turn, stage: str) -> float:
    value = getattr(turn, f"{stage}_ms", None)
    return float(value) if value is not None else 0.0


def _rect(bar: Bar) -> str:
    return (
        f'<rect x="{bar.x:.1f}" y="{bar.y:.1f}" width="{bar.width:.1f}" '
        f'height="{max(bar.height, 0.0):.1f}" fill="{bar.color}"><title>{escape(bar.title)}'
        "</title></rect>"
    )


def _svg(width: int, height: int, label: str, parts: list[str]) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(label)}">' + "".join(parts) + "</svg>"
    )


def _legend(stages: tuple[str, ...]) -> str:
    items = "".join(f'<i style="background:{STAGE_COLORS[s]}"></i>{escape(s)} ' for s in stages)
    return f'<div class="legend">{items}</div>'
