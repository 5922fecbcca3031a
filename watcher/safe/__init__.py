"""Safe multisig payouts: propose a SafeTx, collect owner signatures, execute it."""
