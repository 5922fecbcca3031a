"""coldsign-ur: decode and encode round trips, exit codes, and one-line errors for bad input."""

from __future__ import annotations

import io
import json
import random
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from vectorfiles import load_vectors

from channel.cli import EXIT_INCOMPLETE, EXIT_INVALID, EXIT_OK, main
from shared.address import Address
from shared.erc4527 import DataType, EthBatchSignRequest, EthSignRequest, Keypath, RequestId
from shared.tx import DynamicFeeTransaction

KEYSTONE = load_vectors("bc-ur-and-erc4527")["keystone"]
REQUEST_UR = KEYSTONE["signRequestWithOrigin"]["ur"]


def run(argv: list[str], stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def request_cbor_hex() -> str:
    code, out, _ = run(["decode"], REQUEST_UR + "\n")
    assert code == EXIT_OK
    return str(json.loads(out)["cbor"])


def test_decode_single_part_sign_request_prints_its_fields() -> None:
    code, out, err = run(["decode"], REQUEST_UR + "\n")
    assert (code, err) == (EXIT_OK, "")
    document = json.loads(out)
    assert document["type"] == "eth-sign-request"
    fields = document["fields"]
    inputs = KEYSTONE["signRequestWithOrigin"]["input"]
    assert fields["sign_data"] == inputs["signDataHex"]
    assert fields["data_type"] == inputs["dataType"]
    assert fields["chain_id"] == inputs["chainId"]
    assert fields["origin"] == inputs["origin"]
    assert fields["request_id"] == inputs["requestId"]
    assert fields["derivation_path"]["components"] == inputs["path"].removeprefix("m/")


def test_decode_accepts_upper_case_as_in_qr_codes() -> None:
    code, out, _ = run(["decode"], REQUEST_UR.upper() + "\n")
    assert code == EXIT_OK
    assert json.loads(out)["type"] == "eth-sign-request"


def test_encode_then_decode_shuffled_with_30_percent_lost() -> None:
    cbor = request_cbor_hex()
    code, out, _ = run(
        ["encode", "--type", "eth-sign-request", "--max-fragment-length", "20", "--parts", "40"],
        cbor,
    )
    assert code == EXIT_OK
    parts = out.split()
    assert len(parts) == 40
    assert all(p.startswith("ur:eth-sign-request/") for p in parts)
    rng = random.Random(7)
    kept = [p for p in parts if rng.random() >= 0.3]
    rng.shuffle(kept)
    code, out, err = run(["decode"], "\n".join(kept + kept[:3]) + "\n")
    assert (code, err) == (EXIT_OK, "")
    assert json.loads(out)["cbor"] == cbor


def test_encode_prints_the_fragment_count_by_default() -> None:
    cbor = request_cbor_hex()
    code, out, _ = run(
        ["encode", "--type", "eth-sign-request", "--max-fragment-length", "30"], cbor
    )
    assert code == EXIT_OK
    parts = out.split()
    seq_len = int(parts[0].split("/")[1].split("-")[1])
    assert len(parts) == seq_len
    assert [int(p.split("/")[1].split("-")[0]) for p in parts] == list(range(1, seq_len + 1))


def test_encode_uses_the_single_part_form_when_the_message_fits() -> None:
    code, out, _ = run(
        ["encode", "--type", "eth-sign-request", "--max-fragment-length", "1000"],
        request_cbor_hex(),
    )
    assert code == EXIT_OK
    assert out.split() == [REQUEST_UR]


def test_incomplete_input_exits_3_with_progress() -> None:
    cbor = request_cbor_hex()
    _, out, _ = run(["encode", "--type", "eth-sign-request", "--max-fragment-length", "20"], cbor)
    code, stdout, err = run(["decode"], out.split()[0] + "\n")
    assert code == EXIT_INCOMPLETE
    assert stdout == ""
    assert "incomplete" in err and "parts received" in err


def test_empty_input_is_incomplete() -> None:
    code, _, err = run(["decode"], "\n\n")
    assert code == EXIT_INCOMPLETE
    assert "0 parts read" in err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hello\n", "line 1"),
        (REQUEST_UR[:-1] + ("a" if REQUEST_UR[-1] != "a" else "e") + "\n", "line 1"),
        ("\n" + REQUEST_UR[:60] + "\n", "line 2"),
        ("ur:eth-sign-request/\n", "line 1"),
    ],
    ids=["not-a-ur", "corrupted-checksum", "truncated", "empty-body"],
)
def test_invalid_part_exits_2_with_one_line_naming_the_line(text: str, expected: str) -> None:
    code, out, err = run(["decode"], text)
    assert code == EXIT_INVALID
    assert out == ""
    assert err.count("\n") == 1 and expected in err and "Traceback" not in err


