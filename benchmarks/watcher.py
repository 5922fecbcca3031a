"""Watcher benchmarks: intake + build of 1,000 withdrawals on anvil; verify 1,000 signatures.

Run: ``.venv/bin/python benchmarks/watcher.py``. Starts its own anvil (tests/anvil.py), prints
one line per measurement in seconds, with the share spent waiting for the node where it
applies (build makes one ``eth_estimateGas`` per withdrawal).
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from anvil import CHAIN_ID, running_anvil  # noqa: E402
from coincurve import PrivateKey  # noqa: E402
from watcherlab import dev_keys  # noqa: E402

from shared.erc4527 import EthBatchSignature, EthSignature, RequestId  # noqa: E402
from shared.ur import format_ur  # noqa: E402
from watcher.build import Builder  # noqa: E402
from watcher.config import ChainConfig, WatcherConfig  # noqa: E402
from watcher.intake import Intake, parse_csv  # noqa: E402
from watcher.pairing import pair_from_text  # noqa: E402
from watcher.parts import TextPartsWriter  # noqa: E402
from watcher.requestkit import RequestKit  # noqa: E402
from watcher.rpc import HttpTransport, Node  # noqa: E402
from watcher.state import Status, Store  # noqa: E402
from watcher.verify import Verifier  # noqa: E402

COUNT = 1000


class CountingTransport:
    """Wraps the HTTP transport to time the node's share."""

    def __init__(self, inner: HttpTransport) -> None:
        self.inner = inner
        self.url = inner.url
        self.seconds = 0.0
        self.calls = 0

    def call(self, method: str, params: Sequence[object]) -> object:
        start = time.perf_counter()
        try:
            return self.inner.call(method, params)
        finally:
            self.seconds += time.perf_counter() - start
            self.calls += 1


def main() -> None:
    keys = dev_keys()
    with running_anvil() as anvil, tempfile.TemporaryDirectory() as scratch:
        home = Path(scratch)
        config = WatcherConfig(
            chains=(ChainConfig("anvil", CHAIN_ID, anvil.url, confirmations=1),), max_batch=COUNT
        )
        store = Store.open(home / "watcher.db")
        pairing = pair_from_text([format_ur(keys.hdkey().to_ur())], count=1, source="bench")
        store.add_accounts(pairing.accounts)
        transport = CountingTransport(HttpTransport(anvil.url))
        node = Node(transport)
        rows = ["id,chain,asset,destination,amount,memo"]
        for i in range(COUNT):
            destination = keys.address(1 + i % 8)
            rows.append(f"w{i},anvil,ETH,{destination},0.{i + 1:04d},bench {i}")
        text = "\n".join(rows) + "\n"

        start = time.perf_counter()
        Intake(config, store, lambda chain: node).run(parse_csv(text), "bench")
        intake = time.perf_counter() - start
        print(f"intake {COUNT} withdrawals (parse, validate, one transaction): {intake:.3f} s")

        writer = TextPartsWriter(home / "requests", 200)
        transport.seconds, transport.calls = 0.0, 0
        start = time.perf_counter()
        [batch] = Builder(RequestKit(config, store, lambda chain: node, writer)).build()
        build = time.perf_counter() - start
        print(
            f"build {COUNT} transactions + write the batch request "
            f"({batch.path.stat().st_size} bytes of UR parts): {build:.3f} s, of which "
            f"{transport.seconds:.3f} s in {transport.calls} node calls "
            f"({100 * transport.seconds / build:.0f} %)"
        )

        requests = store.batch_requests(batch.batch_id)
        signer = PrivateKey(keys.private_key("m/44'/60'/0'/0/0"))
        signatures = []
        for request in requests:
            compact = signer.sign_recoverable(request.signing_hash, hasher=None)
            signatures.append(
                EthSignature(
                    compact[:32],
                    compact[32:64],
                    compact[64],
                    RequestId(bytes.fromhex(request.request_id.replace("-", ""))),
                )
            )
        response = EthBatchSignature(tuple(signatures)).to_ur()
        lines = [format_ur(response)]
        start = time.perf_counter()
        result = Verifier(store).import_lines(lines, source="bench")
        verify = time.perf_counter() - start
        assert len(result.signatures) == COUNT
        assert len(store.requests_in(Status.SIGNED)) == COUNT
        print(
            f"verify + assemble {COUNT} signatures (decode, recover, store): {verify:.3f} s "
            f"({1e3 * verify / COUNT:.2f} ms each)"
        )
        transport.inner.close()
        store.close()


if __name__ == "__main__":
    main()
