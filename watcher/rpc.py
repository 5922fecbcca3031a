"""Ethereum JSON-RPC: a small transport interface, its httpx implementation and a typed node client.

Every reply is validated before use: the JSON-RPC 2.0 envelope (version, id, exactly one of
``result`` / ``error``) and then the shape each method promises (quantities as canonical
``0x`` hex, data as even-length hex, objects with the keys read). Anything else is a
:class:`~watcher.errors.MalformedReplyError`, never a traceback.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import httpx

from shared.address import Address
from watcher import jsontext
from watcher.errors import (
    ChainMismatchError,
    MalformedReplyError,
    NodeRejectedError,
    NodeUnreachableError,
)

# Ethereum JSON-RPC spec (execution-apis, "quantity"): 0x followed by hex without leading zeros.
_QUANTITY = re.compile(r"0x(0|[1-9a-f][0-9a-f]*)")
_DATA = re.compile(r"0x([0-9a-f]{2})*")
_MAX_REPLY_BYTES = 16 << 20
# HTTP statuses worth another try: rate limiting and gateway trouble.
_RETRY_STATUSES = frozenset({429, 502, 503, 504})

Sleeper = Callable[[float], None]


class Transport(Protocol):
    """Sends one JSON-RPC call and returns its validated ``result`` value."""

    @property
    def url(self) -> str:
        """Where the node is, for messages."""
        ...

    def call(self, method: str, params: Sequence[object]) -> object:
        """The ``result`` of ``method(params)``; raises the RPCError subclasses."""
        ...


class HttpTransport:
    """JSON-RPC over HTTP with httpx: bounded retries with exponential backoff.

    Connection failures, timeouts and HTTP 429/502/503/504 are retried ``attempts`` times
    in all, sleeping ``backoff * 2**k`` seconds between tries through ``sleep`` (injected so
    tests never wait); then :class:`NodeUnreachableError`. A JSON-RPC error object is not
    retried: it is the node's answer.
    """

    def __init__(
        self,
        url: str,
        *,
        attempts: int = 4,
        backoff: float = 0.25,
        timeout: float = 10.0,
        sleep: Sleeper = time.sleep,
        client: httpx.Client | None = None,
    ) -> None:
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self._url = url
        self._attempts = attempts
        self._backoff = backoff
        self._sleep = sleep
        self._client = client if client is not None else httpx.Client(timeout=timeout)
        self._ids = itertools.count(1)

    @property
    def url(self) -> str:
        """The node's URL."""
        return self._url

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()

    def call(self, method: str, params: Sequence[object]) -> object:
        """POST one request; retry transport trouble; validate the envelope."""
        request_id = next(self._ids)
        body = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": list(params)}
        last = ""
        for attempt in range(self._attempts):
            if attempt:
                self._sleep(self._backoff * 2 ** (attempt - 1))
            try:
                response = self._client.post(self._url, json=body)
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                continue
            if response.status_code in _RETRY_STATUSES:
                last = f"HTTP {response.status_code}"
                continue
            if response.status_code != 200:
                raise MalformedReplyError(method, "http", f"HTTP status {response.status_code}")
            return parse_envelope(method, request_id, response.content)
        raise NodeUnreachableError(
            f"no answer from {self._url} to {method} after {self._attempts} tries ({last})",
            method=method,
        )


