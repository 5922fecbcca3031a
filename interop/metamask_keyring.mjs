// The MetaMask side of coldsign's round trip, done the way MetaMask's QR keyring does it
// (@keystonehq/base-eth-keyring's BaseKeyring, over the pinned @keystonehq/bc-ur-registry-eth,
// hdkey and @ethereumjs/util packages).
//
// stdin:  {"ops": [op, ...]}      stdout: {"results": [result | {"error": "<message>"}, ...]}
//
//   {"op": "pair", "parts": [UR part, ...], "count": N}
//       -> {"mode": "hd" | "pubkey", "xfp", "hdPath", "childrenPath", "name", "note",
//           "addresses": [first N addresses, EIP-55], "paths": [their paths]}
//      syncKeyring: a crypto-hdkey gives an xpub (getBip32Key) whose children are derived
//      with childrenPath ("0/*" by default, "*" replaced by the index); a crypto-account gives
//      one public key per output (a multiple of 5 of them) and its origin path.
//   {"op": "request", "xfp": hex, "batch": bool, "maxFragmentLength": n,
//    "requests": [{"signData": hex, "dataType": n, "hdPath": "m/...", "requestId": uuid,
//                  "chainId": n | null, "address": "0x..." | null, "origin": text | null}]}
//       -> {"parts": [UR part, ...], "type": ur type, "cbor": hex}
//      EthSignRequest.constructETHRequest, as signTransaction / signPersonalMessage /
//      signTypedData call it; several requests go in one ETHBatchSignRequest when "batch".
//   {"op": "response", "parts": [UR part, ...]}
//       -> {"type", "signatures": [{"requestId": uuid | null, "r": hex, "s": hex, "v": hex}]}
//      URRegistryDecoder, then ETHSignature / ETHBatchSignature.fromCBOR, split as
//      requestSignature does (r = 0..32, s = 32..64, v = the rest).

import {
  CryptoAccount,
  CryptoHDKey,
  ETHBatchSignRequest,
  ETHBatchSignature,
  ETHSignature,
  EthSignRequest,
  URRegistryDecoder,
} from "@keystonehq/bc-ur-registry-eth";
import { publicToAddress, toChecksumAddress } from "@ethereumjs/util";
import HDKey from "hdkey";
import { stringify as stringifyUuid } from "uuid";
import { readFileSync } from "node:fs";

const DEFAULT_CHILDREN_PATH = "0/*";

function decodeParts(parts) {
  const decoder = new URRegistryDecoder();
  for (const part of parts) {
    decoder.receivePart(part);
    if (decoder.isComplete()) break;
  }
  if (!decoder.isComplete() || !decoder.isSuccess()) {
    throw new Error(`incomplete or failed: ${decoder.resultError?.() ?? "incomplete"}`);
  }
  return decoder.resultUR();
}

function addressOf(publicKey) {
  return toChecksumAddress("0x" + Buffer.from(publicToAddress(publicKey, true)).toString("hex"));
}

function pair(op) {
  const ur = decodeParts(op.parts);
  if (ur.type === "crypto-hdkey") {
    const key = CryptoHDKey.fromCBOR(ur.cbor);
    const xfp = key.getOrigin().getSourceFingerprint()?.toString("hex");
    if (!xfp) throw new Error("invalid crypto-hdkey, cannot get source fingerprint");
    const hdPath = `m/${key.getOrigin().getPath()}`;
    const childrenPath = key.getChildren()?.getPath() || DEFAULT_CHILDREN_PATH;
    const root = HDKey.fromExtendedKey(key.getBip32Key());
    const addresses = [];
    const paths = [];
    for (let i = 0; i < op.count; i++) {
      const children = childrenPath.replace("*", String(i)).replace(/\*/g, "0");
      addresses.push(addressOf(root.derive(`m/${children}`).publicKey));
      paths.push(`${hdPath}/${children}`);
    }
    return {
      mode: "hd",
      xfp,
      hdPath,
      childrenPath,
      name: key.getName() ?? null,
      note: key.getNote() ?? null,
      addresses,
      paths,
    };
  }
  if (ur.type === "crypto-account") {
    const account = CryptoAccount.fromCBOR(ur.cbor);
    const xfp = account.getMasterFingerprint()?.toString("hex");
    const outputs = account.getOutputDescriptors();
    if (!outputs || outputs.length === 0 || outputs.length % 5 !== 0) {
      throw new Error("only support 5x pubkey accounts for now");
    }
    const addresses = [];
    const paths = [];
    let name = null;
    let note = null;
    for (const output of outputs) {
      const key = output.getHDKey();
      addresses.push(addressOf(key.getKey()));
      paths.push(`M/${key.getOrigin().getPath()}`);
      name = key.getName() ?? null;
      note = key.getNote() ?? null;
    }
    return { mode: "pubkey", xfp, hdPath: null, childrenPath: null, name, note, addresses, paths };
  }
  throw new Error(`unexpected ur type ${ur.type}`);
}

function request(op) {
  const requests = op.requests.map((item) =>
    EthSignRequest.constructETHRequest(
      Buffer.from(item.signData, "hex"),
      item.dataType,
      item.hdPath,
      op.xfp,
      item.requestId,
      item.chainId ?? undefined,
      item.address ?? undefined,
      item.origin ?? undefined,
    ),
  );
  const message = op.batch ? new ETHBatchSignRequest(requests) : requests[0];
  const encoder = message.toUREncoder(op.maxFragmentLength);
  const parts = [];
  // Twice the fragment count: the fountain parts after the first pass are mixed ones.
  const count = encoder.fragmentsLength * 2;
  for (let i = 0; i < count; i++) parts.push(encoder.nextPart());
  const ur = message.toUR();
  return { parts, type: ur.type, cbor: ur.cbor.toString("hex") };
}

function describe(signature) {
  const raw = Buffer.from(signature.getSignature());
  const requestId = signature.getRequestId();
  return {
    requestId: requestId === undefined ? null : stringifyUuid(requestId),
    r: raw.subarray(0, 32).toString("hex"),
    s: raw.subarray(32, 64).toString("hex"),
    v: raw.subarray(64).toString("hex"),
  };
}

function response(op) {
  const ur = decodeParts(op.parts);
  if (ur.type === "eth-signature") {
    return { type: ur.type, signatures: [describe(ETHSignature.fromCBOR(ur.cbor))] };
  }
  if (ur.type === "eth-batch-signature") {
    const batch = ETHBatchSignature.fromCBOR(ur.cbor);
    return { type: ur.type, signatures: batch.getSignatures().map(describe) };
  }
  throw new Error(`unexpected ur type ${ur.type}`);
}

const OPS = { pair, request, response };

const input = JSON.parse(readFileSync(0, "utf8"));
const results = input.ops.map((op) => {
  try {
    const run = OPS[op.op];
    if (run === undefined) throw new Error(`unknown op ${op.op}`);
    return run(op);
  } catch (error) {
    return { error: String(error && error.message ? error.message : error) };
  }
});
process.stdout.write(JSON.stringify({ results }));
