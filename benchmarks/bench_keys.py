"""Key benchmarks: scrypt at the default parameters, unlock, 1,000 signatures, child overhead.

Run: ``.venv/bin/python benchmarks/bench_keys.py``. Prints one line per measurement
(median of a few runs, seconds).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from signer.keys.bip39 import SecretMnemonic
from signer.keys.child import _sign_computed_digests_in_child
from signer.keys.kdf import DEFAULT_PARAMS, MIN_PARAMS, derive_key
from signer.keys.paths import Scheme, scheme_path
from signer.keys.vault import Vault

PASSPHRASE = "benchmark passphrase"


def _median(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    params = DEFAULT_PARAMS
    kdf = _median(lambda: derive_key(params, b"passphrase", bytes(32)), 5)
    print(f"scrypt n=2**{params.n.bit_length() - 1} r={params.r} p={params.p}: {kdf:.3f} s")
    accounts = [scheme_path(Scheme.STANDARD, i) for i in range(4)]
    with tempfile.TemporaryDirectory() as folder:
        slow = Vault(Path(folder) / "default.json")
        slow.import_mnemonic(PASSPHRASE, SecretMnemonic.generate(), accounts)
        unlock = _median(lambda: slow.unlock(PASSPHRASE).lock(), 3)
        print(f"unlock at default parameters: {unlock:.3f} s")

        fast = Vault(Path(folder) / "fast.json")
        fast.import_mnemonic(PASSPHRASE, SecretMnemonic.generate(), accounts, kdf=MIN_PARAMS)
        digests = [i.to_bytes(32, "big") for i in range(1000)]
        session = fast.unlock(PASSPHRASE)
        sign = _median(
            lambda: [
                session._sign_computed_digest(accounts[i % 4], d) for i, d in enumerate(digests)
            ],
            3,
        )
        # 1,000 signatures in `sign` seconds is `sign` milliseconds each.
        print(f"1,000 signatures in one session: {sign:.3f} s ({sign:.3f} ms each)")
        in_process = _median(
            lambda: fast.unlock(PASSPHRASE)._sign_computed_digest(accounts[0], digests[0]), 5
        )
        in_child = _median(
            lambda: _sign_computed_digests_in_child(
                fast.path, PASSPHRASE, [(accounts[0], digests[0])]
            ),
            5,
        )
        print(
            f"unlock + 1 signature at minimum parameters: in process {in_process:.3f} s, "
            f"in a spawned child {in_child:.3f} s (overhead {in_child - in_process:.3f} s)"
        )


if __name__ == "__main__":
    main()
