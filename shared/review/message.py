"""Review of messages: EIP-191 personal_sign and EIP-712 typed data (permits, Permit2, SafeMessage).

Typed data of an unrecognised schema is shown field by field, every string escaped, and
flagged ``unrecognised-typed-data``; EIP-712 SafeTx is reviewed by ``shared.review.safe``.
A domain without chainId is flagged ``no-chain-id`` (EIP-712 makes every domain field
optional, so a domain of only a salt binds the signature to no chain); a Permit2 witness is
shown the same way as unrecognised data, after the transfer it is bound to.
"""

from __future__ import annotations

from datetime import UTC, datetime

from shared.address import Address
from shared.messages import (
    DaiPermit,
    Permit,
    Permit2Batch,
    Permit2BatchTransferFrom,
    Permit2BatchWitnessTransferFrom,
    Permit2Single,
    Permit2TransferFrom,
    Permit2Witness,
    Permit2WitnessTransferFrom,
    PermitDetails,
    SafeMessage,
    SafeTx,
    Struct,
    TokenPermissions,
    TypedData,
    Value,
    display_personal_message,
    personal_message_hash,
    recognise,
)
from shared.messages.schemas import PERMIT2_ADDRESS
from shared.messages.text import REASON_INVALID_UTF8
from shared.registry import Registries
from shared.review.amounts import allowance_text, is_unlimited, token_asset
from shared.review.draft import Draft
from shared.review.model import Asset, Review, ReviewKind, Source, Subject
from shared.review.safe import review_safe_tx
from shared.review.warnings import WarningCode

# EIP-712 / EIP-191 hashes and messages of this length are what a disguised "blind" hash
# signature looks like: the signer would approve something it cannot see.
_HASH_LENGTH = 32
# datetime cannot show years after 9999: later timestamps mean "never" for any deadline.
_LAST_SHOWN_TIME = 253402300799
# Permit2 PermitDetails.amount is a uint160: its maximum means an unlimited allowance.
_PERMIT2_AMOUNT_BITS = 160
_MESSAGE = "message"


def review_personal_message(message: bytes, registries: Registries) -> Review:
    """Review an EIP-191 ``personal_sign`` message: the text (escaped) or hex, and its hash."""
    draft = Draft(registries, None)
    draft.section = "personal_sign message (EIP-191)"
    shown = display_personal_message(message)
    draft.add("Message", shown.text)
    draft.add("Length", f"{len(message)} bytes")
    signing_hash = personal_message_hash(message)
    draft.add("Signing hash", "0x" + signing_hash.hex(), Source.COMPUTED)
    _message_warnings(draft, message, shown.reasons, "message")
    return draft.finish(
        ReviewKind.PERSONAL_MESSAGE,
        "Sign a message (EIP-191 personal_sign)",
        signing_hash,
        fee_cap_wei=None,
        subject=Subject(message=message),
    )


def _message_warnings(draft: Draft, message: bytes, reasons: tuple[str, ...], path: str) -> None:
    if len(message) == _HASH_LENGTH:
        draft.warn(
            WarningCode.MESSAGE_IS_HASH,
            f"the message is exactly {_HASH_LENGTH} bytes: 0x{message.hex()}",
            path,
        )
    if REASON_INVALID_UTF8 in reasons:
        draft.warn(WarningCode.MESSAGE_NOT_TEXT, "the message is not UTF-8: shown as hex", path)
    draft.warn_escaped((r for r in reasons if r != REASON_INVALID_UTF8), "message", path)


def review_typed_data(typed: TypedData, registries: Registries) -> Review:
    """Review parsed EIP-712 typed data, recognising permits, Permit2, SafeTx and SafeMessage.

    Raises :class:`~shared.errors.TypedDataError` when the types are a known schema but the
    document does not fit it, :class:`~shared.errors.CalldataError` for a SafeTx whose
    inner call data is malformed.
    """
    recognised = recognise(typed)
    if isinstance(recognised, SafeTx):
        return review_safe_tx(typed, recognised, registries)
    draft = Draft(registries, typed.domain.chain_id)
    signing_hash = typed.signing_hash()
    _domain(draft, typed, unbound_warning=recognised is None)
    if recognised is None:
        kind, title = ReviewKind.TYPED_DATA, f"EIP-712 typed data: {typed.primary_type}"
        draft.section = f"message ({typed.primary_type})"
        _struct(draft, typed.message, _MESSAGE)
        draft.warn(
            WarningCode.UNRECOGNISED_TYPED_DATA,
            f"{typed.primary_type} is not a schema coldsign recognises",
            _MESSAGE,
        )
    elif isinstance(recognised, DaiPermit):
        kind = ReviewKind.PERMIT
        effect = "an unlimited token allowance" if recognised.allowed else "revokes an allowance"
        title = f"DAI-style permit: {effect}"
        _dai_permit(draft, recognised)
    elif isinstance(recognised, Permit):
        kind, title = ReviewKind.PERMIT, "EIP-2612 Permit: a token allowance"
        _permit(draft, recognised)
    elif isinstance(recognised, SafeMessage):
        kind, title = ReviewKind.SAFE_MESSAGE, "Safe message (EIP-1271 via the Safe)"
        _safe_message(draft, recognised)
    else:
        kind, title = ReviewKind.PERMIT2, f"Permit2 {typed.primary_type}: token allowance"
        _permit2(draft, recognised)
    return draft.finish(
        kind,
        title,
        signing_hash,
        fee_cap_wei=None,
        subject=Subject(typed_data=typed, recognised=recognised),
    )


