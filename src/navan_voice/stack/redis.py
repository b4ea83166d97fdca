"""Redis for the local stack: livekit-server and livekit-sip meet through it.

Started from Debian's ``redis-server`` on a loopback port, with no persistence (no RDB, no AOF):
it only carries the servers' message bus and room state, which a restart may lose.
"""

from __future__ import annotations

import logging
import shutil
import socket
from pathlib import Path

from navan_voice.domain.errors import SetupError
from navan_voice.stack.processes import ManagedProcess, free_port, require_free_port

logger = logging.getLogger(__name__)


def redis_ping(address: str, timeout: float = 1.0) -> bool:
    """True when the Redis at ``host:port`` answers PING with PONG."""
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except (OSError, ValueError):
        return False


class RedisServer:
    """One redis-server on 127.0.0.1, without persistence, stopped by its PID."""

    def __init__(self, run_dir: Path, port: int = 0) -> None:
        self.run_dir = run_dir
        self.port = port or free_port()
        self._proc: ManagedProcess | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self, timeout: float = 10.0) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise SetupError(
                "redis-server is not installed; livekit-sip needs Redis shared with "
                "livekit-server (Debian: apt-get install redis-server, or scripts/"
                "install-system-deps.sh)"
            )
        require_free_port(self.port, "redis-server")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._proc = ManagedProcess(
            name="redis-server",
            argv=[
                binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.run_dir),
                "--protected-mode",
                "yes",
            ],
            log_path=self.run_dir / f"redis-{self.port}.log",
        )
        self._proc.start()
        self._proc.wait_ready(lambda: redis_ping(self.address), timeout, "PING")
        logger.info("redis ready at %s (pid %s)", self.address, self._proc.pid)

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.stop()

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
