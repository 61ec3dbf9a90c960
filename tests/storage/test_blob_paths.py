"""Blob keys and the generation output layout (spec/generation.md, "Storage layout")."""

from __future__ import annotations

import posixpath
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emprops.core.errors import EmpropsError, InvalidInputError
from emprops.storage import generation_output_path, validate_blob_path
from emprops.storage.content_types import guess_content_type


def test_generation_output_path_layout() -> None:
    user, run = uuid.uuid4(), uuid.uuid4()
    path = generation_output_path(
        user_id=user,
        run_id=run,
        generation_index=12,
        step_id=101,
        workflow_name="txt2img-flux",
        ext="png",
    )
    assert path == f"generations/{user}/{run}/12/101/txt2img-flux.png"
    same = generation_output_path(
        user_id=str(user),
        run_id=str(run),
        generation_index=12,
        step_id="101",
        workflow_name="txt2img-flux",
        ext=".png",
    )
    assert same == path


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("user_id", ".."),
        ("user_id", "a/b"),
        ("run_id", ""),
        ("run_id", "/abs"),
        ("step_id", "x y"),
        ("workflow_name", "../../etc/passwd"),
        ("workflow_name", ".hidden"),
        ("workflow_name", "ünïcode"),
        ("ext", "PNG"),
        ("ext", "tar.gz"),
        ("ext", ""),
        ("ext", "p/g"),
    ],
)
def test_generation_output_path_refuses_bad_parts(field: str, value: str) -> None:
    parts: dict[str, object] = {
        "user_id": "u",
        "run_id": "r",
        "generation_index": 0,
        "step_id": 1,
        "workflow_name": "w",
        "ext": "png",
    }
    parts[field] = value
    with pytest.raises(InvalidInputError) as raised:
        generation_output_path(**parts)  # type: ignore[arg-type]
    assert raised.value.details["field"] == field
    assert isinstance(raised.value, EmpropsError)
    assert value in raised.value.message


@pytest.mark.parametrize("index", [-1, True, 1.0, "3"])
def test_generation_index_must_be_a_non_negative_int(index: object) -> None:
    with pytest.raises(InvalidInputError, match="generation_index"):
        generation_output_path(
            user_id="u",
            run_id="r",
            generation_index=index,
            step_id=1,  # type: ignore[arg-type]
            workflow_name="w",
            ext="png",
        )


SEGMENT_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=0, max_size=12
)


@given(
    user=SEGMENT_TEXT,
    run=SEGMENT_TEXT,
    index=st.integers(0, 10**9),
    step=SEGMENT_TEXT,
    name=SEGMENT_TEXT,
    ext=st.text(min_size=0, max_size=5),
)
def test_generation_output_path_never_escapes(
    user: str, run: str, index: int, step: str, name: str, ext: str
) -> None:
    """Any input either is refused or gives exactly six segments that are the inputs themselves."""
    try:
        path = generation_output_path(
            user_id=user,
            run_id=run,
            generation_index=index,
            step_id=step,
            workflow_name=name,
            ext=ext,
        )
    except InvalidInputError:
        return
    assert path.split("/") == [
        "generations",
        user,
        run,
        str(index),
        step,
        f"{name}.{ext.removeprefix('.')}",
    ]
    assert validate_blob_path(path) == path


@given(st.text(max_size=40))
def test_accepted_paths_stay_inside_the_root(path: str) -> None:
    try:
        validate_blob_path(path)
    except InvalidInputError:
        return
    joined = posixpath.normpath(posixpath.join("/root", path))
    assert joined == "/root/" + path
    assert not any(segment.startswith(".") for segment in path.split("/"))


@given(st.lists(st.from_regex(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,20}", fullmatch=True), min_size=1))
def test_safe_segments_are_accepted(segments: list[str]) -> None:
    path = "/".join(segments)
    if len(path) <= 1024:
        assert validate_blob_path(path) == path


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("a/b.png", "image/png"),
        ("a/B.JPG", "image/jpeg"),
        ("x.webp", "image/webp"),
        ("x.json", "application/json"),
        ("x.car", "application/vnd.ipld.car"),
        ("x.gif", "image/gif"),
        ("x.html", "text/html"),
        ("x", "application/octet-stream"),
        ("x.unknownext", "application/octet-stream"),
    ],
)
def test_guess_content_type(path: str, expected: str) -> None:
    assert guess_content_type(path) == expected
