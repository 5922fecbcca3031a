"""The catalogue of review warnings: stable codes, each with a severity and a one-line explanation.

Codes are API: interfaces, policies and tests key off them, so a code is never renamed or
given another meaning; new codes are added at the end of their severity group. Within one
severity, warnings are listed in this order (``delegatecall`` first: it is what let the
Feb 2025 Bybit Safe be taken over while its signers saw only a hash).

DANGER
    ``delegatecall``          a Safe delegatecall to anything but a registry MultiSendCallOnly,
                              or a delegatecall entry inside a MultiSend
    ``safe-admin-change``     changes a Safe's owners, threshold, modules, guards, fallback
                              handler or singleton (the code it runs)
    ``safe-hash-approval``    approves a Safe transaction known only by its hash (approveHash)
    ``unexplained-call``      call data whose selector coldsign does not understand
    ``contract-creation``     deploys a contract whose init code is not explained
    ``lookalike-address``     an address sharing its first and last characters with a known one
    ``chain-mismatch``        the request's chain id differs from the chain the signature binds
    ``message-is-hash``       a message of exactly 32 bytes: likely a disguised hash approval
    ``unlimited-approval``    an allowance of the maximum amount (or at least 2**255)
    ``nft-approval-for-all``  hands an operator every token of an NFT collection
    ``ownership-change``      changes who owns or administers a contract
    ``upgrade``               replaces a proxy contract's code
    ``role-change``           grants, revokes or renounces an access-control role
WARNING
    ``token-approval``        lets another address spend the account's tokens
    ``permit``                an EIP-2612 permit: a signature that sets a token allowance
    ``permit2``               a Uniswap Permit2 allowance or transfer signature
    ``unknown-token``         a token the registry does not know: amounts in base units
    ``unknown-contract``      a call to an address the registries do not know
    ``unknown-chain``         a chain id the registry does not know
    ``safe-gas-refund``       the Safe pays a gas refund (gasPrice, gasToken or refundReceiver set)
    ``old-safe-version``      a Safe domain without chainId (before 1.3.0): valid on every chain
    ``non-printable-text``    text with control, bidi, zero-width or other invisible characters
                              (shown escaped)
    ``message-not-text``      a message that is not valid UTF-8, shown as hex
    ``duplicate-nonce``       two transactions of a batch use one (chain, nonce): one will fail
    ``no-chain-id``           an EIP-712 domain without chainId (e.g. only a salt): valid on
                              every chain
    ``never-expires``         a permit without expiry (DAI-style expiry 0): usable until its
                              nonce is spent
CAUTION
    ``value-to-contract``     native coin sent along with a contract call or to a known contract
    ``unrecognised-typed-data``  EIP-712 data of a schema coldsign does not recognise
INFO
    ``unverified-origin``     the request's origin text: written by the requester, not signed
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum
from types import MappingProxyType


class Severity(IntEnum):
    """How much a warning matters; ordered, so ``max()`` gives the worst."""

    INFO = 0
    CAUTION = 1
    WARNING = 2
    DANGER = 3


class WarningCode(StrEnum):
    """The stable warning codes (the values are the API, see the module docstring)."""

    DELEGATECALL = "delegatecall"
    SAFE_ADMIN_CHANGE = "safe-admin-change"
    SAFE_HASH_APPROVAL = "safe-hash-approval"
    UNEXPLAINED_CALL = "unexplained-call"
    CONTRACT_CREATION = "contract-creation"
    LOOKALIKE_ADDRESS = "lookalike-address"
    CHAIN_MISMATCH = "chain-mismatch"
    MESSAGE_IS_HASH = "message-is-hash"
    UNLIMITED_APPROVAL = "unlimited-approval"
    NFT_APPROVAL_FOR_ALL = "nft-approval-for-all"
    OWNERSHIP_CHANGE = "ownership-change"
    UPGRADE = "upgrade"
    ROLE_CHANGE = "role-change"
    TOKEN_APPROVAL = "token-approval"  # noqa: S105
    PERMIT = "permit"
    PERMIT2 = "permit2"
    UNKNOWN_TOKEN = "unknown-token"  # noqa: S105
    UNKNOWN_CONTRACT = "unknown-contract"
    UNKNOWN_CHAIN = "unknown-chain"
    SAFE_GAS_REFUND = "safe-gas-refund"
    OLD_SAFE_VERSION = "old-safe-version"
    NON_PRINTABLE_TEXT = "non-printable-text"
    MESSAGE_NOT_TEXT = "message-not-text"
    DUPLICATE_NONCE = "duplicate-nonce"
    NO_CHAIN_ID = "no-chain-id"
    NEVER_EXPIRES = "never-expires"
    VALUE_TO_CONTRACT = "value-to-contract"
    UNRECOGNISED_TYPED_DATA = "unrecognised-typed-data"
    UNVERIFIED_ORIGIN = "unverified-origin"


@dataclass(frozen=True, slots=True)
class WarningSpec:
    """One catalogue entry: a code's severity and what it means, in one line."""

    code: WarningCode
    severity: Severity
    explanation: str


_D, _W, _C, _I = Severity.DANGER, Severity.WARNING, Severity.CAUTION, Severity.INFO

