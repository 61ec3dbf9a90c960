"""The ComfyUI wire protocol as recorded from a real 0.3.64 server (tests/data/comfyui/).

Pure parsing and bookkeeping, no I/O: the HTTP bodies of `/prompt` and `/history`, the WebSocket
text messages and binary preview frames, and `PromptTracker`, which follows one prompt's messages
to its end and turns them into progress.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

# Binary frames: 4-byte big-endian event type, then per event: 1 a 4-byte image format and the
# image; 3 a 4-byte node id length, the node id and UTF-8 text (a node's progress text, not an
# image); 4 a 4-byte metadata length, JSON metadata (node, prompt_id, image_type) and the image.
# Event 4 replaces 1 only for a client whose first message declared `supports_preview_metadata`.
PREVIEW_IMAGE = 1
PROGRESS_TEXT = 3
PREVIEW_IMAGE_WITH_METADATA = 4
PREVIEW_EVENTS = frozenset({PREVIEW_IMAGE, PREVIEW_IMAGE_WITH_METADATA})
IMAGE_FORMATS = {1: "image/jpeg", 2: "image/png"}
# Exception types that say the machine, not the graph, was the problem: worth another worker.
RETRYABLE_EXCEPTIONS = ("OutOfMemoryError", "MemoryError")


class ComfyProtocolError(ValueError):
    """Something that is not the ComfyUI protocol arrived."""


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


# --- POST /prompt -------------------------------------------------------------------------------


class ValidationIssue(_Open):
    type: str = ""
    message: str = ""
    details: str = ""
    extra_info: dict[str, Any] = Field(default_factory=dict)


class NodeError(_Open):
    errors: list[ValidationIssue] = Field(default_factory=list)
    dependent_outputs: list[str] = Field(default_factory=list)
    class_type: str = ""


class PromptAccepted(_Open):
    prompt_id: str
    number: float
    node_errors: dict[str, NodeError] = Field(default_factory=dict)


class PromptRejected(_Open):
    error: ValidationIssue | str
    node_errors: dict[str, NodeError] = Field(default_factory=dict)

    def summary(self) -> str:
        """One line a person can act on: the prompt error, then each node's first problems."""
        if isinstance(self.error, str):
            head = self.error
        else:
            head = self.error.message or self.error.type
            if self.error.details:
                head = f"{head} ({self.error.details})"
        parts = [head]
        for node_id, node in sorted(self.node_errors.items()):
            issues = "; ".join(
                f"{issue.message}: {issue.details}" if issue.details else issue.message
                for issue in node.errors[:3]
            )
            parts.append(f"node {node_id} ({node.class_type or '?'}): {issues}")
        return " | ".join(parts)

    def details(self) -> dict[str, Any]:
        error = self.error if isinstance(self.error, str) else self.error.model_dump()
        nodes = {
            node_id: {
                "class_type": node.class_type,
                "errors": [
                    {
                        "type": issue.type,
                        "message": issue.message,
                        "details": issue.details,
                        "input_name": issue.extra_info.get("input_name"),
                    }
                    for issue in node.errors
                ],
            }
            for node_id, node in self.node_errors.items()
        }
        return {"error": error, "node_errors": nodes}


# --- GET /history/{prompt_id} -------------------------------------------------------------------


class FileRef(_Open):
    filename: str
    subfolder: str = ""
    type: str = "output"


class HistoryStatus(_Open):
    status_str: str = ""
    completed: bool = False
    messages: list[Any] = Field(default_factory=list)

    def message(self, name: str) -> dict[str, Any] | None:
        for entry in self.messages:
            if (
                isinstance(entry, list | tuple)
                and len(entry) == 2
                and entry[0] == name
                and isinstance(entry[1], dict)
            ):
                return entry[1]
        return None


class HistoryEntry(_Open):
    outputs: dict[str, dict[str, Any]] = Field(default_factory=dict)
    status: HistoryStatus | None = None

    def files(
        self, types: frozenset[str], nodes: frozenset[str] | None
    ) -> list[tuple[str, FileRef]]:
        """Output files in node order (numeric ids numerically), of the wanted types and nodes."""
        found: list[tuple[str, FileRef]] = []
        for node_id in sorted(self.outputs, key=_node_order):
            if nodes is not None and node_id not in nodes:
                continue
            for items in self.outputs[node_id].values():
                if not isinstance(items, list):
                    continue
                for item in items:
                    if isinstance(item, dict) and "filename" in item:
                        try:
                            ref = FileRef.model_validate(item)
                        except ValidationError:
                            continue
                        if ref.type in types:
                            found.append((node_id, ref))
        return found


def _node_order(node_id: str) -> tuple[int, int | str]:
    return (0, int(node_id)) if node_id.isdigit() else (1, node_id)


def parse_history(body: Any, prompt_id: str) -> HistoryEntry | None:
    """The entry for one prompt; None while the server has not finished it (`{}`)."""
    if not isinstance(body, dict):
        raise ComfyProtocolError(f"history is not an object: {type(body).__name__}")
    raw = body.get(prompt_id)
    if raw is None:
        return None
    try:
        return HistoryEntry.model_validate(raw)
    except ValidationError as exc:
        raise ComfyProtocolError(f"history entry for {prompt_id} is malformed: {exc}") from None


