"""PNG plots of the latest results (committed under bench/e2e/plots/)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from bench.e2e.results import load_latest

logger = logging.getLogger(__name__)

PLOTS = Path(__file__).resolve().parent / "plots"


def _latencies(data: dict[str, Any], rate: str) -> list[float]:
    return [x for c in data["rates"][rate]["calls"] for x in c["latencies_s"] if x is not None]


def make_plots() -> list[Path]:
    """Draw what the latest results allow; returns the files written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    PLOTS.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    e2e, standin = load_latest("e2e"), load_latest("standin")
    if e2e or standin:
        fig, ax = plt.subplots(figsize=(7, 4))
        series, labels = [], []
        for name, data in (("local", e2e), ("stand-in", standin)):
            if not data:
                continue
            for rate in ("16000", "8000"):
                if rate in data["rates"]:
                    series.append(_latencies(data, rate))
                    labels.append(f"{name}\n{int(rate) // 1000} kHz")
        ax.boxplot(series, tick_labels=labels, whis=(5, 95))
        ax.axhline(0.8, color="green", ls="--", lw=1, label="target p50 0.8 s (local)")
        ax.axhline(1.2, color="orange", ls="--", lw=1, label="target p95 1.2 s (local)")
        if standin:
            w = standin["end_of_turn"]
            ax.axhline(
                w["window_sum_s"] + 0.05,
                color="purple",
                ls=":",
                lw=1,
                label="stand-in target: window + 50 ms",
            )
        ax.set_ylabel("end of caller speech → first agent audio (s)")
        ax.set_title("Voice-to-voice latency through livekit-server (2 cores, shared)")
        ax.legend(fontsize=7)
        fig.tight_layout()
        path = PLOTS / "latency.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    bargein = load_latest("bargein")
    if bargein:
        fig, ax = plt.subplots(figsize=(6, 3.5))
        for mode, color in (("local", "steelblue"), ("standin", "darkorange")):
            calls = (bargein.get(mode) or {}).get("calls", [])
            values = [
                c["bargein_s"]
                for c in calls
                if c["bargein_s"] is not None and c.get("after_s", 0) > 3.0
            ]
            if values:
                ax.hist(values, bins=12, color=color, alpha=0.7, label=f"{mode} models")
        ax.axvline(0.25, color="red", ls="--", label="target 250 ms")
        ax.set_xlabel("caller speech onset → agent audio stopped (s)")
        ax.set_ylabel("calls")
        ax.set_title("Barge-in 4 s into the greeting (after livekit's 3 s AEC warm-up)")
        ax.legend()
        fig.tight_layout()
        path = PLOTS / "bargein.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    conc = load_latest("concurrency")
    if conc:
        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
        for ax, key, target in ((axes[0], "standin", None), (axes[1], "local", 1.5)):
            levels = [lv for lv in (conc.get(key) or {}).get("levels", []) if "latency_s" in lv]
            if not levels:
                ax.set_visible(False)
                continue
            n = [lv["calls"] for lv in levels]
            p50 = [lv["latency_s"].get("p50", float("nan")) for lv in levels]
            p95 = [lv["latency_s"].get("p95", float("nan")) for lv in levels]
            ax.plot(n, p50, "o-", label="p50")
            ax.plot(n, p95, "s-", label="p95")
            if target:
                ax.axhline(target, color="red", ls="--", label=f"target p95 {target} s")
            for x, lv in zip(n, levels, strict=True):
                ax.annotate(
                    f"gaps {lv['underrun_gaps']}\n{lv['memory_per_call_mib']['pss_mib']} MiB/call",
                    (x, p95[n.index(x)]),
                    fontsize=7,
                    textcoords="offset points",
                    xytext=(4, 6),
                )
            ax.set_xlabel("simultaneous calls")
            ax.set_ylabel("latency (s)")
            ax.set_title(f"{'stand-in' if key == 'standin' else 'local'} models")
            ax.legend(fontsize=7)
        fig.tight_layout()
        path = PLOTS / "concurrency.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    for path in written:
        logger.info("wrote %s", path)
    return written
