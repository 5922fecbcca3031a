"""The signer's terminal interface: Textual screens over the same core the headless CLI uses."""
