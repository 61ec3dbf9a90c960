"""Import components written in the original platform's format (one folder per component).

A folder holds `form.json` and, by kind, `inputs.json` + `workflow.json` (ComfyUI), `job.json`
(a direct queue job) or `api.json` + `body.json` (an HTTP API), with `credits.js`,
`required_models.json` and `test.json` beside them; option lists live in the library's
`_form_confs/`. Each becomes the registration body of one component (`WorkflowCreate`), or is
refused with the file and field that cannot be taken. Nothing is executed: `credits.js` is
translated into a cost expression, JavaScript-like stop conditions into jq.

Mapped onto our platform: the original's cloud-save node (inputs `prefix`, `filename`, `bucket`)
becomes ComfyUI's own SaveImage, whose files the connector downloads from `/view` into our blob
store; an image-loader node fed by a form field becomes LoadImage, fed by the job's uploaded input;
`{{SECRET}}` headers become secrets the worker holds.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emprops.components.compile import compile_test_values
from emprops.components.credits_js import CreditsTranslationError, translate_credits_js
from emprops.components.form import Form, FormField, FormOption
from emprops.components.templates import UI_FORMAT_HINT, is_ui_format, parse_path
from emprops.core.errors import InvalidInputError

CLOUD_SAVE_NODES = frozenset({"EmProps_Cloud_Storage_Saver"})
TEXT_SAVE_NODES = frozenset({"EmProps_Text_Cloud_Storage_Saver"})
IMAGE_LOADER_NODES = frozenset({"EmProps_Image_Loader"})
PLATFORM_SAVE_INPUTS = frozenset({"prefix", "filename", "bucket", "provider"})
# Form values the original filled in itself (its cloud output path), never a creator's field.
PLATFORM_FIELDS = frozenset({"prefix", "filename", "bucket"})
SKIPPED_FOLDERS = frozenset({"_draft", "_archive", "_form_confs"})
_SECRET = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_URL_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_FILE_TYPES = frozenset({"image_loader", "image_input", "image", "video_loader", "file"})
_TEXT_TYPES = frozenset({"text", "textarea", "color_picker"})


class ComponentImportError(InvalidInputError):
    """One component that cannot be taken: which file, which field, why."""

    def __init__(self, component: str, file: str, where: str, message: str) -> None:
        place = f"{file}: {where}" if where else file
        super().__init__(
            f"{component}: {place}: {message}",
            details={"component": component, "file": file, "field": where, "message": message},
        )


@dataclass
class ImportedComponent:
    name: str
    body: dict[str, Any]  # a WorkflowCreate body
    notes: list[str] = field(default_factory=list)


@dataclass
class LibraryEntry:
    """One folder of a library: imported, or refused with why."""

    folder: str
    component: ImportedComponent | None = None
    error: ComponentImportError | None = None


def _read_json(folder: Path, name: str, component: str) -> Any:
    path = folder / name
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ComponentImportError(component, name, "", "is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ComponentImportError(
            component, name, f"line {exc.lineno}", f"is not JSON ({exc.msg})"
        ) from None


def read_form_confs(library: Path) -> dict[str, Any]:
    """The option lists of `_form_confs/` by file name (unreadable ones are left out: a field
    that names one is refused when it is used)."""
    folder = library / "_form_confs"
    confs: dict[str, Any] = {}
    if folder.is_dir():
        for path in sorted(folder.glob("*.json")):
            try:
                confs[path.name] = json.loads(path.read_text(encoding="utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                continue
    return confs


def _options(raw: Any) -> list[FormOption] | None:
    """Options as the original writes them: [{value, label|name}], ["a", "b"], or an object
    with `options` ([{option, ...}] for aspect ratios)."""
    if isinstance(raw, dict) and isinstance(raw.get("options"), list):
        raw = raw["options"]
    if not isinstance(raw, list):
        return None
    options = []
    for item in raw:
        if isinstance(item, dict) and "value" in item:
            label = item.get("label", item.get("name"))
            options.append(FormOption(value=item["value"], label=str(label) if label else None))
        elif isinstance(item, dict) and "option" in item:
            options.append(FormOption(value=item["option"], label=str(item["option"])))
        elif isinstance(item, str | int | float) and not isinstance(item, bool):
            options.append(FormOption(value=item))
        else:
            return None
    return options


def _form_field(raw: Any, index: int, component: str, confs: Mapping[str, Any]) -> FormField:
    where = f"fields[{index}]"
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not raw["id"]:
        raise ComponentImportError(component, "form.json", where, "needs an id")
    field_id = raw["id"]
    where = f"fields[{index}] ({field_id})"
    kind_of = raw.get("type")
    input_type = raw.get("input_type")
    constraints: dict[str, Any] = (
        raw["constraints"] if isinstance(raw.get("constraints"), dict) else {}
    )
    options = None
    if "options" in raw:
        options = _options(raw["options"])
        if options is None:
            raise ComponentImportError(component, "form.json", where, "options are not a list")
    elif isinstance(raw.get("conf_file"), str):
        conf_name = raw["conf_file"]
        if conf_name not in confs:
            raise ComponentImportError(
                component, "form.json", where, f"conf_file {conf_name!r} is not in _form_confs/"
            )
        options = _options(confs[conf_name])
        if options is None:
            raise ComponentImportError(
                component, f"_form_confs/{conf_name}", "", "is not a list of options"
            )
    if kind_of == "prompt_editor":
        kind = "prompt"
    elif kind_of == "slider":
        kind = "number"
    elif kind_of in ("select", "aspect_ratio"):
        kind = "select" if options is not None else "text"
        if options is None:
            raise ComponentImportError(
                component, "form.json", where, f"a {kind_of} field needs options or a conf_file"
            )
    elif kind_of in ("optional_input", "input"):
        kind = {"number": "number", "checkbox": "boolean"}.get(str(input_type), "text")
    elif kind_of == "checkbox":
        kind = "boolean"
    elif kind_of in _FILE_TYPES:
        kind = "file"
    elif kind_of in _TEXT_TYPES:
        kind = "text"
    else:
        raise ComponentImportError(component, "form.json", where, f"unknown field type {kind_of!r}")
    ui = {k: v for k, v in raw.items() if k in ("type", "group", "display", "input_type",
                                                 "placeholder", "description", "conf_file")}  # fmt: skip
    try:
        return FormField(
            id=field_id,
            kind=kind,
            label=raw.get("name") if isinstance(raw.get("name"), str) else None,
            default=raw.get("default"),
            required=bool(raw.get("required", False)),
            min=constraints.get("min"),
            max=constraints.get("max"),
            step=constraints.get("step") or None,
            options=options,
            seed=field_id == "seed",
            ui=ui,
        )
    except ValueError as exc:
        raise ComponentImportError(component, "form.json", where, str(exc)) from None


def _form(folder: Path, component: str, confs: Mapping[str, Any]) -> tuple[Form, dict[str, Any]]:
    raw = _read_json(folder, "form.json", component)
    if (
        isinstance(raw, dict)
        and "fields" not in raw
        and all(isinstance(v, list) for v in raw.values())
    ):
        # An older layout: fields listed per group ({"main": [...], "advanced": [...]}).
        raw = {"fields": [f for group in raw.values() for f in group]}
    if not isinstance(raw, dict) or not isinstance(raw.get("fields"), list):
        raise ComponentImportError(component, "form.json", "fields", "must be a list")
    fields = [_form_field(f, i, component, confs) for i, f in enumerate(raw["fields"])]
    seen: set[str] = set()
    for f in fields:
        if f.id in seen:
            raise ComponentImportError(component, "form.json", f.id, "the id is used twice")
        seen.add(f.id)
    config: dict[str, Any] = raw["config"] if isinstance(raw.get("config"), dict) else {}
    return Form(fields=fields, ui={"config": config}), config


def _bare_graph(raw: Any, component: str) -> dict[str, Any]:
    graph = raw.get("workflow", raw.get("prompt", raw)) if isinstance(raw, dict) else raw
    if is_ui_format(graph):
        raise ComponentImportError(component, "workflow.json", "", UI_FORMAT_HINT)
    if graph == {}:
        raise ComponentImportError(component, "workflow.json", "", "is empty: no graph to run")
    if not isinstance(graph, dict):
        raise ComponentImportError(component, "workflow.json", "", "is not a ComfyUI graph")
    for node_id, node in graph.items():
        if not isinstance(node, dict) or not isinstance(node.get("class_type"), str):
            raise ComponentImportError(
                component, "workflow.json", str(node_id), "is not a node (class_type, inputs)"
            )
    return copy.deepcopy(graph)


def _comfy(folder: Path, component: str, form: Form, notes: list[str]) -> dict[str, Any]:
    graph = _bare_graph(_read_json(folder, "workflow.json", component), component)
    raw_inputs = _read_json(folder, "inputs.json", component)
    if not isinstance(raw_inputs, dict):
        raise ComponentImportError(component, "inputs.json", "", "must map node ids to inputs")
    fields = form.by_id()
    output_nodes: list[str] = []
    for node_id, node in graph.items():
        if node.get("class_type") in CLOUD_SAVE_NODES:
            images = node.get("inputs", {}).get("images")
            graph[node_id] = {
                "class_type": "SaveImage",
                "inputs": {"images": images, "filename_prefix": "emprops"},
                "_meta": {"title": f"was {node['class_type']}"},
            }
            output_nodes.append(node_id)
            notes.append(f"node {node_id}: cloud save → SaveImage (outputs read from /view)")
        elif node.get("class_type") in TEXT_SAVE_NODES:
            graph[node_id] = {
                "class_type": "PreviewAny",
                "inputs": {"source": node.get("inputs", {}).get("text")},
                "_meta": {"title": f"was {node['class_type']}"},
            }
            output_nodes.append(node_id)
            notes.append(f"node {node_id}: text cloud save → PreviewAny (text in the history)")
        elif "use_cloud_upload" in node.get("inputs", {}):
            node["inputs"]["use_cloud_upload"] = False
            notes.append(f"node {node_id}: cloud upload off (outputs read from /view)")
    bindings: dict[str, dict[str, Any]] = {}
    for node_id, node_inputs in raw_inputs.items():
        if node_id not in graph:
            raise ComponentImportError(
                component, "inputs.json", node_id, "names a node that is not in workflow.json"
            )
        if not isinstance(node_inputs, dict):
            raise ComponentImportError(component, "inputs.json", node_id, "must be an object")
        for input_name, binding in node_inputs.items():
            where = f"{node_id}.{input_name}"
            if not isinstance(binding, dict) or not isinstance(binding.get("value"), str):
                raise ComponentImportError(
                    component, "inputs.json", where, "needs a value (the form field id)"
                )
            field_id = binding["value"]
            if (node_id in output_nodes and input_name in PLATFORM_SAVE_INPUTS) or (
                field_id in PLATFORM_FIELDS and field_id not in fields
            ):
                continue  # the original's own output path: ours is the /view download
            if field_id not in fields:
                if field_id == "seed":
                    form.fields.append(FormField(id="seed", kind="integer", seed=True))
                    fields = form.by_id()
                else:
                    raise ComponentImportError(
                        component, "inputs.json", where, f"field {field_id!r} is not in form.json"
                    )
            target_input = input_name
            loader = graph[node_id].get("class_type") in IMAGE_LOADER_NODES
            if fields[field_id].kind == "file" and loader:
                was = graph[node_id]["class_type"]
                graph[node_id] = {
                    "class_type": "LoadImage",
                    "inputs": {"image": "input.png"},
                    "_meta": {"title": f"was {was}"},
                }
                target_input = "image"
                notes.append(f"node {node_id}: image loader → LoadImage (job-scoped upload)")
            entry = {"value": field_id, "is_required": bool(binding.get("is_required", False))}
            if binding.get("default") is not None:
                entry["default"] = binding["default"]
            if fields[field_id].seed:
                entry["type"] = "seed"
            bindings.setdefault(node_id, {})[target_input] = entry
    data: dict[str, Any] = {
        "form": form.model_dump(mode="json"), "graph": graph, "inputs": bindings,
    }  # fmt: skip
    if output_nodes:
        data["output_nodes"] = output_nodes
    return data


def _input_paths(raw: Any, component: str, form: Form) -> dict[str, list[list[str | int]]]:
    """`inputs.json` of a job or an API component: [{id, pathJq}]."""
    if not isinstance(raw, list):
        raise ComponentImportError(component, "inputs.json", "", "must be a list of {id, pathJq}")
    fields = form.by_id()
    paths: dict[str, list[list[str | int]]] = {}
    for index, item in enumerate(raw):
        where = f"[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise ComponentImportError(component, "inputs.json", where, "needs an id")
        if item["id"] == "seed" and "seed" not in fields:
            form.fields.append(FormField(id="seed", kind="integer", seed=True))
            fields = form.by_id()
        if item["id"] not in fields:
            raise ComponentImportError(
                component, "inputs.json", f"{where} ({item['id']})", "field is not in form.json"
            )
        path = item.get("pathJq", item.get("path"))
        if not isinstance(path, str):
            raise ComponentImportError(component, "inputs.json", item["id"], "needs a pathJq")
        try:
            paths.setdefault(item["id"], []).append(parse_path(path))
        except ValueError as exc:
            raise ComponentImportError(component, "inputs.json", item["id"], str(exc)) from None
    return paths


def _dotted(path: list[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _direct_job(folder: Path, component: str, form: Form) -> dict[str, Any]:
    job = _read_json(folder, "job.json", component)
    if not isinstance(job, dict) or not isinstance(job.get("service_required"), str):
        raise ComponentImportError(component, "job.json", "service_required", "is required")
    payload = job.get("payload", {})
    if not isinstance(payload, dict):
        raise ComponentImportError(component, "job.json", "payload", "must be an object")
    inputs: dict[str, list[str]] = {}
    raw_inputs = (
        _read_json(folder, "inputs.json", component) if (folder / "inputs.json").exists() else []
    )
    for field_id, paths in _input_paths(raw_inputs, component, form).items():
        for path in paths:
            if path[0] == "payload":
                path = path[1:]
            elif path[0] in job:
                raise ComponentImportError(
                    component, "inputs.json", field_id,
                    f"would set {path[0]} of the job: a form field may fill only the payload",
                )  # fmt: skip
            if not path:
                raise ComponentImportError(
                    component, "inputs.json", field_id,
                    "would replace the whole payload: a form field may fill a place in the "
                    "payload, not be it",
                )  # fmt: skip
            inputs.setdefault(field_id, []).append(_dotted(path))
    data: dict[str, Any] = {
        "form": form.model_dump(mode="json"),
        "service_required": job["service_required"],
        "payload": payload,
        "inputs": inputs,
    }
    if isinstance(job.get("output_field"), str) and job["output_field"]:
        data["output_field"] = job["output_field"]
    return data


def _template_secrets(text: str) -> str:
    """`{{NAME}}` in the original's headers → a secret the worker holds."""
    return _SECRET.sub(lambda m: "{{ $secrets." + m.group(1) + " }}", text)


