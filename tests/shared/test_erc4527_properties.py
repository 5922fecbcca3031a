"""Properties of shared.erc4527: lossless round trips; mutated bytes decode exactly or refuse."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import fields, replace
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from shared.address import Address
from shared.cbor import encode
from shared.erc4527 import (
    CoinInfo,
    CryptoAccount,
    DataType,
    EthBatchSignature,
    EthBatchSignRequest,
    EthSignature,
    EthSignRequest,
    HDKey,
    Keypath,
    Message,
    PathComponent,
    RequestId,
    decode_ur,
    describe,
)
from shared.errors import DecodeError

# SEC 2 §2.4.1: secp256k1 field prime.
P = 2**256 - 2**32 - 977
UINT32 = st.integers(1, 2**32 - 1)
BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
TEXT = st.text(
    st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters=BIDI), max_size=24
)


def _on_curve(x: int) -> bool:
    return pow((x**3 + 7) % P, (P - 1) // 2, P) == 1


request_ids = st.binary(min_size=16, max_size=16).map(RequestId)
indexes = st.integers(0, 2**31 - 1) | st.sampled_from([0, 1, 44, 60, 2**31 - 1])
concrete_steps = st.lists(st.builds(PathComponent, indexes, st.booleans()), max_size=6)
any_steps = st.lists(st.builds(PathComponent, st.none() | indexes, st.booleans()), max_size=6)
public_keys = st.builds(
    lambda prefix, x: bytes([prefix]) + x.to_bytes(32, "big"),
    st.sampled_from([2, 3]),
    st.integers(0, P - 1).filter(_on_curve),
)


@st.composite
def key_paths(draw: st.DrawFn, fingerprint: st.SearchStrategy[int | None] | None = None) -> Keypath:
    """A path to a key: no wildcard, depth (when given) at least the number of steps."""
    steps = tuple(draw(concrete_steps))
    source = draw(fingerprint if fingerprint is not None else st.none() | UINT32)
    if not steps and source is None:
        # BCR-2020-007: an empty path needs a source fingerprint; take one step instead.
        steps = (PathComponent(0, True),)
    depth = draw(st.none() | st.integers(len(steps), 255))
    return Keypath(steps, source, depth)


@st.composite
def child_paths(draw: st.DrawFn) -> Keypath:
    """A children keypath: wildcards allowed, depth free (Keystone writes 0)."""
    steps = tuple(draw(any_steps))
    source = draw(st.none() | UINT32)
    if not steps and source is None:
        source = 1
    return Keypath(steps, source, draw(st.none() | st.integers(0, 255)))


@st.composite
def hdkeys(draw: st.DrawFn, source: st.SearchStrategy[int | None] | None = None) -> HDKey:
    origin = draw(st.none() | key_paths(source))
    parent = draw(st.none() | UINT32)
    if (
        origin is not None
        and parent is not None
        and len(origin.components) == 1
        and origin.depth in (None, 1)
        and origin.source_fingerprint is not None
    ):
        parent = origin.source_fingerprint
    use_info = draw(
        st.none()
        | st.builds(
            CoinInfo,
            st.none() | st.integers(0, 2**32 - 1),
            st.none() | st.integers(-(2**64), 2**64 - 1),
        )
    )
    return HDKey(
        key=draw(public_keys),
        chain_code=draw(st.none() | st.binary(min_size=32, max_size=32)),
        origin=origin,
        children=draw(st.none() | child_paths()),
        parent_fingerprint=parent,
        name=draw(st.none() | TEXT),
        note=draw(st.none() | TEXT),
        use_info=use_info,
        is_private=draw(st.sampled_from([None, False])),
    )


sign_requests = st.builds(
    EthSignRequest,
    sign_data=st.binary(max_size=300),
    data_type=st.sampled_from(DataType),
    derivation_path=key_paths(),
    request_id=st.none() | request_ids,
    chain_id=st.none() | st.integers(0, 2**64 - 1) | st.sampled_from([1, 137, 11155111]),
    address=st.none() | st.binary(min_size=20, max_size=20).map(Address),
    origin=st.none() | TEXT,
)
signatures = st.builds(
    EthSignature,
    r=st.binary(min_size=32, max_size=32),
    s=st.binary(min_size=32, max_size=32),
    v=st.integers(0, 2**72 - 1) | st.sampled_from([0, 1, 27, 28, 37, 38, 22310258]),
    request_id=st.none() | request_ids,
    origin=st.none() | TEXT,
)


@st.composite
def accounts(draw: st.DrawFn) -> CryptoAccount:
    master = draw(st.integers(0, 2**32 - 1))
    source = st.none() | st.just(master) if master else st.none()
    keys = draw(st.lists(hdkeys(source), min_size=1, max_size=3))
    return CryptoAccount(master, tuple(keys))


batch_requests = st.builds(
    lambda items: EthBatchSignRequest(tuple(items)),
    st.lists(sign_requests, min_size=1, max_size=4, unique_by=lambda r: r.request_id or id(r)),
)
batch_signatures = st.builds(
    lambda items: EthBatchSignature(tuple(items)),
    st.lists(signatures, min_size=1, max_size=4, unique_by=lambda r: r.request_id or id(r)),
)

ALL: list[tuple[st.SearchStrategy[Any], Callable[[bytes], Message]]] = [
    (sign_requests, EthSignRequest.from_cbor),
    (signatures, EthSignature.from_cbor),
    (hdkeys(), HDKey.from_cbor),
    (accounts(), CryptoAccount.from_cbor),
    (key_paths(), Keypath.from_cbor),
    (batch_requests, EthBatchSignRequest.from_cbor),
    (batch_signatures, EthBatchSignature.from_cbor),
]
messages = st.one_of([strategy for strategy, _ in ALL])


@given(messages)
def test_round_trip_through_cbor_and_ur(message: Message) -> None:
    data = message.to_cbor()
    assert type(message).from_cbor(data) == message
    ur = message.to_ur()
    assert type(message).from_ur(ur) == message
    assert decode_ur(ur) == message
    fields = describe(ur)
    assert fields["type"] == ur.type
    json.dumps(fields)


@given(key_paths())
def test_keypath_text_round_trip(path: Keypath) -> None:
    again = Keypath.parse(str(path), source_fingerprint=path.source_fingerprint, depth=path.depth)
    assert again == path


def _mutations(data: bytes) -> st.SearchStrategy[bytes]:
    positions = st.integers(0, len(data) - 1)
    replace = st.builds(
        lambda i, b: data[:i] + bytes([b]) + data[i + 1 :], positions, st.integers(0, 255)
    )
    flip = st.builds(
        lambda i, bit: data[:i] + bytes([data[i] ^ (1 << bit)]) + data[i + 1 :],
        positions,
        st.integers(0, 7),
    )
    insert = st.builds(
        lambda i, b: data[:i] + bytes([b]) + data[i:],
        st.integers(0, len(data)),
        st.integers(0, 255),
    )
    delete = st.builds(lambda i: data[:i] + data[i + 1 :], positions)
    return st.one_of(replace, flip, insert, delete)


@given(st.data(), st.sampled_from(range(len(ALL))))
def test_mutated_bytes_decode_to_what_they_say_or_are_refused(
    data: st.DataObject, which: int
) -> None:
    strategy, decoder = ALL[which]
    original = data.draw(strategy).to_cbor()
    mutated = data.draw(_mutations(original))
    try:
        decoded = decoder(mutated)
    except DecodeError:
        return
    assert decoded.to_cbor() == mutated


# --- a request read from a batch keeps its map's bytes ------------------------------------


def _fresh(request: EthSignRequest) -> bytes:
    return encode(request.to_value())


def _kept(request: EthSignRequest) -> bytes | None:
    return getattr(request, "_encoded", None)


@given(batch_requests)
def test_requests_read_from_a_batch_keep_bytes_equal_to_a_fresh_encoding(
    batch: EthBatchSignRequest,
) -> None:
    decoded = EthBatchSignRequest.from_cbor(batch.to_cbor())
    assert decoded == batch
    for built, item in zip(batch.requests, decoded.requests, strict=True):
        assert _kept(built) is None
        assert _kept(item) is not None
        assert item.to_cbor() == _fresh(item) == built.to_cbor()
        assert EthSignRequest.from_cbor(item.to_cbor()) == item


@given(st.data())
def test_requests_of_an_accepted_mutated_batch_keep_their_exact_encoding(
    data: st.DataObject,
) -> None:
    original = data.draw(batch_requests).to_cbor()
    mutated = data.draw(_mutations(original))
    try:
        decoded = EthBatchSignRequest.from_cbor(mutated)
    except DecodeError:
        return
    for item in decoded.requests:
        assert _kept(item) == _fresh(item)
        assert _fresh(item) in mutated


@given(sign_requests)
def test_a_request_built_in_code_or_read_alone_encodes_afresh(request: EthSignRequest) -> None:
    assert _kept(request) is None
    assert request.to_cbor() == _fresh(request)
    # A single request's to_cbor keeps re-encoding, so round trips of single requests (here
    # and in benchmarks/fuzz_decoders.py) still compare against a fresh encoding.
    alone = EthSignRequest.from_cbor(request.to_cbor())
    assert _kept(alone) is None and alone.to_cbor() == request.to_cbor()


def test_a_changed_copy_of_a_kept_request_does_not_keep_stale_bytes() -> None:
    path = Keypath.parse("m/44'/60'/0'/0/0", source_fingerprint=0x12345678)
    request = EthSignRequest(
        b"\x02\xc0", DataType.TYPED_TRANSACTION, path, RequestId(bytes(16)), 1, None, "watcher"
    )
    attested = replace(request, attestation=bytes(range(65)))
    item = EthBatchSignRequest.from_cbor(EthBatchSignRequest((attested,)).to_cbor()).requests[0]
    assert _kept(item) == attested.to_cbor()
    changed = replace(item, origin="another")
    assert _kept(changed) is None
    assert changed.to_cbor() == _fresh(changed) != item.to_cbor()
    # The bytes an attestation covers are encoded without key 8, never the kept bytes.
    assert item.attested_cbor() == request.to_cbor()


def test_kept_bytes_take_no_part_in_equality_hash_or_repr() -> None:
    path = Keypath.parse("m/44'/60'/0'/0/0", source_fingerprint=0x12345678)
    built = EthSignRequest(b"\x02\xc0", DataType.TYPED_TRANSACTION, path, RequestId(bytes(16)))
    item = EthBatchSignRequest.from_cbor(EthBatchSignRequest((built,)).to_cbor()).requests[0]
    assert _kept(item) is not None
    assert item == built and hash(item) == hash(built) and repr(item) == repr(built)
    # Not a field: the constructor cannot be handed bytes, and a copy of every field (as
    # benchmarks/fuzz_decoders.py makes one) is a request built in code.
    assert "_encoded" not in {f.name for f in fields(EthSignRequest)}
    copy = EthSignRequest(**{name: getattr(item, name) for name in EthSignRequest.__slots__})
    assert copy == item and _kept(copy) is None
