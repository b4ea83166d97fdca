"""The `navan-voice` command (Typer + Rich).

Heavy modules (livekit, models) are imported inside the commands so `--help` stays fast.
Every NavanError is shown as one red message with what to do, and the command exits 1.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

from navan_voice.approvals_cli import approvals_app
from navan_voice.cli_errors import friendly_errors
from navan_voice.config import Settings, load_settings
from navan_voice.telephony.cli import call_out, telephony_app

app = typer.Typer(
    name="navan-voice",
    help="Navan's voice AI support agent on the open-source LiveKit stack.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Travel database: migrations and demo data.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(telephony_app, name="telephony")
app.add_typer(approvals_app, name="approvals")
app.command("call-out")(call_out)

console = Console(stderr=True)


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level,
        format="%(name)s: %(message)s",
        handlers=[RichHandler(console=console, show_path=False, rich_tracebacks=False)],
        force=True,
    )
    for noisy in ("httpx", "httpcore", "asyncio", "websockets", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _settings() -> Settings:
    settings = load_settings()
    _setup_logging(settings.log_level)
    return settings


@app.command()
@friendly_errors
def install() -> None:
    """Build (or find cached) everything the local stack needs: livekit-server, the database."""
    from navan_voice.stack.livekit_server import ensure_server_binary

    settings = _settings()
    with console.status("livekit-server: building from its Go module if not cached..."):
        path = ensure_server_binary(settings)
    console.print(f"[green]✓[/] livekit-server {settings.livekit_server_version}: {path}")
    _prepare_database(settings)


def _prepare_database(settings: Settings) -> None:
    from navan_voice.db.engine import upgrade_database
    from navan_voice.db.seed import seed_database

    with console.status("database: migrating and seeding demo data..."):
        upgrade_database(settings.effective_database_url)
        seed_database(settings.effective_database_url)
    console.print(f"[green]✓[/] database ready: {settings.effective_database_url}")


@db_app.command("upgrade")
@friendly_errors
def db_upgrade() -> None:
    """Apply the database migrations."""
    from navan_voice.db.engine import upgrade_database

    settings = _settings()
    upgrade_database(settings.effective_database_url)
    console.print(f"[green]✓[/] migrated {settings.effective_database_url}")


@db_app.command("seed")
@friendly_errors
def db_seed() -> None:
    """Migrate, then load the demo companies, travelers and trips (idempotent)."""
    _prepare_database(_settings())


@app.command()
@friendly_errors
def server() -> None:
    """Run livekit-server alone, in the foreground (--dev mode on loopback)."""
    import time

    from navan_voice.stack.livekit_server import LiveKitServer

    settings = _settings()
    srv = LiveKitServer(settings)
    with console.status("starting livekit-server..."):
        srv.start()
    console.print(f"[green]✓[/] livekit-server at {srv.url} (pid {srv.pid}); Ctrl-C stops it")
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        srv.stop()


@app.command()
@friendly_errors
def worker() -> None:
    """Run the agent worker: registers with livekit-server and takes dispatched calls."""
    from navan_voice.worker import run_worker

    settings = load_settings()  # livekit's runner sets up logging for the worker itself
    console.print(
        f"worker for agent [bold]{settings.agent_name}[/] → {settings.livekit_url} "
        f"(profile {settings.resolved_profile.value})"
    )
    run_worker(settings)


@app.command()
@friendly_errors
def up(
    workers: Annotated[int, typer.Option(help="How many worker processes to start.")] = 1,
    phone: Annotated[
        bool, typer.Option(help="Also start Redis + livekit-sip for phone calls (SIP on 5060).")
    ] = False,
) -> None:
    """Start the whole local stack (livekit-server + agent workers) until Ctrl-C."""
    from navan_voice.stack.up import run_stack

    settings = _settings()
    _prepare_database(settings)
    run_stack(settings, console, workers=workers, phone=phone)


@app.command()
@friendly_errors
def call(
    audio: Annotated[
        list[Path], typer.Option("--audio", "-a", help="WAV file(s) the caller speaks, in order.")
    ],
    out: Annotated[Path | None, typer.Option(help="Write the agent's audio to this WAV.")] = None,
    phone: Annotated[str, typer.Option(help="Caller number to present, e.g. +14155550123.")] = "",
    report: Annotated[Path | None, typer.Option(help="Write a JSON report here.")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each agent reply.")] = 60.0,
) -> None:
    """Place a call through the running stack: speak the WAV, print both sides and latencies."""
    from navan_voice.caller.client import run_call

    settings = _settings()
    with console.status("calling...") as status:

        def progress(msg: str) -> None:
            status.update(msg)
            console.log(msg)

        result = asyncio.run(
            run_call(
                settings, audio, out=out, phone=phone, progress=progress, reply_timeout=timeout
            )
        )
    table = Table(title=f"call {result.room}")
    table.add_column("at (s)", justify="right")
    table.add_column("who")
    table.add_column("said")
    for line in result.transcript:
        style = "cyan" if line.speaker == "caller" else "green"
        table.add_row(f"{line.at_s:.1f}", f"[{style}]{line.speaker}[/]", line.text)
    Console().print(table)
    lat = Table(title="latency: end of caller speech → first agent audio at the caller")
    lat.add_column("turn", justify="right")
    lat.add_column("seconds", justify="right")
    for i, value in enumerate(result.latencies_s, 1):
        lat.add_row(str(i), "no reply" if value is None else f"{value:.2f}")
    Console().print(lat)
    if out:
        console.print(f"agent audio written to {out} ({result.agent_audio_s:.1f}s of speech)")
    if report:
        report.write_text(result.to_json())
    if result.agent_audio_s == 0:
        console.print("[bold red]error:[/] the agent never spoke; check the worker's log")
        raise typer.Exit(1)


@app.command()
@friendly_errors
def transcribe(
    file: Annotated[Path, typer.Argument(help="Audio file, any rate, mono or stereo.")],
) -> None:
    """Print what the configured STT hears in FILE: a quick check of the speech stack."""
    from navan_voice.speech.transcribe import transcribe_file

    settings = _settings()
    with console.status(f"transcribing {file} with {', '.join(settings.chain('stt'))}..."):
        text = transcribe_file(file, settings)
    print(text)


def main() -> None:
    app(prog_name="navan-voice")


if __name__ == "__main__":
    main()
