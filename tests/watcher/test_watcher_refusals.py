"""Bad input through the CLI: a clear one-line message, a non-zero exit, the database unchanged."""

from __future__ import annotations

import uuid

import pytest
from anvil import free_port
from watcherlab import Lab, RewritingProxy, sign_parts, ur_lines

from shared.erc4527 import EthBatchSignature, EthSignature, RequestId
from watcher.parts import read_ur

EXIT_INPUT, EXIT_NODE = 2, 3
HEADER = "id,chain,asset,destination,amount,memo\n"


@pytest.fixture
def ready(lab: Lab) -> Lab:
    """A configured, paired watcher home with one withdrawal already stored."""
    lab.configure()
    lab.pair()
    good = f"w0,anvil,ETH,{lab.keys.address(1)},1,\n"
    lab.ok("intake", str(lab.write("seed.csv", HEADER + good)))
    return lab


def refused(lab: Lab, *args: str, code: int = EXIT_INPUT, says: str) -> str:
    before = lab.dump()
    result = lab.cli(*args)
    assert result.code == code, (result.code, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], result.err
    assert lab.dump() == before
    return lines[0]


@pytest.mark.parametrize(
    ("row", "says"),
    [
        ("w1,anvil,ETH,{dest},1", "line 3: expected 6 columns, got 5"),
        ('w1,anvil,ETH,{dest},"1,', "line 3: malformed CSV"),
        ("w1,anvil,ETH,{bad_checksum},1,", "line 3, destination: mixed-case address"),
        ("w1,anvil,ETH,0x1234,1,", "line 3, destination: expected 0x and 40 hex digits"),
        ("w1,anvil,ETH,{dest},-1,", "line 3, amount: negative amounts are refused"),
        ("w1,anvil,ETH,{dest},0.0000000000000000001,", "19 decimal places; this asset has 18"),
        ("w1,anvil,ETH,{dest},1e18,", "line 3, amount: '1e18' is not a plain decimal"),
        ("w1,anvil,ETH,{dest},0,", "line 3, amount: the amount must be more than zero"),
        ("w1,anvil,ETH,{dest}, 1.5.2,", "line 3, amount: '1.5.2' is not a plain decimal"),
        ("w0,anvil,ETH,{dest},2,", "line 3, id: duplicate id 'w0': already stored"),
        ("w1,anvil,ETH,{dest},1,\nw1,anvil,ETH,{dest},1,", "line 4, id: duplicate id 'w1'"),
        ("w1,mainnet,ETH,{dest},1,", "line 3, chain: unknown chain 'mainnet'"),
        ("w1,anvil,DAI,{dest},1,", "line 3, asset: unknown asset 'DAI'"),
        ("w1,anvil,{unknown_token},{dest},1,", "line 3, asset: unknown asset"),
        ("w1,anvil,ETH,0x0000000000000000000000000000000000000000,1,", "zero address"),
        ("w 1,anvil,ETH,{dest},1,", "line 3, id: an id is 1 to 128"),
    ],
)
def test_a_bad_csv_row_refuses_the_whole_file(ready: Lab, row: str, says: str) -> None:
    dest = ready.keys.address(2)
    bad_checksum = dest[:2] + dest[2:].swapcase()
    text = (
        HEADER
        + f"w2,anvil,ETH,{dest},1,fine\n"
        + row.format(
            dest=dest,
            bad_checksum=bad_checksum,
            unknown_token="0x" + "ab" * 20,
        )
        + "\n"
    )
    refused(ready, "intake", str(ready.write("bad.csv", text)), says=says)


@pytest.mark.parametrize(
    ("line", "says"),
    [
        (
            '{"id": "w1", "chain": "anvil", "asset": "ETH", "destination": "{dest}", "amount": 1}',
            "line 2, amount: must be a string",
        ),
        (
            '{"id": "w1", "chain": "anvil", "asset": "ETH", "destination": "{dest}"}',
            "line 2, amount: missing",
        ),
        ('{"id": "w1", "id": "w2", "chain": "anvil"}', "line 2: not a JSON object"),
        (
            '{"id": "w1", "chain": "anvil", "asset": "ETH", "destination": "{dest}", '
            '"amount": "1", "fee": "2"}',
            "line 2, fee: unknown key",
        ),
        ("[1, 2]", "line 2: expected a JSON object"),
        ("[" * 50_000, "line 2: not a JSON object: JSON nested deeper than 32 levels"),
    ],
)
def test_a_bad_json_line_refuses_the_whole_file(ready: Lab, line: str, says: str) -> None:
    dest = ready.keys.address(2)
    good = (
        f'{{"id": "w2", "chain": "anvil", "asset": "ETH", "destination": "{dest}", "amount": "1"}}'
    )
    text = good + "\n" + line.replace("{dest}", dest) + "\n"
    refused(ready, "intake", str(ready.write("bad.jsonl", text)), says=says)


def test_lowercase_destinations_are_accepted_with_a_warning(ready: Lab) -> None:
    dest = ready.keys.address(2).lower()
    result = ready.ok("intake", str(ready.write("lower.csv", HEADER + f"w1,anvil,ETH,{dest},1,\n")))
    assert "carries no EIP-55 checksum" in result.err
    assert ready.statuses()["w1"] == "received"


def test_the_same_file_twice_is_a_no_op(ready: Lab) -> None:
    path = ready.write("again.csv", HEADER + f"w0,anvil,ETH,{ready.keys.address(1)},1,\n")
    before = ready.dump()
    assert "0 withdrawals added, 1 already stored" in ready.ok("intake", str(path)).out
    assert ready.dump() == before


