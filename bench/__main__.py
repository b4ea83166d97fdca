"""The benchmark runner: `python -m bench [BENCHMARK|plots|all] [--quick]`.

Benchmarks: e2e, standin, bargein, concurrency, media (the WebRTC legs alone), phone (voice to
voice through livekit-sip, sipp dialling in).
Each benchmark starts its own livekit-server and worker on free loopback ports, stops by itself
within a bounded time, and stops every process it started (also on Ctrl-C or an error). Raw
results go to bench/results/ (gitignored); plots to bench/e2e/plots/. The machine's load
average is recorded with every result.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any

BENCHMARKS = ("e2e", "standin", "bargein", "concurrency", "media", "phone")

logger = logging.getLogger("bench")


def _fmt(stats: dict[str, Any] | None, key: str) -> str:
    if not stats or key not in stats:
        return "–"
    return f"{stats[key]:.3f}"


def _rows(name: str, result: dict[str, Any]) -> list[list[str]]:
    if name in ("e2e", "standin"):
        rows = []
        for rate, data in result["rates"].items():
            lat = data["latency_s"]
            rows.append(
                [
                    f"{name} {int(rate) // 1000} kHz",
                    f"n={lat.get('n', 0)} miss={lat.get('missing', 0)}",
                    _fmt(lat, "p50"),
                    _fmt(lat, "p95"),
                    f"greeting p50 {_fmt(data['greeting_s'], 'p50')}",
                ]
            )
        if name == "standin":
            w = result["end_of_turn"]
            rows.append(
                [
                    "standin target",
                    "window+50ms",
                    f"{w['window_sum_s'] + 0.05:.3f}",
                    "",
                    f"effective {w['window_effective_s'] + 0.05:.3f}",
                ]
            )
        return rows
    if name == "phone":
        return [
            [
                f"phone 8 kHz SIP ({config})",
                f"n={lat.get('n', 0)} miss={lat.get('missing', 0)}",
                _fmt(lat, "p50"),
                _fmt(lat, "p95"),
                "through livekit-sip",
            ]
            for config, lat in result["per_config"].items()
        ]
    if name == "media":
        return [
            [
                f"media path: {leg['leg']}",
                f"n={leg.get('n', 0)}",
                _fmt(leg, "p50"),
                _fmt(leg, "p95"),
                "",
            ]
            for leg in result["legs"]
        ]
    if name == "bargein":
        rows = []
        for mode in ("local", "standin"):
            b = (result.get(mode) or {}).get("bargein_s") or {}
            rows.append(
                [
                    f"barge-in {mode} (4 s in)",
                    f"n={b.get('n', 0)}",
                    _fmt(b, "p50"),
                    _fmt(b, "p95"),
                    "target ≤ 0.250",
                ]
            )
        return rows
    rows = []
    for key in ("standin", "local"):
        for lv in (result.get(key) or {}).get("levels", []):
            lat = lv.get("latency_s")
            extra = (
                f"ok {lv.get('calls_ok')}/{lv['calls']} gaps {lv.get('underrun_gaps')} "
                f"{(lv.get('memory_per_call_mib') or {}).get('pss_mib')} MiB/call"
                if lat
                else lv.get("error", "")
            )
            if (lag := lv.get("caller_loop_lag_s") or {}).get("p95") is not None:
                extra += f"; callers' loop late p95 {lag['p95']:.2f} s"
            own = (lv.get("worker_stages_ms") or {}).get("e2e") or {}
            if own.get("p50_ms") is not None and own.get("p95_ms") is not None:
                # the worker's own turn latency: below the callers' when its media path lags
                extra += f"; worker e2e p50/p95 {own['p50_ms']:.0f}/{own['p95_ms']:.0f} ms"
            rows.append(
                [
                    f"concurrency {key}",
                    f"{lv['calls']} calls",
                    _fmt(lat, "p50"),
                    _fmt(lat, "p95"),
                    extra,
                ]
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("which", nargs="?", default="all", choices=(*BENCHMARKS, "plots", "all"))
    parser.add_argument("--quick", action="store_true", help="fewer calls and levels")
    parser.add_argument(
        "--turns",
        type=int,
        choices=(1, 2, 3),
        default=2,
        help="concurrency: travel phrases per local call",
    )
    parser.add_argument(
        "--only",
        choices=("both", "standin", "local"),
        default="both",
        help="concurrency: which levels to run",
    )
    parser.add_argument(
        "--worker-nice",
        type=int,
        choices=range(20),
        metavar="0-19",
        default=0,
        help="concurrency: run the local worker at this nice (0-19) so the simulated callers "
        "on the same cores are not starved",
    )
    parser.add_argument(
        "--stagger",
        type=float,
        default=0.25,
        help="concurrency: seconds between local call starts (0.25: callers in lockstep, "
        "the worst case; a few seconds: turns spread as independent callers' would be)",
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("livekit", "httpx", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    from bench.e2e import bargein, concurrency, latency, media_path, plots
    from bench.e2e.results import load_latest
    from bench.e2e.stack import load_avg

    chosen = BENCHMARKS if args.which == "all" else (args.which,)
    results: dict[str, dict[str, Any]] = {}
    if args.which == "plots":  # redraw and tabulate the latest saved results
        chosen = ()
        for name in BENCHMARKS:
            if (latest := load_latest(name)) is not None:
                results[name] = latest
    failed = False
    for name in chosen:
        logger.info("running %s (load average %s)", name, load_avg())
        try:
            if name == "e2e":
                results[name] = latency.run(standin=False, quick=args.quick)
            elif name == "standin":
                results[name] = latency.run(standin=True, quick=args.quick)
            elif name == "bargein":
                results[name] = bargein.run(quick=args.quick)
            elif name == "media":
                results[name] = media_path.run(quick=args.quick)
            elif name == "phone":
                from bench.telephony import phone_latency

                results[name] = phone_latency.run(calls=1 if args.quick else 2)
            else:
                results[name] = concurrency.run(
                    quick=args.quick,
                    which=args.only,
                    turns_per_call=args.turns,
                    worker_nice=args.worker_nice,
                    stagger_s=args.stagger,
                )
        except KeyboardInterrupt:
            logger.warning("interrupted; every process this benchmark started was stopped")
            logging.shutdown()
            # the rtc SDK's native threads of interrupted calls would keep the interpreter up
            os._exit(130)
        except Exception:
            logger.exception("%s failed", name)
            failed = True
    try:
        plots.make_plots()
    except Exception:
        logger.exception("plots failed")
        failed = True

    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"navan-voice benchmarks (load average now {load_avg()})")
    for col in ("benchmark", "samples", "p50 s", "p95 s", "notes"):
        table.add_column(col)
    for name, result in results.items():
        for row in _rows(name, result):
            table.add_row(*row)
    Console().print(table)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
