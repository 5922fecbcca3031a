// Cross-implementation oracle for coldsign's ERC-4527 types, using Keystone's own registry
// (@keystonehq/bc-ur-registry-eth, the library MetaMask's QR keyring uses).
//
// stdin:  {"cases": [{"op": "encode", "type": T, "fields": {...}}
//                    | {"op": "decode", "type": T, "cbor": "<hex>"}
//                    | {"op": "metamask", "type": "crypto-hdkey", "cbor": "<hex>"}]}
// stdout: {"results": [{"cbor": "<hex>", "ur_type": T} | {"fields": {...}}
//                      | {"metamask": {...}} | {"error": "<message>"}]}
//
// "fields" has the shape of coldsign's describe() (shared/erc4527/known.py) minus "type":
// bytes as lower-case hex, fingerprints as 8 hex digits, request ids as UUID text,
// keypaths as {"components": "44'/60'/0'", "source_fingerprint", "depth"}, absent keys null.
// The library's private fields are read where it has no getter (depth, raw is-private,
// coin-info type and network) so that absent and default values stay apart.

import {
  CryptoAccount,
  CryptoCoinInfo,
  CryptoHDKey,
  CryptoKeypath,
  CryptoOutput,
  ETHBatchSignRequest,
  ETHBatchSignature,
  ETHSignature,
  EthSignRequest,
  PathComponent,
} from "@keystonehq/bc-ur-registry-eth";
import { toChecksumAddress } from "@ethereumjs/util";
import { parse as parseUuid, stringify as stringifyUuid } from "uuid";
import { readFileSync } from "node:fs";

const DATA_TYPE_NAMES = {
  1: "transaction",
  2: "typed_data",
  3: "personal_message",
  4: "typed_transaction",
};

const hex = (buffer) => (buffer === undefined ? null : Buffer.from(buffer).toString("hex"));
const bytes = (text) => (text === null || text === undefined ? undefined : Buffer.from(text, "hex"));
const orNull = (value) => (value === undefined ? null : value);

function uuidBytes(text) {
  return text === null || text === undefined ? undefined : Buffer.from(parseUuid(text));
}

function fingerprintBuffer(text) {
  return text === null || text === undefined ? undefined : Buffer.from(text, "hex");
}

function buildKeypath(fields) {
  const steps = fields.components === "" ? [] : fields.components.split("/");
  const components = steps.map((step) => {
    const hardened = step.endsWith("'");
    const index = hardened ? step.slice(0, -1) : step;
    return index === "*"
      ? new PathComponent({ hardened })
      : new PathComponent({ index: Number(index), hardened });
  });
  return new CryptoKeypath(
    components,
    fingerprintBuffer(fields.source_fingerprint),
    fields.depth === null ? undefined : fields.depth,
  );
}

function describeKeypath(keypath) {
  return {
    components: keypath.getPath() ?? "",
    source_fingerprint: hex(keypath.getSourceFingerprint()),
    depth: orNull(keypath.getDepth()),
  };
}

function buildSignRequest(fields) {
  return new EthSignRequest({
    requestId: uuidBytes(fields.request_id),
    signData: bytes(fields.sign_data),
    dataType: fields.data_type,
    chainId: fields.chain_id === null ? undefined : fields.chain_id,
    derivationPath: buildKeypath(fields.derivation_path),
    address: fields.address === null ? undefined : Buffer.from(fields.address.slice(2), "hex"),
    origin: orNull(fields.origin) ?? undefined,
  });
}

function describeSignRequest(request) {
  const path = request.derivationPath;
  const address = request.getSignRequestAddress();
  const requestId = request.getRequestId();
  return {
    request_id: requestId === undefined ? null : stringifyUuid(requestId),
    sign_data: hex(request.getSignData()),
    data_type: request.getDataType(),
    data_type_name: DATA_TYPE_NAMES[request.getDataType()] ?? null,
    chain_id: orNull(request.getChainId()),
    derivation_path: describeKeypath(path),
    source_fingerprint: hex(request.getSourceFingerprint()),
    address: address === undefined ? null : toChecksumAddress("0x" + hex(address)),
    origin: orNull(request.getOrigin()),
  };
}

function buildSignature(fields) {
  return new ETHSignature(
    bytes(fields.signature),
    uuidBytes(fields.request_id),
    orNull(fields.origin) ?? undefined,
  );
}

function describeSignature(signature) {
  const raw = Buffer.from(signature.getSignature());
  const v = BigInt("0x" + (raw.subarray(64).toString("hex") || "0"));
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new Error("v is beyond what JSON numbers carry exactly");
  }
  const requestId = signature.getRequestId();
  return {
    request_id: requestId === undefined ? null : stringifyUuid(requestId),
    signature: raw.toString("hex"),
    r: raw.subarray(0, 32).toString("hex"),
    s: raw.subarray(32, 64).toString("hex"),
    v: Number(v),
    origin: orNull(signature.getOrigin()),
  };
}

