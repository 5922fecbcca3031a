"""``crypto-keypath`` (BCR-2020-007, tag 304): BIP-32 derivation paths, fingerprint and depth."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from shared.cbor import CborKey, CborValue, EncodedTag, Tag, decode, encode
from shared.erc4527.schema import (
    UINT32_MAX,
    as_array,
    as_bool,
    as_map,
    as_uint,
    check_uint,
    expect_type,
    fingerprint_text,
    kind,
    renamed,
    require,
    untag,
)
from shared.errors import SchemaError
from shared.ur import UR

KEYPATH_TYPE = "crypto-keypath"
KEYPATH_TAG = 304
# BIP-32: child indexes at or above 2**31 are hardened; the hardened flag is carried apart.
HARDENED = 0x8000_0000
# BCR-2020-007: depth is a uint8, so no path has more steps than this.
MAX_COMPONENTS = 255
UINT8_MAX = 0xFF

# ASCII decimal without sign or leading zeros, at most 10 digits (2**31 has 10).
_INDEX_TEXT = re.compile(r"0|[1-9][0-9]{0,9}")

_KEYS = {1: "components", 2: "source-fingerprint", 3: "depth"}
_COMPONENTS, _SOURCE_FINGERPRINT, _DEPTH = 1, 2, 3


@dataclass(frozen=True, slots=True)
class PathComponent:
    """One derivation step: a child ``index`` below 2**31 (``None`` is the wildcard ``*``)."""

    index: int | None
    hardened: bool

    def __post_init__(self) -> None:
        check_component(self, "path-component")

    def __str__(self) -> str:
        return ("*" if self.index is None else str(self.index)) + ("'" if self.hardened else "")


def check_component(component: PathComponent, field: str) -> None:
    """Refuse an index outside [0, 2**31) or a non-boolean hardened flag."""
    if component.index is not None:
        check_uint(component.index, field, HARDENED - 1)
    if not isinstance(component.hardened, bool):
        raise SchemaError(field, "is-hardened must be a boolean")


@dataclass(frozen=True, slots=True)
class Keypath:
    """A ``crypto-keypath``: derivation steps, and optionally the source fingerprint and depth.

    ``source_fingerprint`` is the BIP-32 fingerprint of the key the path starts from
    (the master key's, "xfp", when the path is complete) as a uint32. ``str()`` gives
    ``m/44'/60'/0'/0/1``; :meth:`parse` reads that form back.
    """

    components: tuple[PathComponent, ...]
    source_fingerprint: int | None = None
    depth: int | None = None
    # True when some step is the wildcard ``*``. Computed once: a decoded keypath serves
    # every request of a batch (see from_tagged), and each request asks.
    has_wildcard: bool = field(init=False, repr=False, compare=False)
    # str(): computed once for the same reason (the signer's audit records it per request).
    _text: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_keypath(KEYPATH_TYPE, self.components, self.source_fingerprint, self.depth)
        wildcard = None in [component.index for component in self.components]
        object.__setattr__(self, "has_wildcard", wildcard)
        text = "/".join(["m", *(str(component) for component in self.components)])
        object.__setattr__(self, "_text", text)

    @classmethod
    def parse(
        cls, text: str, *, source_fingerprint: int | None = None, depth: int | None = None
    ) -> Keypath:
        """Parse ``m/44'/60'/0'/0/1`` (``M`` and ``h`` are accepted too, ``*`` is a wildcard)."""
        steps = text.split("/")
        if steps[0] not in ("m", "M"):
            raise SchemaError("keypath", "a path starts with 'm'")
        if len(steps) - 1 > MAX_COMPONENTS:
            raise SchemaError("keypath", f"more than {MAX_COMPONENTS} derivation steps")
        components = []
        for position, step in enumerate(steps[1:]):
            hardened = step.endswith(("'", "h", "H"))
            digits = step[:-1] if hardened else step
            if digits == "*":
                components.append(PathComponent(None, hardened))
                continue
            field = f"keypath.components[{position}]"
            if _INDEX_TEXT.fullmatch(digits) is None:
                raise SchemaError(field, f"{step[:16]!r} is not an index")
            if int(digits) >= HARDENED:
                raise SchemaError(field, f"index {digits} is not below 2**31")
            components.append(PathComponent(int(digits), hardened))
        return cls(tuple(components), source_fingerprint, depth)

    def __str__(self) -> str:
        return self._text

    @property
    def path_text(self) -> str:
        """The steps without the ``m/`` prefix (``44'/60'/0'``), as Keystone's ``getPath``."""
        return self._text[2:]

    def describe(self) -> dict[str, object]:
        """JSON-safe fields: steps as text, fingerprint as 8 hex digits, depth."""
        return {
            "components": self.path_text,
            "source_fingerprint": fingerprint_text(self.source_fingerprint),
            "depth": self.depth,
        }

    def to_value(self) -> dict[CborKey, CborValue]:
        """The untagged CBOR map."""
        steps: list[CborValue] = []
        for component in self.components:
            # BCR-2020-007: child-index-wildcard is the empty array.
            steps.append([] if component.index is None else component.index)
            steps.append(component.hardened)
        entries: dict[CborKey, CborValue] = {_COMPONENTS: steps}
        if self.source_fingerprint is not None:
            entries[_SOURCE_FINGERPRINT] = self.source_fingerprint
        if self.depth is not None:
            entries[_DEPTH] = self.depth
        return {key: entries[key] for key in sorted(entries)}

    def to_tagged(self) -> Tag:
        """The CBOR value ``#6.304(crypto-keypath)``."""
        return Tag(KEYPATH_TAG, self.to_value())

    @classmethod
    def from_value(cls, value: CborValue, where: str) -> Keypath:
        """Read an untagged ``crypto-keypath`` map; fields in errors start with ``where``."""
        entries = as_map(value, where, _KEYS)
        raw_steps = as_array(
            require(entries, _COMPONENTS, where, "components"), f"{where}.components"
        )
        if len(raw_steps) % 2:
            raise SchemaError(f"{where}.components", "expected (index, is-hardened) pairs")
        if len(raw_steps) // 2 > MAX_COMPONENTS:
            raise SchemaError(f"{where}.components", f"more than {MAX_COMPONENTS} steps")
        components = []
        for position in range(len(raw_steps) // 2):
            raw_index = raw_steps[2 * position]
            raw_hardened = raw_steps[2 * position + 1]
            # The common step needs no field name for an error: PathComponent checks it.
            if type(raw_index) is int and 0 <= raw_index < HARDENED and type(raw_hardened) is bool:
                components.append(PathComponent(raw_index, raw_hardened))
                continue
            field = f"{where}.components[{position}]"
            index: int | None
            if isinstance(raw_index, list):
                if raw_index:
                    # BCR-2020-007 child-index-range [low, high]: no Ethereum wallet sends it.
                    raise SchemaError(field, "child-index ranges are not supported")
                index = None
            elif isinstance(raw_index, int) and not isinstance(raw_index, bool):
                index = as_uint(raw_index, field, HARDENED - 1)
            else:
                raise SchemaError(field, f"expected a child index or [], got {kind(raw_index)}")
            hardened = as_bool(raw_hardened, f"{field}.is-hardened")
            components.append(PathComponent(index, hardened))
        fingerprint = None
        if _SOURCE_FINGERPRINT in entries:
            fingerprint = as_uint(
                entries[_SOURCE_FINGERPRINT], f"{where}.source-fingerprint", UINT32_MAX
            )
        depth = None
        if _DEPTH in entries:
            depth = as_uint(entries[_DEPTH], f"{where}.depth", UINT8_MAX)
        try:
            return cls(tuple(components), fingerprint, depth)
        except SchemaError as error:
            raise renamed(error, where, KEYPATH_TYPE) from None

    @classmethod
    def from_tagged(cls, value: CborValue, where: str) -> Keypath:
        """Read ``#6.304(crypto-keypath)``.

        Decoded with ``shared_tags`` naming :data:`KEYPATH_TAG`, the tag carries the exact
        bytes of its map, and a keypath already read from the same bytes is returned again.
        """
        content = untag(value, where, KEYPATH_TAG)
        if not isinstance(value, EncodedTag):
            return cls.from_value(content, where)
        known = _DECODED.get(value.encoded)
        if known is None:
            known = cls.from_value(content, where)
            # Cached only when the bytes are this keypath's own encoding: an EncodedTag built
            # anywhere but the decoder could otherwise file a path under another path's bytes
            # for every later batch. One encode per distinct keypath, not per request.
            if known.to_cbor() == value.encoded:
                if len(_DECODED) >= _DECODED_MAX:
                    _DECODED.clear()
                _DECODED[value.encoded] = known
        return known

    def to_cbor(self) -> bytes:
        """The deterministic CBOR of the untagged map (the ``ur:crypto-keypath`` payload)."""
        return encode(self.to_value())

    @classmethod
    def from_cbor(cls, data: bytes) -> Keypath:
        """Decode a ``crypto-keypath`` payload strictly (no tags allowed)."""
        return cls.from_value(decode(data, allowed_tags=frozenset()), KEYPATH_TYPE)

    def to_ur(self) -> UR:
        """This keypath as ``ur:crypto-keypath``."""
        return UR(KEYPATH_TYPE, self.to_cbor())

    @classmethod
    def from_ur(cls, ur: UR) -> Keypath:
        """Decode ``ur:crypto-keypath``; :class:`URTypeError` for any other type."""
        expect_type(ur, KEYPATH_TYPE)
        return cls.from_cbor(ur.cbor)


def check_keypath(
    where: str,
    components: tuple[PathComponent, ...],
    source_fingerprint: int | None,
    depth: int | None,
) -> None:
    """The BCR-2020-007 rules for a keypath, with fields named from ``where``."""
    if not isinstance(components, tuple):
        raise SchemaError(f"{where}.components", "components must be a tuple")
    if len(components) > MAX_COMPONENTS:
        raise SchemaError(f"{where}.components", f"more than {MAX_COMPONENTS} steps")
    for position, component in enumerate(components):
        # A PathComponent checked its own fields when it was built, and it is frozen.
        if not isinstance(component, PathComponent):
            raise SchemaError(f"{where}.components[{position}]", "not a PathComponent")
    if source_fingerprint is not None:
        check_uint(source_fingerprint, f"{where}.source-fingerprint", UINT32_MAX)
        # BCR-2020-007: source-fingerprint is uint32 .ne 0.
        if source_fingerprint == 0:
            raise SchemaError(f"{where}.source-fingerprint", "must not be 0 (BCR-2020-007)")
    elif not components:
        # BCR-2020-007: "If empty, source-fingerprint MUST be present".
        raise SchemaError(f"{where}.source-fingerprint", "required when components is empty")
    if depth is not None:
        check_uint(depth, f"{where}.depth", UINT8_MAX)


def check_key_depth(keypath: Keypath, where: str) -> None:
    """For the path of a key (not of its children): depth counts at least every step given.

    BCR-2020-007: depth is "the number of derivation steps in the path of the associated
    key, even if not present in the components", so it can exceed the steps listed but
    never fall short of them.
    """
    if keypath.depth is not None and keypath.depth < len(keypath.components):
        raise SchemaError(
            f"{where}.depth",
            f"depth {keypath.depth} is less than the {len(keypath.components)} steps given",
        )


# Decoded keypaths by the exact canonical CBOR of their map: a Keypath is a pure function of
# those bytes and is immutable, so one object can serve every request of a batch, which names
# the same path a thousand times. Only successes are stored; cleared when full.
_DECODED: dict[bytes, Keypath] = {}
_DECODED_MAX = 256
