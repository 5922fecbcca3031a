// Watch-only addresses the way MetaMask's Keystone keyring derives them, as an oracle for
// coldsign's watcher pairing: decode a crypto-hdkey with Keystone's registry, take its xpub
// (getBip32Key) and derive m/0/i with the registry's generateAddressFromXpub.
//
// stdin:  {"cbor": "<crypto-hdkey CBOR hex>", "count": N}
// stdout: {"xfp": "<8 hex digits>", "path": "44'/60'/0'", "addresses": ["0x...", ...]}

import { CryptoHDKey, generateAddressFromXpub } from "@keystonehq/bc-ur-registry-eth";
import { toChecksumAddress } from "@ethereumjs/util";
import { readFileSync } from "node:fs";

const input = JSON.parse(readFileSync(0, "utf8"));
const key = CryptoHDKey.fromCBOR(Buffer.from(input.cbor, "hex"));
const xpub = key.getBip32Key();
const addresses = [];
for (let i = 0; i < input.count; i++) {
  addresses.push(toChecksumAddress(generateAddressFromXpub(xpub, `m/0/${i}`)));
}
const origin = key.getOrigin();
process.stdout.write(
  JSON.stringify({
    xfp: origin.getSourceFingerprint().toString("hex"),
    path: origin.getPath(),
    addresses,
  }),
);
