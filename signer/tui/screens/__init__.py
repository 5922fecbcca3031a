"""The signer's screens, one module each."""
