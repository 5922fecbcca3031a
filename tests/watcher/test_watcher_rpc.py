"""The JSON-RPC transport and node client: bounded retries, envelopes and replies checked."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Sequence

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.address import Address
from watcher.errors import (
    ChainMismatchError,
    MalformedReplyError,
    NodeRejectedError,
    NodeUnreachableError,
    RPCError,
)
from watcher.rpc import HttpTransport, Node, data, parse_envelope, quantity

URL = "http://node.test"
HASH = bytes(range(32))


def transport(
    handler: Callable[[httpx.Request], httpx.Response], *, attempts: int = 4
) -> tuple[HttpTransport, list[float]]:
    sleeps: list[float] = []
    client = httpx.Client(transport=httpx.MockTransport(handler))
    return HttpTransport(URL, attempts=attempts, sleep=sleeps.append, client=client), sleeps


def reply(result: object) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        return httpx.Response(200, json={"jsonrpc": "2.0", "id": body["id"], "result": result})

    return handler


class FakeTransport:
    """Answers each method with a fixed result."""

    url = URL

    def __init__(self, results: dict[str, object]) -> None:
        self.results = results
        self.calls: list[tuple[str, Sequence[object]]] = []

    def call(self, method: str, params: Sequence[object]) -> object:
        self.calls.append((method, params))
        return self.results[method]


def test_retries_are_bounded_with_exponential_backoff() -> None:
    tries = []

    def refuse(request: httpx.Request) -> httpx.Response:
        tries.append(request)
        raise httpx.ConnectError("connection refused", request=request)

    rpc, sleeps = transport(refuse)
    with pytest.raises(NodeUnreachableError, match="after 4 tries") as caught:
        rpc.call("eth_chainId", [])
    assert caught.value.method == "eth_chainId"
    assert len(tries) == 4
    assert sleeps == [0.25, 0.5, 1.0]


def test_a_busy_node_is_retried_then_answers() -> None:
    statuses = iter([503, 429, 200])

    def flaky(request: httpx.Request) -> httpx.Response:
        status = next(statuses)
        if status != 200:
            return httpx.Response(status)
        return reply("0x7a69")(request)

    rpc, sleeps = transport(flaky)
    assert Node(rpc).chain_id() == 31337
    assert sleeps == [0.25, 0.5]


def test_a_timeout_counts_as_unreachable() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    rpc, _ = transport(slow, attempts=2)
    with pytest.raises(NodeUnreachableError, match="ReadTimeout"):
        rpc.call("eth_blockNumber", [])


def test_a_json_rpc_error_is_not_retried() -> None:
    def error(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        return httpx.Response(
            200,
            json={"jsonrpc": "2.0", "id": body["id"], "error": {"code": -32000, "message": "no"}},
        )

    rpc, sleeps = transport(error)
    with pytest.raises(NodeRejectedError) as caught:
        rpc.call("eth_sendRawTransaction", ["0x00"])
    assert (caught.value.code, caught.value.node_message) == (-32000, "no")
    assert sleeps == []


def test_an_http_error_status_is_a_malformed_reply() -> None:
    rpc, _ = transport(lambda request: httpx.Response(404))
    with pytest.raises(MalformedReplyError) as caught:
        rpc.call("eth_chainId", [])
    assert caught.value.field == "http"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"", "body"),
        (b"[1]", "body"),
        (b'{"jsonrpc": "1.0", "id": 1, "result": "0x1"}', "jsonrpc"),
        (b'{"jsonrpc": "2.0", "id": 2, "result": "0x1"}', "id"),
        (b'{"jsonrpc": "2.0", "id": true, "result": "0x1"}', "id"),
        (b'{"jsonrpc": "2.0", "id": 1}', "body"),
        (b'{"jsonrpc": "2.0", "id": 1, "result": 1, "error": {}}', "body"),
        (b'{"jsonrpc": "2.0", "id": 1, "error": "bad"}', "error"),
        (b'{"jsonrpc": "2.0", "id": 1, "error": {"code": true, "message": "m"}}', "error"),
        (b"[" * 100_000, "body"),
    ],
)
def test_malformed_envelopes_name_the_field(body: bytes, field: str) -> None:
    with pytest.raises(MalformedReplyError) as caught:
        parse_envelope("eth_chainId", 1, body)
    assert caught.value.field == field


@pytest.mark.parametrize("text", ["0x", "0x01", "0X1", "1", "0xg", "0xA", "-0x1", "0x" + "f" * 65])
def test_quantities_are_canonical_hex(text: str) -> None:
    with pytest.raises(MalformedReplyError):
        quantity(text, "m", "result")


@pytest.mark.parametrize("value", ["0x0", "0x1", "0xff", "0x7a69"])
def test_canonical_quantities_are_read(value: str) -> None:
    assert quantity(value, "m", "result") == int(value, 16)


@given(st.one_of(st.text(max_size=80), st.integers(), st.none(), st.floats(), st.booleans()))
def test_any_reply_value_is_read_or_refused_with_the_typed_error(value: object) -> None:
    for read in (
        lambda: quantity(value, "m", "f"),
        lambda: data(value, "m", "f"),
        lambda: data(value, "m", "f", 32),
    ):
        with contextlib.suppress(MalformedReplyError):
            read()


def test_data_length_is_checked() -> None:
    assert data("0x" + "00" * 32, "m", "f", 32) == bytes(32)
    with pytest.raises(MalformedReplyError, match="expected 32 bytes, got 31"):
        data("0x" + "00" * 31, "m", "f", 32)
    with pytest.raises(MalformedReplyError):
        data("0x0", "m", "f")


def test_a_node_on_another_chain_is_refused() -> None:
    with pytest.raises(ChainMismatchError) as caught:
        Node(FakeTransport({"eth_chainId": "0x1"})).check_chain(31337)
    assert (caught.value.expected, caught.value.got) == (31337, 1)


def _receipt(**changes: object) -> dict[str, object]:
    receipt: dict[str, object] = {
        "transactionHash": "0x" + HASH.hex(),
        "blockNumber": "0x10",
        "blockHash": "0x" + "ab" * 32,
        "status": "0x1",
        "gasUsed": "0x5208",
    }
    receipt.update(changes)
    return {k: v for k, v in receipt.items() if v is not None}


def test_receipts_are_read_and_checked() -> None:
    node = Node(FakeTransport({"eth_getTransactionReceipt": _receipt()}))
    receipt = node.receipt(HASH)
    assert receipt is not None
    assert (receipt.block_number, receipt.success, receipt.gas_used) == (16, True, 21000)
    assert Node(FakeTransport({"eth_getTransactionReceipt": None})).receipt(HASH) is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"transactionHash": "0x" + "00" * 32}, "result.transactionHash"),
        ({"status": "0x2"}, "result.status"),
        ({"blockHash": None}, "result.blockHash"),
        ({"blockNumber": 16}, "blockNumber"),
    ],
)
def test_a_bad_receipt_is_refused(changes: dict[str, object], field: str) -> None:
    node = Node(FakeTransport({"eth_getTransactionReceipt": _receipt(**changes)}))
    with pytest.raises(MalformedReplyError) as caught:
        node.receipt(HASH)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("result", "field"),
    [
        ([], "result"),
        ({"oldestBlock": "0x1", "baseFeePerGas": []}, "baseFeePerGas"),
        ({"oldestBlock": "0x1", "baseFeePerGas": ["0x1"] * 5}, "baseFeePerGas"),
        (
            {"oldestBlock": "0x1", "baseFeePerGas": ["0x1", "0x1"], "reward": [["0x1", "0x2"]]},
            "reward[0]",
        ),
        ({"oldestBlock": "0x1", "baseFeePerGas": ["0x1", "0x1"], "reward": [[]] * 3}, "reward"),
    ],
)
def test_a_bad_fee_history_is_refused(result: object, field: str) -> None:
    node = Node(FakeTransport({"eth_feeHistory": result}))
    with pytest.raises(MalformedReplyError) as caught:
        node.fee_history(2, [50])
    assert caught.value.field == field


def test_every_transport_error_is_an_rpc_error() -> None:
    for error in (NodeUnreachableError, ChainMismatchError, MalformedReplyError, NodeRejectedError):
        assert issubclass(error, RPCError)


def test_calls_carry_hex_addresses_and_data() -> None:
    fake = FakeTransport({"eth_call": "0x" + "00" * 31 + "12", "eth_estimateGas": "0x5208"})
    node = Node(fake)
    target = Address(bytes(range(20)))
    assert node.call(target, b"\x31\x3c\xe5\x67") == bytes(31) + b"\x12"
    assert node.estimate_gas(target, target, 5, b"") == 21000
    assert fake.calls[0] == (
        "eth_call",
        [{"to": "0x000102030405060708090a0b0c0d0e0f10111213", "data": "0x313ce567"}, "latest"],
    )
