"""Where finished recordings go: a local folder (default) or S3-compatible object storage.

Every call is first written to the local recordings folder (``settings.effective_recordings_dir``)
under ``YYYY/MM/DD/<call id>/``; ``store.put`` then makes it permanent: the local backend keeps
it where it is, the S3 backend uploads it (boto3, an optional dependency) and returns
``s3://bucket/key``. ``check()`` runs at worker start so wrong credentials or a missing bucket
stop the worker with a clear message instead of losing every call's recording.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Protocol

from navan_voice.config import Settings
from navan_voice.domain.errors import ConfigError, StorageError

logger = logging.getLogger(__name__)

BOTO3_HINT = "S3 recordings need boto3: `uv add boto3` (or set NAVAN_RECORDINGS_BACKEND=local)"


class RecordingStore(Protocol):
    """A place for finished recording files."""

    name: str

    def check(self) -> None:
        """Raise StorageError (saying what to fix) when the store cannot take files."""

    def put(self, local_path: Path, key: str) -> str:
        """Store the file at ``key``; return its URI. Raise StorageError when it cannot."""


class LocalStore:
    """The recordings folder itself: files stay where the recorder wrote them."""

    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = root

    def check(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self.root / ".write-check"
            probe.write_bytes(b"ok")
            probe.unlink()
        except OSError as e:
            raise StorageError(
                f"recordings folder {self.root} is not writable ({e.strerror}); fix its "
                "permissions or set NAVAN_RECORDINGS_DIR to a writable folder"
            ) from e

    def put(self, local_path: Path, key: str) -> str:
        target = self.root / key
        try:
            if local_path.resolve() != target.resolve():
                target.parent.mkdir(parents=True, exist_ok=True)
                local_path.replace(target)
        except OSError as e:
            raise StorageError(
                f"could not move {local_path.name} to {target} ({e.strerror}); it is kept at "
                f"{local_path} and retried later; check that {self.root} is writable"
            ) from e
        return str(target)


class S3Store:
    """S3 or any S3-compatible store (MinIO, Ceph, moto) through boto3."""

    name = "s3"

    def __init__(
        self,
        *,
        bucket: str,
        endpoint_url: str = "",
        region: str = "us-east-1",
        access_key_id: str = "",
        secret_access_key: str = "",
        client: Any = None,
    ) -> None:
        if not bucket:
            raise ConfigError("NAVAN_RECORDINGS_BACKEND=s3 needs NAVAN_S3_BUCKET")
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        self._client = client or _boto3_client(
            endpoint_url=endpoint_url,
            region=region,
            access_key_id=access_key_id,
            secret_access_key=secret_access_key,
        )

    def check(self) -> None:
        try:
            self._client.head_bucket(Bucket=self.bucket)
        except Exception as e:
            code = _error_code(e)
            where = self.endpoint_url or "AWS S3"
            if code in ("403", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied"):
                raise StorageError(
                    f"S3 at {where} refused the recordings credentials for bucket "
                    f"{self.bucket!r} ({code}); check NAVAN_S3_ACCESS_KEY_ID and "
                    "NAVAN_S3_SECRET_ACCESS_KEY"
                ) from e
            if code in ("404", "NoSuchBucket"):
                raise StorageError(
                    f"recordings bucket {self.bucket!r} does not exist at {where}; create it "
                    "or fix NAVAN_S3_BUCKET"
                ) from e
            raise StorageError(
                f"recordings storage at {where} is not reachable ({type(e).__name__}: {e}); "
                "check NAVAN_S3_ENDPOINT_URL, or set NAVAN_RECORDINGS_BACKEND=local"
            ) from e

    def put(self, local_path: Path, key: str) -> str:
        try:
            self._client.upload_file(str(local_path), self.bucket, key)
        except Exception as e:
            raise StorageError(
                f"upload of {local_path.name} to s3://{self.bucket}/{key} failed "
                f"({type(e).__name__}); the file is kept locally and retried later"
            ) from e
        return f"s3://{self.bucket}/{key}"


def build_store(settings: Settings) -> RecordingStore:
    """The store chosen by ``NAVAN_RECORDINGS_BACKEND``."""
    if settings.recordings_backend == "s3":
        return S3Store(
            bucket=settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=_secret(settings.s3_access_key_id),
            secret_access_key=_secret(settings.s3_secret_access_key),
        )
    return LocalStore(settings.effective_recordings_dir)


def _boto3_client(
    *, endpoint_url: str, region: str, access_key_id: str, secret_access_key: str
) -> Any:
    try:
        import boto3
        from botocore.config import Config
    except ImportError as e:
        raise ConfigError(BOTO3_HINT) from e
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url or None,
        region_name=region,
        aws_access_key_id=access_key_id or None,
        aws_secret_access_key=secret_access_key or None,
        config=Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 2}),
    )


def _error_code(e: Exception) -> str:
    response = getattr(e, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def _secret(value: Any) -> str:
    return value.get_secret_value() if value is not None else ""
