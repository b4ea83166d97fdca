"""`navan-voice telephony …` (setup, status, teardown, sip) and the `call-out` command."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from livekit import api
from rich.console import Console
from rich.table import Table

from navan_voice.config import Settings, load_settings
from navan_voice.domain.errors import NavanError, ServerNotRunningError

logger = logging.getLogger(__name__)
console = Console(stderr=True)
telephony_app = typer.Typer(
    help="Phone calls over SIP: Twilio trunk provisioning and the local livekit-sip.",
    no_args_is_help=True,
)
T = TypeVar("T")

ACTION_STYLE = {
    "created": "green",
    "updated": "yellow",
    "unchanged": "dim",
    "deleted": "red",
    "absent": "dim",
}


def _with_api(settings: Settings, work: Callable[[api.LiveKitAPI], Awaitable[T]]) -> T:
    async def run() -> T:
        lk = api.LiveKitAPI(
            url=settings.livekit_http_url,
            api_key=settings.livekit_api_key,
            api_secret=settings.livekit_api_secret.get_secret_value(),
        )
        try:
            return await work(lk)
        except api.TwirpError as e:
            raise NavanError(
                f"the LiveKit server refused the request: {e.code}: {e.message}"
            ) from e
        except OSError as e:  # aiohttp's connection errors derive from OSError
            raise ServerNotRunningError(
                f"no LiveKit server answers at {settings.livekit_http_url} ({e}); start it with "
                "`navan-voice up` or set NAVAN_LIVEKIT_URL"
            ) from e
        finally:
            await lk.aclose()

    return asyncio.run(run())


def _fail(e: NavanError) -> typer.Exit:
    console.print(f"[bold red]error:[/] {e}")
    return typer.Exit(1)


@telephony_app.command()
def setup() -> None:
    """Create or update the inbound trunk, dispatch rule and outbound trunk (idempotent)."""
    from navan_voice.telephony.provision import setup as do_setup

    try:
        settings = load_settings()
        changes = _with_api(settings, lambda lk: do_setup(lk, settings))
    except NavanError as e:
        raise _fail(e) from e
    table = Table("object", "name", "id", "action", title="telephony setup")
    for c in changes:
        table.add_row(c.kind, c.name, c.id, f"[{ACTION_STYLE[c.action]}]{c.action}[/]")
    Console().print(table)


@telephony_app.command()
def status() -> None:
    """Show every SIP trunk and dispatch rule on the server."""
    from navan_voice.telephony.provision import status as do_status

    try:
        settings = load_settings()
        rows = _with_api(settings, do_status)
    except NavanError as e:
        raise _fail(e) from e
    table = Table("object", "name", "id", "details", title=f"SIP on {settings.livekit_url}")
    for r in rows:
        table.add_row(r.kind, r.name, r.id, r.detail)
    if not rows:
        console.print("no SIP trunks or dispatch rules; run `navan-voice telephony setup`")
    Console().print(table)


@telephony_app.command()
def teardown() -> None:
    """Delete the trunks and the dispatch rule that `setup` made."""
    from navan_voice.telephony.provision import teardown as do_teardown

    try:
        settings = load_settings()
        changes = _with_api(settings, lambda lk: do_teardown(lk, settings))
    except NavanError as e:
        raise _fail(e) from e
    table = Table("object", "name", "id", "action", title="telephony teardown")
    for c in changes:
        table.add_row(c.kind, c.name, c.id, f"[{ACTION_STYLE[c.action]}]{c.action}[/]")
    Console().print(table)


@telephony_app.command()
def sip() -> None:
    """Run Redis, livekit-server and livekit-sip here until Ctrl-C (for a trunk or sipp)."""
    from navan_voice.stack.sip import PhoneStack

    try:
        settings = load_settings()
        stack = PhoneStack(settings)
        with console.status("starting redis, livekit-server and livekit-sip..."):
            stack.start()
    except NavanError as e:
        raise _fail(e) from e
    console.print(
        f"[green]✓[/] livekit-server {stack.url}; livekit-sip {stack.sip.sip_uri} "
        f"(RTP {stack.sip.ports.rtp_start}-{stack.sip.ports.rtp_end}); Ctrl-C stops both"
    )
    try:
        while stack.sip._proc is not None and stack.sip._proc.running():
            time.sleep(1)
        console.print(f"[red]livekit-sip exited[/]; see {stack.sip.log_path}")
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()


def call_out(
    number: Annotated[str, typer.Argument(help="E.164 number to call, e.g. +15551234567")],
    message: Annotated[
        str, typer.Option("--message", "-m", help="the notice the agent speaks first")
    ] = "This is Navan with an update about your trip.",
) -> None:
    """Place an outbound call: the agent speaks MESSAGE, then takes questions."""
    from navan_voice.telephony.calls import call_out as do_call_out

    try:
        settings = load_settings()
        with console.status(f"calling {number}..."):
            call = _with_api(
                settings, lambda lk: do_call_out(lk, settings, number=number, message=message)
            )
    except NavanError as e:
        raise _fail(e) from e
    console.print(f"[green]✓[/] {number} answered; the agent is in room {call.room}")
