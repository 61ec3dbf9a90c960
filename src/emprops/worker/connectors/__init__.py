"""Built-in connectors by service name, imported lazily so a worker loads only what it runs."""

from __future__ import annotations

import importlib

from emprops.worker.connector import Connector

# service name -> "module:Class"
BUILTIN_CONNECTORS: dict[str, str] = {
    "echo": "emprops.worker.connectors.echo:EchoConnector",
    "comfyui": "emprops.worker.connectors.comfyui:ComfyUIConnector",
    "ollama": "emprops.worker.connectors.ollama:OllamaConnector",
    "openai": "emprops.worker.connectors.openai:OpenAIConnector",
    "http": "emprops.worker.connectors.http_api:HttpApiConnector",
    "render": "emprops.worker.connectors.render:RenderConnector",
    "publish": "emprops.publishing.connector:PublishConnector",
}


def connector_class(service: str) -> type[Connector]:
    """The connector class for a service, or KeyError naming the known ones."""
    try:
        target = BUILTIN_CONNECTORS[service]
    except KeyError:
        known = ", ".join(sorted(BUILTIN_CONNECTORS))
        raise KeyError(f"unknown service {service!r}; known: {known}") from None
    module_name, _, class_name = target.partition(":")
    cls: type[Connector] = getattr(importlib.import_module(module_name), class_name)
    return cls