def _domain(draft: Draft, typed: TypedData, *, unbound_warning: bool) -> None:
    domain = typed.domain
    draft.section = "EIP-712 domain"
    path = "domain"
    if domain.name is not None:
        draft.text("name", domain.name, path=path)
    if domain.version is not None:
        draft.text("version", domain.version, path=path)
    if domain.chain_id is not None:
        draft.chain("chainId", domain.chain_id, path=path)
    elif unbound_warning:
        # EIP-712 §domainSeparator: only the declared fields are hashed; without chainId the
        # same signature verifies on every chain the verifier (if any) is deployed to. The
        # recognised schemas either require chainId or carry their own warning (Safe < 1.3.0).
        draft.add("chainId", "none: the signature is valid on every chain")
        draft.warn(
            WarningCode.NO_CHAIN_ID,
            "the domain declares no chainId"
            + ("" if domain.salt is None else ", only a salt tells its signatures apart"),
            path,
        )
    if domain.verifying_contract is not None:
        draft.address("verifyingContract", domain.verifying_contract, path=path)
    if domain.salt is not None:
        # A bytes32 the verifier chooses; it means nothing coldsign could check, so it is
        # shown whole, as hex.
        draft.add("salt", "0x" + domain.salt.hex())
    draft.add("Signing hash", "0x" + typed.signing_hash().hex(), Source.COMPUTED)


def _struct(draft: Draft, struct: Struct, path: str) -> None:
    for name, value in struct.values:
        _value(draft, f"{path}.{name}", value)


def _value(draft: Draft, label: str, value: Value) -> None:
    if isinstance(value, Struct):
        _struct(draft, value, label)
    elif isinstance(value, tuple):
        draft.add(label, f"{len(value)} items")
        for index, item in enumerate(value):
            _value(draft, f"{label}[{index}]", item)
    elif isinstance(value, Address):
        draft.address(label, value, path=label)
    elif isinstance(value, str):
        draft.text(label, value, path=label)
    elif isinstance(value, bool):
        draft.add(label, "true" if value else "false")
    elif isinstance(value, bytes):
        draft.add(label, "0x" + value.hex() if value else "(empty)")
    else:
        draft.add(label, str(value))


def time_text(timestamp: int) -> str:
    """A Unix time as text with its UTC date; beyond year 9999 it is "never"."""
    if timestamp > _LAST_SHOWN_TIME:
        return f"{timestamp} (never: after year 9999)"
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    return f"{timestamp} ({moment:%Y-%m-%d %H:%M:%S} UTC)"


def _token(draft: Draft, token: Address, path: str) -> Asset:
    draft.address("token", token, path=path)
    asset = token_asset(draft.registries, draft.chain_id, token)
    if not asset.known:
        where = "with no chain" if draft.chain_id is None else f"on chain {draft.chain_id}"
        draft.warn(
            WarningCode.UNKNOWN_TOKEN,
            f"{token.checksummed()} is not a registered token {where}",
            path,
            key=token,
        )
    return asset


def _allowance(asset: Asset, amount: int, bits: int = 256) -> str:
    return allowance_text(asset, amount, bits)


def _permit(draft: Draft, permit: Permit) -> None:
    path = _MESSAGE
    draft.section = "Permit (EIP-2612)"
    asset = _token(draft, permit.token, path)
    draft.address("owner", permit.owner, path=path)
    draft.address("spender", permit.spender, path=path)
    draft.add("value", _allowance(asset, permit.value))
    draft.add("nonce", str(permit.nonce))
    draft.add("deadline", time_text(permit.deadline))
    draft.warn(
        WarningCode.PERMIT,
        f"{permit.spender.checksummed()} may spend {_allowance(asset, permit.value)} of "
        f"{permit.owner.checksummed()} until {time_text(permit.deadline)}",
        path,
    )
    _unlimited(draft, permit.spender, permit.value, 256, path)


