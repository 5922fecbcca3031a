"""Operator attestations: EIP-191 signatures by pinned keys, cross-checked with eth-account."""

from __future__ import annotations

import hashlib

from coincurve import PrivateKey
from eth_account import Account
from eth_account.messages import encode_defunct

from shared.address import Address, parse_address
from shared.erc4527 import DataType, EthSignRequest, Keypath
from shared.registry import default_registries
from shared.review import review_request
from shared.tx import DynamicFeeTransaction
from signer.keys.bip32 import DerivationPath
from signer.policy import (
    Context,
    Decision,
    RefusalCode,
    attestation_message,
    attested_by,
    evaluate,
    parse_policy,
    recover_attester,
)

# Throwaway test keys (never used for anything else).
OPERATOR_KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
OTHER_KEY = bytes.fromhex("0101010101010101010101010101010101010101010101010101010101010101")
OPERATOR = parse_address(Account.from_key(OPERATOR_KEY).address, field="operator")
OTHER = parse_address(Account.from_key(OTHER_KEY).address, field="other")
# SEC 2 §2.4.1: the order of secp256k1.
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
PATH_TEXT = "m/44'/60'/0'/0/0"
PATH = DerivationPath.parse(PATH_TEXT)
HOT = Address(bytes.fromhex("5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"))


def request() -> EthSignRequest:
    transaction = DynamicFeeTransaction(
        chain_id=1,
        nonce=0,
        gas_limit=21_000,
        to=HOT,
        value=10**18,
        data=b"",
        max_priority_fee_per_gas=10**9,
        max_fee_per_gas=20 * 10**9,
        access_list=(),
    )
    return EthSignRequest(
        transaction.unsigned_payload(),
        DataType.TYPED_TRANSACTION,
        Keypath.parse(PATH_TEXT),
        chain_id=1,
    )


def attest(payload: bytes, key: bytes = OPERATOR_KEY) -> bytes:
    """The attestation as any Ethereum wallet makes it: personal_sign of the message text."""
    signed = Account.sign_message(encode_defunct(primitive=attestation_message(payload)), key)
    return bytes(signed.signature)


POLICY = parse_policy(f"""\
[policy]
name = "attested"
version = 1

[[chain]]
id = 1
max_fee_per_gas_gwei = "100"
max_total_fee_native = "0.01"

[[account]]
path = "{PATH_TEXT}"

[[destination]]
chain = 1
address = "{HOT}"
assets = ["native"]
label = "Hot"

[[limit]]
chain = 1
asset = "native"
per_tx = "5"
per_24h = "5"

[[operator]]
address = "{OPERATOR}"
label = "operations desk"
""")


def test_message_is_readable_text_naming_the_request_digest() -> None:
    payload = request().to_cbor()
    message = attestation_message(payload)
    digest = hashlib.sha256(payload).hexdigest()
    assert message == f"coldsign operator attestation v1\nrequest sha256: {digest}".encode()


def test_eth_account_signatures_recover_to_the_operator() -> None:
    payload = request().to_cbor()
    assert recover_attester(payload, attest(payload)) == OPERATOR
    assert attested_by(payload, attest(payload), POLICY) == OPERATOR


def test_other_keys_and_other_requests_do_not_attest() -> None:
    payload = request().to_cbor()
    assert recover_attester(payload, attest(payload, OTHER_KEY)) == OTHER
    assert attested_by(payload, attest(payload, OTHER_KEY), POLICY) is None
    signature = attest(payload)
    assert attested_by(payload + b"\x00", signature, POLICY) is None
    assert attested_by(payload, None, POLICY) is None


def test_malformed_signatures_are_not_attestations() -> None:
    payload = request().to_cbor()
    signature = attest(payload)
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    high_s = r + (N - s).to_bytes(32, "big") + bytes([55 - v])
    for bad in (
        signature[:64],
        signature + b"\x00",
        signature[:64] + b"\x00",
        signature[:64] + b"\x1d",
        bytes(32) + signature[32:],
        r + N.to_bytes(32, "big") + signature[64:],
        high_s,
    ):
        assert recover_attester(payload, bad) is None, bad.hex()


def test_pinning_by_public_key_equals_pinning_by_address() -> None:
    header = '[policy]\nname = "k"\nversion = 1\n\n[[operator]]\npublic_key = "0x'
    for compressed in (True, False):
        public = PrivateKey(OPERATOR_KEY).public_key.format(compressed=compressed)
        by_key = parse_policy(header + public.hex() + '"\n')
        assert by_key.operators[0].address == OPERATOR


def test_policy_signs_only_attested_requests() -> None:
    sign_request = request()
    payload = sign_request.to_cbor()
    review = review_request(sign_request, default_registries())

    def decide(signature: bytes | None) -> Decision:
        context = Context(
            enrolled=frozenset({PATH}),
            now=1_750_000_000,
            path=PATH,
            attested_by=attested_by(payload, signature, POLICY),
        )
        verdict = evaluate(review, policy=POLICY, context=context)
        if verdict.decision is Decision.REFUSE:
            assert verdict.refusal_codes() == {RefusalCode.OPERATOR_ATTESTATION.value}
        return verdict.decision

    assert decide(attest(payload)) is Decision.SIGN
    assert decide(None) is Decision.REFUSE
    assert decide(attest(payload, OTHER_KEY)) is Decision.REFUSE
