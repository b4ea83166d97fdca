"""The real parts a benchmark runs on: livekit-server, agent workers, a seeded SQLite database.

Everything listens on loopback only, on free ports; every process started here is stopped by
its PID when the ``BenchStack`` context ends (also on Ctrl-C or an error).
"""

from __future__ import annotations

import logging
import os
import re
import signal
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from navan_voice.config import Settings, load_settings
from navan_voice.stack.livekit_server import LiveKitServer, start_on_free_ports
from navan_voice.stack.processes import ManagedProcess
from navan_voice.stack.up import REGISTERED_MARK, start_worker

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "bench" / "results"
READY_MARK = "job process ready"


def load_avg() -> tuple[float, float, float]:
    """The 1/5/15-minute load averages (recorded with every result: this machine is shared)."""
    one, five, fifteen = os.getloadavg()
    return (round(one, 2), round(five, 2), round(fifteen, 2))


@contextmanager
def patched_env(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the block and restore the old values after it."""
    old = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def seeded_database(run_dir: Path) -> str:
    """A fresh SQLite database under ``run_dir``, migrated and seeded with the demo data."""
    from navan_voice.db.engine import upgrade_database
    from navan_voice.db.seed import seed_database

    db_url = f"sqlite:///{run_dir / 'navan.db'}"
    upgrade_database(db_url)
    seed_database(db_url)
    return db_url


def worker_env(url: str, db_url: str, run_dir: Path, agent_prefix: str) -> dict[str, str]:
    """The NAVAN_* settings a benchmark's workers read: the server at ``url``, an agent name no
    other worker uses, the bench's database and data folder, no metrics port, no trace export."""
    return {
        "NAVAN_LIVEKIT_URL": url,
        "NAVAN_AGENT_NAME": f"{agent_prefix}-{uuid.uuid4().hex[:6]}",
        "NAVAN_DATABASE_URL": db_url,
        "NAVAN_PROFILE": "local",
        "NAVAN_DATA_DIR": str(run_dir / "data"),
        "NAVAN_PROMETHEUS_PORT": "0",
        "NAVAN_OTLP_ENDPOINT": "",
    }


@dataclass
class BenchStack(AbstractContextManager["BenchStack"]):
    """A livekit-server and workers on free loopback ports, for one benchmark.

    ``env`` adds NAVAN_* settings for the workers (e.g. NAVAN_WORKER_MAX_CALLS).
    """

    name: str
    env: dict[str, str] = field(default_factory=dict)
    run_dir: Path = field(init=False)
    server: LiveKitServer | None = field(default=None, init=False)
    workers: list[ManagedProcess] = field(default_factory=list, init=False)
    settings: Settings | None = field(default=None, init=False)
    _env_ctx: AbstractContextManager[None] | None = field(default=None, init=False)

    def __enter__(self) -> BenchStack:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        self.run_dir = RESULTS / "runs" / f"{self.name}-{stamp}-{uuid.uuid4().hex[:4]}"
        self.run_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def _start(self) -> None:
        db_url = seeded_database(self.run_dir)
        base = load_settings(profile="local")
        server = self.server = start_on_free_ports(base, self.run_dir)
        env = {**worker_env(server.url, db_url, self.run_dir, "navan-bench"), **self.env}
        self._env_ctx = patched_env(env)
        self._env_ctx.__enter__()
        self.settings = load_settings()
        logger.info("livekit-server at %s, agent name %s", server.url, env["NAVAN_AGENT_NAME"])

    def start_worker(self, index: int = 0, *, nice: int = 0) -> ManagedProcess:
        """Start the real `navan-voice worker` and wait until it registers (``nice``: see
        ``stack.up.start_worker``)."""
        assert self.settings is not None
        log = self.run_dir / f"worker-{index}.log"
        proc = start_worker(self.settings, self.settings.livekit_url, log, index, nice=nice)
        self.workers.append(proc)
        return proc

    def start_standin_worker(
        self, index: int = 0, *, executor: str = "process", greeting_s: float = 8.0
    ) -> ManagedProcess:
        """Start the bench-only worker with instant stand-in models and wait until it registers."""
        assert self.settings is not None
        log = self.run_dir / f"standin-worker-{index}.log"
        proc = ManagedProcess(
            name=f"standin-worker-{index}",
            argv=[sys.executable, "-m", "bench.e2e.standin_worker"],
            log_path=log,
            env={"BENCH_STANDIN_EXECUTOR": executor, "BENCH_STANDIN_GREETING_S": str(greeting_s)},
            cwd=REPO,
        )
        self.workers.append(proc)
        proc.start()
        proc.wait_ready(lambda: REGISTERED_MARK in _read(log), 180.0, "registration")
        return proc

    def wait_job_processes(self, proc: ManagedProcess, count: int, timeout: float) -> int:
        """Wait until ``count`` prewarmed job processes logged that they are ready."""
        return wait_job_processes(proc, count, timeout)

    def close(self) -> None:
        """Stop every process this stack started, by PID; a second Ctrl-C cannot cut it short."""
        main = threading.current_thread() is threading.main_thread()
        old = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
        try:
            for proc in reversed(self.workers):
                try:
                    proc.stop(timeout=15.0)
                except Exception:  # keep stopping the rest
                    logger.exception("could not stop %s", proc.name)
            self.workers.clear()
            if self.server is not None:
                try:
                    self.server.stop()
                except Exception:
                    logger.exception("could not stop livekit-server")
                self.server = None
        finally:
            if old is not None:
                signal.signal(signal.SIGINT, old)
        if self._env_ctx is not None:
            self._env_ctx.__exit__(None, None, None)
            self._env_ctx = None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def wait_job_processes(proc: ManagedProcess, count: int, timeout: float) -> int:
    """Wait until ``count`` prewarmed job processes of ``proc`` (a worker) logged that they
    are ready; returns how many did."""
    deadline = time.monotonic() + timeout
    ready = 0
    while time.monotonic() < deadline:
        ready = len(re.findall(READY_MARK, _read(proc.log_path)))
        if ready >= count:
            break
        if not proc.running():
            raise RuntimeError(f"{proc.name} exited:\n{proc.log_tail()}")
        time.sleep(0.5)
    logger.info("%s: %d/%d job processes ready", proc.name, ready, count)
    return ready


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


# --- memory of a process tree, from /proc ------------------------------------------------------
def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            text = (task / "children").read_text()
            out.extend(int(p) for p in text.split())
    except OSError:
        pass
    return out


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    seen: list[int] = []
    todo = [pid]
    while todo:
        current = todo.pop()
        seen.append(current)
        todo.extend(_children(current))
    return seen


def memory_kib(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in KiB; PSS shares common pages fairly between processes."""
    rss = pss = 0
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Rss:"):
                rss = int(line.split()[1])
            elif line.startswith("Pss:"):
                pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


@dataclass
class TreeMemory:
    processes: int
    rss_mib: float
    pss_mib: float


def tree_memory(pid: int | None) -> TreeMemory:
    """Memory of a worker and its job processes."""
    if pid is None:
        return TreeMemory(0, 0.0, 0.0)
    pids = process_tree(pid)
    totals = [memory_kib(p) for p in pids]
    return TreeMemory(
        processes=len(pids),
        rss_mib=round(sum(r for r, _ in totals) / 1024, 1),
        pss_mib=round(sum(p for _, p in totals) / 1024, 1),
    )


_CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds one process has used (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK  # utime, stime


class TreeCpu:
    """CPU used by a process tree since construction, summed over samples (a process that
    ends keeps what it had used up to the last sample; one that appears counts in full)."""

    def __init__(self, pid: int | None) -> None:
        self.pid = pid
        self.total = 0.0
        self.last: dict[int, float] = {}
        # samples may come from a thread (the bench samples off its event loop) and the loop
        self._lock = threading.Lock()
        if pid is not None:
            self.last = {p: cpu_seconds(p) for p in process_tree(pid)}

    def sample(self) -> float:
        if self.pid is None:
            return 0.0
        with self._lock:
            for p in process_tree(self.pid):
                now = cpu_seconds(p)
                self.total += max(0.0, now - self.last.get(p, 0.0))
                self.last[p] = now
            return self.total