def parse_envelope(method: str, request_id: int, content: bytes) -> object:
    """Check a JSON-RPC 2.0 response body and return its ``result``."""
    if len(content) > _MAX_REPLY_BYTES:
        raise MalformedReplyError(method, "body", f"more than {_MAX_REPLY_BYTES} bytes")
    try:
        reply = jsontext.loads(content.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise MalformedReplyError(method, "body", "not UTF-8") from exc
    except (ValueError, RecursionError) as exc:
        raise MalformedReplyError(method, "body", f"not JSON ({exc})") from exc
    if not isinstance(reply, dict):
        raise MalformedReplyError(method, "body", "not a JSON object")
    if reply.get("jsonrpc") != "2.0":
        raise MalformedReplyError(method, "jsonrpc", 'expected "2.0"')
    if reply.get("id") != request_id or isinstance(reply.get("id"), bool):
        raise MalformedReplyError(method, "id", f"expected {request_id}")
    has_result, has_error = "result" in reply, "error" in reply
    if has_result == has_error:
        raise MalformedReplyError(method, "body", "expected exactly one of result and error")
    if has_error:
        error = reply["error"]
        if not isinstance(error, dict):
            raise MalformedReplyError(method, "error", "not an object")
        code, message = error.get("code"), error.get("message")
        if isinstance(code, bool) or not isinstance(code, int) or not isinstance(message, str):
            raise MalformedReplyError(method, "error", "expected an integer code and a message")
        raise NodeRejectedError(method, code, message[:500])
    result: object = reply["result"]
    return result


def quantity(value: object, method: str, field: str) -> int:
    """A JSON-RPC quantity: ``0x`` and lower-case hex without leading zeros."""
    if not isinstance(value, str) or len(value) > 66 or _QUANTITY.fullmatch(value) is None:
        raise MalformedReplyError(method, field, "expected a hex quantity such as 0x1a")
    return int(value, 16)


def data(value: object, method: str, field: str, length: int | None = None) -> bytes:
    """JSON-RPC data: ``0x`` and an even number of lower-case hex digits."""
    if not isinstance(value, str) or _DATA.fullmatch(value) is None:
        raise MalformedReplyError(method, field, "expected 0x-prefixed hex bytes")
    raw = bytes.fromhex(value[2:])
    if length is not None and len(raw) != length:
        raise MalformedReplyError(method, field, f"expected {length} bytes, got {len(raw)}")
    return raw


def _object(value: object, method: str, field: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise MalformedReplyError(method, field, "expected an object")
    return value


def _key(obj: dict[str, object], key: str, method: str, field: str) -> object:
    if key not in obj:
        raise MalformedReplyError(method, f"{field}.{key}", "missing")
    return obj[key]


@dataclass(frozen=True, slots=True)
class FeeHistory:
    """``eth_feeHistory``: base fees (one more than blocks: the next block's last) and rewards."""

    oldest_block: int
    base_fees: tuple[int, ...]
    rewards: tuple[tuple[int, ...], ...]


@dataclass(frozen=True, slots=True)
class Receipt:
    """The fields of a transaction receipt the watcher uses."""

    tx_hash: bytes
    block_number: int
    block_hash: bytes
    success: bool
    gas_used: int


@dataclass(frozen=True, slots=True)
class SeenTransaction:
    """A transaction the node knows: pending (``block_number`` None) or mined."""

    tx_hash: bytes
    block_number: int | None


class Node:
    """Typed Ethereum JSON-RPC calls over a :class:`Transport`, every reply checked."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    @property
    def url(self) -> str:
        """The node's URL, for messages."""
        return self.transport.url

    def chain_id(self) -> int:
        """``eth_chainId``."""
        return quantity(self.transport.call("eth_chainId", []), "eth_chainId", "result")

    def check_chain(self, expected: int) -> None:
        """Refuse a node that serves another chain than the configuration names."""
        got = self.chain_id()
        if got != expected:
            raise ChainMismatchError(expected, got, self.url)

    def block_number(self) -> int:
        """``eth_blockNumber``."""
        return quantity(self.transport.call("eth_blockNumber", []), "eth_blockNumber", "result")

    def balance(self, address: Address, block: str = "latest") -> int:
        """``eth_getBalance`` in wei."""
        result = self.transport.call("eth_getBalance", [_hex_address(address), block])
        return quantity(result, "eth_getBalance", "result")

    def nonce(self, address: Address, block: str) -> int:
        """``eth_getTransactionCount`` at ``latest`` or ``pending``."""
        method = "eth_getTransactionCount"
        return quantity(
            self.transport.call(method, [_hex_address(address), block]), method, "result"
        )

    def fee_history(self, blocks: int, percentiles: Sequence[int]) -> FeeHistory:
        """``eth_feeHistory`` over the last ``blocks`` blocks with reward ``percentiles``."""
        method = "eth_feeHistory"
        reply = _object(
            self.transport.call(method, [hex(blocks), "latest", list(percentiles)]),
            method,
            "result",
        )
        oldest = quantity(_key(reply, "oldestBlock", method, "result"), method, "oldestBlock")
        raw_base = _key(reply, "baseFeePerGas", method, "result")
        if not isinstance(raw_base, list) or not raw_base or len(raw_base) > blocks + 1:
            raise MalformedReplyError(method, "baseFeePerGas", f"expected 1 to {blocks + 1} fees")
        base_fees = tuple(
            quantity(v, method, f"baseFeePerGas[{i}]") for i, v in enumerate(raw_base)
        )
        raw_rewards = reply.get("reward", [])
        if not isinstance(raw_rewards, list) or len(raw_rewards) > blocks:
            raise MalformedReplyError(method, "reward", f"expected at most {blocks} rows")
        rewards: list[tuple[int, ...]] = []
        for i, row in enumerate(raw_rewards):
            if not isinstance(row, list) or len(row) != len(percentiles):
                raise MalformedReplyError(
                    method, f"reward[{i}]", f"expected {len(percentiles)} values"
                )
            rewards.append(tuple(quantity(v, method, f"reward[{i}]") for v in row))
        return FeeHistory(oldest, base_fees, tuple(rewards))

    def estimate_gas(self, sender: Address, to: Address, value: int, payload: bytes) -> int:
        """``eth_estimateGas`` for a call from ``sender``."""
        call = {
            "from": _hex_address(sender),
            "to": _hex_address(to),
            "value": hex(value),
            "data": "0x" + payload.hex(),
        }
        method = "eth_estimateGas"
        return quantity(self.transport.call(method, [call]), method, "result")

    def call(self, to: Address, payload: bytes, block: str = "latest") -> bytes:
        """``eth_call``: the return data of a read-only call."""
        call = {"to": _hex_address(to), "data": "0x" + payload.hex()}
        return data(self.transport.call("eth_call", [call, block]), "eth_call", "result")

    def send_raw_transaction(self, raw: bytes) -> bytes:
        """``eth_sendRawTransaction``: the 32-byte transaction hash."""
        method = "eth_sendRawTransaction"
        return data(self.transport.call(method, ["0x" + raw.hex()]), method, "result", 32)

    def receipt(self, tx_hash: bytes) -> Receipt | None:
        """``eth_getTransactionReceipt``, or None while not mined."""
        method = "eth_getTransactionReceipt"
        reply = self.transport.call(method, ["0x" + tx_hash.hex()])
        if reply is None:
            return None
        obj = _object(reply, method, "result")
        got_hash = data(_key(obj, "transactionHash", method, "result"), method, "hash", 32)
        if got_hash != tx_hash:
            raise MalformedReplyError(method, "result.transactionHash", "another transaction")
        number = quantity(_key(obj, "blockNumber", method, "result"), method, "blockNumber")
        block_hash = data(_key(obj, "blockHash", method, "result"), method, "blockHash", 32)
        status = quantity(_key(obj, "status", method, "result"), method, "result.status")
        if status not in (0, 1):
            raise MalformedReplyError(method, "result.status", "expected 0x0 or 0x1")
        gas_used = quantity(_key(obj, "gasUsed", method, "result"), method, "result.gasUsed")
        return Receipt(tx_hash, number, block_hash, status == 1, gas_used)

    def transaction(self, tx_hash: bytes) -> SeenTransaction | None:
        """``eth_getTransactionByHash``, or None when the node does not know it."""
        method = "eth_getTransactionByHash"
        reply = self.transport.call(method, ["0x" + tx_hash.hex()])
        if reply is None:
            return None
        obj = _object(reply, method, "result")
        got_hash = data(_key(obj, "hash", method, "result"), method, "result.hash", 32)
        if got_hash != tx_hash:
            raise MalformedReplyError(method, "result.hash", "another transaction")
        raw_number = obj.get("blockNumber")
        number = None if raw_number is None else quantity(raw_number, method, "blockNumber")
        return SeenTransaction(tx_hash, number)

    def block_hash(self, number: int) -> bytes | None:
        """The hash of canonical block ``number``, or None beyond the head."""
        method = "eth_getBlockByNumber"
        reply = self.transport.call(method, [hex(number), False])
        if reply is None:
            return None
        obj = _object(reply, method, "result")
        return data(_key(obj, "hash", method, "result"), method, "result.hash", 32)


def _hex_address(address: Address) -> str:
    return "0x" + address.raw.hex()
