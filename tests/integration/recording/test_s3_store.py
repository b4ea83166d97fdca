"""S3-compatible recordings storage, against a LOCAL STAND-IN for S3: moto's server
(``moto[server]``) on a free loopback port, with IAM authentication on. A recorded call is
uploaded; wrong credentials, a missing bucket and an unreachable endpoint stop the worker at
start with a clear StorageError; a store that is down keeps the call locally until it is back."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from livekit.agents import Agent, AgentSession
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker
from tests.fakes.scripted_llm import ScriptedLLM, say

from navan_voice.config import Settings
from navan_voice.db.engine import make_session_factory, upgrade_database
from navan_voice.domain.errors import StorageError
from navan_voice.recording.api import attach, check_recording_storage, retry_pending_uploads
from navan_voice.recording.index import get_call
from navan_voice.stack.processes import free_port

pytestmark = pytest.mark.integration

BUCKET = "navan-recordings"
START_LIMIT_S = 60.0  # a guard against a server that never comes up, not a measurement
# moto answers its first requests without authentication (the set-up below: user, key,
# policy, bucket) and checks every later one against its IAM
SETUP_REQUESTS = 4


class MotoS3:
    """TEST STAND-IN for S3: moto's server as a real process on a loopback port."""

    def __init__(self, port: int, log: Path) -> None:
        self.port = port
        self.endpoint = f"http://127.0.0.1:{port}"
        self._log = log
        self._proc: subprocess.Popen[bytes] | None = None
        self.key_id = ""
        self.secret = ""

    def start(self) -> None:
        env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": str(SETUP_REQUESTS)}
        with self._log.open("ab") as log:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_LIMIT_S
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                break
            except OSError:
                assert self._proc.poll() is None, self._log.read_text()[-2000:]
                assert time.monotonic() < deadline, "moto server did not start"
                time.sleep(0.2)
        self._set_up()

    def _set_up(self) -> None:
        """A user whose key may use S3, and the bucket (the unauthenticated requests)."""
        boot: dict[str, Any] = {
            "endpoint_url": self.endpoint,
            "region_name": "us-east-1",
            "aws_access_key_id": "setup",
            "aws_secret_access_key": "setup",
        }
        iam = boto3.client("iam", **boot)
        iam.create_user(UserName="recorder")
        key = iam.create_access_key(UserName="recorder")["AccessKey"]
        self.key_id, self.secret = key["AccessKeyId"], key["SecretAccessKey"]
        policy = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
        }
        iam.put_user_policy(
            UserName="recorder", PolicyName="recordings", PolicyDocument=json.dumps(policy)
        )
        boto3.client("s3", **boot).create_bucket(Bucket=BUCKET)

    def client(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=self.key_id,
            aws_secret_access_key=self.secret,
        )

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=15)


@pytest.fixture
def moto_s3(tmp_path: Path) -> Iterator[MotoS3]:
    server = MotoS3(free_port(), tmp_path / "moto.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def factory(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    url = f"sqlite:///{tmp_path / 'calls.db'}"
    upgrade_database(url)
    f = make_session_factory(url)
    yield f
    f.kw["bind"].dispose()


def _s3_settings(tmp_path: Path, endpoint: str, key_id: str, secret: str, **kw: Any) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url="",
        recordings_backend="s3",
        s3_endpoint_url=endpoint,
        s3_bucket=kw.pop("bucket", BUCKET),
        s3_access_key_id=SecretStr(key_id),
        s3_secret_access_key=SecretStr(secret),
        **kw,
    )


@dataclass
class State:
    call_id: str
    tags: dict[str, Any] = field(default_factory=dict)


async def _call(call_id: str, settings: Settings, factory: sessionmaker[Session]) -> Path:
    """A short real (text-only) call recorded with the store built from ``settings``."""
    session: AgentSession[State] = AgentSession(
        llm=ScriptedLLM([say("Your flight is on time.")]), userdata=State(call_id)
    )
    recorder = attach(session, session.userdata, settings=settings, session_factory=factory)
    await session.start(Agent(instructions="Travel support."))
    await recorder.start()
    await session.run(user_input="Is my flight on time?")
    await recorder.aclose()
    await session.aclose()
    return recorder.folder