def _dai_permit(draft: Draft, permit: DaiPermit) -> None:
    path = _MESSAGE
    draft.section = "Permit (DAI-style)"
    asset = _token(draft, permit.token, path)
    draft.address("holder", permit.owner, path=path)
    draft.address("spender", permit.spender, path=path)
    draft.add("allowed", "true" if permit.allowed else "false")
    # dai.sol: wad = allowed ? uint(-1) : 0, the allowance replaced, not added to.
    draft.add("allowance", _allowance(asset, permit.value) if permit.allowed else "0 (revoked)")
    draft.add("nonce", str(permit.nonce))
    # dai.sol: require(expiry == 0 || now <= expiry).
    expiry = "0 (never expires)" if permit.never_expires else time_text(permit.expiry)
    draft.add("expiry", expiry)
    spender, holder = permit.spender.checksummed(), permit.owner.checksummed()
    valid = "it never expires" if permit.never_expires else f"it is valid until {expiry}"
    if permit.allowed:
        draft.warn(
            WarningCode.PERMIT,
            f"{spender} may spend every {asset.symbol} of {holder}; {valid}",
            path,
        )
        _unlimited(draft, permit.spender, permit.value, 256, path)
        if permit.never_expires:
            draft.warn(
                WarningCode.NEVER_EXPIRES,
                f"expiry 0: anyone holding this signature can set the allowance of {spender} "
                f"at any time until {holder} uses nonce {permit.nonce}",
                path,
            )
    else:
        draft.warn(
            WarningCode.PERMIT,
            f"sets the allowance of {spender} over {holder}'s {asset.symbol} to 0; {valid}",
            path,
        )


def _unlimited(draft: Draft, spender: Address, amount: int, bits: int, path: str) -> None:
    if is_unlimited(amount, bits):
        draft.warn(
            WarningCode.UNLIMITED_APPROVAL,
            f"{spender.checksummed()} may spend an unlimited amount",
            path,
        )


def _permit2(
    draft: Draft,
    message: Permit2Single | Permit2Batch | Permit2TransferFrom | Permit2BatchTransferFrom,
) -> None:
    path = _MESSAGE
    draft.section = "Permit2"
    if message.permit2 != PERMIT2_ADDRESS:
        draft.warn(
            WarningCode.UNKNOWN_CONTRACT,
            f"the verifying contract {message.permit2.checksummed()} is not the Permit2 "
            f"deployment {PERMIT2_ADDRESS.checksummed()}",
            "domain",
        )
    draft.address("spender", message.spender, path=path)
    if isinstance(message, Permit2Single | Permit2Batch):
        draft.add("sigDeadline", time_text(message.sig_deadline))
        details = message.details if isinstance(message, Permit2Batch) else (message.details,)
        for index, item in enumerate(details):
            _permit2_details(draft, message.spender, item, f"{path}.details[{index}]")
    else:
        draft.add("nonce", str(message.nonce))
        draft.add("deadline", time_text(message.deadline))
        permitted = (
            message.permitted
            if isinstance(message, Permit2BatchTransferFrom)
            else (message.permitted,)
        )
        for index, permission in enumerate(permitted):
            _permit2_transfer(draft, message.spender, permission, f"{path}.permitted[{index}]")
        if isinstance(message, Permit2WitnessTransferFrom | Permit2BatchWitnessTransferFrom):
            _permit2_witness(draft, message.witness, path)


def _permit2_witness(draft: Draft, witness: Permit2Witness, path: str) -> None:
    where = f"{path}.{witness.member}"
    draft.section = f"Permit2 witness {where} ({witness.value.type_name})"
    draft.add("witness hash", "0x" + witness.struct_hash.hex(), Source.COMPUTED)
    # Only the spender's contract gives these fields a meaning: shown, escaped, not explained.
    _struct(draft, witness.value, where)
    draft.warn(
        WarningCode.UNRECOGNISED_TYPED_DATA,
        f"the witness {witness.value.type_name} is checked by the spender's contract, not by "
        "coldsign: its fields are shown, their meaning is not",
        where,
    )


def _permit2_details(draft: Draft, spender: Address, item: PermitDetails, path: str) -> None:
    draft.section = f"Permit2 allowance {path}"
    asset = _token(draft, item.token, path)
    amount = _allowance(asset, item.amount, _PERMIT2_AMOUNT_BITS)
    draft.add("amount", amount)
    draft.add("expiration", time_text(item.expiration))
    draft.add("nonce", str(item.nonce))
    draft.warn(
        WarningCode.PERMIT2,
        f"{spender.checksummed()} may spend {amount} until {time_text(item.expiration)}",
        path,
    )
    _unlimited(draft, spender, item.amount, _PERMIT2_AMOUNT_BITS, path)


def _permit2_transfer(draft: Draft, spender: Address, item: TokenPermissions, path: str) -> None:
    draft.section = f"Permit2 transfer {path}"
    asset = _token(draft, item.token, path)
    amount = _allowance(asset, item.amount)
    draft.add("amount", amount)
    draft.warn(
        WarningCode.PERMIT2,
        f"{spender.checksummed()} may transfer up to {amount} to any address",
        path,
    )
    _unlimited(draft, spender, item.amount, 256, path)


def _safe_message(draft: Draft, message: SafeMessage) -> None:
    path = _MESSAGE
    draft.section = "Safe message"
    draft.address("Safe", message.safe, path=path)
    if message.chain_id is None:
        draft.warn(
            WarningCode.OLD_SAFE_VERSION,
            f"the SafeMessage domain of {message.safe.checksummed()} has no chainId",
            "domain",
        )
    shown = display_personal_message(message.message)
    draft.add("Message", shown.text)
    draft.add("Length", f"{len(message.message)} bytes")
    _message_warnings(draft, message.message, shown.reasons, path)
