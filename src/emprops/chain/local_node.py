"""The embedded chain: py-evm (pinned to Cancun, the contracts' fork) behind a JSON-RPC server on
127.0.0.1, so the CLI, the API, the workers and the indexer share one chain, and its state kept
in the data directory so the chain survives restarts with the same blocks, hashes and addresses.

State is py-evm's own key-value store: every write is appended to a journal (flushed after each
request), and a restart loads the journal back into memory. The node serves one request at a
time (the in-process EVM is single-threaded anyway) and stops itself after a while with no
requests, so nothing is left running; the next user starts it again.
"""

from __future__ import annotations

import ast
import fcntl
import json
import os
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

from emprops.core.errors import UnavailableError

LOCAL_CHAIN_ID = 1337
IDLE_EXIT_S = 300.0
_RECORD = struct.Struct(">IiI")  # key length, value length (-1: deleted), reserved


class JournaledState:
    """py-evm's key-value store with every change appended to a file."""

    def __init__(self, path: Path) -> None:
        from eth.db.backends.memory import MemoryDB

        self.path = path
        kv = self._load(path)
        journal = self

        class JournaledMemoryDB(MemoryDB):
            def __setitem__(self, key: bytes, value: bytes) -> None:
                super().__setitem__(key, value)
                journal.pending.append((key, value))

            def __delitem__(self, key: bytes) -> None:
                super().__delitem__(key)
                journal.pending.append((key, None))

        self.pending: list[tuple[bytes, bytes | None]] = []
        self.db = JournaledMemoryDB(kv)
        self.restored = bool(kv)

    @staticmethod
    def _load(path: Path) -> dict[bytes, bytes]:
        kv: dict[bytes, bytes] = {}
        if not path.is_file():
            return kv
        data = path.read_bytes()
        offset, end = 0, len(data)
        while offset + _RECORD.size <= end:
            key_len, value_len, _ = _RECORD.unpack_from(data, offset)
            start = offset + _RECORD.size
            stop = start + key_len + max(value_len, 0)
            if stop > end:
                break  # a torn last record (a crash mid-append): the request it belonged to failed
            key = data[start : start + key_len]
            if value_len < 0:
                kv.pop(key, None)
            else:
                kv[key] = data[start + key_len : stop]
            offset = stop
        return kv

    def flush(self) -> None:
        if not self.pending:
            return
        chunks = []
        for key, value in self.pending:
            chunks.append(_RECORD.pack(len(key), -1 if value is None else len(value), 0))
            chunks.append(key)
            if value is not None:
                chunks.append(value)
        with self.path.open("ab") as out:
            out.write(b"".join(chunks))
            out.flush()
            os.fsync(out.fileno())
        self.pending.clear()


class LocalChain:
    """An eth-tester chain on a journaled store, answering JSON-RPC requests."""

    def __init__(self, state_dir: Path) -> None:
        from eth.db.atomic import AtomicDB
        from eth.vm.forks.cancun import CancunVM
        from eth_tester import EthereumTester, PyEVMBackend  # type: ignore[import-untyped]
        from web3 import EthereumTesterProvider, Web3

        state_dir.mkdir(parents=True, exist_ok=True)
        self.state = JournaledState(state_dir / "chain.journal")
        import eth.db

        original = eth.db.get_db_backend
        fresh = not self.state.restored
        # genesis goes into the journal on a fresh chain; a restored chain discards it
        eth.db.get_db_backend = lambda *a, **k: AtomicDB(self.state.db) if fresh else AtomicDB()
        try:
            backend = PyEVMBackend(vm_configuration=((0, CancunVM),))
        finally:
            eth.db.get_db_backend = original
        chain_class = type(backend.chain)
        chain_class.chain_id = LOCAL_CHAIN_ID
        if not fresh:
            backend.chain = chain_class(AtomicDB(self.state.db))
        self.tester = EthereumTester(backend)
        provider = EthereumTesterProvider(self.tester)
        # the provider's own middleware turns JSON-RPC values into eth-tester's and back
        w3 = Web3(provider, middleware=[])
        self._request = provider.request_func(w3, w3.middleware_onion)
        self.state.flush()

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        method, params = request.get("method"), request.get("params") or []
        reply: dict[str, Any] = {"jsonrpc": "2.0", "id": request.get("id")}
        try:
            if method == "eth_chainId":
                reply["result"] = hex(LOCAL_CHAIN_ID)
                return reply
            if method == "net_version":
                reply["result"] = str(LOCAL_CHAIN_ID)
                return reply
            response = self._request(method, params)
        except Exception as exc:  # everything becomes a JSON-RPC error, as a node answers
            reply["error"] = _rpc_error(exc)
            return reply
        finally:
            self.state.flush()
        if "error" in response:
            error = response["error"]
            reply["error"] = (
                error if isinstance(error, dict) else {"code": -32000, "message": str(error)}
            )
        else:
            reply["result"] = response.get("result")
        return reply