async def test_recorded_call_is_uploaded_to_s3(
    tmp_path: Path, moto_s3: MotoS3, factory: sessionmaker[Session]
) -> None:
    settings = _s3_settings(tmp_path, moto_s3.endpoint, moto_s3.key_id, moto_s3.secret)
    check_recording_storage(settings)  # the worker's start-up check passes

    folder = await _call("s3-call-1", settings, factory)
    detail = get_call(factory, "s3-call-1")
    assert detail is not None and detail.upload_state == "uploaded"
    prefix = folder.relative_to(settings.effective_recordings_dir).as_posix()
    body = moto_s3.client().get_object(Bucket=BUCKET, Key=f"{prefix}/transcript.json")["Body"]
    assert body.read() == (folder / "transcript.json").read_bytes()
    metadata = json.loads(
        moto_s3.client().get_object(Bucket=BUCKET, Key=f"{prefix}/metadata.json")["Body"].read()
    )
    assert metadata["id"] == "s3-call-1"


def test_wrong_credentials_stop_the_worker_at_start(tmp_path: Path, moto_s3: MotoS3) -> None:
    wrong_secret = _s3_settings(tmp_path, moto_s3.endpoint, moto_s3.key_id, "not-the-secret")
    with pytest.raises(StorageError, match="refused the recordings credentials") as e:
        check_recording_storage(wrong_secret)
    assert "NAVAN_S3_SECRET_ACCESS_KEY" in str(e.value) and BUCKET in str(e.value)
    assert "not-the-secret" not in str(e.value)

    unknown_key = _s3_settings(tmp_path, moto_s3.endpoint, "AKIAUNKNOWN0000000", "x")
    with pytest.raises(StorageError, match="refused the recordings credentials"):
        check_recording_storage(unknown_key)


def test_missing_bucket_and_unreachable_endpoint_stop_the_worker_at_start(
    tmp_path: Path, moto_s3: MotoS3
) -> None:
    no_bucket = _s3_settings(
        tmp_path, moto_s3.endpoint, moto_s3.key_id, moto_s3.secret, bucket="no-such-bucket"
    )
    with pytest.raises(StorageError, match="does not exist") as e:
        check_recording_storage(no_bucket)
    assert "NAVAN_S3_BUCKET" in str(e.value)

    nobody = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(StorageError, match="not reachable") as e:
        check_recording_storage(_s3_settings(tmp_path, nobody, "k", "s"))
    assert "NAVAN_S3_ENDPOINT_URL" in str(e.value)


async def test_s3_down_keeps_the_call_locally_and_uploads_it_when_back(
    tmp_path: Path, factory: sessionmaker[Session]
) -> None:
    server = MotoS3(free_port(), tmp_path / "moto.log")  # not started yet: storage is down
    settings = _s3_settings(tmp_path, server.endpoint, "pending", "pending")
    folder = await _call("s3-down-1", settings, factory)
    detail = get_call(factory, "s3-down-1")
    assert detail is not None and detail.upload_state == "pending"
    assert (folder / "transcript.json").exists() and (folder / "metadata.json").exists()

    server.start()
    try:
        settings = _s3_settings(tmp_path, server.endpoint, server.key_id, server.secret)
        assert retry_pending_uploads(settings, session_factory=factory) == 1
        detail = get_call(factory, "s3-down-1")
        assert detail is not None and detail.upload_state == "uploaded"
        prefix = folder.relative_to(settings.effective_recordings_dir).as_posix()
        keys = {
            o["Key"]
            for o in server.client().list_objects_v2(Bucket=BUCKET, Prefix=prefix)["Contents"]
        }
        assert {f"{prefix}/transcript.json", f"{prefix}/metadata.json"} <= keys
    finally:
        server.stop()
