"""coldsign format package: deterministic CBOR, BC-UR, ERC-4527 types and transaction decoding."""
