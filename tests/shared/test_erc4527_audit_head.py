"""coldsign's audit-head extension: eth-signature key 4, eth-batch-signature key 2.

The extension must round-trip through coldsign's strict decoder, be refused when malformed
with a named field, and be ignored by Keystone's JS registry (what MetaMask decodes with).
"""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import pytest

from shared.cbor import CborKey, CborValue, Tag, encode
from shared.erc4527 import AuditHead, EthBatchSignature, EthSignature, RequestId
from shared.errors import SchemaError

SCRIPT = Path(__file__).resolve().parents[2] / "interop" / "keystone.mjs"
UUID = uuid.UUID("9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d").bytes
HEAD = AuditHead(41, bytes(range(32)))
R, S = bytes(range(1, 33)), bytes(range(33, 65))


def _signature(v: int = 1, head: AuditHead | None = HEAD, request: bytes = UUID) -> EthSignature:
    return EthSignature(R, S, v, RequestId(request), None, head)


def test_signature_with_audit_head_round_trips() -> None:
    signature = _signature()
    data = signature.to_cbor()
    assert EthSignature.from_cbor(data) == signature
    assert EthSignature.from_cbor(data).to_cbor() == data
    assert signature.to_value()[4] == [41, bytes(range(32))]
    assert signature.describe()["audit_head"] == {"seq": 41, "head_hash": bytes(range(32)).hex()}


def test_signature_without_audit_head_is_unchanged() -> None:
    signature = _signature(head=None)
    assert 4 not in signature.to_value()
    assert "audit_head" not in signature.describe()
    assert EthSignature.from_cbor(signature.to_cbor()) == signature


def test_batch_signature_with_audit_head_round_trips() -> None:
    batch = EthBatchSignature(
        (_signature(head=None), _signature(0, None, bytes(16))), AuditHead(7, bytes(32))
    )
    data = batch.to_cbor()
    assert EthBatchSignature.from_cbor(data) == batch
    assert batch.to_value()[2] == [7, bytes(32)]
    assert batch.describe()["audit_head"] == {"seq": 7, "head_hash": "00" * 32}
    plain = EthBatchSignature(batch.signatures)
    assert 2 not in plain.to_value()


def _raw_signature(head: CborValue) -> bytes:
    entries: dict[CborKey, CborValue] = {1: Tag(37, UUID), 2: R + S + b"\x01", 4: head}
    return encode(entries)


@pytest.mark.parametrize(
    ("head", "field"),
    [
        (41, "eth-signature.audit-head"),
        ([41], "eth-signature.audit-head"),
        ([41, bytes(32), 0], "eth-signature.audit-head"),
        ([-1, bytes(32)], "eth-signature.audit-head.seq"),
        ([True, bytes(32)], "eth-signature.audit-head.seq"),
        (["41", bytes(32)], "eth-signature.audit-head.seq"),
        ([41, bytes(31)], "eth-signature.audit-head.head-hash"),
        ([41, bytes(33)], "eth-signature.audit-head.head-hash"),
        ([41, "00" * 32], "eth-signature.audit-head.head-hash"),
    ],
)
def test_malformed_audit_head_is_refused(head: CborValue, field: str) -> None:
    with pytest.raises(SchemaError) as caught:
        EthSignature.from_cbor(_raw_signature(head))
    assert caught.value.field == field


def test_malformed_batch_audit_head_is_refused() -> None:
    inner = Tag(402, {1: Tag(37, UUID), 2: R + S + b"\x01"})
    data = encode({1: [inner], 2: [1, bytes(5)]})
    with pytest.raises(SchemaError) as caught:
        EthBatchSignature.from_cbor(data)
    assert caught.value.field == "eth-batch-signature.audit-head.head-hash"


def test_unknown_keys_beyond_the_extension_stay_refused() -> None:
    entries: dict[CborKey, CborValue] = {2: R + S + b"\x01", 5: 0}
    with pytest.raises(SchemaError) as caught:
        EthSignature.from_cbor(encode(entries))
    assert caught.value.field == "eth-signature.5"
    with pytest.raises(SchemaError) as caught:
        EthBatchSignature.from_cbor(encode({1: [Tag(402, {2: R + S + b"\x01"})], 3: 0}))
    assert caught.value.field == "eth-batch-signature.3"


def test_constructor_checks_the_head() -> None:
    with pytest.raises(SchemaError) as caught:
        AuditHead(1, bytes(31))
    assert caught.value.field == "audit-head.head-hash"
    with pytest.raises(SchemaError) as caught:
        AuditHead(-1, bytes(32))
    assert caught.value.field == "audit-head.seq"


@pytest.mark.node
def test_keystone_decoder_ignores_the_extension() -> None:
    single = _signature(v=0x25)
    batch = EthBatchSignature((_signature(head=None), _signature(0, HEAD, bytes(16))), HEAD)
    cases = [
        {"op": "decode", "type": "eth-signature", "cbor": single.to_cbor().hex()},
        {"op": "decode", "type": "eth-batch-signature", "cbor": batch.to_cbor().hex()},
    ]
    completed = subprocess.run(
        ["node", str(SCRIPT)],
        input=json.dumps({"cases": cases}),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=SCRIPT.parent,
    )
    results = json.loads(completed.stdout)["results"]
    assert "error" not in results[0] and "error" not in results[1], results
    expected = single.describe()
    del expected["audit_head"]
    assert results[0]["fields"] == expected
    described = [signature.describe() for signature in batch.signatures]
    for fields in described:
        fields.pop("audit_head", None)
    assert results[1]["fields"] == {"signatures": described}
