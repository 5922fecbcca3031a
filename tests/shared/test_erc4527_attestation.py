"""coldsign's operator attestation: eth-sign-request key 8, eth-batch-sign-request key 2.

It round-trips through the strict decoder, covers the message without itself, is refused when
malformed with a named field, and is ignored by Keystone's JS registry.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import pytest

from shared.cbor import CborKey, CborValue, Tag, decode, encode
from shared.erc4527 import (
    DataType,
    EthBatchSignRequest,
    EthSignRequest,
    Keypath,
    RequestId,
)
from shared.errors import SchemaError

SCRIPT = Path(__file__).resolve().parents[2] / "interop" / "keystone.mjs"
ATTESTATION = bytes(range(64)) + b"\x1b"
PATH = Keypath.parse("m/44'/60'/0'/0/0", source_fingerprint=0x12345678)


def _request(attestation: bytes | None = ATTESTATION) -> EthSignRequest:
    return EthSignRequest(
        b"hello",
        DataType.PERSONAL_MESSAGE,
        PATH,
        RequestId(uuid.UUID("9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d").bytes),
        None,
        None,
        "metamask",
        attestation,
    )


def test_request_attestation_round_trips_and_covers_the_rest() -> None:
    request = _request()
    data = request.to_cbor()
    assert EthSignRequest.from_cbor(data) == request
    value = decode(data, allowed_tags=frozenset({37, 304}))
    assert isinstance(value, dict) and value[8] == ATTESTATION
    assert request.attested_cbor() == _request(None).to_cbor()
    assert request.describe()["operator_attestation"] == ATTESTATION.hex()
    assert "operator_attestation" not in _request(None).describe()


def test_batch_attestation_round_trips_and_covers_the_rest() -> None:
    batch = EthBatchSignRequest((_request(None),), ATTESTATION)
    assert EthBatchSignRequest.from_cbor(batch.to_cbor()) == batch
    assert batch.to_value()[2] == ATTESTATION
    assert batch.attested_cbor() == EthBatchSignRequest((_request(None),)).to_cbor()
    assert 2 not in EthBatchSignRequest((_request(None),)).to_value()


def _raw_request(attestation: CborValue) -> bytes:
    entries: dict[CborKey, CborValue] = {
        2: b"hello",
        3: 3,
        5: Tag(304, {1: [44, True, 60, True, 0, True, 0, False, 0, False]}),
        8: attestation,
    }
    return encode(entries)


@pytest.mark.parametrize("attestation", [bytes(64), bytes(66), "00" * 65, 27])
def test_malformed_request_attestation_is_refused(attestation: CborValue) -> None:
    with pytest.raises(SchemaError) as caught:
        EthSignRequest.from_cbor(_raw_request(attestation))
    assert caught.value.field == "eth-sign-request.operator-attestation"


def test_malformed_batch_attestation_is_refused() -> None:
    inner = Tag(401, {2: b"hello", 3: 3, 5: Tag(304, {1: [44, True]})})
    with pytest.raises(SchemaError) as caught:
        EthBatchSignRequest.from_cbor(encode({1: [inner], 2: bytes(10)}))
    assert caught.value.field == "eth-batch-sign-request.operator-attestation"
    with pytest.raises(SchemaError) as caught:
        EthBatchSignRequest.from_cbor(encode({1: [inner], 3: bytes(65)}))
    assert caught.value.field == "eth-batch-sign-request.3"


def test_constructor_checks_the_length() -> None:
    with pytest.raises(SchemaError) as caught:
        _request(bytes(10))
    assert caught.value.field == "eth-sign-request.operator-attestation"


@pytest.mark.node
def test_keystone_decoder_ignores_the_attestation() -> None:
    request = _request()
    batch = EthBatchSignRequest((request,), ATTESTATION)
    cases = [
        {"op": "decode", "type": "eth-sign-request", "cbor": request.to_cbor().hex()},
        {"op": "decode", "type": "eth-batch-sign-request", "cbor": batch.to_cbor().hex()},
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
    single, batched = json.loads(completed.stdout)["results"]
    expected = _request(None).describe()
    assert single["fields"] == expected
    assert batched["fields"] == {"requests": [expected]}
