"""Malformed call data for known selectors: each kind raises CalldataError naming field, offset."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi.abi import encode as eth_abi_encode
from eth_utils.abi import function_signature_to_4byte_selector

from shared.address import Address
from shared.calls import MAX_ENTRIES, Operation, decode_call, pack_transactions
from shared.errors import CalldataError

EXEC = "execTransaction(address,uint256,bytes,uint8,uint256,uint256,uint256,address,address,bytes)"
ZERO = "0x" + "00" * 20
TARGET = Address(b"\x5a" * 20)
TOKEN = Address(b"\x70" * 20)
ALICE = Address(b"\xa1" * 20)


def calldata(signature: str, *args: Any) -> bytes:
    types = signature[signature.index("(") + 1 : -1]
    converted = [a.checksummed() if isinstance(a, Address) else a for a in args]
    return function_signature_to_4byte_selector(signature) + eth_abi_encode(
        types.split(",") if types else [], converted
    )


def word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def replace_word(data: bytes, at: int, value: bytes) -> bytes:
    return data[:at] + value + data[at + 32 :]


def refused(data: bytes) -> CalldataError:
    with pytest.raises(CalldataError) as err:
        decode_call(TARGET, 0, data)
    return err.value


def exec_call(data: bytes, operation: int = 0) -> bytes:
    return calldata(EXEC, TOKEN, 0, data, operation, 0, 0, 0, ZERO, ZERO, b"\x22" * 65)


def multisend(batch: bytes) -> bytes:
    return calldata("multiSend(bytes)", batch)


def transfer(amount: int = 1) -> bytes:
    return calldata("transfer(address,uint256)", ALICE, amount)


UPGRADE = calldata("upgradeToAndCall(address,bytes)", TOKEN, b"\x01\x02\x03")
# upgradeToAndCall layout after the selector: head [impl, offset=64], tail [length, data].
UPGRADE_OFFSET_AT = 4 + 32
UPGRADE_LENGTH_AT = 4 + 64


@pytest.mark.parametrize("length", [1, 2, 3])
def test_data_shorter_than_a_selector(length: int) -> None:
    err = refused(b"\xa9\x05\x9c\xbb"[:length])
    assert err.field == "selector"
    assert err.offset == 0


def test_trailing_bytes_after_the_arguments() -> None:
    err = refused(transfer() + word(0))
    assert err.field == "transfer"
    assert "trailing" in err.reason
    assert err.offset == 4 + 64


def test_missing_arguments_run_past_the_end() -> None:
    err = refused(transfer()[:40])  # `to` fits, `amount` is cut short
    assert err.field == "transfer.amount"
    assert "head" in err.reason


def test_aliased_offsets_two_dynamic_arguments_share_data() -> None:
    data = exec_call(b"\x01\x02")
    # execTransaction heads: 10 words; `data` (arg 2) at offset 320, `signatures` (arg 9)
    # made to point at the same bytes.
    aliased = replace_word(data, 4 + 9 * 32, word(320))
    err = refused(aliased)
    assert err.field == "execTransaction.signatures"
    assert "aliased" in err.reason
    assert err.offset == 4 + 9 * 32


def test_offset_pointing_into_the_head() -> None:
    err = refused(replace_word(UPGRADE, UPGRADE_OFFSET_AT, word(32)))
    assert err.field == "upgradeToAndCall.data"
    assert "into the head" in err.reason
    assert err.offset == UPGRADE_OFFSET_AT


def test_offset_out_of_range() -> None:
    err = refused(replace_word(UPGRADE, UPGRADE_OFFSET_AT, word(2**255)))
    assert err.field == "upgradeToAndCall.data"
    assert "past the end" in err.reason


def test_length_beyond_data() -> None:
    err = refused(replace_word(UPGRADE, UPGRADE_LENGTH_AT, word(10**6)))
    assert err.field == "upgradeToAndCall.data"
    assert "exceeds" in err.reason
    assert err.offset == UPGRADE_LENGTH_AT


def test_dirty_bytes_padding() -> None:
    dirty = bytearray(UPGRADE)
    dirty[UPGRADE_LENGTH_AT + 32 + 3] = 0x01  # first padding byte after 3 content bytes
    err = refused(bytes(dirty))
    assert err.field == "upgradeToAndCall.data"
    assert "padding" in err.reason
    assert err.offset == UPGRADE_LENGTH_AT + 32 + 3


def test_dirty_address_padding() -> None:
    dirty = bytearray(transfer())
    dirty[4] = 0x01
    err = refused(bytes(dirty))
    assert err.field == "transfer.to"
    assert "address padding" in err.reason
    assert err.offset == 4


def test_bool_equal_to_two() -> None:
    data = calldata("setApprovalForAll(address,bool)", ALICE, True)
    err = refused(replace_word(data, 4 + 32, word(2)))
    assert err.field == "setApprovalForAll.approved"
    assert "0 or 1" in err.reason
    assert err.offset == 4 + 32


def test_uint8_value_256() -> None:
    data = exec_call(b"")
    err = refused(replace_word(data, 4 + 3 * 32, word(256)))
    assert err.field == "execTransaction.operation"
    assert "uint8" in err.reason


def test_safe_operation_two_is_not_an_operation() -> None:
    err = refused(exec_call(b"", operation=2))
    assert err.field == "execTransaction.operation"
    assert "0 (call) or 1 (delegatecall)" in err.reason
    assert err.offset == 4 + 3 * 32


def test_truncated_multisend_entry() -> None:
    batch = pack_transactions([(Operation.CALL, TOKEN, 0, transfer())])
    err = refused(multisend(batch + b"\x00" * 30))
    assert err.field == "multiSend.transactions[1]"
    assert "truncated" in err.reason
    # Entry 1 starts after the selector, offset word, length word and entry 0.
    assert err.offset == 4 + 64 + len(batch)


def test_multisend_entry_with_data_length_beyond_the_end() -> None:
    entry = bytearray(pack_transactions([(Operation.CALL, TOKEN, 0, transfer())]))
    entry[53:85] = word(len(entry))  # dataLength larger than what follows the header
    err = refused(multisend(bytes(entry)))
    assert err.field == "multiSend.transactions[0].dataLength"
    assert "runs past the end" in err.reason
    assert err.offset == 4 + 64 + 53


def test_multisend_operation_byte_two() -> None:
    batch = bytearray(pack_transactions([(Operation.CALL, TOKEN, 0, b"")]))
    batch[0] = 2
    err = refused(multisend(bytes(batch)))
    assert err.field == "multiSend.transactions[0].operation"


def test_multisend_with_too_many_entries() -> None:
    batch = pack_transactions([(Operation.CALL, TOKEN, 0, b"")] * (MAX_ENTRIES + 1))
    err = refused(multisend(batch))
    assert err.field == "multiSend.transactions"
    assert "more than" in err.reason


def test_inner_data_shorter_than_a_selector() -> None:
    err = refused(exec_call(b"\xa9\x05"))
    assert err.field == "execTransaction.data.selector"
    # execTransaction's `data` content starts after 10 head words and its length word.
    assert err.offset == 4 + 320 + 32


def test_error_deep_in_a_safe_batch_names_the_whole_path() -> None:
    bad_transfer = bytearray(transfer())
    bad_transfer[4] = 0xFF  # dirty padding of `to`
    batch = pack_transactions(
        [(Operation.CALL, TOKEN, 0, transfer()), (Operation.CALL, TOKEN, 0, bytes(bad_transfer))]
    )
    data = exec_call(multisend(batch), operation=1)
    err = refused(data)
    assert err.field == "execTransaction.data.multiSend.transactions[1].data.transfer.to"
    # Absolute offset: exec data content, multiSend's 4 + 64 bytes, entry 0, entry 1 header,
    # then the transfer selector.
    expected = (4 + 320 + 32) + (4 + 64) + (85 + 68) + 85 + 4
    assert err.offset == expected
    assert data[expected] == 0xFF