def test_parts_of_two_messages_are_refused() -> None:
    cbor = request_cbor_hex()
    _, first, _ = run(["encode", "--type", "eth-sign-request", "--max-fragment-length", "20"], cbor)
    _, second, _ = run(
        ["encode", "--type", "bytes", "--max-fragment-length", "20"], "58" + "40" + "ab" * 64
    )
    code, _, err = run(["decode"], first.split()[0] + "\n" + second.split()[0] + "\n")
    assert code == EXIT_INVALID
    assert "line 2" in err


def test_decode_of_bytes_and_of_an_unknown_type() -> None:
    _, parts, _ = run(["encode", "--type", "bytes", "--max-fragment-length", "100"], "43010203")
    code, out, _ = run(["decode"], parts)
    assert code == EXIT_OK
    assert json.loads(out) == {"type": "bytes", "cbor": "43010203", "fields": {"bytes": "010203"}}
    _, parts, _ = run(["encode", "--type", "x-custom", "--max-fragment-length", "100"], "01")
    code, out, _ = run(["decode"], parts)
    assert code == EXIT_OK
    assert json.loads(out)["fields"] is None


def test_a_known_type_with_a_bad_body_is_refused_by_encode() -> None:
    # A map with an unknown key 99 is not an eth-sign-request.
    code, out, err = run(
        ["encode", "--type", "eth-sign-request", "--max-fragment-length", "100"], "a1186301"
    )
    assert code == EXIT_INVALID
    assert out == "" and "eth-sign-request" in err


@pytest.mark.parametrize("stdin", ["zz", "", "0x"], ids=["not-hex", "empty", "empty-0x"])
def test_encode_refuses_bad_hex(stdin: str) -> None:
    code, out, err = run(["encode", "--type", "bytes", "--max-fragment-length", "100"], stdin)
    assert code == EXIT_INVALID
    assert out == "" and err.startswith("coldsign-ur: invalid input")


def test_encode_refuses_a_bad_type_name() -> None:
    code, _, err = run(["encode", "--type", "Bad/Type", "--max-fragment-length", "100"], "00")
    assert code == EXIT_INVALID
    assert "--type" in err


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    code, _, err = run(["decode", str(tmp_path / "absent.txt")])
    assert code == EXIT_INVALID
    assert "cannot read" in err