function buildHDKey(fields) {
  const useInfo =
    fields.use_info === null
      ? undefined
      : new CryptoCoinInfo(
          orNull(fields.use_info.coin_type) ?? undefined,
          orNull(fields.use_info.network) ?? undefined,
        );
  return new CryptoHDKey({
    isMaster: false,
    isPrivateKey: orNull(fields.is_private) ?? undefined,
    key: bytes(fields.key),
    chainCode: bytes(fields.chain_code),
    useInfo,
    origin: fields.origin === null ? undefined : buildKeypath(fields.origin),
    children: fields.children === null ? undefined : buildKeypath(fields.children),
    parentFingerprint: fingerprintBuffer(fields.parent_fingerprint),
    name: orNull(fields.name) ?? undefined,
    note: orNull(fields.note) ?? undefined,
  });
}

function describeHDKey(key) {
  const useInfo = key.getUseInfo();
  return {
    key: hex(key.getKey()),
    chain_code: hex(key.getChainCode()),
    is_private: orNull(key.privateKey),
    use_info:
      useInfo === undefined
        ? null
        : { coin_type: orNull(useInfo.type), network: orNull(useInfo.network) },
    origin: key.getOrigin() === undefined ? null : describeKeypath(key.getOrigin()),
    children: key.getChildren() === undefined ? null : describeKeypath(key.getChildren()),
    parent_fingerprint: hex(key.getParentFingerprint()),
    name: orNull(key.getName()),
    note: orNull(key.getNote()),
  };
}

function buildAccount(fields) {
  return new CryptoAccount(
    fingerprintBuffer(fields.master_fingerprint),
    fields.output_descriptors.map((key) => new CryptoOutput([], buildHDKey(key))),
  );
}

function describeAccount(account) {
  return {
    master_fingerprint: hex(account.getMasterFingerprint()),
    output_descriptors: account.getOutputDescriptors().map((output) => {
      if (output.getScriptExpressions().length !== 0) {
        throw new Error("output descriptor with script expressions");
      }
      return describeHDKey(output.getHDKey());
    }),
  };
}

// What MetaMask's QR keyrings read from a pairing key: @keystonehq/base-eth-keyring takes
// the origin's source fingerprint as xfp; MetaMask/accounts keyring-eth-qr
// (src/account-deriver.ts) takes the parent fingerprint and calls getChildren().getPath()
// unguarded, so a key without children cannot be paired there.
function metamaskView(key) {
  return {
    xpub: key.getBip32Key(),
    hdPath: `m/${key.getOrigin().getPath()}`,
    childrenPath: key.getChildren().getPath(),
    xfp: hex(key.getOrigin().getSourceFingerprint()),
    parentFingerprint: hex(key.getParentFingerprint()),
    name: orNull(key.getName()),
    note: orNull(key.getNote()),
  };
}

const TYPES = {
  "eth-sign-request": {
    build: buildSignRequest,
    decode: (cbor) => describeSignRequest(EthSignRequest.fromCBOR(cbor)),
  },
  "eth-signature": {
    build: buildSignature,
    decode: (cbor) => describeSignature(ETHSignature.fromCBOR(cbor)),
  },
  "crypto-hdkey": {
    build: buildHDKey,
    decode: (cbor) => describeHDKey(CryptoHDKey.fromCBOR(cbor)),
  },
  "crypto-account": {
    build: buildAccount,
    decode: (cbor) => describeAccount(CryptoAccount.fromCBOR(cbor)),
  },
  "eth-batch-sign-request": {
    build: (fields) => new ETHBatchSignRequest(fields.requests.map(buildSignRequest)),
    decode: (cbor) => ({
      requests: ETHBatchSignRequest.fromCBOR(cbor).getRequests().map(describeSignRequest),
    }),
  },
  "eth-batch-signature": {
    build: (fields) => new ETHBatchSignature(fields.signatures.map(buildSignature)),
    decode: (cbor) => ({
      signatures: ETHBatchSignature.fromCBOR(cbor).getSignatures().map(describeSignature),
    }),
  },
};

function run(testCase) {
  const type = TYPES[testCase.type];
  if (type === undefined) {
    throw new Error(`unknown type ${testCase.type}`);
  }
  if (testCase.op === "encode") {
    const item = type.build(testCase.fields);
    return { cbor: item.toCBOR().toString("hex"), ur_type: item.toUR().type };
  }
  if (testCase.op === "decode") {
    return { fields: type.decode(Buffer.from(testCase.cbor, "hex")) };
  }
  if (testCase.op === "metamask" && testCase.type === "crypto-hdkey") {
    return { metamask: metamaskView(CryptoHDKey.fromCBOR(Buffer.from(testCase.cbor, "hex"))) };
  }
  throw new Error(`unknown op ${testCase.op}`);
}

const input = JSON.parse(readFileSync(0, "utf8"));
const results = input.cases.map((testCase) => {
  try {
    return run(testCase);
  } catch (error) {
    return { error: String(error && error.message ? error.message : error) };
  }
});
process.stdout.write(JSON.stringify({ results }));
