"""The signer's keys: BIP-39 mnemonics, BIP-32 derivation, the encrypted vault, key sessions.

Modules:

- ``bip39``: :class:`SecretMnemonic` (generate, parse, seed);
- ``bip32``: :class:`DerivationPath`, extended keys, CKDpriv / CKDpub, fingerprints;
- ``paths``: the standard, Ledger Live and legacy Ethereum schemes and the enrolment list;
- ``kdf``: scrypt with bounded parameters; ``vaultfile``: the file format;
- ``backoff``: the persisted failed-unlock counter; ``atomicfile``: crash-safe writes;
- ``vault``: :class:`Vault` (create / import / unlock / lock); ``session``:
  :class:`KeySession` (enrolled-only derivation, idle auto-lock, the raw signing primitive);
- ``child``: signing in a short-lived child process.

Memory hygiene in CPython, honestly:

- What we wipe: the long-lived copies of secrets are :class:`bytearray` objects (BIP-39
  entropy, the decrypted plaintext, the BIP-39 passphrase bytes, the 64-byte seed, each cached
  private key, the vault passphrase bytes) and are overwritten with zeros in place by
  ``lock()`` / ``wipe()`` and in ``finally`` blocks.
- What we cannot wipe: ``str`` and ``bytes`` are immutable. The passphrases arrive as
  ``str`` from the UI; ``hmac``/``hashlib``/scrypt return ``bytes`` (the AES key, each BIP-32
  node's key and chain code); Python ``int`` objects hold scalars during derivation;
  coincurve copies a private key into its own ``bytes`` (a session keeps one such object per
  path it signed with, dropped by ``lock``); pycryptodome keeps
  the AES key schedule in C memory it frees without our control; a :class:`bytearray` that
  grows may leave its previous buffer in freed memory. Those copies live until the garbage
  collector frees them and the allocator reuses the memory; they may also reach swap or a
  core dump. Traceback frames keep locals alive, so errors are raised ``from None`` where a
  library exception would add nothing.
- What follows: run the signer on a machine with encrypted or no swap and core dumps off, and
  keep key sessions short. ``signer.keys.child`` runs derivation and signing in a process
  that exits afterwards, so its copies die with it.
"""
