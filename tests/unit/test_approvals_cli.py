"""`navan-voice approvals list|approve|reject` on a real SQLite database."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.services.test_approvals import filed
from typer.testing import CliRunner

from navan_voice.cli import app
from navan_voice.db.engine import make_session_factory
from navan_voice.db.seed import seed_database

pytestmark = pytest.mark.unit


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    seed_database(url)
    monkeypatch.setenv("NAVAN_DATABASE_URL", url)
    monkeypatch.setenv("COLUMNS", "400")  # one table row per line
    return url


def test_a_manager_lists_then_approves(url: str) -> None:
    approval_id, _, _ = filed(make_session_factory(url))
    runner = CliRunner()
    listed = runner.invoke(app, ["approvals", "list"])
    assert listed.exit_code == 0, listed.output
    assert "Alex Rivera" in listed.output and "UA 1542" in listed.output
    done = runner.invoke(app, ["approvals", "approve", str(approval_id), "--by", "Dana"])
    assert done.exit_code == 0, done.output
    assert f"request {approval_id} approved" in done.output
    assert "no approval requests waiting" in runner.invoke(app, ["approvals", "list"]).output
    from navan_voice.db.seed import DEMO_PHONE
    from navan_voice.services import approvals, identity

    db = make_session_factory(url)
    alex = identity.identify_by_phone(db=db, phone=DEMO_PHONE)
    assert alex is not None
    approvals.decisions_to_tell(db=db, traveler_id=alex.id, call_id="call-b")
    listed = runner.invoke(app, ["approvals", "list", "--all"])
    assert "approved by Dana, traveler told on call call-b" in listed.output


def test_deciding_twice_is_one_red_line_and_exit_1(url: str) -> None:
    approval_id, _, _ = filed(make_session_factory(url))
    runner = CliRunner()
    first = runner.invoke(app, ["approvals", "reject", str(approval_id), "--by", "Dana"])
    assert first.exit_code == 0 and "stays on UA 1542" in first.output
    again = runner.invoke(app, ["approvals", "approve", str(approval_id), "--by", "Sam"])
    assert again.exit_code == 1
    assert "already rejected by Dana" in again.output and "Traceback" not in again.output


def test_a_database_behind_the_schema_is_refused_with_the_command_to_fix_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from navan_voice.db.engine import upgrade_database

    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade_database(url, "0100_recordings")  # before approvals kept their decisions
    monkeypatch.setenv("NAVAN_DATABASE_URL", url)
    result = CliRunner().invoke(app, ["approvals", "list"])
    assert result.exit_code == 1 and "navan-voice db upgrade" in result.output


def test_a_database_that_cannot_be_reached_is_one_red_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NAVAN_DATABASE_URL", "postgresql://nobody@127.0.0.1:9/none")
    result = CliRunner().invoke(app, ["approvals", "list"])
    assert result.exit_code == 1, result.output
    assert "NAVAN_DATABASE_URL" in result.output and "Traceback" not in result.output


def test_a_mistyped_sqlite_path_is_refused_and_no_file_is_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    typo = tmp_path / "typo.db"
    monkeypatch.setenv("NAVAN_DATABASE_URL", f"sqlite:///{typo}")
    result = CliRunner().invoke(app, ["approvals", "list"])
    assert result.exit_code == 1 and "no database at" in result.output
    assert not typo.exists()
