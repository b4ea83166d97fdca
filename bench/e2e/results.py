"""Percentiles, and raw results written as JSON under bench/results/ (gitignored)."""

from __future__ import annotations

import json
import logging
import platform
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.e2e.stack import RESULTS, load_avg

logger = logging.getLogger(__name__)


def percentiles(values: Sequence[float | None]) -> dict[str, Any]:
    """n, p50, p95, min, max of the measured values (None = no reply, counted as missing)."""
    got = [v for v in values if v is not None]
    missing = len(values) - len(got)
    if not got:
        return {"n": 0, "missing": missing}
    arr = np.array(got)
    return {
        "n": len(got),
        "missing": missing,
        "p50": round(float(np.percentile(arr, 50)), 3),
        "p95": round(float(np.percentile(arr, 95)), 3),
        "min": round(float(arr.min()), 3),
        "max": round(float(arr.max()), 3),
    }


def machine() -> dict[str, Any]:
    import os

    return {
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_avg_at_save": load_avg(),
    }


def save(name: str, payload: dict[str, Any]) -> Path:
    """Write ``payload`` (plus machine facts) to bench/results/<name>-<time>.json and
    bench/results/<name>-latest.json."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {"benchmark": name, "at": time.strftime("%Y-%m-%dT%H:%M:%S"), **payload}
    payload["machine"] = machine()
    text = json.dumps(payload, indent=2, default=str)
    path = RESULTS / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(text)
    (RESULTS / f"{name}-latest.json").write_text(text)
    logger.info("wrote %s", path)
    return path


def load_latest(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}-latest.json"
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def results_dir() -> Path:
    return RESULTS