def _success_codes(raw: Any, component: str, where: str) -> None:
    codes = raw if isinstance(raw, list) else [raw] if raw is not None else []
    for code in codes:
        if not isinstance(code, int) or not 200 <= code < 300:
            raise ComponentImportError(
                component, "api.json", where,
                f"success code {code!r}: only 2xx answers count as success here",
            )  # fmt: skip


def _fetch_api(
    folder: Path, component: str, form: Form, config: Mapping[str, Any]
) -> dict[str, Any]:
    from emprops.components.conditions import ConditionTranslationError, js_condition_to_jq

    api = _read_json(folder, "api.json", component)
    if not isinstance(api, dict) or not isinstance(api.get("url"), str):
        raise ComponentImportError(component, "api.json", "url", "is required")
    body = _read_json(folder, "body.json", component) if (folder / "body.json").exists() else None
    raw_inputs = (
        _read_json(folder, "inputs.json", component) if (folder / "inputs.json").exists() else []
    )
    for field_id, paths in _input_paths(raw_inputs, component, form).items():
        if body is None:
            raise ComponentImportError(component, "inputs.json", field_id, "there is no body.json")
        for path in paths:
            node: Any = body
            for part in path[:-1]:
                try:
                    node = node[part]
                except (KeyError, IndexError, TypeError):
                    raise ComponentImportError(
                        component, "inputs.json", field_id,
                        f"path {_dotted(path)} is not in body.json",
                    ) from None  # fmt: skip
            try:
                node[path[-1]] = "{{ ." + field_id + " }}"
            except (IndexError, TypeError):
                raise ComponentImportError(
                    component, "inputs.json", field_id, f"path {_dotted(path)} is not in body.json"
                ) from None
    headers = api.get("headers") or {}
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise ComponentImportError(component, "api.json", "headers", "must map names to text")
    _success_codes(api.get("successResponseCode"), component, "successResponseCode")
    request: dict[str, Any] = {
        "method": str(api.get("method", "GET")).upper(),
        "url": api["url"],
        "headers": {k: _template_secrets(v) for k, v in headers.items()},
    }
    if body is not None:
        request["body"] = body
    group = config.get("componentGroup")
    data: dict[str, Any] = {
        "form": form.model_dump(mode="json"),
        "request": request,
        "output_type": "file" if group in ("image", "video") else "data",
    }
    fetch_type = api.get("fetchType", "single")
    if fetch_type in ("single", "wait"):
        spec: dict[str, Any] = api[fetch_type] if isinstance(api.get(fetch_type), dict) else {}
        data["output"] = spec.get("outputExprJq") or api.get("outputExprJq") or "."
    elif fetch_type == "polling":
        polling = api.get("polling")
        if not isinstance(polling, dict) or not isinstance(polling.get("url"), str):
            raise ComponentImportError(component, "api.json", "polling.url", "is required")
        _success_codes(polling.get("successResponseCode"), component, "polling.successResponseCode")
        params: dict[str, Any] = (
            polling["params"] if isinstance(polling.get("params"), dict) else {}
        )

        def param(match: re.Match[str]) -> str:
            spec = params.get(match.group(1))
            expression = spec.get("exprJq") if isinstance(spec, dict) else None
            if not isinstance(expression, str):
                raise ComponentImportError(
                    component, "api.json", f"polling.params.{match.group(1)}", "needs an exprJq"
                )
            return "{{ $submit | " + expression + " }}"

        try:
            poll: dict[str, Any] = {
                "request": {"method": str(polling.get("method", "GET")).upper(),
                            "url": _URL_PARAM.sub(param, polling["url"]),
                            "headers": request["headers"]},
            }  # fmt: skip
            if isinstance(polling.get("continueWhenExpr"), str):
                poll["done"] = f"({js_condition_to_jq(polling['continueWhenExpr'])}) | not"
            elif isinstance(polling.get("stopWhenExpr"), str):
                poll["done"] = "true"
            else:
                raise ComponentImportError(
                    component, "api.json", "polling", "needs continueWhenExpr or stopWhenExpr"
                )
            if isinstance(polling.get("stopWhenExpr"), str):
                poll["failed"] = js_condition_to_jq(polling["stopWhenExpr"])
        except ConditionTranslationError as exc:
            raise ComponentImportError(component, "api.json", "polling", str(exc)) from None
        timeout_ms = polling.get("timeout")
        if isinstance(timeout_ms, int | float) and timeout_ms > 0:
            poll["timeout_s"] = max(1.0, timeout_ms / 1000)
        data["poll"] = poll
        data["output"] = polling.get("outputExprJq") or "."
    else:
        raise ComponentImportError(
            component, "api.json", "fetchType", f"{fetch_type!r} is not single, wait or polling"
        )
    return data


