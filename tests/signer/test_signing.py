"""signer.signing: digests recomputed from decoded bytes, v per kind, key checks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data
from signerkit import (
    PASSPHRASE,
    RECIPIENT,
    STANDARD,
    eip1559,
    eth_key,
    make_vault,
    request,
    tx_request,
)
from vectorfiles import load_vectors

from shared.address import Address
from shared.erc4527 import DataType, EthSignature, Keypath, PathComponent
from shared.errors import DecodeError, RLPError, TransactionError, TypedDataError
from shared.keccak import keccak256
from shared.tx import decode_transaction
from signer.errors import KeyPathError
from signer.keys.bip32 import DerivationPath
from signer.keys.paths import Scheme, scheme_path
from signer.keys.session import DigestSignature, KeySession
from signer.signing import (
    ComputedDigest,
    SignedKind,
    compute_digest,
    request_account,
    request_path,
    sign_request,
    signature_v,
)

# EIP-712's own Mail example, as published (tests/vectors/eip712.json names the source).
MAIL: dict[str, Any] = load_vectors("eip712")["typed_data"]["mail"]["typed_data"]


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KeySession]:
    vault = make_vault(tmp_path_factory.mktemp("signing") / "vault.json")
    with vault.unlock(PASSPHRASE) as opened:
        yield opened


def _signed_raw(tx: dict[str, Any], signature: EthSignature) -> bytes:
    decoded = decode_transaction(tx_request(tx).sign_data, 4 if "type" in tx else 1)
    r, s = int.from_bytes(signature.r, "big"), int.from_bytes(signature.s, "big")
    return decoded.signed_payload(signature.v, r, s)


@pytest.mark.parametrize(
    "tx",
    [
        eip1559(7),
        eip1559(0, chain_id=137, data=bytes.fromhex("a9059cbb") + bytes(64)),
        {
            "type": 1,
            "chainId": 10,
            "nonce": 3,
            "gasPrice": 10**9,
            "gas": 50_000,
            "to": RECIPIENT,
            "value": 1,
            "data": b"",
            "accessList": [],
        },
        {
            "chainId": 1,
            "nonce": 1,
            "gasPrice": 2 * 10**9,
            "gas": 21000,
            "to": RECIPIENT,
            "value": 5,
            "data": b"",
        },
        {
            "chainId": 137,
            "nonce": 2,
            "gasPrice": 2 * 10**9,
            "gas": 21000,
            "to": RECIPIENT,
            "value": 5,
            "data": b"",
        },
        {
            "chainId": 11155111,
            "nonce": 9,
            "gasPrice": 10**9,
            "gas": 21000,
            "to": RECIPIENT,
            "value": 1,
            "data": b"",
        },
    ],
    ids=["eip1559", "eip1559-polygon", "eip2930", "legacy-mainnet", "legacy-137", "legacy-sepolia"],
)
def test_transactions_match_eth_account_byte_for_byte(
    session: KeySession, tx: dict[str, Any]
) -> None:
    signature = sign_request(session, tx_request(tx))
    expected = eth_key(STANDARD[0]).sign_transaction(tx)
    assert _signed_raw(tx, signature) == bytes(expected.raw_transaction)
    assert Account.recover_transaction(expected.raw_transaction) == eth_key(STANDARD[0]).address


def test_legacy_v_is_eip155_and_may_take_several_bytes(session: KeySession) -> None:
    tx = {
        "chainId": 11155111,
        "nonce": 0,
        "gasPrice": 1,
        "gas": 21000,
        "to": RECIPIENT,
        "value": 0,
        "data": b"",
    }
    signature = sign_request(session, tx_request(tx))
    assert signature.v in (11155111 * 2 + 35, 11155111 * 2 + 36)
    assert len(signature.signature) == 64 + 4


def test_typed_transaction_v_is_y_parity(session: KeySession) -> None:
    assert sign_request(session, tx_request(eip1559(1))).v in (0, 1)


def test_personal_message_recovers_with_eth_account(session: KeySession) -> None:
    message = b"coldsign: prove you hold this key"
    signature = sign_request(session, request(message, DataType.PERSONAL_MESSAGE, STANDARD[1]))
    assert signature.v in (27, 28)
    signable = encode_defunct(primitive=message)
    assert Account.recover_message(signable, signature=signature.signature) == (
        eth_key(STANDARD[1]).address
    )
    assert signature.signature == bytes(eth_key(STANDARD[1]).sign_message(signable).signature)


def test_typed_data_recovers_with_eth_account(session: KeySession) -> None:
    data = json.dumps(MAIL).encode()
    signature = sign_request(session, request(data, DataType.TYPED_DATA))
    assert signature.v in (27, 28)
    signable = encode_typed_data(full_message=MAIL)
    assert Account.recover_message(signable, signature=signature.signature) == (
        eth_key(STANDARD[0]).address
    )
    assert signature.signature == bytes(eth_key(STANDARD[0]).sign_message(signable).signature)


def test_request_id_is_echoed(session: KeySession) -> None:
    asked = tx_request(eip1559(2))
    assert sign_request(session, asked).request_id == asked.request_id


def test_digest_is_computed_from_the_bytes() -> None:
    asked = tx_request(eip1559(3))
    computed = compute_digest(asked)
    assert computed.kind is SignedKind.TYPED_TRANSACTION
    assert computed.digest == keccak256(asked.sign_data)
    assert computed.transaction is not None and computed.transaction.nonce == 3
    message = compute_digest(request(b"hi", DataType.PERSONAL_MESSAGE))
    assert message.digest == keccak256(b"\x19Ethereum Signed Message:\n2hi")
    assert message.transaction is None


@pytest.mark.parametrize(
    ("sign_data", "data_type", "error"),
    [
        (b"\x02\xc0", DataType.TYPED_TRANSACTION, RLPError),
        (b"\x04" + bytes(5), DataType.TYPED_TRANSACTION, TransactionError),
        (b"{}", DataType.TYPED_DATA, TypedDataError),
        (b"not json", DataType.TYPED_DATA, TypedDataError),
    ],
)
def test_undecodable_sign_data_is_refused(
    sign_data: bytes, data_type: DataType, error: type[DecodeError]
) -> None:
    with pytest.raises(error):
        compute_digest(request(sign_data, data_type))


def test_chain_id_of_request_must_match_transaction() -> None:
    asked = tx_request(eip1559(1, chain_id=1))
    mismatched = request(asked.sign_data, asked.data_type, chain_id=5)
    with pytest.raises(TransactionError) as caught:
        compute_digest(mismatched)
    assert caught.value.field == "tx.chain_id"


def test_address_of_another_key_is_refused(session: KeySession) -> None:
    other = Address(bytes.fromhex(eth_key(STANDARD[1]).address[2:]))
    with pytest.raises(KeyPathError, match="names address"):
        sign_request(session, tx_request(eip1559(1), address=other))


def test_address_of_the_key_is_accepted(session: KeySession) -> None:
    own = Address(bytes.fromhex(eth_key(STANDARD[2]).address[2:]))
    assert sign_request(session, tx_request(eip1559(1), STANDARD[2], address=own)).v in (0, 1)


def test_path_not_enrolled_is_refused(session: KeySession) -> None:
    with pytest.raises(KeyPathError, match="not an enrolled account"):
        sign_request(session, tx_request(eip1559(1), scheme_path(Scheme.STANDARD, 9)))
    with pytest.raises(KeyPathError, match="not an enrolled account"):
        sign_request(session, tx_request(eip1559(1), scheme_path(Scheme.LEDGER_LIVE, 1)))


def test_fingerprint_of_another_device_is_refused(session: KeySession) -> None:
    other = int.from_bytes(session.master_fingerprint, "big") ^ 1
    with pytest.raises(KeyPathError, match="master fingerprint"):
        sign_request(session, tx_request(eip1559(1), fingerprint=other))
    own = int.from_bytes(session.master_fingerprint, "big")
    assert sign_request(session, tx_request(eip1559(1), fingerprint=own)).v in (0, 1)


def test_partial_path_is_refused() -> None:
    partial = Keypath((PathComponent(0, False), PathComponent(0, False)), 0x12345678, 5)
    with pytest.raises(KeyPathError, match="depth 5"):
        request_path(partial)
    full = Keypath.parse("m/44'/60'/0'/0/3", depth=5)
    assert request_path(full) == DerivationPath.parse("m/44'/60'/0'/0/3")


def test_request_account_is_the_enrolled_one(session: KeySession) -> None:
    account = request_account(
        tx_request(eip1559(1), STANDARD[4]), session.accounts, session.master_fingerprint
    )
    assert account.path == STANDARD[4]
    assert account.address.checksummed() == eth_key(STANDARD[4]).address


def test_v_values() -> None:
    legacy = compute_digest(
        tx_request(
            {
                "chainId": 137,
                "nonce": 0,
                "gasPrice": 1,
                "gas": 21000,
                "to": RECIPIENT,
                "value": 0,
                "data": b"",
            }
        )
    )
    assert signature_v(legacy, 0) == 309 and signature_v(legacy, 1) == 310
    typed = compute_digest(tx_request(eip1559(0)))
    assert signature_v(typed, 1) == 1
    message = ComputedDigest(SignedKind.TYPED_DATA, bytes(32))
    assert signature_v(message, 0) == 27
    with pytest.raises(ValueError):
        signature_v(message, 2)


def test_locked_session_signs_nothing(tmp_path: Path) -> None:
    session = make_vault(tmp_path / "vault.json").unlock(PASSPHRASE)
    session.lock()
    from signer.errors import VaultLockedError

    with pytest.raises(VaultLockedError):
        sign_request(session, tx_request(eip1559(1)))


def test_signature_uses_the_session_primitive(
    monkeypatch: pytest.MonkeyPatch, session: KeySession
) -> None:
    seen: list[tuple[DerivationPath, bytes]] = []
    original = KeySession._sign_computed_digest

    def spy(self: KeySession, path: DerivationPath, digest: bytes) -> DigestSignature:
        seen.append((path, digest))
        return original(self, path, digest)

    monkeypatch.setattr(KeySession, "_sign_computed_digest", spy)
    asked = tx_request(eip1559(11), STANDARD[3])
    sign_request(session, asked)
    assert seen == [(STANDARD[3], keccak256(asked.sign_data))]


def test_digest_from_an_already_decoded_transaction() -> None:
    asked = tx_request(eip1559(12))
    decoded = decode_transaction(asked.sign_data, 4)
    computed = compute_digest(asked, transaction=decoded)
    assert computed.digest == compute_digest(asked).digest == decoded.signing_hash()
    legacy = tx_request(
        {
            "chainId": 1,
            "nonce": 0,
            "gasPrice": 1,
            "gas": 21000,
            "to": RECIPIENT,
            "value": 0,
            "data": b"",
        }
    )
    with pytest.raises(TransactionError) as caught:
        compute_digest(legacy, transaction=decoded)
    assert caught.value.field == "data-type"


def test_a_transaction_that_is_not_the_sign_data_is_refused() -> None:
    # The transaction shown must be exactly the bytes hashed: one decoded from other bytes of
    # the same type (here: another nonce) is refused, not signed.
    asked = tx_request(eip1559(12))
    shown = decode_transaction(tx_request(eip1559(13)).sign_data, 4)
    with pytest.raises(TransactionError) as caught:
        compute_digest(asked, transaction=shown)
    assert caught.value.field == "sign-data"
    assert "re-encode" in caught.value.reason
