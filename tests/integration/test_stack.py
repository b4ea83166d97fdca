"""The local stack's processes: the server starts, answers, refuses a taken port, stops."""

from __future__ import annotations

from pathlib import Path

import pytest

from navan_voice.config import load_settings
from navan_voice.domain.errors import PortInUseError
from navan_voice.stack.livekit_server import LiveKitServer, ServerPorts, ensure_server_binary
from navan_voice.stack.processes import free_port, http_ok

pytestmark = pytest.mark.integration


def test_binary_is_cached_by_version() -> None:
    settings = load_settings()
    path = ensure_server_binary(settings)
    assert path.name == f"livekit-server-{settings.livekit_server_version}"
    assert ensure_server_binary(settings) == path  # second call: the cached file


def test_server_starts_answers_and_stops(tmp_path: Path) -> None:
    ports = ServerPorts(free_port(), free_port(), free_port())
    server = LiveKitServer(load_settings(), ports=ports, run_dir=tmp_path)
    server.start()
    health = f"http://127.0.0.1:{ports.http}/"
    try:
        assert http_ok(health)
    finally:
        server.stop()
    assert not http_ok(health)


def test_port_in_use_is_refused_by_name(livekit_server: LiveKitServer, tmp_path: Path) -> None:
    taken = livekit_server.ports.http
    clash = LiveKitServer(
        load_settings(), ports=ServerPorts(taken, free_port(), free_port()), run_dir=tmp_path
    )
    with pytest.raises(PortInUseError, match=f"port {taken}/tcp"):
        clash.start()


def test_a_port_taken_before_the_server_binds_is_retried_on_new_ones(
    livekit_server: LiveKitServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import navan_voice.stack.livekit_server as module

    # the first port handed out is one a running server already holds: the race, made certain
    handed = iter([livekit_server.ports.http])
    monkeypatch.setattr(module, "free_port", lambda: next(handed, None) or free_port())
    server = module.start_on_free_ports(load_settings(), tmp_path)
    try:
        assert server.ports.http != livekit_server.ports.http
        assert http_ok(f"http://127.0.0.1:{server.ports.http}/")
    finally:
        server.stop()
