"""livekit-sip on this machine: install (from its Go module with cgo, cached), write its YAML
config, start it next to livekit-server with the Redis they share, wait until it answers, stop.

``PhoneStack`` starts the three together (Redis → livekit-server → livekit-sip) and stops them in
reverse order: it is what `navan-voice up --phone` and the SIP tests use.
"""

from __future__ import annotations

import logging
import signal
from dataclasses import dataclass
from pathlib import Path

from navan_voice.config import PROJECT_ROOT, Settings
from navan_voice.stack import binaries
from navan_voice.stack.livekit_server import LiveKitServer, ServerPorts
from navan_voice.stack.processes import ManagedProcess, free_port, require_free_port
from navan_voice.stack.redis import RedisServer

logger = logging.getLogger(__name__)

INSTALL_SCRIPT = PROJECT_ROOT / "scripts" / "install-livekit-sip.sh"


def cached_sip_binary(settings: Settings) -> Path:
    return binaries.cached_binary(settings, "livekit-sip", settings.livekit_sip_version)


def ensure_sip_binary(settings: Settings) -> Path:
    """The livekit-sip binary for the configured version, built once and then cached."""
    return binaries.ensure_binary(
        settings,
        name="livekit-sip",
        version=settings.livekit_sip_version,
        script=INSTALL_SCRIPT,
        needs="Go 1.26 and Debian's libopus-dev libopusfile-dev libsoxr-dev pkg-config",
    )


@dataclass(frozen=True)
class SipPorts:
    """livekit-sip's SIP signalling port, its RTP range and its health-check port."""

    sip: int = 5060
    rtp_start: int = 10000
    rtp_end: int = 20000
    health: int = 0  # 0: pick a free one at start

    @classmethod
    def from_settings(cls, settings: Settings) -> SipPorts:
        return cls(settings.sip_port, settings.sip_rtp_port_start, settings.sip_rtp_port_end)


def sip_config(
    *, api_key: str, api_secret: str, ws_url: str, redis: str, ports: SipPorts, health_port: int
) -> str:
    """livekit-sip's YAML: loopback only, no STUN look-up of a public address."""
    lines = [
        f"api_key: {api_key}",
        f"api_secret: {api_secret}",
        f"ws_url: {ws_url}",
        "redis:",
        f"  address: {redis}",
        f"sip_port: {ports.sip}",
        "rtp_port:",
        f"  start: {ports.rtp_start}",
        f"  end: {ports.rtp_end}",
        f"health_port: {health_port}",
        "use_external_ip: false",
        # the address written into SDP and Contact headers, and the one SIP listens on
        "nat_1_to_1_ip: 127.0.0.1",
        "listen_ip: 127.0.0.1",
        # a closed call's RTP port is kept draining for 30 s by default; tests reuse ports sooner
        "rtp_draining_idle_timeout: 2s",
        # livekit-sip refuses calls (and reports unhealthy) above 90% CPU by default; a
        # 2-core box running the agent's models is often that busy, so never refuse for load
        "max_cpu_utilization: 1.0",
        "logging:",
        "  level: debug",
    ]
    return "\n".join(lines) + "\n"


class LiveKitSip:
    """One livekit-sip process attached to a livekit-server through Redis."""

    def __init__(
        self,
        settings: Settings,
        *,
        ws_url: str,
        redis: str,
        ports: SipPorts | None = None,
        run_dir: Path | None = None,
    ) -> None:
        self.settings = settings
        self.ws_url = ws_url
        self.redis = redis
        self.ports = ports or SipPorts.from_settings(settings)
        self.run_dir = run_dir or settings.data_dir / "run"
        self.health_port = self.ports.health or free_port()
        self._proc: ManagedProcess | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def log_path(self) -> Path:
        return self.run_dir / f"livekit-sip-{self.ports.sip}.log"

    @property
    def sip_uri(self) -> str:
        """Where a SIP trunk (Twilio's origination URI, sipp) sends its INVITEs."""
        return f"sip:127.0.0.1:{self.ports.sip}"

    def start(self, timeout: float = 30.0) -> None:
        binary = ensure_sip_binary(self.settings)
        require_free_port(self.ports.sip, "livekit-sip (SIP over UDP)", udp=True)
        require_free_port(self.ports.sip, "livekit-sip (SIP over TCP)")
        require_free_port(self.health_port, "livekit-sip (health check)")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        config = self.run_dir / f"livekit-sip-{self.ports.sip}.yaml"
        config.write_text(
            sip_config(
                api_key=self.settings.livekit_api_key,
                api_secret=self.settings.livekit_api_secret.get_secret_value(),
                ws_url=self.ws_url,
                redis=self.redis,
                ports=self.ports,
                health_port=self.health_port,
            )
        )
        self._proc = ManagedProcess(
            name="livekit-sip",
            argv=[str(binary), "--config", str(config)],
            log_path=self.log_path,
            stop_signal=signal.SIGINT,
        )
        self._proc.start()
        health = f"http://127.0.0.1:{self.health_port}/"
        self._proc.wait_ready(lambda: _healthy(health), timeout, f"GET {health}")
        logger.info("livekit-sip ready at %s (pid %s)", self.sip_uri, self._proc.pid)

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.stop()

    def __enter__(self) -> LiveKitSip:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _healthy(url: str) -> bool:
    import httpx

    try:
        return httpx.get(url, timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


class PhoneStack:
    """Redis, livekit-server (with that Redis) and livekit-sip, started and stopped together."""

    def __init__(
        self,
        settings: Settings,
        *,
        server_ports: ServerPorts | None = None,
        sip_ports: SipPorts | None = None,
        run_dir: Path | None = None,
    ) -> None:
        self.settings = settings
        self.run_dir = run_dir or settings.data_dir / "run"
        self.redis: RedisServer | None = None
        redis = settings.redis_address
        if not redis:
            self.redis = RedisServer(self.run_dir)
            redis = self.redis.address
        self.server = LiveKitServer(settings, ports=server_ports, redis=redis, run_dir=self.run_dir)
        self.sip = LiveKitSip(
            settings, ws_url=self.server.url, redis=redis, ports=sip_ports, run_dir=self.run_dir
        )

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> None:
        try:
            if self.redis is not None:
                self.redis.start()
            self.server.start()
            self.sip.start()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        self.sip.stop()
        self.server.stop()
        if self.redis is not None:
            self.redis.stop()

    def __enter__(self) -> PhoneStack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
