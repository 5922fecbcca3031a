"""scrypt key derivation for the vault, with parameter bounds checked before any work.

A vault file is untrusted on load: a planted ``n = 2**40`` would make ``hashlib.scrypt``
allocate terabytes or run for days. :meth:`ScryptParams.checked` refuses anything outside the
bounds below with :class:`VaultFormatError`, and :func:`derive_key` only accepts checked
parameters, so no scrypt call can see out-of-bounds values.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from signer.errors import VaultFormatError

MIN_LOG2_N = 14
MAX_LOG2_N = 20
MIN_R, MAX_R = 8, 16
MIN_P, MAX_P = 1, 4
KEY_BYTES = 32  # AES-256
# n = 2**18, r = 8, p = 1: 256 MiB and about 0.6 s on an idle core of the 2-core reference
# machine (benchmarks/bench_keys.py); 2**17 would be 0.3 s, 2**19 1.2 s.
DEFAULT_LOG2_N = 18
DEFAULT_R = 8
DEFAULT_P = 1
# A vault passphrase longer than this is refused rather than hashed.
MAX_PASSPHRASE_BYTES = 1024
# Slack above scrypt's own requirement so that a different OpenSSL accounting still fits.
_MAXMEM_SLACK = 1 << 20

ScryptFunction = Callable[..., bytes]


@dataclass(frozen=True, slots=True)
class ScryptParams:
    """scrypt cost parameters (RFC 7914 §2): CPU/memory cost ``n``, block size ``r``,
    parallelism ``p``. Construct through :meth:`checked`."""

    n: int
    r: int
    p: int

    @classmethod
    def checked(cls, n: object, r: object, p: object) -> ScryptParams:
        """The parameters if within bounds, else :class:`VaultFormatError` (no work done)."""
        return cls(*check_bounds(n, r, p))

    @property
    def maxmem(self) -> int:
        """The memory scrypt needs, 128·r·(n + p + 2) bytes (RFC 7914 §5: V is 128·r·n,
        B is 128·r·p; OpenSSL adds two blocks), plus slack."""
        return 128 * self.r * (self.n + self.p + 2) + _MAXMEM_SLACK


DEFAULT_PARAMS = ScryptParams(1 << DEFAULT_LOG2_N, DEFAULT_R, DEFAULT_P)
# The cheapest parameters the bounds allow; tests use them to stay fast.
MIN_PARAMS = ScryptParams(1 << MIN_LOG2_N, MIN_R, MIN_P)


def check_bounds(n: object, r: object, p: object) -> tuple[int, int, int]:
    """Refuse scrypt parameters outside the vault's bounds with :class:`VaultFormatError`.

    ``n`` must be a power of two in [2**14, 2**20], ``r`` in [8, 16], ``p`` in [1, 4]; all
    plain integers (``bool`` is refused). The worst case allowed is 2 GiB and a few seconds.
    """
    n, r, p = _integer("n", n), _integer("r", r), _integer("p", p)
    if not (1 << MIN_LOG2_N) <= n <= (1 << MAX_LOG2_N) or n & (n - 1):
        raise VaultFormatError(
            f"scrypt n must be a power of two in [2**{MIN_LOG2_N}, 2**{MAX_LOG2_N}]"
        )
    if not MIN_R <= r <= MAX_R:
        raise VaultFormatError(f"scrypt r must be in [{MIN_R}, {MAX_R}]")
    if not MIN_P <= p <= MAX_P:
        raise VaultFormatError(f"scrypt p must be in [{MIN_P}, {MAX_P}]")
    return n, r, p


def _integer(name: str, value: object) -> int:
    # bool is a subclass of int; a JSON true must not pass as 1.
    if type(value) is not int:
        raise VaultFormatError(f"scrypt parameter {name} must be an integer")
    return value


def encode_passphrase(passphrase: str) -> bytearray:
    """The vault passphrase as NFKD UTF-8 in a wipeable buffer (so equal-looking input
    typed on different keyboards opens the vault)."""
    encoded = bytearray(unicodedata.normalize("NFKD", passphrase).encode("utf-8"))
    if len(encoded) > MAX_PASSPHRASE_BYTES:
        encoded[:] = bytes(len(encoded))
        raise VaultFormatError(f"a vault passphrase is at most {MAX_PASSPHRASE_BYTES} bytes")
    return encoded


def derive_key(
    params: ScryptParams,
    password: bytes | bytearray,
    salt: bytes,
    *,
    scrypt: ScryptFunction = hashlib.scrypt,
) -> bytes:
    """The 32-byte AES key: scrypt(password, salt, n, r, p, dkLen = 32).

    ``params`` is re-checked so that a hand-built :class:`ScryptParams` cannot bypass the
    bounds; ``scrypt`` is injectable so tests can prove it is never reached for bad input.
    """
    check_bounds(params.n, params.r, params.p)
    return scrypt(
        password,
        salt=salt,
        n=params.n,
        r=params.r,
        p=params.p,
        maxmem=params.maxmem,
        dklen=KEY_BYTES,
    )
