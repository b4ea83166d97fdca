"""`navan-voice approvals …`: a manager lists the flight changes waiting for approval, and
approves (the change is made) or rejects them."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from navan_voice.cli_errors import console, friendly_errors
from navan_voice.config import load_settings
from navan_voice.db.engine import SessionFactory, make_session_factory, require_current_schema
from navan_voice.domain.models import ApprovalStatus, format_money

approvals_app = typer.Typer(
    help="Flight changes above a company's approval limit: list, approve, reject.",
    no_args_is_help=True,
)


def _db() -> SessionFactory:
    url = load_settings().effective_database_url
    require_current_schema(url)  # a manager's command never changes the schema itself
    return make_session_factory(url)


@approvals_app.command("list")
@friendly_errors
def list_command(
    all_: Annotated[bool, typer.Option("--all", help="Decided requests too.")] = False,
) -> None:
    """The requests waiting for a decision (oldest first)."""
    from navan_voice.services import approvals

    rows = approvals.list_approvals(db=_db(), status=None if all_ else ApprovalStatus.PENDING)
    if not rows:
        console.print("no approval requests" + ("" if all_ else " waiting"))
        return
    table = Table(title="approval requests")
    for column in ("id", "status", "traveler", "booked", "asked for", "cost", "why", "filed"):
        table.add_column(column)
    for a in rows:
        status = a.status.value + (f" by {a.decided_by}" if a.decided_by else "")
        if a.status is ApprovalStatus.PENDING and a.flight_left:
            status += " (the flight asked for left)"
        if a.told_on_call:
            status += f", traveler told on call {a.told_on_call}"
        table.add_row(
            str(a.id), status, f"{a.traveler} ({a.company})", a.booked_flight,
            f"{a.requested_flight}, {a.cabin.value.replace('_', ' ')}",
            format_money(a.total_due_cents), a.reason, f"{a.created_at_utc:%Y-%m-%d %H:%M} UTC",
        )  # fmt: skip
    Console().print(table)


@approvals_app.command("approve")
@friendly_errors
def approve_command(
    approval_id: Annotated[int, typer.Argument(help="The request's id (`approvals list`).")],
    by: Annotated[str, typer.Option("--by", help="Who approves, for the audit log.")],
) -> None:
    """Approve a request: the flight is changed now, priced again."""
    from navan_voice.services import approvals

    result = approvals.approve(db=_db(), approval_id=approval_id, decided_by=by)
    charged = format_money(result.quote.total_due_cents)
    console.print(
        f"[green]✓[/] request {approval_id} approved: now on {result.segment.label} "
        f"({charged} charged)"
    )


@approvals_app.command("reject")
@friendly_errors
def reject_command(
    approval_id: Annotated[int, typer.Argument(help="The request's id (`approvals list`).")],
    by: Annotated[str, typer.Option("--by", help="Who rejects, for the audit log.")],
    why: Annotated[str, typer.Option("--why", help="Why, kept with the request.")] = "",
) -> None:
    """Reject a request: the booking stays as it is."""
    from navan_voice.services import approvals

    rejected = approvals.reject(db=_db(), approval_id=approval_id, decided_by=by, why=why)
    console.print(
        f"[yellow]✗[/] request {approval_id} rejected; {rejected.traveler} stays on "
        f"{rejected.booked_flight}"
    )
