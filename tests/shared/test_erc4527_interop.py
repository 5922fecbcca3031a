"""coldsign's ERC-4527 types against Keystone's JS registry, the one MetaMask's QR keyring uses.

Each test starts one node process (interop/keystone.mjs) with a batch of cases. For each
object built here: the JS library encodes coldsign's decoded fields to the same bytes (where
it can express them), decodes coldsign's bytes to the same fields, and coldsign decodes the
JS library's bytes back to the same object.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from shared.address import Address
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
    RequestId,
    describe,
)
from shared.tx.rlp import RLPValue, encode_uint
from shared.tx.rlp import encode as rlp

pytestmark = pytest.mark.node

SCRIPT = Path(__file__).resolve().parents[2] / "interop" / "keystone.mjs"
XFP = 0xE9181CF3
# Keystone's published account key at m/44'/60'/0' (bc-ur-and-erc4527.json "keystone.hdkey").
ACCOUNT_KEY = bytes.fromhex("02eae4b876a8696134b868f88cc2f51f715f2dbedb7446b8e6edf3d4541c4eb67b")
ACCOUNT_CHAIN_CODE = bytes.fromhex(
    "d882718b7a42806803eeb17f7483f20620611adb88fc943c898dc5aba94c2819"
)
PARENT = 0xD32E4508
# Two keys from Keystone's firmware Ledger Live vector (erc4527-extra.json).
LIVE_KEYS = (
    bytes.fromhex("0326bd25d39a5eeb0217c4508bc5c50d28087121372daa5d2e48b30a8f33459986"),
    bytes.fromhex("030b235be63214e20961295fb82ff3fe365c21e3c5c203bc7a995b5f31fa10a865"),
)
TO = bytes.fromhex("5aaeb6053f3e94c9b9a09f33669435e7ef1beaed")


def _uuid(n: int) -> RequestId:
    # Version-4 bits set: the `uuid` package Keystone's library (and MetaMask) use to print
    # request ids refuses UUIDs that are not RFC 4122 (see test_request_id_must_be_rfc4122).
    return RequestId(
        uuid.UUID(bytes=hashlib.sha256(b"request %d" % n).digest()[:16], version=4).bytes
    )


def _path(text: str) -> Keypath:
    return Keypath.parse(text, source_fingerprint=XFP)


def _legacy_tx(chain_id: int) -> bytes:
    # EIP-155 signing payload: rlp([nonce, gasPrice, gas, to, value, data, chainId, 0, 0]).
    fields = [7, 30 * 10**9, 21000]
    return rlp(
        (
            *(encode_uint(v) for v in fields),
            TO,
            encode_uint(10**17),
            b"",
            encode_uint(chain_id),
            b"",
            b"",
        )
    )


def _eip1559_tx() -> bytes:
    # EIP-1559: 0x02 || rlp([chainId, nonce, maxPriorityFee, maxFee, gas, to, value, data, []]).
    items = (1, 3, 2 * 10**9, 40 * 10**9, 65000)
    access_list: RLPValue = ()
    calldata = bytes.fromhex("a9059cbb") + bytes(64)
    payload = (*(encode_uint(v) for v in items), TO, b"", calldata, access_list)
    return b"\x02" + rlp(payload)


TYPED_DATA = json.dumps(
    {
        "types": {"EIP712Domain": [{"name": "name", "type": "string"}]},
        "primaryType": "EIP712Domain",
        "domain": {"name": "coldsign"},
        "message": {},
    }
).encode()

SIGN_REQUESTS = [
    # MetaMask signTransaction, legacy on Polygon (chain id 137 > 109: EIP-155 v takes 2 bytes).
    EthSignRequest(
        _legacy_tx(137),
        DataType.TRANSACTION,
        _path("m/44'/60'/0'/0/0"),
        _uuid(1),
        137,
        origin="metamask",
    ),
    EthSignRequest(
        _legacy_tx(11155111), DataType.TRANSACTION, _path("m/44'/60'/0'/0/3"), _uuid(2), 11155111
    ),
    # signTypedData and signPersonalMessage: MetaMask sends the address and no chain id.
    EthSignRequest(
        TYPED_DATA,
        DataType.TYPED_DATA,
        _path("m/44'/60'/0'/0/1"),
        _uuid(3),
        address=Address(TO),
        origin="metamask",
    ),
    EthSignRequest(
        b"hello coldsign",
        DataType.PERSONAL_MESSAGE,
        _path("m/44'/60'/0'/0/1"),
        _uuid(4),
        address=Address(TO),
    ),
    EthSignRequest(
        _eip1559_tx(), DataType.TYPED_TRANSACTION, _path("m/44'/60'/2'/0/0"), _uuid(5), 1
    ),
    # No request id, a chain id beyond 32 bits, a path with its depth.
    EthSignRequest(
        _legacy_tx(2**40 + 1),
        DataType.TRANSACTION,
        Keypath.parse("m/44'/60'/0'/0/9", source_fingerprint=XFP, depth=5),
        chain_id=2**40 + 1,
    ),
]


def _sig(v: int, n: int | None, origin: str | None = "coldsign") -> EthSignature:
    r = hashlib.sha256(b"r%d" % v).digest()
    s = hashlib.sha256(b"s%d" % v).digest()
    return EthSignature(r, s, v, None if n is None else _uuid(n), origin)


SIGNATURES = [
    _sig(0, 5),  # typed transaction: y-parity
    _sig(1, 6),
    _sig(27, 4),  # personal_sign
    _sig(137 * 2 + 35 + 1, 1),  # legacy on chain 137: v = 310, two bytes
    _sig(11155111 * 2 + 35, 2),  # Sepolia: v = 22310257, four bytes
    _sig((2**40 + 1) * 2 + 36, None, None),  # six bytes, no request id, no origin
]

# The pairing key coldsign shows: everything MetaMask's keyrings read, children included.
STANDARD_KEY = HDKey(
    key=ACCOUNT_KEY,
    chain_code=ACCOUNT_CHAIN_CODE,
    origin=_path("m/44'/60'/0'"),
    children=Keypath.parse("m/0/*"),
    parent_fingerprint=PARENT,
    name="coldsign",
    note="account.standard",
)
# As Keystone's firmware writes its BIP-44 export (metamask.rs generate_standard_legacy_hd_key):
# is-private false, use-info, children 0/* at depth 0, origin with its depth. The firmware
# also writes network 0, which the JS library drops on encoding: decode-only below.
FIRMWARE_KEY = HDKey(
    key=ACCOUNT_KEY,
    chain_code=ACCOUNT_CHAIN_CODE,
    origin=Keypath.parse("m/44'/60'/0'", source_fingerprint=XFP, depth=3),
    children=Keypath.parse("m/0/*", depth=0),
    parent_fingerprint=PARENT,
    name="Keystone",
    note="account.standard",
    use_info=CoinInfo(60, 0),
    is_private=False,
)
HDKEYS: list[tuple[HDKey, bool]] = [
    (STANDARD_KEY, True),
    (HDKey(key=ACCOUNT_KEY, chain_code=ACCOUNT_CHAIN_CODE, origin=_path("m/44'/60'/0'")), True),
    (FIRMWARE_KEY, False),
    (HDKey(key=LIVE_KEYS[0], use_info=CoinInfo(60), is_private=False, name=""), True),
]

LEDGER_LIVE = CryptoAccount(
    XFP,
    tuple(
        HDKey(
            key=key,
            origin=Keypath.parse(f"m/44'/60'/{i}'/0/0", source_fingerprint=XFP, depth=5),
            name="Keystone",
            note="account.ledger_live",
            is_private=False,
        )
        for i, key in enumerate(LIVE_KEYS)
    ),
)
ACCOUNTS = [LEDGER_LIVE, CryptoAccount(XFP, (STANDARD_KEY,))]


def run_keystone(cases: list[dict[str, Any]], *, errors: bool = False) -> list[dict[str, Any]]:
    """Run one node process over ``cases``; return its results (errors only if ``errors``)."""
    completed = subprocess.run(
        ["node", str(SCRIPT)],
        input=json.dumps({"cases": cases}),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=SCRIPT.parent,
    )
    results: list[dict[str, Any]] = json.loads(completed.stdout)["results"]
    assert len(results) == len(cases)
    for case, result in zip(cases, results, strict=True):
        assert errors or "error" not in result, (case, result)
    return results


def _fields(message: Message) -> dict[str, object]:
    fields = describe(message.to_ur())
    del fields["type"]
    return fields


def assert_same_fields(theirs: object, ours: object) -> None:
    """Equal field by field; a field Keystone's library has no notion of must be absent here.

    coldsign may add keys of its own to a message (docs/format.md); the JS library ignores
    them, so its view lacks them, and these tests build messages without them.
    """
    if isinstance(theirs, dict) and isinstance(ours, dict):
        for name, value in ours.items():
            if name in theirs:
                assert_same_fields(theirs[name], value)
            else:
                assert value is None, (name, value)
        assert set(theirs) <= set(ours), set(theirs) - set(ours)
    elif isinstance(theirs, list) and isinstance(ours, list):
        assert len(theirs) == len(ours)
        for their_item, our_item in zip(theirs, ours, strict=True):
            assert_same_fields(their_item, our_item)
    else:
        assert theirs == ours


def check_against_keystone(messages: list[tuple[Message, bool]]) -> None:
    """Decode coldsign's bytes and encode coldsign's fields in JS; compare both ways."""
    cases: list[dict[str, Any]] = []
    for message, _ in messages:
        ur = message.to_ur()
        cases.append({"op": "decode", "type": ur.type, "cbor": ur.cbor.hex()})
        cases.append({"op": "encode", "type": ur.type, "fields": _fields(message)})
    results = run_keystone(cases)
    for index, (message, same_bytes) in enumerate(messages):
        decoded, encoded = results[2 * index], results[2 * index + 1]
        assert_same_fields(decoded["fields"], _fields(message))
        js_bytes = bytes.fromhex(encoded["cbor"])
        assert encoded["ur_type"] == message.to_ur().type
        if same_bytes:
            assert js_bytes == message.to_cbor(), message
        # Whatever the JS library wrote, coldsign reads back the fields it was given.
        again = type(message).from_cbor(js_bytes)
        if same_bytes:
            assert again == message
        else:
            assert again.describe() != message.describe()


def test_sign_requests_agree_with_keystone() -> None:
    check_against_keystone([(request, True) for request in SIGN_REQUESTS])


def test_signatures_agree_with_keystone() -> None:
    check_against_keystone([(signature, True) for signature in SIGNATURES])


def test_hdkeys_agree_with_keystone() -> None:
    check_against_keystone(list(HDKEYS))


def test_firmware_key_network_zero_kept_by_coldsign_dropped_by_js() -> None:
    results = run_keystone(
        [{"op": "encode", "type": "crypto-hdkey", "fields": _fields(FIRMWARE_KEY)}]
    )
    from_js = HDKey.from_cbor(bytes.fromhex(results[0]["cbor"]))
    assert from_js.use_info == CoinInfo(60, None)
    assert FIRMWARE_KEY.use_info == CoinInfo(60, 0)
    assert HDKey.from_cbor(FIRMWARE_KEY.to_cbor()) == FIRMWARE_KEY


def test_accounts_agree_with_keystone() -> None:
    check_against_keystone([(account, True) for account in ACCOUNTS])


def test_batches_agree_with_keystone() -> None:
    batches: list[tuple[Message, bool]] = [
        (EthBatchSignRequest(tuple(SIGN_REQUESTS)), True),
        (EthBatchSignature(tuple(SIGNATURES)), True),
    ]
    check_against_keystone(batches)


def _xpub(key: HDKey, depth: int, child: int) -> str:
    assert key.chain_code is not None and key.parent_fingerprint is not None
    # BIP-32 serialization: version || depth || parent fingerprint || child || chain code || key.
    payload = (
        bytes.fromhex("0488b21e")
        + bytes([depth])
        + key.parent_fingerprint.to_bytes(4, "big")
        + child.to_bytes(4, "big")
        + key.chain_code
        + key.key
    )
    data = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    number = int.from_bytes(data, "big")
    text = ""
    while number:
        number, digit = divmod(number, 58)
        text = alphabet[digit] + text
    return text


def test_metamask_reads_the_pairing_key_it_expects() -> None:
    # What MetaMask's QR keyrings read from a crypto-hdkey (see metamaskView in the script):
    # the xpub they derive addresses from, the paths, both fingerprints, name and note.
    results = run_keystone(
        [{"op": "metamask", "type": "crypto-hdkey", "cbor": STANDARD_KEY.to_cbor().hex()}]
    )
    view = results[0]["metamask"]
    assert view == {
        "xpub": _xpub(STANDARD_KEY, 3, 0x8000_0000),
        "hdPath": "m/44'/60'/0'",
        "childrenPath": "0/*",
        "xfp": "e9181cf3",
        "parentFingerprint": "d32e4508",
        "name": "coldsign",
        "note": "account.standard",
    }


def test_request_id_must_be_rfc4122_for_keystone() -> None:
    # coldsign carries any 16 bytes (EIP-4527 names no UUID version), but Keystone's library
    # prints request ids with uuid.stringify, which throws unless the id is RFC 4122: the
    # watcher must make version-4 ids for MetaMask-compatible answers.
    odd = EthSignature(bytes(32), bytes(32), 0, RequestId(bytes(range(16))))
    case = {"op": "decode", "type": "eth-signature", "cbor": odd.to_cbor().hex()}
    assert "UUID" in run_keystone([case], errors=True)[0]["error"]
