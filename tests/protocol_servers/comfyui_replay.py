"""A ComfyUI server that replays the recordings of a real one (tests/data/comfyui/, see README).

Each submitted graph is matched to a recording and answered with that recording's messages, in
order, with its shapes and binary frames, the prompt id rewritten to the submitted prompt's. The
faithful trace (`trace_real_server_0_3_64.json`) drives every case it has:

- the image graph (EmptyImage → ImageInvert → ImageBlend → ImageScale → SaveImage; LoadImage may
  stand in for an EmptyImage so an uploaded input can feed it): `basic`; `basic_identical` (node 2
  cached) when a graph with the same node 2 ran before; the exact same graph again is answered
  with the first trace's `prompt2_identical` (everything cached: the faithful trace has no such
  run);
- the ProbeSteps graph (`probe_graph`: 1 EmptyImage → 2 ProbeSteps → 3 SaveImage): `steps`
  (3 steps), `steps_with_text` (`text`: progress-text frames, event 3), `steps_preview_metadata`
  (2 steps), `fail` (`fail_at` > 0), `interrupt` (`steps` > 3: it stops where the recording's
  `POST /interrupt` came until one arrives);
- an unknown class type or an ImageScale method outside the recorded list: the recorded HTTP 400s.

Text graphs (`text_graph`: `PreviewAny` output nodes, each fed a literal or a `PrimitiveString`)
have no recording: they are answered with the faithful `basic` run's framing (queue status,
execution_start, execution_cached, then execution_success, status, the end marker), each node's
progress_state/executing messages in between and, per PreviewAny, the `executed` message and
history output `{"text": [value]}` that ComfyUI 0.3.64's PreviewAny gives (a string as it is, a
number or boolean as `str()`, None as "None", anything else as JSON). Nothing is ever cached.

Previews follow the client's feature flags as ComfyUI does: a client whose first message declared
`supports_preview_metadata` gets the recorded `feature_flags` reply and event-4 previews (with
metadata naming node and prompt), any other client event-1 previews; a recorded frame of the
other kind is re-encoded. Messages of a prompt submitted without `client_id` go to every socket, as
ComfyUI broadcasts them; `interleave = True` additionally slips the faithful trace's `fail` and
`steps` messages, under another prompt id, and messages whose `data` is not an object (seen on the
real server from custom nodes; the recordings hold none, so their payloads here are ours) between
each of a prompt's own messages, so a client must filter by `prompt_id`. Recorded gaps are kept,
each capped at `MAX_GAP_S`.

The older FakeSampler graph (`sampler_graph`) still replays the condensed second trace:
`progress_with_preview`, `error_at_step_1` when `fail_at_step` > 0, `interrupted` when `steps` > 3.

The second trace file is stored compactly (no prompt_id, no timestamps, progress_state nodes as
`[state, value, max]`); it is expanded to the full shapes the first trace shows.
History entries are built from the replayed messages exactly as the recorded one is (prompt,
outputs, status with its start/cached/success|error|interrupted messages, meta) and written before
the `status` message that follows the last execution message, as ComfyUI's task_done does.

Not in the recordings, from ComfyUI's server code, kept minimal: `/system_stats`, `/upload/*`
answers, `/queue` item shape, `POST /queue` delete. Faults for tests (`fault`): "garbage_prompt"
(HTML instead of JSON), "drop_socket" (close the socket after execution_start), "forget_prompt"
(accept and then never run it or list it).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import io
import itertools
import json
import struct
import time
import uuid
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse, Response
from PIL import Image
from PIL.PngImagePlugin import PngInfo

REPO = Path(__file__).resolve().parents[2]
TRACE_DIR = REPO / "tests" / "data" / "comfyui"

BASIC_GRAPH_CLASSES = {
    "1": "EmptyImage",
    "2": "EmptyImage",
    "3": "ImageInvert",
    "4": "ImageBlend",
    "5": "ImageScale",
    "6": "SaveImage",
}
SAMPLER_GRAPH_CLASSES = {"1": "EmptyImage", "2": "FakeSampler", "3": "SaveImage"}
PROBE_GRAPH_CLASSES = {"1": "EmptyImage", "2": "ProbeSteps", "3": "SaveImage"}
KNOWN_CLASSES = {
    *BASIC_GRAPH_CLASSES.values(),
    *SAMPLER_GRAPH_CLASSES.values(),
    *PROBE_GRAPH_CLASSES.values(),
    "LoadImage",
    "PreviewAny",
    "PrimitiveString",
}
EXECUTION_MESSAGES = (
    "execution_start",
    "execution_cached",
    "execution_success",
    "execution_error",
    "execution_interrupted",
)
TERMINAL = ("execution_success", "execution_error", "execution_interrupted")
INTERRUPT_WAIT_S = 60.0
MAX_GAP_S = 0.1
REAL_CASES = ("basic", "basic_identical", "steps", "steps_with_text", "steps_preview_metadata",
              "fail", "interrupt")  # fmt: skip
# Broadcast by custom nodes on a real server: `data` that is not an object.
NON_OBJECT_DATA: tuple[dict[str, Any], ...] = (
    {"type": "crystools.monitor", "data": [12.5, 40.1]},
    {"type": "custom.text", "data": "hello from another node"},
    {"type": "custom.flag", "data": None},
)


@lru_cache(maxsize=1)
def recordings() -> tuple[dict[str, Any], dict[str, Any]]:
    basic = json.loads((TRACE_DIR / "trace_basic_workflow.json").read_text())
    sampler = json.loads((TRACE_DIR / "trace_progress_error_interrupt.json").read_text())
    return basic, sampler


@lru_cache(maxsize=1)
def real_trace() -> dict[str, Any]:
    """The faithful recording: case name → {name, prompt_id, log}."""
    trace: dict[str, Any] = json.loads((TRACE_DIR / "trace_real_server_0_3_64.json").read_text())
    return trace


def recorded_history(case: str) -> dict[str, Any]:
    """The `/history/{prompt_id}` entry the real server gave for a case."""
    run = real_trace()[case]
    (last,) = [e for e in run["log"] if e.get("http", "").startswith("GET /history/")]
    entry: dict[str, Any] = copy.deepcopy(last["body"][run["prompt_id"]])
    return entry


def basic_graph() -> dict[str, Any]:
    """The image graph the faithful recording ran first, from its history."""
    graph: dict[str, Any] = recorded_history("basic")["prompt"][2]
    return graph


def probe_graph(
    *, steps: int = 3, fail_at: int = -1, preview: bool = True, text: bool = False
) -> dict[str, Any]:
    """The faithful recording's step-reporting graph, with the ProbeSteps inputs it varied."""
    graph: dict[str, Any] = recorded_history("steps")["prompt"][2]
    graph["2"]["inputs"].update(
        {"steps": steps, "fail_at": fail_at, "preview": preview, "text": text}
    )
    return graph


