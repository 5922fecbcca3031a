"""Known contract calls: the catalogue as data and ``decode_call``, which explains call data."""

from shared.calls.catalog import Catalog, FunctionSpec, NestedCall, PackedTransactions
from shared.calls.decode import DEFAULT_CATALOG, MAX_NESTING, decode_call
from shared.calls.model import (
    Arg,
    Call,
    CallKind,
    InnerCall,
    KnownCall,
    Operation,
    PlainTransfer,
    UnexplainedCall,
    walk,
)
from shared.calls.multisend import (
    MAX_ENTRIES,
    PackedEntry,
    pack_transactions,
    unpack_transactions,
)

__all__ = [
    "DEFAULT_CATALOG",
    "MAX_ENTRIES",
    "MAX_NESTING",
    "Arg",
    "Call",
    "CallKind",
    "Catalog",
    "FunctionSpec",
    "InnerCall",
    "KnownCall",
    "NestedCall",
    "Operation",
    "PackedEntry",
    "PackedTransactions",
    "PlainTransfer",
    "UnexplainedCall",
    "decode_call",
    "pack_transactions",
    "unpack_transactions",
    "walk",
]