def _built(lab: Lab) -> list[str]:
    lab.ok("build")
    [request] = lab.request_files()
    return request.read_text().splitlines()


def test_a_response_for_another_request_is_foreign(ready: Lab) -> None:
    lines = sign_parts(_built(ready), ready.keys)
    ur = read_ur(lines, frozenset({"eth-signature"}), source="r")
    original = EthSignature.from_ur(ur)
    other = EthSignature(original.r, original.s, original.v, RequestId(uuid.uuid4().bytes))
    path = ready.write("foreign.txt", "\n".join(ur_lines(other.to_ur())) + "\n")
    refused(ready, "import", str(path), says="was not made by this watcher")


def test_a_signature_by_another_key_is_refused(ready: Lab) -> None:
    request = _built(ready)
    lines = sign_parts(request, ready.keys, key_path="m/44'/60'/0'/0/7")
    path = ready.write("wrong-key.txt", "\n".join(lines) + "\n")
    refused(ready, "import", str(path), says="signed by 0x")


def test_a_high_s_signature_is_refused(ready: Lab) -> None:
    lines = sign_parts(_built(ready), ready.keys)
    sig = EthSignature.from_ur(read_ur(lines, frozenset({"eth-signature"}), source="r"))
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    high = (n - int.from_bytes(sig.s, "big")).to_bytes(32, "big")
    flipped = EthSignature(sig.r, high, 1 - sig.v, sig.request_id)
    path = ready.write("high-s.txt", "\n".join(ur_lines(flipped.to_ur())) + "\n")
    refused(ready, "import", str(path), says="upper half (malleable, EIP-2)")


def test_a_replayed_response_is_refused(ready: Lab) -> None:
    lines = sign_parts(_built(ready), ready.keys)
    path = ready.write("response.txt", "\n".join(lines) + "\n")
    ready.ok("import", str(path))
    refused(ready, "import", str(path), says="imported before")
    # The same signature in another envelope is a replay too.
    sig = EthSignature.from_ur(read_ur(lines, frozenset({"eth-signature"}), source="r"))
    rewrapped = ready.write(
        "rewrapped.txt", "\n".join(ur_lines(EthBatchSignature((sig,)).to_ur())) + "\n"
    )
    refused(ready, "import", str(rewrapped), says="is already signed")


@pytest.mark.parametrize(
    ("mangle", "says"),
    [
        (lambda lines: lines[:1][0][:-4] + "\n", "import"),
        (lambda lines: "ur:eth-sign-request/lpad\n", "eth-sign-request"),
        (lambda lines: "hello\n", "does not start with 'ur:'"),
    ],
)
def test_a_malformed_response_is_refused(ready: Lab, mangle: object, says: str) -> None:
    lines = sign_parts(_built(ready), ready.keys)
    path = ready.write("mangled.txt", mangle(lines))  # type: ignore[operator]
    refused(ready, "import", str(path), says=says)


def test_an_unreachable_node_is_reported_at_start_up(ready: Lab) -> None:
    ready.configure(rpc=f"http://127.0.0.1:{free_port()}")
    ready.sleeps.clear()
    line = refused(ready, "build", code=EXIT_NODE, says="no answer from http://127.0.0.1:")
    assert "eth_chainId after 4 tries" in line
    assert ready.sleeps == [0.25, 0.5, 1.0]


def test_a_node_on_another_chain_is_refused(ready: Lab) -> None:
    ready.configure(extra="")
    config = (ready.home / "watcher.toml").read_text().replace("chain_id = 31337", "chain_id = 1")
    (ready.home / "watcher.toml").write_text(config)
    refused(ready, "build", code=EXIT_NODE, says="serves chain 31337, but the configuration says 1")


@pytest.mark.parametrize(
    ("method", "body", "says"),
    [
        ("eth_chainId", "this is not json", "eth_chainId reply, body: not JSON"),
        ("eth_chainId", '{"jsonrpc": "2.0", "id": 999, "result": "0x7a69"}', "id: expected"),
        ("eth_chainId", '{"jsonrpc": "2.0", "id": {id}, "result": "0x07a69"}', "hex quantity"),
        ("eth_chainId", '{"jsonrpc": "2.0", "id": {id}, "result": 31337}', "hex quantity"),
        ("eth_chainId", '{"jsonrpc": "2.0", "id": {id}}', "exactly one of result and error"),
        ("eth_getTransactionCount", '{"jsonrpc": "2.0", "id": {id}, "result": 1.5}', "quantity"),
        (
            "eth_feeHistory",
            '{"jsonrpc": "2.0", "id": {id}, "result": {"oldestBlock": "0x1"}}',
            "baseFeePerGas: missing",
        ),
        ("eth_estimateGas", '{"jsonrpc": "2.0", "id": {id}, "result": ["0x5208"]}', "quantity"),
        (
            "eth_getBalance",
            '{"jsonrpc": "2.0", "id": {id}, "error": {"code": "x"}}',
            "expected an integer code",
        ),
    ],
)
def test_a_malformed_rpc_reply_is_a_typed_error(
    ready: Lab, method: str, body: str, says: str
) -> None:
    with RewritingProxy(ready.node.url, {method: body}) as proxy:
        ready.configure(rpc=proxy.url)
        refused(ready, "build", code=EXIT_NODE, says=says)
    assert ready.request_files() == []