def text_graph(*sources: Any) -> dict[str, Any]:
    """PreviewAny output nodes ("1", "2", ...), one per source: a literal value, or a string
    given as `PrimitiveString(...)` to feed it through a PrimitiveString node."""
    graph: dict[str, Any] = {}
    for source in sources:
        node = str(len(graph) + 1)
        if isinstance(source, PrimitiveString):
            graph[node] = {"class_type": "PrimitiveString", "inputs": {"value": source.value}}
            source = [node, 0]
            node = str(len(graph) + 1)
        graph[node] = {"class_type": "PreviewAny", "inputs": {"source": source}}
    return graph


@dataclass(frozen=True)
class PrimitiveString:
    value: str


def preview_any_text(source: Any) -> str:
    """The text a PreviewAny node shows for `source`, as ComfyUI 0.3.64 renders it."""
    if isinstance(source, str):
        return source
    if isinstance(source, int | float | bool):
        return str(source)
    if source is None:
        return "None"
    try:
        return json.dumps(source)
    except (TypeError, ValueError):
        return str(source)


def sampler_graph(
    *, steps: int = 3, fail_at_step: int = 0, send_preview: bool = True
) -> dict[str, Any]:
    """The second recording's graph, from the inputs its error message lists."""
    return {
        "1": {
            "class_type": "EmptyImage",
            "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": 0x222222},
        },
        "2": {
            "class_type": "FakeSampler",
            "inputs": {
                "image": ["1", 0],
                "steps": steps,
                "step_seconds": 0.0,
                "send_preview": send_preview,
                "fail_at_step": fail_at_step,
            },
        },
        "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "fs"}},
    }


