"""Realistic sample messages for tests and benchmarks: a 100-withdrawal batch and its answers."""

from __future__ import annotations

import random

from shared.address import Address
from shared.erc4527 import (
    DataType,
    EthBatchSignature,
    EthBatchSignRequest,
    EthSignature,
    EthSignRequest,
    Keypath,
    RequestId,
)
from shared.tx import DynamicFeeTransaction

USDC = Address(bytes.fromhex("a0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"))
TRANSFER = bytes.fromhex("a9059cbb")  # ERC-20 transfer(address,uint256)


def withdrawal_batch(count: int = 100, *, seed: int = 100) -> EthBatchSignRequest:
    """``count`` EIP-1559 withdrawals on mainnet, half ETH and half USDC, as the watcher builds
    them: consecutive nonces from one account, random destinations and amounts, v4 request ids.
    """
    rng = random.Random(seed)
    path = Keypath.parse("m/44'/60'/0'/0/0", source_fingerprint=0x12345678)
    source = Address(rng.randbytes(20))
    requests = []
    for nonce in range(count):
        destination = Address(rng.randbytes(20))
        if nonce % 2:
            amount = rng.randrange(10**12).to_bytes(32, "big")
            to, value, data = USDC, 0, TRANSFER + bytes(12) + destination.raw + amount
        else:
            to, value, data = destination, rng.randrange(10**18), b""
        tx = DynamicFeeTransaction(
            chain_id=1,
            nonce=nonce,
            gas_limit=65_000 if data else 21_000,
            to=to,
            value=value,
            data=data,
            max_priority_fee_per_gas=2 * 10**9,
            max_fee_per_gas=40 * 10**9,
            access_list=(),
        )
        request_id = bytearray(rng.randbytes(16))
        request_id[6] = (request_id[6] & 0x0F) | 0x40  # RFC 9562 version 4
        request_id[8] = (request_id[8] & 0x3F) | 0x80  # RFC 9562 variant
        requests.append(
            EthSignRequest(
                sign_data=tx.unsigned_payload(),
                data_type=DataType(4),
                derivation_path=path,
                request_id=RequestId(bytes(request_id)),
                chain_id=1,
                address=source,
                origin="coldsign-watcher",
            )
        )
    return EthBatchSignRequest(tuple(requests))


def signature_batch(request: EthBatchSignRequest, *, seed: int = 200) -> EthBatchSignature:
    """One signature-shaped answer per request (random r, s; y-parity v), matched by id."""
    rng = random.Random(seed)
    return EthBatchSignature(
        tuple(
            EthSignature(
                r=rng.randbytes(32),
                s=rng.randbytes(32),
                v=rng.randrange(2),
                request_id=item.request_id,
            )
            for item in request.requests
        )
    )
