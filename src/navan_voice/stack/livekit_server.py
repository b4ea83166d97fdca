"""livekit-server on this machine: install (from its Go module, cached), start in --dev mode on
loopback, wait until it answers, stop cleanly."""

from __future__ import annotations

import logging
import signal
from dataclasses import dataclass
from pathlib import Path

from navan_voice.config import PROJECT_ROOT, Settings
from navan_voice.domain.errors import PortInUseError, ServerNotRunningError
from navan_voice.stack import binaries
from navan_voice.stack.processes import ManagedProcess, free_port, http_ok, require_free_port

logger = logging.getLogger(__name__)

INSTALL_SCRIPT = PROJECT_ROOT / "scripts" / "install-livekit-server.sh"


def cached_binary(settings: Settings) -> Path:
    return binaries.cached_binary(settings, "livekit-server", settings.livekit_server_version)


def ensure_server_binary(settings: Settings) -> Path:
    """The livekit-server binary for the configured version, built once and then cached."""
    return binaries.ensure_binary(
        settings,
        name="livekit-server",
        version=settings.livekit_server_version,
        script=INSTALL_SCRIPT,
    )


@dataclass(frozen=True)
class ServerPorts:
    """The ports one livekit-server uses (HTTP/WebSocket, RTC over TCP, RTC over UDP)."""

    http: int = 7880
    rtc_tcp: int = 7881
    rtc_udp: int = 7882

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.http}"


def server_config(ports: ServerPorts, api_key: str, api_secret: str, redis: str = "") -> str:
    """The YAML config for a loopback-only server (``redis``: host:port, needed by livekit-sip)."""
    lines = [
        f"port: {ports.http}",
        "bind_addresses: ['127.0.0.1']",
        "rtc:",
        f"  tcp_port: {ports.rtc_tcp}",
        f"  udp_port: {ports.rtc_udp}",
        "  node_ip: 127.0.0.1",
        "  use_external_ip: false",
        "keys:",
        f"  {api_key}: {api_secret}",
        "logging:",
        "  level: info",
        "room:",
        "  empty_timeout: 60",
        "  departure_timeout: 10",
    ]
    if redis:
        lines += ["redis:", f"  address: {redis}"]
    return "\n".join(lines) + "\n"


class LiveKitServer:
    """One livekit-server process in --dev mode on loopback."""

    def __init__(
        self,
        settings: Settings,
        ports: ServerPorts | None = None,
        redis: str = "",
        run_dir: Path | None = None,
    ) -> None:
        self.settings = settings
        self.ports = ports or ServerPorts()
        self.redis = redis
        self.run_dir = run_dir or settings.data_dir / "run"
        self._proc: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return self.ports.url

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self, timeout: float = 30.0) -> None:
        binary = ensure_server_binary(self.settings)
        require_free_port(self.ports.http, "livekit-server (HTTP/WebSocket)")
        require_free_port(self.ports.rtc_tcp, "livekit-server (RTC over TCP)")
        require_free_port(self.ports.rtc_udp, "livekit-server (RTC over UDP)", udp=True)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        config = self.run_dir / f"livekit-{self.ports.http}.yaml"
        config.write_text(
            server_config(
                self.ports,
                self.settings.livekit_api_key,
                self.settings.livekit_api_secret.get_secret_value(),
                self.redis,
            )
        )
        self._proc = ManagedProcess(
            name="livekit-server",
            argv=[str(binary), "--dev", "--config", str(config), "--node-ip", "127.0.0.1"],
            log_path=self.run_dir / f"livekit-{self.ports.http}.log",
            # SIGTERM makes the server drain for a long while; SIGINT exits in about a second
            stop_signal=signal.SIGINT,
        )
        self._proc.start()
        health = f"http://127.0.0.1:{self.ports.http}/"
        self._proc.wait_ready(lambda: http_ok(health), timeout, f"GET {health}")
        logger.info("livekit-server ready at %s (pid %s)", self.url, self._proc.pid)

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.stop()

    def __enter__(self) -> LiveKitServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_on_free_ports(settings: Settings, run_dir: Path, attempts: int = 3) -> LiveKitServer:
    """A started livekit-server on free loopback ports (tests, benchmarks).

    ``free_port()`` only finds a port free *now*: another process (a WebRTC client's ephemeral
    UDP socket, say) can take it before the server binds, and the server exits with "address
    already in use". So a failed start is retried on fresh ports."""
    for attempt in range(1, attempts + 1):
        ports = ServerPorts(http=free_port(), rtc_tcp=free_port(), rtc_udp=free_port())
        server = LiveKitServer(settings, ports=ports, run_dir=run_dir)
        try:
            server.start()
            return server
        except (ServerNotRunningError, PortInUseError) as e:
            server.stop()
            if attempt == attempts:
                raise
            logger.warning("livekit-server did not start on %s (%s); trying new ports", ports, e)
    raise AssertionError("unreachable")  # the loop returns or raises