OUTPUT_CLASSES = ("SaveImage", "PreviewAny")


def _text_sources(graph: dict[str, Any]) -> dict[str, Any] | None:
    """PreviewAny node → the value it is fed, for a graph of PreviewAny nodes fed literals or
    PrimitiveString nodes; None for any other graph."""
    sources: dict[str, Any] = {}
    for node_id, node in graph.items():
        if node["class_type"] == "PrimitiveString":
            continue
        if node["class_type"] != "PreviewAny":
            return None
        source = node["inputs"].get("source")
        if isinstance(source, list):  # a link: only to a PrimitiveString's output 0
            linked = graph.get(str(source[0])) if len(source) == 2 else None
            if linked is None or linked["class_type"] != "PrimitiveString" or source[1] != 0:
                return None
            source = linked["inputs"].get("value")
        sources[node_id] = source
    return sources


def _execution_order(graph: dict[str, Any]) -> list[str]:
    """Each output node in graph order, after the PrimitiveString it reads (once)."""
    order: list[str] = []
    for node_id, node in graph.items():
        if node["class_type"] != "PreviewAny":
            continue
        source = node["inputs"].get("source")
        if isinstance(source, list) and str(source[0]) not in order:
            order.append(str(source[0]))
        order.append(node_id)
    return order


def _now_ms() -> int:
    return int(time.time() * 1000)


def _replace(value: Any, old: str, new: str) -> Any:
    if isinstance(value, str):
        return new if value == old else value
    if isinstance(value, list):
        return [_replace(item, old, new) for item in value]
    if isinstance(value, dict):
        return {
            key: _now_ms() if key == "timestamp" else _replace(item, old, new)
            for key, item in value.items()
        }
    return value


def _expand_compact(message: dict[str, Any], prompt_id: str) -> dict[str, Any]:
    """The second trace's compact form → the full shape the first trace shows."""
    kind, data = message["type"], dict(message["data"])
    if kind == "progress_state":
        nodes = {
            node: {
                "value": value,
                "max": maximum,
                "state": state,
                "node_id": node,
                "prompt_id": prompt_id,
                "display_node_id": node,
                "parent_node_id": None,
                "real_node_id": node,
            }
            for node, (state, value, maximum) in data["nodes"].items()
        }
        return {"type": kind, "data": {"prompt_id": prompt_id, "nodes": nodes}}
    if kind in ("execution_start", "execution_success"):
        return {"type": kind, "data": {"prompt_id": prompt_id, "timestamp": _now_ms()}}
    if kind == "execution_cached":
        return {
            "type": kind,
            "data": {"nodes": data["nodes"], "prompt_id": prompt_id, "timestamp": _now_ms()},
        }
    if kind in ("execution_error", "execution_interrupted"):
        return {"type": kind, "data": {"prompt_id": prompt_id, **data, "timestamp": _now_ms()}}
    if kind in ("executing", "executed", "progress"):
        return {"type": kind, "data": {**data, "prompt_id": prompt_id}}
    return {"type": kind, "data": data}


def _jpeg(size: int) -> bytes:
    """A real JPEG, padded to `size` bytes with a comment segment where there is room."""
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (34, 34, 34)).save(buffer, "JPEG", quality=95)
    jpeg = buffer.getvalue()
    missing = size - len(jpeg)
    if missing >= 4:
        jpeg = (
            jpeg[:2]
            + b"\xff\xfe"
            + struct.pack(">H", missing - 2)
            + b"\0" * (missing - 4)
            + jpeg[2:]
        )
    return jpeg


def preview_frame(length: int, event: int, image_format: int) -> bytes:
    """A binary preview frame (event 1) of the recorded total length: event, format, a JPEG."""
    return struct.pack(">II", event, image_format) + _jpeg(length - 8)


def metadata_preview_frame(length: int, meta: dict[str, Any]) -> bytes:
    """An event-4 frame as ComfyUI packs it: metadata length, metadata JSON, then the image."""
    encoded = json.dumps(meta).encode()
    return struct.pack(">II", 4, len(encoded)) + encoded + _jpeg(length - 8 - len(encoded))


def text_frame(node: str, text: str) -> bytes:
    """An event-3 frame: node id length, node id, the node's progress text."""
    node_bytes = node.encode()
    return struct.pack(">II", 3, len(node_bytes)) + node_bytes + text.encode()


