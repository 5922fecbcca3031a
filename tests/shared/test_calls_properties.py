"""Property tests for decode_call: only DecodeError escapes; valid calls, mutations round-trip."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shared.abi import (
    AbiType,
    AbiValue,
    AddressType,
    ArrayType,
    BoolType,
    BytesType,
    FixedBytesType,
    IntType,
    StringType,
    UIntType,
    encode_values,
)
from shared.address import Address
from shared.calls import (
    DEFAULT_CATALOG,
    Call,
    FunctionSpec,
    KnownCall,
    NestedCall,
    Operation,
    PackedTransactions,
    decode_call,
    pack_transactions,
)
from shared.errors import DecodeError

SPECS = sorted(DEFAULT_CATALOG, key=lambda s: s.signature)
TARGET = Address(b"\x5a" * 20)
addresses = st.binary(min_size=20, max_size=20).map(Address)
unknown_calls = st.binary(min_size=4, max_size=60).filter(
    lambda b: DEFAULT_CATALOG.get(b[:4]) is None
)


def _values(abi_type: AbiType) -> st.SearchStrategy[AbiValue]:
    if isinstance(abi_type, UIntType):
        return st.integers(0, 2**abi_type.bits - 1)
    if isinstance(abi_type, IntType):
        bound = 2 ** (abi_type.bits - 1)
        return st.integers(-bound, bound - 1)
    if isinstance(abi_type, AddressType):
        return addresses
    if isinstance(abi_type, BoolType):
        return st.booleans()
    if isinstance(abi_type, FixedBytesType):
        return st.binary(min_size=abi_type.size, max_size=abi_type.size)
    if isinstance(abi_type, BytesType):
        return st.binary(max_size=70)
    if isinstance(abi_type, StringType):
        return st.text(max_size=20)
    if isinstance(abi_type, ArrayType) and abi_type.length is None:
        return st.lists(_values(abi_type.item), max_size=3).map(tuple)
    raise NotImplementedError(abi_type)


def _simple_call(spec: FunctionSpec) -> st.SearchStrategy[bytes]:
    """Call data of a catalogued function with no nested payload."""
    return st.tuples(*[_values(t) for t in spec.types]).map(
        lambda values: spec.selector + encode_values(spec.types, values)
    )


SIMPLE = [s for s in SPECS if s.inner is None]
# Inner payloads: a plain transfer, an unexplained call, or a catalogued call.
inner_data = st.one_of(st.just(b""), unknown_calls, st.sampled_from(SIMPLE).flatmap(_simple_call))
operations = st.sampled_from([Operation.CALL, Operation.DELEGATECALL])
packed_batches = st.lists(
    st.tuples(operations, addresses, st.integers(0, 2**256 - 1), inner_data), max_size=4
).map(pack_transactions)


@st.composite
def valid_calls(draw: st.DrawFn, spec: FunctionSpec) -> bytes:
    values = [draw(_values(t)) for t in spec.types]
    rule = spec.inner
    if isinstance(rule, PackedTransactions):
        values[spec.arg_names.index(rule.arg)] = draw(packed_batches)
    elif isinstance(rule, NestedCall):
        nested = draw(st.one_of(inner_data, packed_batches.map(_multisend)))
        values[spec.arg_names.index(rule.data_arg)] = nested
        if rule.operation_arg is not None:
            values[spec.arg_names.index(rule.operation_arg)] = int(draw(operations))
    return spec.selector + encode_values(spec.types, tuple(values))


def _multisend(batch: bytes) -> bytes:
    spec = DEFAULT_CATALOG.get(bytes.fromhex("8d80ff0a"))
    assert spec is not None
    return spec.selector + encode_values(spec.types, (batch,))


any_valid_call = st.sampled_from(SPECS).flatmap(valid_calls)


def _mutate(data: bytes, source: st.DataObject) -> bytes:
    kind = source.draw(st.sampled_from(["flip", "truncate", "append", "insert", "delete", "word"]))
    if kind == "append" or len(data) < 5:
        return data + source.draw(st.binary(min_size=1, max_size=40))
    # Leave the selector alone so mutations exercise argument decoding.
    index = source.draw(st.integers(4, len(data) - 1))
    if kind == "flip":
        bit = source.draw(st.integers(0, 7))
        return data[:index] + bytes([data[index] ^ (1 << bit)]) + data[index + 1 :]
    if kind == "truncate":
        return data[:index]
    if kind == "insert":
        return data[:index] + source.draw(st.binary(min_size=1, max_size=33)) + data[index:]
    if kind == "delete":
        return data[:index] + data[index + 1 + source.draw(st.integers(0, 32)) :]
    small = source.draw(st.integers(0, 512)).to_bytes(32, "big")
    return data[:index] + small + data[index + 32 :]


def _reencode(call: Call) -> bytes:
    return call.calldata()


@given(st.sampled_from(SPECS), st.binary(max_size=400))
def test_random_bytes_after_a_known_selector_raise_only_decode_error(
    spec: FunctionSpec, tail: bytes
) -> None:
    data = spec.selector + tail
    try:
        call = decode_call(TARGET, 0, data)
    except DecodeError:
        return
    assert _reencode(call) == data


word_choices = st.one_of(
    st.integers(0, 320).map(lambda n: n.to_bytes(32, "big")),
    st.binary(min_size=32, max_size=32),
)


@given(st.sampled_from(SPECS), st.lists(word_choices, max_size=14))
def test_random_words_after_a_known_selector_raise_only_decode_error(
    spec: FunctionSpec, words: list[bytes]
) -> None:
    data = spec.selector + b"".join(words)
    try:
        call = decode_call(TARGET, 0, data)
    except DecodeError:
        return
    assert _reencode(call) == data


@given(any_valid_call)
def test_generated_valid_calls_decode_and_round_trip(data: bytes) -> None:
    call = decode_call(TARGET, 0, data)
    assert isinstance(call, KnownCall)
    assert _reencode(call) == data
    assert decode_call(TARGET, 0, _reencode(call)) == call


@given(any_valid_call, st.data())
def test_any_mutation_decodes_canonically_or_raises_decode_error(
    data: bytes, source: st.DataObject
) -> None:
    mutated = _mutate(data, source)
    try:
        call = decode_call(TARGET, 0, mutated)
    except DecodeError:
        return
    assert _reencode(call) == mutated
