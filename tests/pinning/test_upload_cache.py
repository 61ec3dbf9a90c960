"""The upload cache: entries by (service, CID), and consistency when the uploading process is
killed mid-way (SIGKILL, no cleanup): what it says is uploaded is uploaded, and a re-run sends
exactly the rest."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from emprops.core.errors import InvalidInputError
from emprops.ipfs import CID, ImportOptions
from emprops.pinning import CacheState, KuboRpc, UploadCache, Uploader
from tests.pinning.conftest import FAST, make_folder
from tests.protocol_servers.pinning_servers import KuboServer


def test_entries_by_service_and_cid(tmp_path: Path) -> None:
    with UploadCache(tmp_path / "c.sqlite") as cache:
        cache.record("kubo http://a", "Qm1", name="images/1.png", kind="file", size=10)
        cache.record("psa http://b", "Qm2", name="images", kind="pin",
                     state=CacheState.REQUESTED, request_id="r1")  # fmt: skip
        assert cache.is_pinned("kubo http://a", "Qm1")
        assert not cache.is_pinned("psa http://b", "Qm2")
        assert not cache.is_pinned("kubo http://other", "Qm1")
        entry = cache.get("psa http://b", "Qm2")
        assert entry is not None and entry.request_id == "r1"
        cache.forget("psa http://b", "Qm2")
        assert [e.cid for e in cache.entries()] == ["Qm1"]
    with UploadCache(tmp_path / "c.sqlite") as reopened:
        assert reopened.is_pinned("kubo http://a", "Qm1")


def test_unreadable_cache_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(InvalidInputError, match="delete it to upload everything again"):
        UploadCache(path)


_CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from emprops.ipfs import ImportOptions
    from emprops.pinning import KuboRpc, UploadCache, Uploader

    async def main() -> None:
        url, folder, cache = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
        up = Uploader(KuboRpc(url), UploadCache(cache), import_options=ImportOptions(),
                      concurrency=2)
        await up.folder(folder, "images")

    asyncio.run(main())
    """
)


@pytest.mark.slow
async def test_killed_upload_leaves_a_consistent_cache(
    kubo: tuple[KuboServer, str], tmp_path: Path
) -> None:
    server, url = kubo
    folder = make_folder(tmp_path / "images", 12)
    cache_path = tmp_path / "cache.sqlite"
    server.hang_s = 0.15
    server.inject(*["hang"] * 12, route="/api/v0/add")
    child = subprocess.Popen(  # noqa: ASYNC220 (started once; the loop must keep serving)
        [sys.executable, "-c", _CHILD, url, str(folder), str(cache_path)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        async with asyncio.timeout(60):
            while server.added_files < 5:
                assert child.poll() is None, child.stdout.read() if child.stdout else ""
                await asyncio.sleep(0.01)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(10)
    assert child.returncode == -signal.SIGKILL
    # a request the child sent before it died is still being served (it hangs 0.15 s) and is
    # counted when it ends: wait for the count to settle before taking it as the baseline
    settled, last = 0, server.added_files
    while settled < 5:
        await asyncio.sleep(0.1)
        settled, last = (
            (settled + 1, last) if server.added_files == last else (0, server.added_files)
        )
    with sqlite3.connect(cache_path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    cache = UploadCache(cache_path)
    cached = cache.entries()
    assert 3 <= len(cached) < 12
    for entry in cached:  # everything the cache claims is really pinned on the node
        assert CID.parse(entry.cid) in server.pins
    server.faults.clear()
    sent_before = server.added_files
    up = Uploader(KuboRpc(url, policy=FAST), cache, import_options=ImportOptions())
    root = await up.folder(folder, "images")
    assert server.added_files - sent_before == 12 - len(cached)
    assert root in server.pins
