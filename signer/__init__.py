"""coldsign signer: the offline, air-gapped signing program."""