def _models(folder: Path, component: str) -> list[str]:
    if not (folder / "required_models.json").exists():
        return []
    raw = _read_json(folder, "required_models.json", component)
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)

    walk(raw)
    return list(dict.fromkeys(m for m in found if m.strip()))[:100]


def import_component_folder(
    folder: Path, form_confs: Mapping[str, Any] | None = None, *, name: str | None = None
) -> ImportedComponent:
    """One component folder as a registration body, or ComponentImportError."""
    component = name or _NAME_UNSAFE.sub("-", folder.name).strip("-.") or "component"
    confs = form_confs if form_confs is not None else read_form_confs(folder.parent)
    if not (folder / "form.json").exists():
        raise ComponentImportError(component, "form.json", "", "is missing")
    form, config = _form(folder, component, confs)
    notes: list[str] = []
    if (folder / "workflow.json").exists():
        kind = "comfy_workflow"
        data = _comfy(folder, component, form, notes)
    elif (folder / "job.json").exists():
        kind = "direct_job"
        data = _direct_job(folder, component, form)
    elif (folder / "api.json").exists():
        kind = "fetch_api"
        data = _fetch_api(folder, component, form, config)
    else:
        raise ComponentImportError(
            component, "", "", "has none of workflow.json, job.json, api.json"
        )
    body: dict[str, Any] = {"name": component, "type": kind, "data": data}
    if (folder / "credits.js").exists():
        source = (folder / "credits.js").read_text(encoding="utf-8", errors="replace")
        try:
            body["cost"] = translate_credits_js(source, {f.id for f in form.fields})
        except CreditsTranslationError as exc:
            raise ComponentImportError(component, "credits.js", "", str(exc)) from None
    models = _models(folder, component)
    if models:
        body["models"] = models
    if (folder / "test.json").exists():
        test_values = _read_json(folder, "test.json", component)
        if not isinstance(test_values, dict):
            raise ComponentImportError(component, "test.json", "", "must be an object")
        fields = {f.id for f in form.fields}
        test_values = {
            k: v for k, v in test_values.items() if k in fields or k not in PLATFORM_FIELDS
        }
        problem = _test_values_problem(kind, component, data, test_values) if test_values else None
        if problem is not None:
            notes.append(f"test.json left out: it does not compile ({problem})")
        elif test_values:
            body["test_values"] = test_values
    return ImportedComponent(name=component, body=body, notes=notes)


