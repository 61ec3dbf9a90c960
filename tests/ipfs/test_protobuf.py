"""Round trips of the hand-written wire encodings: varints, dag-pb nodes, UnixFS data, CIDs."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emprops.ipfs import CID, InvalidCidError, MalformedBlockError
from emprops.ipfs.cid import DAG_PB, RAW, base58btc_decode, base58btc_encode
from emprops.ipfs.dagpb import PBLink, decode_node, encode_node
from emprops.ipfs.protobuf import decode_varint, encode_varint
from emprops.ipfs.unixfs import UnixFSData, UnixFSType, decode_unixfs

u64 = st.integers(min_value=0, max_value=2**63 - 1)


@given(u64)
def test_varint_round_trip(value: int) -> None:
    encoded = encode_varint(value)
    assert decode_varint(encoded + b"\xff") == (value, len(encoded))
    assert len(encoded) == max(1, (value.bit_length() + 6) // 7)


@given(u64)
def test_overlong_varint_rejected(value: int) -> None:
    encoded = bytearray(encode_varint(value))
    encoded[-1] |= 0x80
    with pytest.raises(MalformedBlockError):
        decode_varint(bytes(encoded) + b"\x00")


def test_truncated_varint_rejected() -> None:
    with pytest.raises(MalformedBlockError):
        decode_varint(b"\x80\x80")


def test_varint_known_bytes() -> None:
    assert encode_varint(0) == b"\x00"
    assert encode_varint(300) == b"\xac\x02"
    assert encode_varint(262144) == b"\x80\x80\x10"


cids = st.builds(
    lambda version, codec, data: CID.of_block(version, DAG_PB if version == 0 else codec, data),
    st.sampled_from([0, 1]),
    st.sampled_from([DAG_PB, RAW]),
    st.binary(max_size=64),
)


@given(cids)
def test_cid_text_and_binary_round_trip(cid: CID) -> None:
    assert CID.parse(str(cid)) == cid
    assert CID.from_bytes(cid.binary) == cid
    assert str(cid).startswith("Qm" if cid.version == 0 else "baf")


@given(st.binary(max_size=40))
def test_base58_round_trip_keeps_leading_zeros(data: bytes) -> None:
    assert base58btc_decode(base58btc_encode(data)) == data


@pytest.mark.parametrize("text", ["", "Qm", "QmO0Il" + "1" * 40, "bafy!!", "x123", "b"])
def test_bad_cid_text_rejected(text: str) -> None:
    with pytest.raises(InvalidCidError):
        CID.parse(text)


def test_cid_digest_is_sha256_of_block() -> None:
    cid = CID.parse("bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4")
    assert cid.codec_name == "raw"
    assert cid.digest == hashlib.sha256(b"hello world\n").digest()


links = st.lists(
    st.builds(PBLink, cids, st.binary(max_size=20), u64),
    max_size=8,
)


@given(links, st.one_of(st.none(), st.binary(max_size=100)))
def test_dag_pb_round_trip(node_links: list[PBLink], data: bytes | None) -> None:
    decoded = decode_node(encode_node(node_links, data))
    assert decoded.links == tuple(node_links)
    assert decoded.data == data


def test_dag_pb_rejects_link_after_data() -> None:
    link = PBLink(CID.of_block(0, DAG_PB, b""), b"a", 1)
    with pytest.raises(MalformedBlockError):
        decode_node(encode_node([], b"\x08\x01") + link.encode())


unixfs = st.builds(
    UnixFSData,
    st.sampled_from(list(UnixFSType)),
    st.one_of(st.none(), st.binary(max_size=50)),
    st.one_of(st.none(), u64),
    st.lists(u64, max_size=5).map(tuple),
    st.one_of(st.none(), u64),
    st.one_of(st.none(), u64),
)


@given(unixfs)
def test_unixfs_round_trip(message: UnixFSData) -> None:
    assert decode_unixfs(message.encode()) == message


def test_unixfs_known_empty_file_and_directory() -> None:
    # The two most-seen blocks in IPFS: the empty file and the empty folder.
    empty_file = encode_node([], UnixFSData(UnixFSType.FILE, filesize=0).encode())
    assert str(CID.of_block(0, DAG_PB, empty_file)) == (
        "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"
    )
    empty_dir = encode_node([], UnixFSData(UnixFSType.DIRECTORY).encode())
    assert str(CID.of_block(0, DAG_PB, empty_dir)) == (
        "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn"
    )


def test_base58_cidv1_text_accepted() -> None:
    cid = CID.parse("bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4")
    assert CID.parse("z" + base58btc_encode(cid.binary)) == cid
