"""The signer's registries (chains, tokens, Safe deployments, labels) and their file format."""

from shared.registry.defaults import default_registries
from shared.registry.model import (
    AddressLabel,
    Chain,
    Registries,
    SafeDeployment,
    Token,
)
from shared.registry.parse import parse_registry

__all__ = [
    "AddressLabel",
    "Chain",
    "Registries",
    "SafeDeployment",
    "Token",
    "default_registries",
    "parse_registry",
]
