"""The lookup caches of the review path give what the uncached computations give: the EIP-55
forms of shared.address, the per-chain indexes of shared.registry, and the fields and texts
shared.review builds once per batch."""

from __future__ import annotations

from eth_utils.address import to_checksum_address
from hypothesis import given
from hypothesis import strategies as st

from shared.address import Address, _eip55_of, _grouped_of, parse_address
from shared.erc4527 import Keypath
from shared.messages import safe_display
from shared.registry import Registries
from shared.registry.model import (
    LOOKALIKE_PREFIX,
    LOOKALIKE_SUFFIX,
    AddressLabel,
    SafeDeployment,
    Token,
)
from shared.review.amounts import gwei_text
from shared.review.draft import Draft, _single_line_display
from shared.review.model import ReviewField, Source
from shared.review.request_fields import _chain_id_field, _path_field
from shared.review.transaction import _gas_limit_field, _gwei_field

raw_addresses = st.binary(min_size=20, max_size=20)


@given(raw_addresses)
def test_cached_checksums_and_groups_equal_a_fresh_computation(raw: bytes) -> None:
    address = Address(raw)
    for _ in range(2):  # the second round comes from the cache
        assert address.checksummed() == to_checksum_address(raw)
        assert address.grouped().replace(" ", "") == to_checksum_address(raw)
        assert parse_address(address.checksummed(), field="a") == address


def test_the_checksum_caches_are_bounded() -> None:
    for n in range(_eip55_of.cache_info().maxsize + 10):  # type: ignore[operator]
        Address(n.to_bytes(20, "big")).grouped()
    for cached in (_eip55_of, _grouped_of):
        info = cached.cache_info()
        assert info.maxsize is not None and info.currsize <= info.maxsize


# A few addresses that share their ends, so that lookalikes occur often.
_ENDS = st.sampled_from([b"\x11\x22", b"\x11\x23", b"\xab\xcd"])
crowded_addresses = st.builds(
    lambda head, middle, tail: Address(head + middle + tail),
    _ENDS,
    st.sampled_from([bytes(16), b"\x01" * 16]) | st.binary(min_size=16, max_size=16),
    _ENDS,
)
chains = st.sampled_from([1, 10, 137])
registries = st.builds(
    lambda tokens, safes, labels: Registries.build(
        tokens=tokens, safe_deployments=safes, labels=labels
    ),
    st.lists(st.builds(Token, chains, crowded_addresses, st.sampled_from(["A", "B"]), st.just(6))),
    st.lists(
        st.builds(
            SafeDeployment,
            chains,
            st.just("1.4.1"),
            crowded_addresses,
            st.none() | crowded_addresses,
            st.none() | crowded_addresses,
        ),
        max_size=3,
    ),
    st.lists(
        st.builds(AddressLabel, crowded_addresses, st.sampled_from(["x", "y"]), st.none() | chains)
    ),
)


def naive_known(reg: Registries, chain_id: int) -> dict[Address, str]:
    """known_addresses as it was computed on every call before the index."""
    named: dict[Address, str] = {}
    for token in reg.tokens.values():
        if token.chain_id == chain_id:
            named[token.address] = f"{token.symbol} token"
    for deployment in reg.safe_deployments:
        if deployment.chain_id != chain_id:
            continue
        named[deployment.multisend_call_only] = f"Safe {deployment.version} MultiSendCallOnly"
        if deployment.multisend is not None:
            named[deployment.multisend] = f"Safe {deployment.version} MultiSend"
        if deployment.sign_message_lib is not None:
            named[deployment.sign_message_lib] = f"Safe {deployment.version} SignMessageLib"
    for entry in reg.labels:
        if entry.chain_id in (None, chain_id):
            named[entry.address] = entry.label
    return named


def naive_lookalike(reg: Registries, chain_id: int, address: Address) -> object:
    target = address.raw.hex()
    for known, name in naive_known(reg, chain_id).items():
        other = known.raw.hex()
        if (
            known != address
            and other[:LOOKALIKE_PREFIX] == target[:LOOKALIKE_PREFIX]
            and other[-LOOKALIKE_SUFFIX:] == target[-LOOKALIKE_SUFFIX:]
        ):
            return known, name
    return None


