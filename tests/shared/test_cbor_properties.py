"""Property tests for shared.cbor: round trips; mutated or random input only raises DecodeError."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shared.cbor import CborKey, CborLimits, CborValue, EncodedTag, Tag, decode, encode
from shared.errors import DecodeError, NonCanonicalError

# Deep enough that hypothesis trees never meet the depth limit; the limit has its own tests.
ROOMY = CborLimits(max_depth=64)
# Tag numbers around each head-size boundary, plus the ones coldsign's schemas use.
TAG_NUMBERS = st.sampled_from([0, 1, 23, 24, 37, 255, 256, 303, 40404, 2**32, 2**64 - 1])
# Random bytes may carry any one-byte tag head (0xc0..0xd7) or a tag 24..255.
TAGS_FOR_RANDOM_BYTES = frozenset(range(256))

integers = st.integers(min_value=-(2**64), max_value=2**64 - 1)
keys: st.SearchStrategy[CborKey] = st.one_of(integers, st.text(max_size=8), st.binary(max_size=8))
scalars: st.SearchStrategy[CborValue] = st.one_of(
    integers,
    st.binary(max_size=40),
    st.text(max_size=20),
    st.booleans(),
    st.none(),
)


def _containers(children: st.SearchStrategy[CborValue]) -> st.SearchStrategy[CborValue]:
    return st.one_of(
        st.lists(children, max_size=6),
        st.dictionaries(keys, children, max_size=6),
        st.builds(Tag, TAG_NUMBERS, children),
    )


cbor_values: st.SearchStrategy[CborValue] = st.recursive(scalars, _containers, max_leaves=40)


def _tags_in(value: CborValue) -> frozenset[int]:
    if isinstance(value, Tag):
        return frozenset({value.number}) | _tags_in(value.value)
    if isinstance(value, list):
        return frozenset().union(*(_tags_in(item) for item in value))
    if isinstance(value, dict):
        return frozenset().union(*(_tags_in(item) for item in value.values()))
    return frozenset()


def _same(left: CborValue, right: CborValue) -> bool:
    """Equality that also tells True from 1 and keeps map order irrelevant."""
    if type(left) is not type(right):
        return False
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(_same, left, right))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_same(left[k], right[k]) for k in left)
    if isinstance(left, Tag) and isinstance(right, Tag):
        return left.number == right.number and _same(left.value, right.value)
    return left == right


def _decode_or_refuse(data: bytes, allowed_tags: frozenset[int]) -> None:
    """Either ``data`` decodes to a value that re-encodes to ``data``, or a DecodeError says why.

    Any other exception fails the test. The decoder has no re-encoding check of its own:
    its inline checks alone must refuse every non-canonical form, which this asserts.
    """
    try:
        value = decode(data, allowed_tags=allowed_tags, limits=ROOMY)
    except DecodeError:
        return
    assert encode(value) == data, data.hex()


@given(cbor_values)
def test_decode_inverts_encode(value: CborValue) -> None:
    data = encode(value)
    decoded = decode(data, allowed_tags=_tags_in(value), limits=ROOMY)
    assert _same(decoded, value)
    assert encode(decoded) == data


@given(st.dictionaries(keys, st.integers(0, 3), max_size=12))
def test_encoded_map_keys_ascend_bytewise(mapping: dict[CborKey, CborValue]) -> None:
    decoded = decode(encode(mapping))
    assert isinstance(decoded, dict)
    encoded_keys = [encode(key) for key in decoded]
    assert encoded_keys == sorted(encoded_keys)
    assert len(set(encoded_keys)) == len(encoded_keys)


@given(st.binary(max_size=64))
def test_random_bytes_decode_canonically_or_raise_decode_error(data: bytes) -> None:
    _decode_or_refuse(data, TAGS_FOR_RANDOM_BYTES)


@given(cbor_values, st.data())
def test_byte_replacement_decodes_canonically_or_raises_decode_error(
    value: CborValue, data: st.DataObject
) -> None:
    encoded = bytearray(encode(value))
    index = data.draw(st.integers(0, len(encoded) - 1), label="index")
    encoded[index] = data.draw(st.integers(0, 255), label="byte")
    _decode_or_refuse(bytes(encoded), _tags_in(value))


@given(cbor_values, st.data())
def test_truncation_raises_decode_error(value: CborValue, data: st.DataObject) -> None:
    encoded = encode(value)
    cut = data.draw(st.integers(0, len(encoded) - 1), label="cut")
    _decode_or_refuse(encoded[:cut], _tags_in(value))


@given(cbor_values, st.data())
def test_byte_insertion_decodes_canonically_or_raises_decode_error(
    value: CborValue, data: st.DataObject
) -> None:
    encoded = encode(value)
    index = data.draw(st.integers(0, len(encoded)), label="index")
    byte = data.draw(st.integers(0, 255), label="byte")
    _decode_or_refuse(encoded[:index] + bytes([byte]) + encoded[index:], _tags_in(value))


@given(cbor_values, st.data())
def test_byte_deletion_decodes_canonically_or_raises_decode_error(
    value: CborValue, data: st.DataObject
) -> None:
    encoded = encode(value)
    index = data.draw(st.integers(0, len(encoded) - 1), label="index")
    _decode_or_refuse(encoded[:index] + encoded[index + 1 :], _tags_in(value))


@given(st.lists(cbor_values, min_size=2, max_size=4))
def test_concatenated_items_are_refused_as_trailing_bytes(values: list[CborValue]) -> None:
    data = b"".join(encode(value) for value in values)
    tags = frozenset().union(*(_tags_in(value) for value in values))
    try:
        decode(data, allowed_tags=tags, limits=ROOMY)
    except DecodeError as error:
        assert error.field == "$" and "trailing bytes" in error.reason
    else:
        raise AssertionError("a sequence of items decoded as one item")


def _encode_widened(value: CborValue, target: int, counter: list[int]) -> bytes:
    """``encode(value)``, except that head number ``target`` (pre-order) takes a longer form."""

    def head(major: int, arg: int) -> bytes:
        index = counter[0]
        counter[0] += 1
        canonical = encode(arg)  # the shortest head for ``arg``, with major type 0
        if index != target or len(canonical) == 9:
            return bytes([major << 5 | canonical[0] & 0x1F]) + canonical[1:]
        # One size up: 1 -> 2, 2 -> 3, 3 -> 5, 5 -> 9 bytes (RFC 8949 §3 argument sizes).
        width = {1: 1, 2: 2, 3: 4, 5: 8}[len(canonical)]
        info = {1: 24, 2: 25, 4: 26, 8: 27}[width]
        return bytes([major << 5 | info]) + arg.to_bytes(width, "big")

    if isinstance(value, bool) or value is None:
        return encode(value)
    if isinstance(value, int):
        return head(0, value) if value >= 0 else head(1, -1 - value)
    if isinstance(value, bytes):
        return head(2, len(value)) + value
    if isinstance(value, str):
        raw = value.encode()
        return head(3, len(raw)) + raw
    if isinstance(value, list):
        out = head(4, len(value))
        return out + b"".join(_encode_widened(item, target, counter) for item in value)
    if isinstance(value, Tag):
        out = head(6, value.number)
        return out + _encode_widened(value.value, target, counter)
    out = head(5, len(value))
    # Entries in the canonical order of their keys' encodings.
    for key in sorted(value, key=encode):
        out += _encode_widened(key, target, counter) + _encode_widened(value[key], target, counter)
    return out


@given(cbor_values, st.data())
def test_any_head_in_a_longer_form_is_refused_as_non_canonical(
    value: CborValue, data: st.DataObject
) -> None:
    counter = [0]
    assert _encode_widened(value, -1, counter) == encode(value)
    heads = counter[0]
    if heads == 0:
        return
    target = data.draw(st.integers(0, heads - 1), label="head")
    widened = _encode_widened(value, target, [0])
    if widened == encode(value):
        return  # that head already had the longest (8-byte) form
    try:
        decode(widened, allowed_tags=_tags_in(value), limits=ROOMY)
    except NonCanonicalError as error:
        assert "shortest form" in error.reason or "bytewise order" in error.reason
    else:
        raise AssertionError(f"a widened head decoded: {widened.hex()}")


def test_the_widening_encoder_widens_the_head_it_is_asked_to() -> None:
    assert _encode_widened([1, 2], 1, [0]).hex() == "82180102"
    assert _encode_widened({"a": 300}, 2, [0]).hex() == "a161611a0000012c"
    assert _encode_widened(Tag(37, b""), 0, [0]).hex() == "d9002540"


def _outcome(
    data: bytes, tags: frozenset[int], limits: CborLimits, shared: bool, kept: bool = False
) -> CborValue | tuple[object, ...]:
    """What decode does with ``data``: the value (shared or kept tags as plain ones) or the
    refusal."""
    try:
        value = decode(
            data,
            allowed_tags=tags,
            limits=limits,
            shared_tags=tags if shared else frozenset(),
            encoded_tags=tags if kept else frozenset(),
        )
    except DecodeError as error:
        return (type(error), error.field, error.offset, error.reason)
    return _as_plain(value)


def _as_plain(value: CborValue) -> CborValue:
    """``value`` with every EncodedTag checked against its bytes and made a plain Tag."""
    if isinstance(value, EncodedTag):
        assert value.encoded == encode(value.value)
        return Tag(value.number, _as_plain(value.value))
    if isinstance(value, Tag):
        return Tag(value.number, _as_plain(value.value))
    if isinstance(value, list):
        return [_as_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _as_plain(item) for key, item in value.items()}
    return value


@given(
    st.builds(Tag, TAG_NUMBERS, cbor_values),
    st.integers(0, 10),
    st.integers(0, 80),
    st.data(),
)
def test_shared_and_kept_tags_decode_and_refuse_exactly_as_plain_tags(
    tag: Tag, max_depth: int, max_items: int, data: st.DataObject
) -> None:
    # The same tag four times at different depths, so repeats meet the limits differently.
    document = encode([tag, [tag], {0: tag}, [[tag]]])
    if data.draw(st.booleans(), label="mutate"):
        mutated = bytearray(document)
        index = data.draw(st.integers(0, len(mutated) - 1), label="index")
        mutated[index] = data.draw(st.integers(0, 255), label="byte")
        document = bytes(mutated)
    tags = _tags_in(tag)
    for limits in (ROOMY, CborLimits(max_depth=max_depth, max_items=max_items)):
        plain = _outcome(document, tags, limits, shared=False)
        for shared, kept in ((True, False), (False, True), (True, True)):
            other = _outcome(document, tags, limits, shared=shared, kept=kept)
            if isinstance(plain, tuple):
                assert other == plain
            else:
                assert not isinstance(other, tuple) and _same(other, plain)
