"""The provenance hash recipe and the workflow digest."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emprops.core.errors import InvalidInputError
from emprops.metadata import file_sha256, provenance_hash, workflow_digest
from emprops.workflows.engine import input_digest
from tests.packaging.run_fixture import generation_input


@given(st.lists(st.binary(max_size=100), min_size=1, max_size=20))
def test_recipe(images: list[bytes]) -> None:
    digests = [hashlib.sha256(image).hexdigest() for image in images]
    expected = hashlib.sha256("".join(digests).encode()).hexdigest()
    assert provenance_hash(digests) == expected


def test_order_matters_and_bad_digest_is_refused() -> None:
    a, b = hashlib.sha256(b"a").hexdigest(), hashlib.sha256(b"b").hexdigest()
    assert provenance_hash([a, b]) != provenance_hash([b, a])
    with pytest.raises(InvalidInputError, match="#1"):
        provenance_hash([a, b.upper()])


def test_file_sha256(tmp_path: Path) -> None:
    data = bytes(range(256)) * 5000
    (tmp_path / "f").write_bytes(data)
    assert file_sha256(tmp_path / "f") == hashlib.sha256(data).hexdigest()


def test_workflow_digest_is_the_engines_input_digest() -> None:
    gi = generation_input(3)
    as_in_manifest = gi.model_dump(mode="json", by_alias=True)
    assert workflow_digest(as_in_manifest) == input_digest(gi)
