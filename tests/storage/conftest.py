"""Real storage servers for the blob store tests: a local S3 (moto's HTTP server; obstore talks
HTTP, so moto's in-process mock would not see it) and Azurite, the Azure Blob emulator, pinned in
tools/azurite. Each test gets its own prefix inside one shared bucket/container."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path

import httpx
import pytest
from moto.server import ThreadedMotoServer

from emprops.storage import BlobStore, open_blob_store

AZURITE_DIR = Path(__file__).resolve().parents[2] / "tools" / "azurite"
AZURITE_BIN = AZURITE_DIR / "node_modules" / ".bin" / "azurite-blob"
# Azurite's fixed development account (public, documented by Microsoft; not a secret).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
BUCKET = "emprops-test"
BACKENDS = ["local", "s3", "azure"]


@dataclass(frozen=True)
class StoreTarget:
    """How to open one backend: the URL and options a deployment would put in its settings."""

    backend: str
    url: str | None
    options: dict[str, str] = field(default_factory=dict)

    def open(self, data_dir: Path, cdn_url: str | None = None) -> BlobStore:
        return open_blob_store(
            self.url, data_dir=data_dir, cdn_url=cdn_url, options=self.options or None
        )


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    httpx.put(f"{endpoint}/{BUCKET}").raise_for_status()
    yield endpoint
    server.stop()


def _azure_create_container(endpoint: str, container: str) -> None:
    """Create Container, signed with Shared Key (obstore reads and writes blobs, it does not
    create containers)."""
    headers = {"x-ms-date": formatdate(usegmt=True), "x-ms-version": "2021-08-06"}
    canonical_headers = "".join(f"{k}:{v}\n" for k, v in sorted(headers.items()))
    resource = f"/{AZURITE_ACCOUNT}{httpx.URL(endpoint).path.rstrip('/')}/{container}"
    string_to_sign = "PUT\n" + "\n" * 11 + canonical_headers + resource + "\nrestype:container"
    signature = hmac.new(base64.b64decode(AZURITE_KEY), string_to_sign.encode(), hashlib.sha256)
    headers["Authorization"] = (
        f"SharedKey {AZURITE_ACCOUNT}:{base64.b64encode(signature.digest()).decode()}"
    )
    response = httpx.put(
        f"{endpoint}/{container}", params={"restype": "container"}, headers=headers
    )
    response.raise_for_status()


@pytest.fixture(scope="session")
def azure_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not AZURITE_BIN.exists():
        npm = shutil.which("npm")
        assert npm is not None, "npm is needed to install Azurite (tools/azurite)"
        installed = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=AZURITE_DIR,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert installed.returncode == 0, f"npm ci in tools/azurite failed:\n{installed.stderr}"
    location = tmp_path_factory.mktemp("azurite")
    log_path = location / "azurite.out"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                str(AZURITE_BIN),
                "--blobHost",
                "127.0.0.1",
                "--blobPort",
                "0",
                "--location",
                str(location),
                "--silent",
                "--disableTelemetry",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        port = None
        while port is None:
            found = re.search(r"listens on http://127\.0\.0\.1:(\d+)", log_path.read_text())
            if found:
                port = int(found.group(1))
                break
            assert process.poll() is None, f"azurite-blob exited:\n{log_path.read_text()}"
            assert time.monotonic() < deadline, (
                f"azurite-blob did not start:\n{log_path.read_text()}"
            )
            time.sleep(0.1)
        endpoint = f"http://127.0.0.1:{port}/{AZURITE_ACCOUNT}"
        _azure_create_container(endpoint, BUCKET)
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def target_for(backend: str, request: pytest.FixtureRequest) -> StoreTarget:
    """A fresh, empty store location for `backend` (servers start on first use)."""
    prefix = f"t-{uuid.uuid4().hex[:12]}"
    if backend == "local":
        return StoreTarget("local", None)
    if backend == "s3":
        endpoint = request.getfixturevalue("s3_endpoint")
        return StoreTarget(
            "s3",
            f"s3://{BUCKET}/{prefix}?region=us-east-1&endpoint={endpoint}",
            {"access_key_id": "testing", "secret_access_key": "testing"},
        )
    if backend == "azure":
        endpoint = request.getfixturevalue("azure_endpoint")
        return StoreTarget(
            "azure",
            f"az://{BUCKET}/{prefix}?endpoint={endpoint}&account_name={AZURITE_ACCOUNT}",
            {"account_key": AZURITE_KEY},
        )
    raise AssertionError(f"unknown backend {backend}")


@pytest.fixture(params=BACKENDS)
def target(request: pytest.FixtureRequest) -> StoreTarget:
    return target_for(request.param, request)


@pytest.fixture
def store(target: StoreTarget, tmp_path: Path) -> BlobStore:
    return target.open(tmp_path)
