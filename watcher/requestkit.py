"""RequestKit: what it takes to write a sign request, named once for every class that does."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from watcher.attestation import Attester
from watcher.config import ChainConfig, WatcherConfig
from watcher.parts import RequestWriter
from watcher.rpc import Node
from watcher.state import Store


def random_request_id() -> str:
    """A fresh request id: a random (version 4) UUID, which the signer's answer echoes back."""
    return str(uuid.uuid4())


@dataclass(frozen=True, slots=True)
class RequestKit:
    """The collaborators of every class that writes sign requests: the configuration,
    ``watcher.db`` (paired accounts and stored requests), each chain's node, where request
    files go, where request ids come from, and the operator key that attests a request."""

    config: WatcherConfig
    store: Store
    nodes: Callable[[ChainConfig], Node]
    writer: RequestWriter
    new_request_id: Callable[[], str] = random_request_id
    attester: Attester | None = None

    def node(self, chain_id: int) -> Node:
        """The node of the configured chain ``chain_id``."""
        return self.nodes(self.config.chain_by_id(chain_id))