def queue_position(body: Any, prompt_id: str) -> str | None:
    """`running`, `pending` or None, from a GET /queue body (items are [number, prompt_id, ...])."""
    if not isinstance(body, dict):
        raise ComfyProtocolError("queue is not an object")
    for state in ("running", "pending"):
        for item in body.get(f"queue_{state}", []) or []:
            if isinstance(item, list) and len(item) > 1 and item[1] == prompt_id:
                return state
    return None


# --- WebSocket ----------------------------------------------------------------------------------


class WsMessage(BaseModel):
    """One text message. `data` is kept as sent: ComfyUI forwards whatever a node passes to
    `send_sync`, so it is not always an object (the tracker ignores those)."""

    type: str
    data: Any = Field(default_factory=dict)


def parse_text_frame(text: str | bytes) -> WsMessage:
    try:
        raw = orjson.loads(text)
        return WsMessage.model_validate(raw)
    except (orjson.JSONDecodeError, ValidationError) as exc:
        raise ComfyProtocolError(f"not a ComfyUI message: {str(text)[:80]!r}") from exc


@dataclass(frozen=True)
class PreviewFrame:
    """A binary frame: a preview image (events 1 and 4) or a node's progress text (event 3)."""

    event: int
    mime: str | None
    image: bytes
    meta: dict[str, Any] = field(default_factory=dict)
    node: str | None = None
    text: str | None = None

    @property
    def is_preview(self) -> bool:
        return self.event in PREVIEW_EVENTS

    @property
    def prompt_id(self) -> str | None:
        """Only event 4 says whose prompt it shows."""
        owner = self.meta.get("prompt_id")
        return owner if isinstance(owner, str) else None


def parse_binary_frame(frame: bytes) -> PreviewFrame:
    if len(frame) < 4:
        raise ComfyProtocolError(f"binary frame of {len(frame)} bytes has no event type")
    (event,) = struct.unpack(">I", frame[:4])
    if event == PREVIEW_IMAGE:
        if len(frame) < 8:
            raise ComfyProtocolError("preview frame without an image format")
        (image_format,) = struct.unpack(">I", frame[4:8])
        return PreviewFrame(event, IMAGE_FORMATS.get(image_format), frame[8:])
    if event == PREVIEW_IMAGE_WITH_METADATA and len(frame) >= 8:
        (meta_len,) = struct.unpack(">I", frame[4:8])
        try:
            meta = orjson.loads(frame[8 : 8 + meta_len])
        except orjson.JSONDecodeError:
            meta = {}
        meta = meta if isinstance(meta, dict) else {}
        mime = meta.get("image_type")
        node = meta.get("node_id")
        return PreviewFrame(
            event,
            mime if isinstance(mime, str) else None,
            frame[8 + meta_len :],
            meta=meta,
            node=node if isinstance(node, str) else None,
        )
    if event == PROGRESS_TEXT and len(frame) >= 8:
        (node_len,) = struct.unpack(">I", frame[4:8])
        if 8 + node_len <= len(frame):
            node_id = frame[8 : 8 + node_len].decode("utf-8", "replace")
            text = frame[8 + node_len :].decode("utf-8", "replace")
            return PreviewFrame(event, None, b"", node=node_id, text=text)
    return PreviewFrame(event, None, frame[4:])


class Executing(_Open):
    node: str | None
    prompt_id: str | None = None


class Progress(_Open):
    value: float
    max: float
    node: str | None = None
    prompt_id: str | None = None


class Executed(_Open):
    node: str
    output: dict[str, Any] | None = None


class ExecutionCached(_Open):
    nodes: list[str] = Field(default_factory=list)


class ExecutionError(_Open):
    node_id: str | None = None
    node_type: str | None = None
    exception_message: str = ""
    exception_type: str = ""
    traceback: list[str] = Field(default_factory=list)
    executed: list[str] = Field(default_factory=list)

    @property
    def retryable(self) -> bool:
        return any(name in self.exception_type for name in RETRYABLE_EXCEPTIONS) or (
            "out of memory" in self.exception_message.lower()
        )

    def summary(self) -> str:
        message = self.exception_message.strip() or self.exception_type or "failed"
        return f"node {self.node_id} ({self.node_type}) raised {self.exception_type}: {message}"

    def details(self) -> dict[str, Any]:
        return {
            "node_id": self.node_id,
            "node_type": self.node_type,
            "exception_type": self.exception_type,
            "exception_message": self.exception_message.strip(),
            "traceback": self.traceback[-3:],
            "executed": self.executed,
        }


class ExecutionInterrupted(_Open):
    node_id: str | None = None
    node_type: str | None = None
    executed: list[str] = Field(default_factory=list)


class Outcome(StrEnum):
    SUCCESS = "success"
    ERROR = "error"
    INTERRUPTED = "interrupted"


