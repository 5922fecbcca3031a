// Cross-implementation oracle for coldsign's BC-UR layer, backed by the pinned @ngraveio/bc-ur.
// Reads one JSON request on stdin: {"ops": [op, ...]}, writes {"results": [result, ...]}.
//   {"op": "encode", "type", "cborHex", "maxFragmentLength", "minFragmentLength",
//    "firstSeqNum", "count"}                       -> {"parts": [string, ...]}
//   {"op": "decode", "parts": [string, ...]}      -> {"complete", "type", "cborHex", "error",
//                                                     "partsUsed"}
//   {"op": "chooseFragments", "cases": [[seqNum, seqLen, checksum], ...]}
//                                                 -> {"indexes": [[int, ...] sorted, ...]}
import bcur from "@ngraveio/bc-ur";
import { chooseFragments } from "@ngraveio/bc-ur/dist/fountainUtils.js";

const { UR, UREncoder, URDecoder } = bcur;

function encodeOp(op) {
  const ur = new UR(Buffer.from(op.cborHex, "hex"), op.type);
  const encoder = new UREncoder(ur, op.maxFragmentLength, op.firstSeqNum ?? 0, op.minFragmentLength ?? 10);
  const parts = [];
  for (let i = 0; i < op.count; i++) parts.push(encoder.nextPart());
  return { parts };
}

function decodeOp(op) {
  const decoder = new URDecoder();
  let error = null;
  let partsUsed = 0;
  for (const part of op.parts) {
    partsUsed += 1;
    try {
      decoder.receivePart(part);
    } catch (e) {
      error = String(e && e.message ? e.message : e);
      break;
    }
    if (decoder.isComplete()) break;
  }
  const complete = Boolean(decoder.isComplete()) && decoder.isSuccess();
  if (!complete) {
    return { complete: false, type: null, cborHex: null, error: error ?? decoder.resultError(), partsUsed };
  }
  const ur = decoder.resultUR();
  return { complete: true, type: ur.type, cborHex: ur.cbor.toString("hex"), error: null, partsUsed };
}

function chooseOp(op) {
  const indexes = op.cases.map(([seqNum, seqLen, checksum]) =>
    [...chooseFragments(seqNum, seqLen, checksum)].sort((a, b) => a - b));
  return { indexes };
}

const handlers = { encode: encodeOp, decode: decodeOp, chooseFragments: chooseOp };

let input = "";
process.stdin.setEncoding("utf8");
for await (const chunk of process.stdin) input += chunk;
const request = JSON.parse(input);
const results = request.ops.map((op) => {
  const handler = handlers[op.op];
  if (!handler) throw new Error(`unknown op ${op.op}`);
  return handler(op);
});
process.stdout.write(JSON.stringify({ results }));
