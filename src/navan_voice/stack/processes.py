"""Start, watch and stop the background programs of the local stack.

We write this small supervisor ourselves because the stack is only a handful of processes that
must die with the command that started them; a full supervisor (systemd, honcho) would not
give the readiness checks and clear errors each of them needs.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from navan_voice.domain.errors import PortInUseError, ServerNotRunningError

logger = logging.getLogger(__name__)


def port_is_free(port: int, host: str = "127.0.0.1", udp: bool = False) -> bool:
    """True when nothing listens on ``host:port``."""
    kind = socket.SOCK_DGRAM if udp else socket.SOCK_STREAM
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def require_free_port(port: int, what: str, udp: bool = False) -> None:
    """Raise PortInUseError naming the port, what needs it, and how to find the culprit."""
    if not port_is_free(port, udp=udp):
        proto = "udp" if udp else "tcp"
        raise PortInUseError(
            f"port {port}/{proto} is needed by {what} but is already in use; stop the program "
            f"using it (find it with `ss -lptn 'sport = :{port}'`) or pick another port"
        )


def free_port() -> int:
    """A TCP port on loopback that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_ok(url: str, timeout: float = 1.0) -> bool:
    """True when ``url`` answers an HTTP GET with a status below 500."""
    try:
        return httpx.get(url, timeout=timeout).status_code < 500
    except httpx.HTTPError:
        return False


@dataclass
class ManagedProcess:
    """One background program: started with its output in a log file, stopped by its PID."""

    name: str
    argv: Sequence[str]
    log_path: Path
    env: dict[str, str] | None = None
    cwd: Path | None = None
    stop_signal: int = signal.SIGTERM
    proc: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        logger.info("starting %s: %s (log: %s)", self.name, " ".join(self.argv), self.log_path)
        # a new session, so Ctrl-C in the terminal reaches us first and we stop children in order
        self.proc = subprocess.Popen(
            list(self.argv),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(self.env or {})},
            cwd=self.cwd,
            start_new_session=True,
        )
        log.close()

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_ready(self, check: Callable[[], bool], timeout: float, what: str) -> None:
        """Poll ``check`` until it is true; on time-out or early exit, raise with the log tail."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return
            if not self.running():
                raise ServerNotRunningError(
                    f"{self.name} exited before it was ready ({what}); last log lines:\n"
                    + self.log_tail()
                )
            time.sleep(0.1)
        raise ServerNotRunningError(
            f"{self.name} did not become ready within {timeout:.0f}s ({what}); last log lines:\n"
            + self.log_tail()
        )

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(text[-lines:])

    def stop(self, timeout: float = 10.0) -> None:
        """Signal the process (it stops its own children), then SIGKILL the whole process
        group if anything is left after ``timeout`` seconds."""
        if self.proc is None or self.proc.poll() is not None:
            return
        logger.info("stopping %s (pid %s)", self.name, self.proc.pid)
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.proc.pid, self.stop_signal)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            logger.warning("%s did not stop in %.0fs; killing it", self.name, timeout)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
