"""A worker's configuration: capabilities and connector settings, from a TOML file and flags."""

from __future__ import annotations

import os
import socket
import tomllib
import uuid
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from emprops.core.errors import InvalidInputError
from emprops.queue.models import CustomerAccess, Hardware, WorkerCapabilities


class WorkerFileConfig(BaseModel):
    """`[worker]` advertises capabilities (extra keys are custom ones); `[connectors.<service>]`
    configures each connector (base URLs, API keys by environment variable name, ...)."""

    model_config = ConfigDict(extra="forbid")

    class Worker(BaseModel):
        model_config = ConfigDict(extra="allow")

        worker_id: str | None = None
        services: list[str] = Field(default_factory=list)
        concurrency: int | None = Field(default=None, ge=1, le=1024)
        hardware: Hardware = Field(default_factory=Hardware)
        models: dict[str, list[str]] = Field(default_factory=dict)
        customer_access: CustomerAccess = Field(default_factory=CustomerAccess)
        workflow_id: str | None = None

    worker: Worker = Field(default_factory=Worker)
    connectors: dict[str, dict[str, Any]] = Field(default_factory=dict)


def load_worker_config(path: Path | None) -> WorkerFileConfig:
    if path is None:
        return WorkerFileConfig()
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise InvalidInputError(f"worker config file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInputError(f"worker config {path} is not valid TOML: {exc}") from None
    try:
        return WorkerFileConfig.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidInputError(f"worker config {path}: {where}: {first['msg']}") from None


def default_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def build_capabilities(
    file_config: WorkerFileConfig, services: list[str], worker_id: str | None
) -> WorkerCapabilities:
    """Flags win over the file; the machine's CPU count and RAM fill in unknown hardware."""
    section = file_config.worker
    data = section.model_dump(exclude_none=True, exclude={"concurrency"})
    data["services"] = services or section.services
    data["worker_id"] = worker_id or section.worker_id or default_worker_id()
    data["machine_id"] = socket.gethostname()
    hardware = data.setdefault("hardware", {})
    hardware.setdefault("cpu_cores", os.cpu_count() or 1)
    try:
        pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        hardware.setdefault("ram_gb", round(pages * page_size / 2**30, 1))
    except (ValueError, OSError):
        pass
    try:
        return WorkerCapabilities.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidInputError(f"worker capabilities: {where}: {first['msg']}") from None
