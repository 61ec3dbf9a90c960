"""A JSON-RPC proxy in front of a node that refuses eth_getLogs ranges wider than `max_blocks`, the
way hosted providers do (HTTP 200 with a JSON-RPC error), and records every eth_getLogs it sees."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class GetLogsCall:
    from_block: int
    to_block: int
    accepted: bool

    @property
    def blocks(self) -> int:
        return self.to_block - self.from_block + 1


@dataclass
class RangeLimitingProxy:
    upstream: str
    max_blocks: int
    calls: list[GetLogsCall] = field(default_factory=list)
    url: str = ""

    def _forward(self, body: bytes) -> bytes:
        request = urllib.request.Request(
            self.upstream, data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return bytes(response.read())

    def _block(self, tag: Any) -> int:
        if isinstance(tag, str) and tag.startswith("0x"):
            return int(tag, 16)
        answer = json.loads(
            self._forward(
                json.dumps(
                    {
                        "jsonrpc": "2.0",
                        "id": 0,
                        "method": "eth_getBlockByNumber",
                        "params": [tag, False],
                    }
                ).encode()
            )
        )
        return int(answer["result"]["number"], 16)

    def answer(self, body: bytes) -> bytes:
        message = json.loads(body)
        if message.get("method") == "eth_getLogs":
            query = message["params"][0]
            first = self._block(query.get("fromBlock", "latest"))
            last = self._block(query.get("toBlock", "latest"))
            accepted = last - first + 1 <= self.max_blocks
            self.calls.append(GetLogsCall(first, last, accepted))
            if not accepted:
                error = {
                    "code": -32000,
                    "message": f"exceed maximum block range: {self.max_blocks}",
                }
                return json.dumps({"jsonrpc": "2.0", "id": message["id"], "error": error}).encode()
        return self._forward(body)


@contextmanager
def range_limiting_proxy(upstream: str, max_blocks: int) -> Iterator[RangeLimitingProxy]:
    proxy = RangeLimitingProxy(upstream, max_blocks)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            reply = proxy.answer(body)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