def test_the_installed_command_runs_from_a_shell(tmp_path: Path) -> None:
    parts = tmp_path / "parts.txt"
    parts.write_text(REQUEST_UR + "\n")
    result = subprocess.run(
        [sys.executable, "-m", "channel.cli", "decode", str(parts)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == EXIT_OK, result.stderr
    assert json.loads(result.stdout)["type"] == "eth-sign-request"


# --- decode --review ------------------------------------------------------------------------

REVIEW_BOB = Address(b"\xb0" * 20)
# The USDC contract on Ethereum, as in the shipped token registry.
REVIEW_USDC = Address(bytes.fromhex("a0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"))


def review_request_for(nonce: int, data: bytes = b"", value: int = 0) -> EthSignRequest:
    to = REVIEW_USDC if data else REVIEW_BOB
    payload = DynamicFeeTransaction(
        chain_id=1,
        nonce=nonce,
        gas_limit=80_000,
        to=to,
        value=value,
        data=data,
        max_priority_fee_per_gas=10**9,
        max_fee_per_gas=20 * 10**9,
        access_list=(),
    ).unsigned_payload()
    return EthSignRequest(
        payload,
        DataType.TYPED_TRANSACTION,
        Keypath.parse("m/44'/60'/0'/0/0"),
        RequestId(bytes([nonce]) * 16),
        chain_id=1,
    )


def parts_of(ur_type: str, cbor_hex: str, fragment: int = 120) -> str:
    code, parts, err = run(
        ["encode", "--type", ur_type, "--max-fragment-length", str(fragment)], cbor_hex
    )
    assert code == EXIT_OK, err
    return parts


def test_decode_review_prints_the_plain_text_review_of_a_sign_request() -> None:
    request = replace(review_request_for(3, value=10**17), origin="wallet.example")
    parts = parts_of("eth-sign-request", request.to_cbor().hex(), fragment=400)
    assert len(parts.split()) == 1
    code, out, err = run(["decode", "--review"], parts)
    assert (code, err) == (EXIT_OK, "")
    assert out.startswith("== EIP-1559 transaction: native coin transfer ==\n")
    assert "INFO     unverified-origin" in out
    assert "wallet.example [request, unverified]" in out
    assert f"{REVIEW_BOB.grouped()} [decoded]" in out
    assert "0.1 ETH (1 payment)" in out
    assert all(len(line) <= 100 for line in out.splitlines())


def test_decode_review_refuses_the_keystone_example_for_its_chain_id_0() -> None:
    # The published Keystone request signs a legacy transaction whose EIP-155 chainId is 0.
    code, out, err = run(["decode", "--review"], REQUEST_UR + "\n")
    assert (code, out) == (EXIT_INVALID, "")
    assert err.startswith("coldsign-ur: invalid input: eth-sign-request: tx.chain_id")


def test_decode_review_of_a_multi_part_batch() -> None:
    transfer = (
        bytes.fromhex("a9059cbb") + bytes(12) + REVIEW_BOB.raw + (2_500_000).to_bytes(32, "big")
    )
    batch = EthBatchSignRequest(
        (review_request_for(0, value=10**18), review_request_for(1, data=transfer))
    )
    parts = parts_of("eth-batch-sign-request", batch.to_cbor().hex(), fragment=60)
    assert len(parts.split()) > 1
    code, out, err = run(["decode", "--review"], parts)
    assert (code, err) == (EXIT_OK, "")
    assert out.startswith("== Batch of 2 requests ==\n")
    assert "1 ETH (1 payment)" in out and "2.5 USDC (1 payment)" in out
    assert "--- requests[1] ---" in out
    assert all(len(line) <= 100 for line in out.splitlines())


def test_decode_review_refuses_other_types() -> None:
    code, out, err = run(["decode", "--review"], KEYSTONE["signature"]["ur"] + "\n")
    assert (code, out) == (EXIT_INVALID, "")
    assert "--review needs ur:eth-sign-request" in err
    assert err.count("\n") == 1


def test_decode_review_refuses_what_cannot_be_decoded() -> None:
    blob = EthSignRequest(
        b"\x03\xc0", DataType.TYPED_TRANSACTION, Keypath.parse("m/44'/60'/0'/0/0")
    )
    code, out, err = run(["decode", "--review"], parts_of("eth-sign-request", blob.to_cbor().hex()))
    assert (code, out) == (EXIT_INVALID, "")
    assert err.startswith("coldsign-ur: invalid input: eth-sign-request: sign-data")
    assert "EIP-4844" in err and err.count("\n") == 1


def test_decode_review_shows_labels_from_the_operators_registry(tmp_path: Path) -> None:
    registry = tmp_path / "registry.toml"
    registry.write_text(f'[[label]]\naddress = "{REVIEW_BOB.checksummed()}"\nlabel = "Bob cold"\n')
    parts = parts_of("eth-sign-request", review_request_for(3, value=1).to_cbor().hex(), 400)
    code, out, err = run(["decode", "--review", "--registry", str(registry)], parts)
    assert (code, err) == (EXIT_OK, "")
    assert "Bob cold" in out


@pytest.mark.parametrize(
    ("text", "expected"),
    [("[[label]]\naddress = 5\nlabel = 'x'\n", "label[0].address"), ("[[x\n", "not valid TOML")],
)
def test_a_bad_registry_file_is_refused_before_decoding(
    tmp_path: Path, text: str, expected: str
) -> None:
    registry = tmp_path / "registry.toml"
    registry.write_text(text)
    code, out, err = run(["decode", "--review", "--registry", str(registry)], "not a part\n")
    assert (code, out) == (EXIT_INVALID, "")
    assert "--registry" in err and expected in err


def test_registry_without_review_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = run(["decode", "--registry", str(tmp_path / "r.toml")], REQUEST_UR + "\n")
    assert code == EXIT_INVALID
    assert "--registry goes with --review" in err
