"""Policy rules for messages: personal_sign, EIP-712 typed data, permits, Permit2, Safe messages."""

from __future__ import annotations

from shared.address import Address
from shared.messages import (
    Permit,
    Permit2Batch,
    Permit2BatchTransferFrom,
    Permit2Single,
    Permit2TransferFrom,
    SafeMessage,
)
from shared.messages.schemas import PERMIT2_ADDRESS
from shared.review import Review, WarningCode
from signer.policy.judge import Judge
from signer.policy.model import ApprovalVia, SafeRule
from signer.policy.tree import check_approval
from signer.policy.verdict import RefusalCode

# A personal message of exactly this many bytes is what a disguised hash looks like.
HASH_LENGTH = 32
# The review's path for a message as a whole (shared.review.message).
_MESSAGE = "message"
# Permit2 PermitDetails.amount is a uint160 (Uniswap/permit2 src/interfaces/IAllowanceTransfer.sol).
_PERMIT2_DETAILS_BITS = 160


def judge_personal(judge: Judge, review: Review) -> None:
    """personal_sign: never a 32-byte message; otherwise text starting with a listed prefix."""
    message = review.subject.message
    if message is None:
        raise ValueError("a personal-message review keeps its message")
    if len(message) == HASH_LENGTH or WarningCode.MESSAGE_IS_HASH in review.codes():
        judge.refuse(
            RefusalCode.MESSAGE_IS_HASH,
            "a 32-byte message is a hash in disguise; the signer never signs a hash it did "
            "not compute, whatever the policy says",
            rule="personal_message",
            path=_MESSAGE,
        )
        return
    try:
        text = message.decode("utf-8", errors="strict")
    except UnicodeDecodeError:
        judge.refuse(
            RefusalCode.MESSAGE_NOT_ALLOWED,
            "the message is not UTF-8 text, so no [[personal_message]] prefix can match it",
            rule="personal_message",
        )
        return
    rule = next((r for r in judge.policy.personal_messages if text.startswith(r.prefix)), None)
    if rule is None:
        judge.refuse(
            RefusalCode.MESSAGE_NOT_ALLOWED,
            "no [[personal_message]] prefix matches the start of the message",
            rule="personal_message",
        )
        return
    judge.allow(rule.ref, f"message starting {rule.prefix!r}")


def judge_typed(judge: Judge, review: Review) -> None:
    """Unrecognised EIP-712: a ``[[typed_data]]`` naming its chain, contract and primary type."""
    typed = review.subject.typed_data
    if typed is None:
        raise ValueError("a typed-data review keeps its document")
    domain = typed.domain
    if domain.chain_id is None or domain.verifying_contract is None:
        judge.refuse(
            RefusalCode.MESSAGE_NOT_ALLOWED,
            "the typed data's domain does not name both chainId and verifyingContract, so no "
            "[[typed_data]] can match it",
            rule="typed_data",
        )
        return
    judge.look_at("verifying contract", domain.verifying_contract)
    rule = next(
        (
            r
            for r in judge.policy.typed_data
            if r.chain_id == domain.chain_id
            and r.verifying_contract == domain.verifying_contract
            and r.primary_type == typed.primary_type
        ),
        None,
    )
    if rule is None:
        judge.refuse(
            RefusalCode.MESSAGE_NOT_ALLOWED,
            f"no [[typed_data]] names {typed.primary_type} for "
            f"{domain.verifying_contract.checksummed()} on chain {domain.chain_id}",
            rule="typed_data",
        )
        return
    judge.allow(rule.ref, f"{rule.label or typed.primary_type} typed data")


def judge_permit(judge: Judge, review: Review) -> None:
    """EIP-2612 Permit typed data: an ``[[approval]]`` with ``via`` including ``permit``."""
    permit = review.subject.recognised
    if not isinstance(permit, Permit):
        raise ValueError("a permit review keeps its Permit")
    _deadline(judge, permit.deadline, "deadline")
    check_approval(
        judge,
        permit.chain_id,
        permit.token,
        permit.spender,
        permit.value,
        ApprovalVia.PERMIT,
        "message",
        256,
    )


def judge_permit2(judge: Judge, review: Review) -> None:
    """Permit2 typed data: the canonical Permit2, and an approval rule for every token in it."""
    message = review.subject.recognised
    if not isinstance(
        message, Permit2Single | Permit2Batch | Permit2TransferFrom | Permit2BatchTransferFrom
    ):
        raise ValueError("a Permit2 review keeps its Permit2 message")
    if message.permit2 != PERMIT2_ADDRESS:
        judge.refuse(
            RefusalCode.APPROVAL_NOT_ALLOWED,
            f"the verifying contract {message.permit2.checksummed()} is not the Permit2 "
            f"deployment {PERMIT2_ADDRESS.checksummed()}",
            rule="approval",
        )
        return
    grants: list[tuple[str, Address, int, int]] = []
    if isinstance(message, Permit2Single | Permit2Batch):
        _deadline(judge, message.sig_deadline, "sigDeadline")
        details = message.details if isinstance(message, Permit2Batch) else (message.details,)
        for index, item in enumerate(details):
            grants.append(
                (f"message.details[{index}]", item.token, item.amount, _PERMIT2_DETAILS_BITS)
            )
    else:
        _deadline(judge, message.deadline, "deadline")
        permitted = (
            message.permitted
            if isinstance(message, Permit2BatchTransferFrom)
            else (message.permitted,)
        )
        for index, permission in enumerate(permitted):
            grants.append((f"message.permitted[{index}]", permission.token, permission.amount, 256))
    for path, token, amount, bits in grants:
        via = ApprovalVia.PERMIT2
        check_approval(judge, message.chain_id, token, message.spender, amount, via, path, bits)


def judge_safe_message(judge: Judge, review: Review, safe: SafeRule | None) -> None:
    """A SafeMessage: a ``[[safe]]`` with ``allow_messages``; never a 32-byte message."""
    message = review.subject.recognised
    if not isinstance(message, SafeMessage):
        raise ValueError("a Safe message review keeps its SafeMessage")
    judge.look_at("Safe", message.safe)
    if len(message.message) == HASH_LENGTH:
        judge.refuse(
            RefusalCode.MESSAGE_IS_HASH,
            "a 32-byte Safe message is a hash in disguise",
            rule="safe",
            path=_MESSAGE,
        )
        return
    if safe is None:
        judge.refuse(
            RefusalCode.SAFE_NOT_ALLOWED,
            f"{message.safe.checksummed()} is not a [[safe]] of this policy",
            rule="safe",
        )
        return
    if not safe.allow_messages:
        judge.refuse(
            RefusalCode.SAFE_MESSAGE,
            "the Safe's allow_messages is not true",
            rule=safe.ref.key("allow_messages"),
        )
        return
    judge.allow(safe.ref.key("allow_messages"), "the Safe may sign messages")


def _deadline(judge: Judge, deadline: int, name: str) -> None:
    if deadline < judge.context.now:
        judge.refuse(
            RefusalCode.EXPIRED,
            f"the {name} {deadline} has passed: an expired permit is never signed",
            rule="approval",
        )
