"""`navan-voice up`: livekit-server and agent workers, started together, stopped together."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from rich.console import Console

from navan_voice.config import Settings
from navan_voice.domain.errors import ServerNotRunningError
from navan_voice.stack.livekit_server import LiveKitServer
from navan_voice.stack.processes import ManagedProcess, http_ok, require_free_port
from navan_voice.stack.sip import PhoneStack

REGISTERED_MARK = "worker registered"


def worker_argv(nice: int = 0) -> list[str]:
    """The command line of one worker process. ``nice`` > 0 runs the worker and its job
    processes at a lower CPU priority (coreutils ``nice``), e.g. so that simulated callers on
    the same machine are not starved by it; a negative value would need root, so it is refused."""
    if nice < 0:
        raise ValueError(f"worker nice must be 0-19, got {nice}: raising priority needs root")
    prefix = ["nice", "-n", str(min(nice, 19))] if nice > 0 else []
    return [*prefix, sys.executable, "-m", "navan_voice.cli", "worker"]


def start_worker(
    settings: Settings, url: str, log_path: Path, index: int = 0, *, nice: int = 0
) -> ManagedProcess:
    """Start one `navan-voice worker` process against ``url`` and wait until it registers
    (``nice``: see ``worker_argv``)."""
    proc = ManagedProcess(
        name=f"worker-{index}",
        argv=worker_argv(nice),
        log_path=log_path,
        env={"NAVAN_LIVEKIT_URL": url, "NAVAN_AGENT_NAME": settings.agent_name},
    )
    log_path.unlink(missing_ok=True)
    proc.start()
    proc.wait_ready(
        lambda: REGISTERED_MARK in _read(log_path), 180.0, "registration with livekit-server"
    )
    return proc


def start_web(settings: Settings, url: str, log_path: Path) -> ManagedProcess:
    """Start the web app (token endpoint, call page, dashboard) and wait until it answers."""
    from navan_voice.web.app import readiness_url

    require_free_port(settings.web_port, "the web app (NAVAN_WEB_PORT)")
    proc = ManagedProcess(
        name="web",
        argv=[sys.executable, "-m", "navan_voice.web"],
        log_path=log_path,
        env={"NAVAN_LIVEKIT_URL": url},
    )
    proc.start()
    ready = readiness_url(settings)
    proc.wait_ready(lambda: http_ok(ready), 60.0, f"GET {ready}")
    return proc


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def run_stack(
    settings: Settings, console: Console, *, workers: int = 1, phone: bool = False
) -> None:
    """Start everything, print where it is, and stay up until Ctrl-C; then stop it all."""
    run_dir = settings.data_dir / "run"
    server: LiveKitServer | PhoneStack
    server = (
        PhoneStack(settings, run_dir=run_dir) if phone else LiveKitServer(settings, run_dir=run_dir)
    )
    procs: list[ManagedProcess] = []
    try:
        what = "Redis + livekit-server + livekit-sip" if phone else "livekit-server"
        with console.status(f"starting {what}..."):
            server.start()
        console.print(f"[green]✓[/] livekit-server  {server.url}  (logs in {run_dir})")
        if isinstance(server, PhoneStack):
            console.print(f"[green]✓[/] livekit-sip     {server.sip.sip_uri}  (SIP/UDP)")
        web = start_web(settings, server.url, run_dir / "web.log")
        procs.append(web)
        console.print(
            f"[green]✓[/] web app         http://127.0.0.1:{settings.web_port}/  "
            "(call page; /dashboard"
            + ("" if settings.dashboard_password else ": set NAVAN_DASHBOARD_PASSWORD to sign in")
            + ")"
        )
        for i in range(workers):
            log = run_dir / f"worker-{i}.log"
            with console.status(f"starting agent worker {i + 1}/{workers} (loads the models)..."):
                procs.append(start_worker(settings, server.url, log, i))
            console.print(
                f"[green]✓[/] agent worker {i + 1}  registered as "
                f"'{settings.agent_name}'  (log {log})"
            )
        console.print(
            "\n[bold]The stack is up.[/] Place a call from another terminal:\n"
            "  .venv/bin/navan-voice call --audio examples/caller.wav --out agent.wav\n"
            "Ctrl-C stops everything."
        )
        while True:
            time.sleep(1)
            for proc in procs:
                if not proc.running():
                    raise ServerNotRunningError(
                        f"{proc.name} exited; last log lines:\n{proc.log_tail()}"
                    )
    except KeyboardInterrupt:
        console.print("\nstopping...")
    finally:
        for proc in reversed(procs):
            proc.stop()
        server.stop()
        console.print("[green]✓[/] everything stopped")