def output_png(graph: dict[str, Any], size: int | None, color: tuple[int, int, int]) -> bytes:
    """A PNG like SaveImage writes (graph as `prompt` text), padded to the recorded size."""
    info = PngInfo()
    info.add_text("prompt", json.dumps(graph))
    buffer = io.BytesIO()
    Image.new("RGB", (256, 256), color).save(buffer, "PNG", pnginfo=info, compress_level=9)
    data = buffer.getvalue()
    pad = size - len(data) - 12 - 4 if size is not None else -1
    for _ in range(3):  # a text chunk adds 12 bytes + key + NUL; adjust until exactly `size`
        if size is None or pad < 0 or len(data) == size:
            break
        padded = PngInfo()
        padded.add_text("prompt", json.dumps(graph))
        padded.add_text("pad", " " * pad)
        buffer = io.BytesIO()
        Image.new("RGB", (256, 256), color).save(buffer, "PNG", pnginfo=padded, compress_level=9)
        data = buffer.getvalue()
        pad += size - len(data)
    return data


@dataclass
class Submitted:
    prompt_id: str
    number: int
    graph: dict[str, Any]
    client_id: str | None
    scenario: str
    sent: list[dict[str, Any]] = field(default_factory=list)

    def queue_item(self) -> list[Any]:
        outputs = [n for n, node in self.graph.items() if node.get("class_type") in OUTPUT_CLASSES]
        return [self.number, self.prompt_id, self.graph, {"client_id": self.client_id}, outputs]


