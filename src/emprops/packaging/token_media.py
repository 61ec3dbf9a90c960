"""Which of a token's step outputs are its image and its animation, and where their files are in
the run folder. Outputs carry `path` (relative to the run's blob store, i.e. the run folder) and
`src` (a file:// URL); either finds the file, even when the run folder was moved."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from emprops.metadata import MetadataProblem, extension_for, media_type_for
from emprops.packaging.run_manifest import ManifestToken

_ANIMATION_KINDS = ("video/", "audio/", "model/", "text/html")


@dataclass(frozen=True)
class StepInfo:
    id: str
    alias: str | None
    workflow: str

    def answers_to(self, name: str) -> bool:
        return name in (self.id, self.alias, self.workflow)


@dataclass(frozen=True)
class TokenMedia:
    path: Path
    media_type: str
    extension: str
    step_id: str


def steps_in_order(generation_input: Mapping[str, Any]) -> list[StepInfo]:
    return [
        StepInfo(str(step.get("id")), step.get("alias"), str(step.get("nodeName")))
        for step in generation_input.get("steps", [])
        if isinstance(step, Mapping)
    ]


def _media_type(output: Mapping[str, Any]) -> str | None:
    kind = output.get("mimeType")
    if isinstance(kind, str) and kind:
        return kind.split(";")[0].strip().lower()
    src = output.get("path") or output.get("src")
    if isinstance(src, str) and "." in src.rsplit("/", 1)[-1]:
        return media_type_for(src.rsplit(".", 1)[1])
    return None


def is_image(kind: str | None) -> bool:
    return kind is not None and kind.startswith("image/")


def is_animation(kind: str | None) -> bool:
    return kind is not None and kind.startswith(_ANIMATION_KINDS)


def output_file(run_dir: Path, output: Mapping[str, Any]) -> tuple[Path | None, str]:
    """The local file of an output, or None with where we looked."""
    tried: list[str] = []
    path = output.get("path")
    if isinstance(path, str) and path:
        candidate = (run_dir / path).resolve()
        if candidate.is_relative_to(run_dir.resolve()):
            if candidate.is_file():
                return candidate, str(candidate)
            tried.append(str(candidate))
    src = output.get("src")
    if isinstance(src, str) and src:
        parts = urlsplit(src)
        if parts.scheme != "file":
            tried.append(f"{src} (not a file:// URL: packaging reads the run folder)")
        else:
            local = Path(url2pathname(unquote(parts.path)))
            if local.is_file():
                return local, str(local)
            tried.append(str(local))
            marker = "/generations/"
            text = local.as_posix()
            if marker in text:
                moved = run_dir / ("generations/" + text.split(marker, 1)[1])
                if moved.is_file():
                    return moved, str(moved)
                tried.append(str(moved))
    return None, " or ".join(tried) or "(the output has no path or src)"


def select_media(
    run_dir: Path,
    token: ManifestToken,
    token_id: int,
    steps: Sequence[StepInfo],
    *,
    image_step: str | None,
    animation_step: str | None,
) -> tuple[TokenMedia | None, TokenMedia | None, list[MetadataProblem]]:
    """The token's image (required) and animation (optional), each checked to exist."""
    problems: list[MetadataProblem] = []
    order = [s for s in steps if s.id in token.steps] or [
        StepInfo(key, None, record.workflow) for key, record in token.steps.items()
    ]

    def pick(wanted: str | None, accept: Any, field: str, required: bool) -> TokenMedia | None:
        candidates = [s for s in order if wanted is None or s.answers_to(wanted)]
        if wanted is not None and not candidates:
            problems.append(MetadataProblem(
                token=token_id, field=field, message=f"the run has no step {wanted!r}"
            ))  # fmt: skip
            return None
        chosen: tuple[StepInfo, dict[str, Any], str] | None = None
        for step in candidates:
            output = token.steps[step.id].output or {}
            kind = _media_type(output)
            if (output.get("src") or output.get("path")) and accept(kind):
                chosen = (step, output, kind or "")
        if chosen is None:
            if wanted is not None:
                message = f"step {wanted!r} has no {field} output (a file of a fitting type)"
            else:
                listed = ", ".join(s.id for s in order) or "none"
                message = f"no step has an {field} output (steps: {listed})"
            if required or wanted is not None:
                problems.append(MetadataProblem(token=token_id, field=field, message=message))
            return None
        step, output, kind = chosen
        where = f"steps.{step.id}.output"
        extension = extension_for(kind)
        if extension is None:
            problems.append(MetadataProblem(
                token=token_id, field=f"{where}.mimeType",
                message=f"media type {kind!r} is not one we publish",
            ))  # fmt: skip
            return None
        path, looked = output_file(run_dir, output)
        if path is None:
            problems.append(MetadataProblem(
                token=token_id, field=field, message=f"file missing: looked for {looked}"
            ))  # fmt: skip
            return None
        return TokenMedia(path=path, media_type=kind, extension=extension, step_id=step.id)

    image = pick(image_step, is_image, "image", True)
    animation = pick(animation_step, is_animation, "animation_url", False)
    return image, animation, problems
