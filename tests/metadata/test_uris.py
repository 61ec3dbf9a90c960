"""Which URIs metadata may hold."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emprops.ipfs import ImportOptions, cid_of_bytes
from emprops.metadata import ipfs_uri, uri_problem

V0 = str(cid_of_bytes(b"x"))
V1 = str(cid_of_bytes(b"x", ImportOptions(cid_version=1)))


@pytest.mark.parametrize(
    "uri",
    [f"ipfs://{V0}", f"ipfs://{V1}/0.png", f"ipfs://{V0}/", f"ipfs://{V0}/a/b.json",
     "https://example.org", "https://example.org:8443/x?y=1#z"],
)  # fmt: skip
def test_good(uri: str) -> None:
    assert uri_problem(uri) is None


@pytest.mark.parametrize(
    ("uri", "why"),
    [
        ("", "empty"),
        ("http://example.org/a.png", "https, not http"),
        ("ipfs://ipfs/" + V0, "repeats the scheme"),
        ("ipfs://QmNotACid/0.png", "invalid CID"),
        (f"ipfs://{V0}//0.png", "empty or dot path segment"),
        (f"ipfs://{V0}/../x", "empty or dot path segment"),
        ("https:///nohost", "no host"),
        ("https://a.org/with space.png", "characters"),
        ("images/0.png", "must be ipfs://"),
        ("data:image/png;base64,AAAA", "must be ipfs://"),
        ("https://a.org/" + "x" * 3000, "longer than"),
    ],
)
def test_bad(uri: str, why: str) -> None:
    problem = uri_problem(uri)
    assert problem is not None and why in problem


def test_https_only_fields() -> None:
    assert "must be an https:// URL" in (uri_problem(f"ipfs://{V0}", allow_ipfs=False) or "")


@given(st.binary(max_size=64), st.from_regex(r"[A-Za-z0-9_-]{1,12}(\.[a-z]{1,4})?", fullmatch=True))
def test_every_cid_we_make_is_a_good_uri(data: bytes, name: str) -> None:
    for version in (0, 1):
        cid = cid_of_bytes(data, ImportOptions(cid_version=version))  # type: ignore[arg-type]
        assert uri_problem(ipfs_uri(cid, name)) is None
        assert uri_problem(ipfs_uri(cid)) is None