@given(registries, registries, st.sampled_from([1, 10, 137, 5]), crowded_addresses)
def test_the_indexes_answer_as_the_scans_did(
    first: Registries, second: Registries, chain_id: int, address: Address
) -> None:
    for reg in (first, first.merged(second)):
        assert reg.known_addresses(chain_id) == naive_known(reg, chain_id)
        assert list(reg.known_addresses(chain_id)) == list(naive_known(reg, chain_id))
        assert reg.lookalike_of(chain_id, address) == naive_lookalike(reg, chain_id, address)
        # The registry's own names: the same scan without the address book.
        unlabelled = Registries.build(
            tokens=reg.tokens.values(), safe_deployments=reg.safe_deployments
        )
        assert dict(reg.contract_names(chain_id)) == naive_known(unlabelled, chain_id)


def test_known_addresses_is_a_copy_the_caller_may_change() -> None:
    hot = Address(b"\x11" * 20)
    reg = Registries.build(labels=[AddressLabel(hot, "hot", 1)])
    reg.known_addresses(1).clear()
    assert reg.known_addresses(1) == {hot: "hot"}


# --- fields and texts a batch repeats (shared.review) -------------------------------------

uint256 = st.integers(min_value=0, max_value=2**256 - 1)


@given(st.sampled_from(["Max fee per gas", "Max priority fee", "Gas price"]), uint256)
def test_cached_fee_fields_equal_a_fresh_field(label: str, wei: int) -> None:
    fresh = ReviewField("transaction", label, gwei_text(wei), Source.DECODED)
    for _ in range(2):  # the second round comes from the cache
        assert _gwei_field(label, wei) == fresh


@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_cached_count_fields_equal_a_fresh_field(number: int) -> None:
    assert _gas_limit_field(number) == ReviewField(
        "transaction", "Gas limit", str(number), Source.DECODED
    )
    assert _chain_id_field(number) == ReviewField(
        "request (written by the requester, not verified)", "Chain id", str(number), Source.REQUEST
    )


def test_an_int_and_a_bool_are_not_one_cache_entry() -> None:
    # lru_cache keys 1 and True alike unless typed: the field text would be the first one's.
    assert _gas_limit_field(1).value == "1"
    assert _gas_limit_field(True).value == "True"


@given(
    st.lists(st.integers(min_value=0, max_value=2**31 - 1), min_size=1, max_size=5),
    # BCR-2020-007: a source fingerprint is a uint32 other than 0 (Keypath refuses 0).
    st.none() | st.integers(min_value=1, max_value=2**32 - 1),
)
def test_cached_path_fields_equal_a_fresh_field(
    indexes: list[int], fingerprint: int | None
) -> None:
    path = Keypath.parse("m/" + "/".join(str(i) for i in indexes), source_fingerprint=fingerprint)
    text = str(path) + ("" if fingerprint is None else f" (master fingerprint {fingerprint:08x})")
    for _ in range(2):
        assert _path_field(path).value == text


@given(st.text(max_size=40))
def test_cached_display_equals_safe_display(text: str) -> None:
    for _ in range(2):
        assert _single_line_display(text) == safe_display(text)


def test_the_review_caches_are_bounded() -> None:
    for n in range(_gwei_field.cache_info().maxsize + 10):  # type: ignore[operator]
        _gwei_field("Gas price", n)
        _gas_limit_field(n)
        _chain_id_field(n)
        _single_line_display(str(n))
    for cached in (_gwei_field, _gas_limit_field, _chain_id_field, _single_line_display):
        info = cached.cache_info()
        assert info.maxsize is not None and info.currsize <= info.maxsize


def test_the_display_cache_keeps_no_long_text() -> None:
    # Draft.text also shows ABI and EIP-712 strings as long as a whole sign-data (64 KiB), and
    # escaping can make them four times longer: a cache bounded only in entries would keep
    # hundreds of megabytes a requester chose, long after the review. Only short texts (an
    # origin, a token name) are remembered.
    _single_line_display.cache_clear()
    long_text = "\x01" * 60_000
    draft = Draft(Registries.build(), 1)
    draft.text("name", long_text, path="name")
    assert draft.fields[-1].value == safe_display(long_text).text
    assert _single_line_display.cache_info().currsize == 0
    draft.text("origin", "metamask", path="origin")
    assert _single_line_display.cache_info().currsize == 1