def _test_values_problem(
    kind: str, component: str, data: dict[str, Any], values: dict[str, Any]
) -> str | None:
    try:
        compile_test_values(kind, component, None, data, values)
    except InvalidInputError as exc:
        return exc.message
    return None


def component_folders(path: Path) -> Iterator[Path]:
    """The component folders at `path`: itself when it is one, else its sub-folders (a library
    with `_form_confs/`), skipping drafts and archives."""
    if (path / "form.json").exists():
        yield path
        return
    for child in sorted(path.iterdir()):
        if child.is_dir() and child.name not in SKIPPED_FOLDERS and not child.name.startswith("."):
            yield child


def import_library(path: Path) -> list[LibraryEntry]:
    """Every component under `path`, each imported or refused (one refusal never stops the rest)."""
    root = path if not (path / "form.json").exists() else path.parent
    confs = read_form_confs(root)
    entries = []
    for folder in component_folders(path):
        try:
            entries.append(LibraryEntry(folder.name, import_component_folder(folder, confs)))
        except ComponentImportError as exc:
            entries.append(LibraryEntry(folder.name, error=exc))
    return entries


KNOWN_FILES = frozenset(
    {"form.json", "inputs.json", "workflow.json", "job.json", "api.json", "body.json",
     "credits.js", "required_models.json", "test.json"}
)  # fmt: skip


def import_component_files(
    name: str, files: Mapping[str, Any], form_confs: Mapping[str, Any]
) -> ImportedComponent:
    """A component sent as its files (JSON values or text), as the admin API receives it."""
    import tempfile

    unknown = sorted(set(files) - KNOWN_FILES)
    if unknown:
        raise ComponentImportError(name, unknown[0], "", "is not a file of a component")
    with tempfile.TemporaryDirectory(prefix="emprops-import-") as tmp:
        folder = Path(tmp) / "component"
        folder.mkdir()
        for file_name, content in files.items():
            text = content if isinstance(content, str) else json.dumps(content)
            (folder / file_name).write_text(text, encoding="utf-8")
        return import_component_folder(folder, form_confs, name=name)
