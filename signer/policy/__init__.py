"""The signer's policy: parse the operator's TOML, judge reviewed requests, count limits."""

from signer.policy.attestation import attestation_message, attested_by, recover_attester
from signer.policy.evaluate import evaluate, evaluate_batch, refuse_undecodable
from signer.policy.judge import Context, derivation_path
from signer.policy.limits import LimitStore
from signer.policy.model import AssetKey, Policy
from signer.policy.parse import load_policy, parse_policy, parse_policy_bytes
from signer.policy.template import policy_template
from signer.policy.verdict import (
    BatchVerdict,
    Confirmation,
    Decision,
    RefusalCode,
    RuleHit,
    Spend,
    Verdict,
)

__all__ = [
    "AssetKey",
    "BatchVerdict",
    "Confirmation",
    "Context",
    "Decision",
    "LimitStore",
    "Policy",
    "RefusalCode",
    "RuleHit",
    "Spend",
    "Verdict",
    "attestation_message",
    "attested_by",
    "derivation_path",
    "evaluate",
    "evaluate_batch",
    "load_policy",
    "parse_policy",
    "parse_policy_bytes",
    "policy_template",
    "recover_attester",
    "refuse_undecodable",
]
