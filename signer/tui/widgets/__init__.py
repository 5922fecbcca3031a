"""Widgets of the signer's terminal interface: addresses, warnings, QR codes, scan progress."""