@dataclass
class PromptTracker:
    """Follows one prompt's messages; `outcome` is set at the end marker (or an error).

    Progress is the share of graph nodes finished, counting the running node's `progress`
    value/max; cached nodes count as finished. It only moves forward and stays below 100 until
    the end.
    """

    prompt_id: str
    node_types: dict[str, str]
    started: bool = False
    success_seen: bool = False
    outcome: Outcome | None = None
    error: ExecutionError | None = None
    interrupted: ExecutionInterrupted | None = None
    current: str | None = None
    current_fraction: float = 0.0
    finished_nodes: set[str] = field(default_factory=set)
    cached_nodes: set[str] = field(default_factory=set)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    previews: int = 0
    texts: int = 0
    ignored: int = 0
    percent: float = 0.0

    @classmethod
    def for_graph(cls, prompt_id: str, graph: dict[str, Any]) -> PromptTracker:
        types = {
            node_id: str(node.get("class_type", "?"))
            for node_id, node in graph.items()
            if isinstance(node, dict)
        }
        return cls(prompt_id=prompt_id, node_types=types)

    @property
    def message(self) -> str:
        if self.outcome is not None:
            return self.outcome.value
        if self.current is None:
            return "started" if self.started else "queued"
        label = f"node {self.current} {self.node_types.get(self.current, '')}".rstrip()
        return f"{label} {round(self.current_fraction * 100)}%"

    def on_preview(self, frame: PreviewFrame) -> None:
        """Count preview images of this prompt; progress text (event 3) is not an image. An
        event-1 preview names no prompt: it is ours only while ours runs (the server runs one
        prompt at a time, and broadcasts a clientless prompt's previews to every socket)."""
        if frame.event == PROGRESS_TEXT:
            self.texts += 1
        elif (
            not frame.is_preview
            or frame.prompt_id not in (None, self.prompt_id)
            or (frame.prompt_id is None and (not self.started or self.outcome is not None))
        ):
            self.ignored += 1
        else:
            self.previews += 1

    def feed(self, message: WsMessage) -> bool:
        """Take one message; True when it changed progress or ended the prompt. Messages of other
        prompts, and ones whose `data` is not an object, change nothing."""
        if not isinstance(message.data, dict):
            self.ignored += 1
            return False
        owner = message.data.get("prompt_id")
        if owner is not None and owner != self.prompt_id:
            return False
        try:
            return self._apply(message)
        except ValidationError:
            self.ignored += 1
            return False

    def _apply(self, message: WsMessage) -> bool:
        kind, data = message.type, message.data
        if kind == "execution_start":
            self.started = True
            return True
        if kind == "execution_cached":
            cached = ExecutionCached.model_validate(data).nodes
            self.cached_nodes.update(cached)
            self.finished_nodes.update(cached)
            return self._recompute()
        if kind == "executing":
            node = Executing.model_validate(data).node
            if node is None:
                if self.started or self.success_seen or self.error or self.interrupted:
                    self.outcome = self._final_outcome()
                    return True
                return False
            self._finish_current()
            self.started = True
            self.current, self.current_fraction = node, 0.0
            return self._recompute()
        if kind == "progress":
            progress = Progress.model_validate(data)
            if progress.node is not None and progress.node != self.current:
                self._finish_current()
                self.current = progress.node
            if progress.max > 0:
                self.current_fraction = min(1.0, max(0.0, progress.value / progress.max))
            return self._recompute()
        if kind == "executed":
            executed = Executed.model_validate(data)
            self.outputs[executed.node] = executed.output or {}
            self.finished_nodes.add(executed.node)
            if executed.node == self.current:
                self.current, self.current_fraction = None, 0.0
            return self._recompute()
        if kind == "execution_success":
            self.success_seen = True
            self._finish_current()
            return self._recompute()
        if kind == "execution_error":
            self.error = ExecutionError.model_validate(data)
            self.outcome = Outcome.ERROR  # the end marker follows, but nothing more is needed
            return True
        if kind == "execution_interrupted":
            self.interrupted = ExecutionInterrupted.model_validate(data)
            self.outcome = Outcome.INTERRUPTED
            return True
        return False  # status, progress_state, feature_flags, custom nodes' own messages

    def _final_outcome(self) -> Outcome:
        if self.error is not None:
            return Outcome.ERROR
        if self.interrupted is not None:
            return Outcome.INTERRUPTED
        return Outcome.SUCCESS

    def _finish_current(self) -> None:
        if self.current is not None:
            self.finished_nodes.add(self.current)
        self.current, self.current_fraction = None, 0.0

    def _recompute(self) -> bool:
        total = max(1, len(self.node_types))
        done = len(self.finished_nodes & self.node_types.keys())
        percent = min(99.0, 100.0 * (done + self.current_fraction) / total)
        if percent > self.percent:
            self.percent = percent
        return True


def outcome_from_history(entry: HistoryEntry) -> tuple[Outcome, ExecutionError | None]:
    """How a finished prompt ended, from its history (used when the socket was lost)."""
    status = entry.status
    if status is None or status.status_str == "success" or status.completed:
        return Outcome.SUCCESS, None
    if status.message("execution_interrupted") is not None:
        return Outcome.INTERRUPTED, None
    error = status.message("execution_error")
    return Outcome.ERROR, ExecutionError.model_validate(error or {})
