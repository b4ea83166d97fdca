"""Real parts for the web end-to-end tests: livekit-server, the test web worker, the web app,
and headless Debian Chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.integration.conftest import (  # noqa: F401  (fixtures shared with integration)
    database_url,
    livekit_server,
    run_dir,
)

from navan_voice.stack.livekit_server import LiveKitServer
from navan_voice.stack.processes import ManagedProcess, free_port, http_ok

ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = ROOT / "artifacts" / "web"
CHROMIUM = Path("/usr/bin/chromium")
BUNDLE = ROOT / "src/navan_voice/web/static/dist/call.js"
DASHBOARD_PASSWORD = "e2e-dashboard-password"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
FAKE_MEDIA_FLAGS = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]


@dataclass(frozen=True)
class WebStack:
    url: str  # the web app, e.g. http://127.0.0.1:PORT
    agent_name: str
    database_url: str
    worker_log: Path
    web_log: Path


def _env(server: LiveKitServer, db_url: str, agent: str, port: int) -> dict[str, str]:
    return {
        "NAVAN_LIVEKIT_URL": server.url,
        "NAVAN_AGENT_NAME": agent,
        "NAVAN_DATABASE_URL": db_url,
        "NAVAN_PROFILE": "local",
        "NAVAN_WEB_PORT": str(port),
        "NAVAN_WEB_SECRET": "e2e-secret-" + uuid.uuid4().hex,
        "NAVAN_DASHBOARD_PASSWORD": DASHBOARD_PASSWORD,
        "NAVAN_AVATAR": "local",
        "NAVAN_WORKER_IDLE_PROCESSES": "1",
    }


TEST_WORKER = [sys.executable, "-m", "tests.e2e.web.web_worker"]
REAL_WORKER = [sys.executable, "-m", "navan_voice.cli", "worker"]


@pytest.fixture(scope="module")
def web_stack(
    livekit_server: LiveKitServer,  # noqa: F811
    database_url: str,  # noqa: F811
    run_dir: Path,  # noqa: F811
) -> Iterator[WebStack]:
    """The web app and the test web worker, registered with the test livekit-server."""
    yield from _web_stack(livekit_server, database_url, run_dir, TEST_WORKER)


@pytest.fixture(scope="module")
def real_web_stack(
    livekit_server: LiveKitServer,  # noqa: F811
    database_url: str,  # noqa: F811
    run_dir: Path,  # noqa: F811
) -> Iterator[WebStack]:
    """The web app and the real worker (`navan-voice worker`: local models, the offline
    dialogue engine, the travel agents, the recorder), as `make run` starts them."""
    yield from _web_stack(livekit_server, database_url, run_dir, REAL_WORKER)


def _web_stack(
    livekit_server: LiveKitServer,  # noqa: F811
    database_url: str,  # noqa: F811
    run_dir: Path,  # noqa: F811
    worker_argv: list[str],
) -> Iterator[WebStack]:
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is missing: run `make install`")
    if not BUNDLE.exists():
        pytest.skip("the call page bundle is missing: run scripts/build-web.sh")
    agent = f"navan-web-{uuid.uuid4().hex[:6]}"
    port = free_port()
    env = _env(livekit_server, database_url, agent, port)
    env["NAVAN_DATA_DIR"] = str(run_dir / agent)  # recordings of the real worker's calls
    worker = ManagedProcess(
        name="web-worker",
        argv=worker_argv,
        log_path=run_dir / f"{agent}-worker.log",
        env=env,
        cwd=ROOT,
    )
    web = ManagedProcess(
        name="web-app",
        argv=[sys.executable, "-m", "navan_voice.web"],
        log_path=run_dir / f"{agent}-web.log",
        env=env,
        cwd=ROOT,
    )
    try:
        worker.start()
        web.start()
        web.wait_ready(lambda: http_ok(f"http://127.0.0.1:{port}/healthz"), 60, "web app")
        worker.wait_ready(
            lambda: "worker registered" in worker.log_path.read_text(errors="replace"),
            180,
            "worker registration",
        )
        yield WebStack(
            f"http://127.0.0.1:{port}", agent, database_url, worker.log_path, web.log_path
        )
    finally:
        web.stop()
        worker.stop()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for proc in (worker, web):
            if proc.log_path.exists():
                shutil.copy(proc.log_path, ARTIFACTS / proc.log_path.name)


def caller_audio(
    text: str, path: Path, lead_silence_s: float = 1.5, tail_silence_s: float = 25.0
) -> Path:
    """Caller speech (flite) as 48 kHz WAV with silence around it: Chromium loops the file."""
    raw = path.with_suffix(".raw.wav")
    subprocess.run(["flite", "-t", text, "-o", str(raw)], check=True)
    subprocess.run(
        [
            "sox",
            str(raw),
            "-r",
            "48000",
            "-b",
            "16",
            "-c",
            "1",
            str(path),
            "pad",
            str(lead_silence_s),
            str(tail_silence_s),
        ],
        check=True,
    )
    return path


def silence(path: Path, seconds: float = 30.0) -> Path:
    subprocess.run(
        ["sox", "-n", "-r", "48000", "-b", "16", "-c", "1", str(path), "trim", "0", str(seconds)],
        check=True,
    )
    return path


BrowserFactory = Callable[..., object]


@pytest.fixture
def browser_page(tmp_path: Path) -> Iterator[Callable[..., object]]:
    """``open(audio_wav=None, deny_media=False)`` → a Playwright page in a fresh Chromium."""
    sync_api = pytest.importorskip("playwright.sync_api")
    pw = sync_api.sync_playwright().start()
    browsers: list[object] = []

    def open_page(audio_wav: Path | None = None, deny_media: bool = False) -> object:
        args = list(CHROMIUM_FLAGS)
        if deny_media:  # devices exist, but nobody grants the permission prompt
            # Chrome then hides its host ICE candidates behind mDNS names, as for a real
            # traveler who refused the microphone. That is fine even on loopback: the browser
            # checks the server's own candidates and livekit-server learns its address from
            # those checks (peer-reflexive), so no flag un-hides them.
            args += ["--use-fake-device-for-media-stream"]
        else:
            wav = audio_wav or silence(tmp_path / f"silence-{len(browsers)}.wav")
            args += [*FAKE_MEDIA_FLAGS, f"--use-file-for-fake-audio-capture={wav}"]
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=args, headless=True)
        browsers.append(browser)
        context = browser.new_context(viewport={"width": 1100, "height": 900})
        page = context.new_page()
        page.set_default_timeout(30_000)
        return page

    yield open_page
    for browser in browsers:
        browser.close()  # type: ignore[attr-defined]
    pw.stop()


def screenshot(page: object, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path


@pytest.fixture(scope="module")
def dashboard_app(
    database_url: str,  # noqa: F811
    run_dir: Path,  # noqa: F811
) -> Iterator[WebStack]:
    """The web app alone (no worker), over the seeded database, for the dashboard tests."""
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is missing: run `make install`")
    port = free_port()
    env = {
        "NAVAN_DATABASE_URL": database_url,
        "NAVAN_PROFILE": "local",
        "NAVAN_WEB_PORT": str(port),
        "NAVAN_DASHBOARD_PASSWORD": DASHBOARD_PASSWORD,
    }
    web = ManagedProcess(
        name="dashboard-app",
        argv=[sys.executable, "-m", "navan_voice.web"],
        log_path=run_dir / f"dashboard-{port}.log",
        env=env,
        cwd=ROOT,
    )
    try:
        web.start()
        web.wait_ready(lambda: http_ok(f"http://127.0.0.1:{port}/healthz"), 60, "web app")
        yield WebStack(f"http://127.0.0.1:{port}", "", database_url, web.log_path, web.log_path)
    finally:
        web.stop()