_SPECS = (
    WarningSpec(
        WarningCode.DELEGATECALL,
        _D,
        "runs another contract's code with the Safe's storage and funds: it can take the Safe",
    ),
    WarningSpec(
        WarningCode.SAFE_ADMIN_CHANGE,
        _D,
        "changes who controls the Safe or the code it runs",
    ),
    WarningSpec(
        WarningCode.SAFE_HASH_APPROVAL,
        _D,
        "approves a Safe transaction that is known here only by its hash",
    ),
    WarningSpec(
        WarningCode.UNEXPLAINED_CALL,
        _D,
        "the call data is not understood: what it does cannot be shown",
    ),
    WarningSpec(
        WarningCode.CONTRACT_CREATION,
        _D,
        "deploys a contract whose code is not explained",
    ),
    WarningSpec(
        WarningCode.LOOKALIKE_ADDRESS,
        _D,
        "an address imitates a known one (same first and last characters): address poisoning",
    ),
    WarningSpec(
        WarningCode.CHAIN_MISMATCH,
        _D,
        "the request names another chain than the one the signature is valid on",
    ),
    WarningSpec(
        WarningCode.MESSAGE_IS_HASH,
        _D,
        "a 32-byte message is usually a hash: signing it may approve something unseen",
    ),
    WarningSpec(
        WarningCode.UNLIMITED_APPROVAL,
        _D,
        "lets the spender take every token of this kind the account ever holds",
    ),
    WarningSpec(
        WarningCode.NFT_APPROVAL_FOR_ALL,
        _D,
        "lets the operator take every token of the collection",
    ),
    WarningSpec(
        WarningCode.OWNERSHIP_CHANGE,
        _D,
        "changes who owns or administers a contract",
    ),
    WarningSpec(WarningCode.UPGRADE, _D, "replaces the code of a proxy contract"),
    WarningSpec(WarningCode.ROLE_CHANGE, _D, "changes who holds an access-control role"),
    WarningSpec(
        WarningCode.TOKEN_APPROVAL,
        _W,
        "lets another address spend the account's tokens",
    ),
    WarningSpec(
        WarningCode.PERMIT,
        _W,
        "an EIP-2612 permit: this signature sets a token allowance without a transaction",
    ),
    WarningSpec(
        WarningCode.PERMIT2,
        _W,
        "a Permit2 signature: it lets the spender move the account's tokens",
    ),
    WarningSpec(
        WarningCode.UNKNOWN_TOKEN,
        _W,
        "the token is not in the registry: its amounts are shown in base units",
    ),
    WarningSpec(
        WarningCode.UNKNOWN_CONTRACT,
        _W,
        "the called address is not in the registries or the address book",
    ),
    WarningSpec(WarningCode.UNKNOWN_CHAIN, _W, "the chain id is not in the registry"),
    WarningSpec(
        WarningCode.SAFE_GAS_REFUND,
        _W,
        "the Safe pays a gas refund to a receiver: it can drain the Safe's funds",
    ),
    WarningSpec(
        WarningCode.OLD_SAFE_VERSION,
        _W,
        "the Safe domain has no chain id (Safe before 1.3.0): the signature is valid on every "
        "chain",
    ),
    WarningSpec(
        WarningCode.NON_PRINTABLE_TEXT,
        _W,
        "text holds invisible or control characters; they are shown escaped",
    ),
    WarningSpec(
        WarningCode.MESSAGE_NOT_TEXT,
        _W,
        "the message is not UTF-8 text; it is shown as hex",
    ),
    WarningSpec(
        WarningCode.DUPLICATE_NONCE,
        _W,
        "two transactions use the same nonce on one chain: at most one can be included",
    ),
    WarningSpec(
        WarningCode.NO_CHAIN_ID,
        _W,
        "the EIP-712 domain names no chain: the signature is valid on every chain",
    ),
    WarningSpec(
        WarningCode.NEVER_EXPIRES,
        _W,
        "the permit never expires: it can be used until its nonce is spent",
    ),
    WarningSpec(
        WarningCode.VALUE_TO_CONTRACT,
        _C,
        "native coin is sent to a contract",
    ),
    WarningSpec(
        WarningCode.UNRECOGNISED_TYPED_DATA,
        _C,
        "typed data of an unrecognised schema: every field is shown, its meaning is not",
    ),
    WarningSpec(
        WarningCode.UNVERIFIED_ORIGIN,
        _I,
        "the origin text was written by the requester and is not part of what is signed",
    ),
)

CATALOGUE: MappingProxyType[WarningCode, WarningSpec] = MappingProxyType(
    {spec.code: spec for spec in _SPECS}
)
# Position of each code in the catalogue: the order of warnings of equal severity.
RANK: MappingProxyType[WarningCode, int] = MappingProxyType(
    {spec.code: index for index, spec in enumerate(_SPECS)}
)


def severity_of(code: WarningCode) -> Severity:
    """The catalogue severity of ``code``."""
    return CATALOGUE[code].severity


def explain(code: WarningCode) -> str:
    """The catalogue's one-line explanation of ``code``."""
    return CATALOGUE[code].explanation