def _rpc_error(exc: Exception) -> dict[str, Any]:
    """A revert as geth and anvil report it (code 3, the revert data in `data`), so clients
    decode custom errors the same way on every chain; anything else as an internal error."""
    if type(exc).__name__ == "TransactionFailed":
        message = str(exc.args[0]) if exc.args else ""
        literal = message.split(": ", 1)[1] if ": " in message else ""
        data = b""
        try:
            value = ast.literal_eval(literal)
            data = value if isinstance(value, bytes) else str(value).encode()
        except (ValueError, SyntaxError):
            data = b""
        return {"code": 3, "message": "execution reverted", "data": "0x" + data.hex()}
    return {"code": -32603, "message": f"{type(exc).__name__}: {exc}"}


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if hasattr(value, "hex"):
        return value.hex()
    raise TypeError(f"cannot encode {type(value).__name__}")


def serve(
    state_dir: Path, host: str = "127.0.0.1", port: int = 0, idle_exit_s: float = IDLE_EXIT_S
) -> None:
    """Run the node in this process until idle for `idle_exit_s`; writes `node.json` once it
    listens so other processes find it."""
    chain = LocalChain(state_dir)
    last_request = time.monotonic()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            nonlocal last_request
            last_request = time.monotonic()
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length))
            except ValueError:
                self._send(
                    {
                        "jsonrpc": "2.0",
                        "id": None,
                        "error": {"code": -32700, "message": "parse error"},
                    }
                )
                return
            if isinstance(body, list):
                self._send([chain.handle(item) for item in body])
            else:
                self._send(chain.handle(body))

        def _send(self, payload: Any) -> None:
            data = json.dumps(payload, default=_json_default).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = HTTPServer((host, port), Handler)
    server.timeout = 1.0
    info = state_dir / "node.json"
    url = f"http://{host}:{server.server_address[1]}"
    info.write_text(json.dumps({"url": url, "pid": os.getpid(), "chain_id": LOCAL_CHAIN_ID}))
    try:
        while time.monotonic() - last_request < idle_exit_s:
            server.handle_request()
    finally:
        server.server_close()
        if info.is_file() and json.loads(info.read_text()).get("pid") == os.getpid():
            info.unlink()


def _answers(url: str) -> bool:
    import httpx

    try:
        reply = httpx.post(
            url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}, timeout=2
        )
        return bool(reply.json().get("result"))
    except Exception:
        return False


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# Nodes this process started: polled so that one which stopped (idle) is reaped, not a zombie.
_started: list[subprocess.Popen[bytes]] = []


def local_node_url(data_dir: Path, *, start_timeout_s: float = 60.0) -> str:
    """The embedded chain's URL, starting its node (a detached `emprops chain node`) if none
    answers. Safe to call from many processes at once."""
    _started[:] = [node for node in _started if node.poll() is None]
    state_dir = data_dir.resolve() / "chain"
    info = state_dir / "node.json"
    with _locked(state_dir / "node.lock"):
        if info.is_file():
            url = str(json.loads(info.read_text()).get("url", ""))
            if url and _answers(url):
                return url
            info.unlink(missing_ok=True)
        log = (state_dir / "node.log").open("ab")
        _started.append(
            subprocess.Popen(
                [sys.executable, "-m", "emprops", "chain", "node", "--state-dir", str(state_dir)],
                stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True,
            )
        )  # fmt: skip
        deadline = time.monotonic() + start_timeout_s
        while time.monotonic() < deadline:
            if info.is_file():
                url = str(json.loads(info.read_text()).get("url", ""))
                if url and _answers(url):
                    return url
            time.sleep(0.1)
    raise UnavailableError(
        f"the local chain node did not start within {start_timeout_s:.0f} s; see {state_dir / 'node.log'}"
    )