class ComfyUIReplay:
    """The replay server's state; `app` is the ASGI app to serve."""

    def __init__(self, *, time_scale: float = 1.0) -> None:
        self.time_scale = time_scale
        self.fault: str | None = None
        self.hold_end_marker: asyncio.Event | None = None
        self.sockets: dict[str, WebSocket] = {}
        self.history: dict[str, dict[str, Any]] = {}
        self.files: dict[tuple[str, str, str], bytes] = {}
        self.prompts: list[dict[str, Any]] = []
        self.interrupts: list[dict[str, Any]] = []
        self.uploads: list[dict[str, Any]] = []
        self.deleted: list[str] = []
        self.running: Submitted | None = None
        self.pending: list[Submitted] = []
        self.submitted: dict[str, Submitted] = {}
        self.ran_graphs: set[str] = set()
        self.ran_node2: set[str] = set()  # node 2 of image graphs that ran: cached next time
        self.client_flags: dict[str, dict[str, Any]] = {}  # sid → its declared feature flags
        self.interleave = False
        self._foreign = self._foreign_messages()
        self.number = 0
        self._wake = asyncio.Event()
        self._interrupt = asyncio.Event()
        self._executor: asyncio.Task[None] | None = None
        self.app = self._build_app()

    # --- scenario choice ------------------------------------------------------------------------

    def _rejection(self, graph: dict[str, Any]) -> dict[str, Any] | None:
        real = real_trace()
        for node_id, node in graph.items():
            class_type = node.get("class_type") if isinstance(node, dict) else None
            if class_type not in KNOWN_CLASSES:
                body = copy.deepcopy(real["unknown_node"]["log"][1]["body"])
                body["error"]["message"] = (
                    f"Cannot execute because node {class_type} does not exist."
                )
                body["error"]["details"] = f"Node ID '#{node_id}'"
                return body
        recorded = real["invalid"]["log"][1]["body"]
        ((scale_id, scale_error),) = recorded["node_errors"].items()
        allowed = scale_error["errors"][0]["extra_info"]["input_config"][0]
        for node_id, node in graph.items():
            if node["class_type"] != "ImageScale":
                continue
            method = node.get("inputs", {}).get("upscale_method")
            if method not in allowed:
                body = copy.deepcopy(recorded)
                error = body["node_errors"].pop(scale_id)
                issue = error["errors"][0]
                issue["details"] = f"upscale_method: {method!r} not in {allowed}"
                issue["extra_info"]["received_value"] = method
                body["node_errors"][node_id] = error
                return body
        return None

    def _scenario(self, graph: dict[str, Any]) -> str | None:
        classes = {node_id: node["class_type"] for node_id, node in graph.items()}
        if "PreviewAny" in classes.values() and _text_sources(graph) is not None:
            return "text"
        if classes == PROBE_GRAPH_CLASSES:
            inputs = graph["2"]["inputs"]
            if int(inputs.get("fail_at", -1)) > 0:
                return "fail"
            if int(inputs.get("steps", 3)) > 3:
                return "interrupt"
            if inputs.get("text"):
                return "steps_with_text"
            return "steps" if int(inputs.get("steps", 3)) == 3 else "steps_preview_metadata"
        if classes == SAMPLER_GRAPH_CLASSES:
            inputs = graph["2"]["inputs"]
            if int(inputs.get("fail_at_step", 0)) > 0:
                return "error_at_step_1"
            return "interrupted" if int(inputs.get("steps", 3)) > 3 else "progress_with_preview"
        basic_like = {k: ("EmptyImage" if v == "LoadImage" else v) for k, v in classes.items()}
        if basic_like == BASIC_GRAPH_CLASSES:
            key = json.dumps(graph, sort_keys=True)
            if key in self.ran_graphs:
                return "prompt2_identical"
            node2 = json.dumps(graph.get("2"), sort_keys=True)
            return "basic_identical" if node2 in self.ran_node2 else "basic"
        return None

    def _previews_with_metadata(self, client_id: str | None) -> bool:
        flags = self.client_flags.get(client_id or "", {})
        return bool(flags.get("supports_preview_metadata"))

    def _foreign_messages(self) -> itertools.cycle[dict[str, Any]]:
        """Another client's prompts, as the faithful trace has them, then non-object data."""
        foreign: list[dict[str, Any]] = []
        for case in ("fail", "steps"):
            run = real_trace()[case]
            other = f"foreign-{case}-{run['prompt_id']}"
            foreign += [
                _replace(e["ws"], run["prompt_id"], other)
                for e in run["log"][1:]
                if "ws" in e and e["ws"]["type"] != "status"
            ]
        foreign[::5] = [NON_OBJECT_DATA[i % len(NON_OBJECT_DATA)] for i in range(len(foreign[::5]))]
        return itertools.cycle(foreign)

    # --- execution ------------------------------------------------------------------------------

    async def _send(self, item: Submitted, message: dict[str, Any] | bytes) -> None:
        if isinstance(message, dict):
            item.sent.append(message)
        if (isinstance(message, dict) and message["type"] == "status") or item.client_id is None:
            targets = list(self.sockets.values())  # queue status, and prompts of nobody's client
        else:
            socket = self.sockets.get(item.client_id or "")
            targets = [socket] if socket is not None else []
        for socket in targets:
            with contextlib.suppress(Exception):
                if isinstance(message, bytes):
                    await socket.send_bytes(message)
                else:
                    await socket.send_text(json.dumps(message))
        if (
            self.fault == "drop_socket"
            and isinstance(message, dict)
            and message["type"] == "execution_start"
        ):
            socket = self.sockets.pop(item.client_id or "", None)
            if socket is not None:
                with contextlib.suppress(Exception):
                    await socket.close(code=1011)

    def _record_history(self, item: Submitted) -> None:
        if item.prompt_id in self.history:
            return
        outputs: dict[str, Any] = {}
        meta: dict[str, Any] = {}
        messages: list[list[Any]] = []
        for message in item.sent:
            kind, data = message["type"], message["data"]
            if kind == "executed":
                node = data["node"]
                outputs[node] = data["output"]
                meta[node] = {
                    "node_id": node,
                    "display_node": data.get("display_node", node),
                    "parent_node": None,
                    "real_node_id": node,
                }
            if kind in EXECUTION_MESSAGES:
                messages.append([kind, data])
        success = any(kind == "execution_success" for kind, _ in messages)
        self.history[item.prompt_id] = {
            "prompt": item.queue_item(),
            "outputs": outputs,
            "status": {
                "status_str": "success" if success else "error",
                "completed": success,
                "messages": messages,
            },
            "meta": meta,
        }
        if success:
            self.ran_graphs.add(json.dumps(item.graph, sort_keys=True))
            if item.scenario.startswith(("basic", "prompt")):
                self.ran_node2.add(json.dumps(item.graph.get("2"), sort_keys=True))

    def _make_files(self, item: Submitted, message: dict[str, Any]) -> None:
        basic, _ = recordings()
        image_graph = item.scenario.startswith(("prompt", "basic"))
        size = basic["view"]["bytes"] if image_graph else None
        color = (0, 127, 255) if image_graph else (34, 34, 34)
        for files in message["data"]["output"].values():
            for ref in files:
                if not isinstance(ref, dict):  # a PreviewAny's text
                    continue
                key = (ref["type"], ref["subfolder"], ref["filename"])
                if key not in self.files:
                    self.files[key] = output_png(item.graph, size, color)

    async def _emit(self, item: Submitted, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "status" and any(m["type"] in TERMINAL for m in item.sent):
            self._record_history(item)  # task_done writes the history, then announces the queue
        if kind == "executing" and message["data"].get("node") is None:
            self._record_history(item)
        if kind == "executed":
            self._make_files(item, message)
        if kind == "executing" and message["data"].get("node") is None and self.hold_end_marker:
            await self.hold_end_marker.wait()  # a test holds the lagging end marker back
        await self._send(item, message)

    async def _interleave(self, item: Submitted) -> None:
        """Another prompt's message (or non-object data) on this prompt's client's socket."""
        socket = self.sockets.get(item.client_id or "")
        if self.interleave and socket is not None:
            with contextlib.suppress(Exception):
                await socket.send_text(json.dumps(next(self._foreign)))

    def _binary(self, item: Submitted, frame: dict[str, Any], node: str | None) -> bytes:
        """A recorded binary frame, encoded the way this client gets previews."""
        if frame["event"] == 3:
            return text_frame(frame["node"], frame["text"])
        if not self._previews_with_metadata(item.client_id):
            fmt = frame.get("image_format", 1)
            length = frame["len"] if frame["event"] == 1 else 655  # the recorded event-1 size
            return preview_frame(length, 1, fmt)
        meta = frame.get("meta") or {
            "node_id": node,
            "prompt_id": item.prompt_id,
            "display_node_id": node,
            "parent_node_id": None,
            "real_node_id": node,
            "image_type": "image/jpeg",
        }
        meta = {**meta, "prompt_id": item.prompt_id}
        length = frame["len"] if frame["event"] == 4 else 821  # the recorded event-4 size
        return metadata_preview_frame(length, meta)

    async def _play_real(self, item: Submitted) -> None:
        run = real_trace()[item.scenario]
        recorded_id = run["prompt_id"]
        previous: float | None = None
        node: str | None = None
        for entry in run["log"][1:]:
            if "t" not in entry:
                continue
            if previous is not None:
                gap = min(MAX_GAP_S, max(0.0, entry["t"] - previous))
                await asyncio.sleep(gap * self.time_scale)
            previous = entry["t"]
            if entry.get("http") == "POST /interrupt":  # the run goes on until someone stops it
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._interrupt.wait(), INTERRUPT_WAIT_S)
                continue
            if "binary" in entry:
                await self._send(item, self._binary(item, entry["binary"], node))
                continue
            if "ws" not in entry or entry["ws"]["type"] == "feature_flags":
                continue  # HTTP answers are given by the routes; the flags reply by the socket
            message = _replace(entry["ws"], recorded_id, item.prompt_id)
            if message["type"] == "executing":
                node = message["data"].get("node")
            await self._emit(item, message)
            await self._interleave(item)

    async def _play_text(self, item: Submitted) -> None:
        """The basic run's framing around each node of a text graph (see the module doc)."""
        sources = _text_sources(item.graph)
        assert sources is not None
        run = real_trace()["basic"]
        log = [e["ws"] for e in run["log"] if "ws" in e]
        first = next(i for i, m in enumerate(log) if m["type"] == "execution_start")
        success = next(i for i, m in enumerate(log) if m["type"] == "execution_success")
        head = log[first - 2 : first + 2]  # queue status ×2, start, cached (nothing)
        compact: list[dict[str, Any]] = []
        states: dict[str, list[Any]] = {}
        for node in _execution_order(item.graph):
            states[node] = ["running", 0.0, 1.0]
            compact.append({"type": "progress_state", "data": {"nodes": copy.deepcopy(states)}})
            compact.append({"type": "executing", "data": {"node": node, "display_node": node}})
            if node in sources:
                output = {"text": [preview_any_text(sources[node])]}
                compact.append(
                    {"type": "executed", "data": {"node": node, "display_node": node,
                                                  "output": output}}
                )  # fmt: skip
            states[node] = ["finished", 1.0, 1.0]
            compact.append({"type": "progress_state", "data": {"nodes": copy.deepcopy(states)}})
        messages = [_replace(m, run["prompt_id"], item.prompt_id) for m in head]
        messages += [_expand_compact(m, item.prompt_id) for m in compact]
        messages += [_replace(m, run["prompt_id"], item.prompt_id) for m in log[success:]]
        for message in messages:
            if message["type"] in ("execution_start", "execution_cached", "execution_success"):
                message = {**message, "data": {**message["data"], "timestamp": _now_ms()}}
            await asyncio.sleep(0.005 * self.time_scale)
            await self._emit(item, message)
            await self._interleave(item)

    async def _play(self, item: Submitted) -> None:
        basic, sampler = recordings()
        if item.scenario == "text":
            await self._play_text(item)
            return
        if item.scenario in REAL_CASES:
            await self._play_real(item)
            return
        if item.scenario in ("prompt1", "prompt2_identical"):
            log = basic[item.scenario]["log"]
            recorded_id = log[0]["body"]["prompt_id"]
            previous = 0.0
            for entry in log[1:]:
                await asyncio.sleep(max(0.0, entry["t"] - previous) * self.time_scale)
                previous = entry["t"]
                message = _replace(entry["ws"], recorded_id, item.prompt_id)
                await self._emit(item, message)
            return
        recording = sampler[item.scenario]
        sequence = recording["seq"]
        gap = recording["seconds"] / max(1, len(sequence)) * self.time_scale
        for entry in sequence:
            await asyncio.sleep(gap)
            if "binary" in entry:
                frame = entry["binary"]
                await self._send(
                    item, preview_frame(frame["len"], frame["event"], frame["image_format"])
                )
                continue
            message = _expand_compact(entry, item.prompt_id)
            if message["type"] == "execution_interrupted":
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._interrupt.wait(), INTERRUPT_WAIT_S)
            await self._emit(item, message)

    async def _execute_forever(self) -> None:
        while True:
            while not self.pending:
                self._wake.clear()
                await self._wake.wait()
            item = self.pending.pop(0)
            self.running = item
            self._interrupt.clear()
            try:
                await self._play(item)
            finally:
                self._record_history(item)
                self.running = None

    def _ensure_executor(self) -> None:
        if self._executor is None or self._executor.done():
            self._executor = asyncio.get_running_loop().create_task(self._execute_forever())

    @staticmethod
    def _flags_reply() -> dict[str, Any]:
        (reply,) = [
            e["ws"]
            for e in real_trace()["steps_preview_metadata"]["log"]
            if e.get("ws", {}).get("type") == "feature_flags"
        ]
        return copy.deepcopy(reply)

    async def aclose(self) -> None:
        if self._executor is not None:
            self._executor.cancel()
            with contextlib.suppress(BaseException):
                await self._executor

    # --- HTTP and WebSocket ---------------------------------------------------------------------

    def _build_app(self) -> FastAPI:
        app = FastAPI()
        basic, _ = recordings()

        @app.websocket("/ws")
        async def websocket(socket: WebSocket) -> None:
            await socket.accept()
            sid = socket.query_params.get("clientId") or uuid.uuid4().hex
            self.sockets[sid] = socket
            self.client_flags.pop(sid, None)
            greeting = copy.deepcopy(basic["on_connect"])
            greeting["data"]["sid"] = sid
            greeting["data"]["status"]["exec_info"]["queue_remaining"] = len(self.pending) + (
                1 if self.running else 0
            )
            try:
                await socket.send_text(json.dumps(greeting))
                first = True
                while True:
                    text = await socket.receive_text()
                    with contextlib.suppress(ValueError, AttributeError):
                        message = json.loads(text)
                        if first and message.get("type") == "feature_flags":
                            self.client_flags[sid] = dict(message.get("data") or {})
                            await socket.send_text(json.dumps(self._flags_reply()))
                    first = False
            except (WebSocketDisconnect, RuntimeError):
                pass
            finally:
                if self.sockets.get(sid) is socket:
                    del self.sockets[sid]

        @app.post("/prompt")
        async def post_prompt(request: Request) -> Response:
            body = await request.json()
            self.prompts.append(body)
            if self.fault == "garbage_prompt":
                return Response("<html><body>502 Bad Gateway</body></html>", media_type="text/html")
            graph = body.get("prompt")
            if not isinstance(graph, dict):
                return JSONResponse({"error": "no prompt"}, status_code=400)
            rejection = self._rejection(graph)
            if rejection is not None:
                return JSONResponse(rejection, status_code=400)
            scenario = self._scenario(graph)
            if scenario is None:
                return JSONResponse({"replay": "no recording for this graph"}, status_code=500)
            item = Submitted(str(uuid.uuid4()), self.number, graph, body.get("client_id"), scenario)
            self.number += 1
            self.submitted[item.prompt_id] = item
            if self.fault != "forget_prompt":
                self.pending.append(item)
                self._ensure_executor()
                self._wake.set()
            return JSONResponse(
                {"prompt_id": item.prompt_id, "number": item.number, "node_errors": {}}
            )

        @app.get("/prompt")
        async def get_prompt() -> dict[str, Any]:
            remaining = len(self.pending) + (1 if self.running else 0)
            return {"exec_info": {"queue_remaining": remaining}}

        @app.get("/history/{prompt_id}")
        async def get_history(prompt_id: str) -> dict[str, Any]:
            entry = self.history.get(prompt_id)
            return {prompt_id: entry} if entry is not None else {}

        @app.get("/queue")
        async def get_queue() -> dict[str, Any]:
            return {
                "queue_running": [self.running.queue_item()] if self.running else [],
                "queue_pending": [item.queue_item() for item in self.pending],
            }

        @app.post("/queue")
        async def post_queue(request: Request) -> Response:
            body = await request.json()
            for prompt_id in body.get("delete", []):
                self.deleted.append(prompt_id)
                self.pending = [item for item in self.pending if item.prompt_id != prompt_id]
            if body.get("clear"):
                self.pending.clear()
            return Response(status_code=200)

        @app.post("/interrupt")
        async def post_interrupt(request: Request) -> Response:
            raw = await request.body()
            try:
                body = json.loads(raw) if raw else {}
            except json.JSONDecodeError:
                body = {}
            self.interrupts.append(body)
            target = body.get("prompt_id")
            if self.running is not None and target in (None, self.running.prompt_id):
                self._interrupt.set()
            return Response(status_code=200)

        @app.get("/view")
        async def view(filename: str, subfolder: str = "", type: str = "output") -> Response:
            data = self.files.get((type, subfolder, filename))
            if data is None:
                return Response(status_code=404)
            media = basic["view"]["content_type"] if filename.endswith(".png") else None
            return Response(
                data,
                media_type=media or "application/octet-stream",
                headers={"Content-Disposition": f'filename="{filename}"'},
            )

        async def upload(request: Request, kind: str) -> Response:
            content_type = request.headers.get("content-type", "")
            raw = await request.body()
            message = BytesParser(policy=HTTP).parsebytes(
                f"Content-Type: {content_type}\r\n\r\n".encode() + raw
            )
            fields: dict[str, str] = {}
            image: tuple[str, bytes] | None = None
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                filename = part.get_filename()
                payload = part.get_payload(decode=True) or b""
                if name == "image" and filename:
                    image = (filename, payload)
                elif isinstance(name, str):
                    fields[name] = payload.decode()
            if image is None:
                return Response(status_code=400)
            subfolder = fields.get("subfolder", "")
            folder = fields.get("type", "input")
            self.files[(folder, subfolder, image[0])] = image[1]
            self.uploads.append(
                {"kind": kind, "filename": image[0], "size": len(image[1]), **fields}
            )
            return JSONResponse({"name": image[0], "subfolder": subfolder, "type": folder})

        @app.post("/upload/image")
        async def upload_image(request: Request) -> Response:
            return await upload(request, "image")

        @app.post("/upload/mask")
        async def upload_mask(request: Request) -> Response:
            return await upload(request, "mask")

        @app.get("/system_stats")
        async def system_stats() -> dict[str, Any]:
            return {
                "system": {"os": "posix", "comfyui_version": "0.3.64", "embedded_python": False},
                "devices": [{"name": "cpu", "type": "cpu", "index": None}],
            }

        return app
