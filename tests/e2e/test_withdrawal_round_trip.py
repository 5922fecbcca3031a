"""Watcher and the real ``coldsign-signer`` CLI on a real anvil: 50 ETH and ERC-20 withdrawals.

pair (signer export-account → watcher pair) → intake 50 withdrawals → build → the signer's
headless ``sign`` → import → broadcast → confirmed, every balance equal to the file.
"""

from __future__ import annotations

from pathlib import Path

from anvil import Anvil
from watcherlab import DevKeys, Lab, RealSigner, withdrawal_policy

from watcher.attestation import Attester

CHAIN_ID = 31337
WITHDRAWALS = 50
# A test-only operator key (the secp256k1 example key of eth-account's documentation).
OPERATOR_SECRET = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")


def _policy(destinations: list[str], token: str | None) -> str:
    return withdrawal_policy("e2e withdrawals", destinations, limit="100000", token=token)


def _registry(token: str) -> str:
    return "\n".join(
        [
            "[[chain]]",
            f"id = {CHAIN_ID}",
            'name = "anvil"',
            'symbol = "ETH"',
            "",
            "[[token]]",
            f"chain = {CHAIN_ID}",
            f'address = "{token}"',
            'symbol = "TKN"',
            "decimals = 18",
            "",
        ]
    )


def test_fifty_withdrawals_through_the_real_signer(
    tmp_path: Path, e2e_chain: Anvil, keys: DevKeys
) -> None:
    lab = Lab(tmp_path / "watcher", e2e_chain, keys)
    source = keys.address(0)
    token = lab.deploy_token(source, 10**9 * 10**18)
    lab.configure(tokens=((token, "TKN"),))
    cold = RealSigner(tmp_path)
    cold.pair(lab)
    destinations = [keys.address(10 + i) for i in range(5)]
    cold.write_policy(_policy(destinations, token))
    (cold.home / "registry.toml").write_text(_registry(token))

    rows = ["id,chain,asset,destination,amount,memo"]
    expected_eth = dict.fromkeys(destinations, 0)
    expected_tkn = dict.fromkeys(destinations, 0)
    for i in range(WITHDRAWALS):
        dest = destinations[i % len(destinations)]
        if i % 2:
            rows.append(f"e2e-{i},anvil,ETH,{dest},0.{i + 1:03d},payout {i}")
            expected_eth[dest] += (i + 1) * 10**15
        else:
            rows.append(f"e2e-{i},anvil,TKN,{dest},{i + 1}.5,payout {i}")
            expected_tkn[dest] += (i + 1) * 10**18 + 5 * 10**17
    eth_before = {d: e2e_chain.balance(d) for d in destinations}
    lab.ok("intake", str(lab.write("withdrawals.csv", "\n".join(rows) + "\n")))
    lab.ok("build")
    [request] = lab.request_files()

    response = tmp_path / "response.txt"
    signed = cold.run_sign(request, response)
    assert signed.returncode == 0, signed.stdout[-3000:] + signed.stderr
    lab.ok("import", str(response))
    lab.ok("broadcast")
    lab.ok("status")
    assert set(lab.statuses().values()) == {"confirmed"}
    assert len(lab.statuses()) == WITHDRAWALS
    for dest in destinations:
        assert e2e_chain.balance(dest) - eth_before[dest] == expected_eth[dest]
        assert lab.token_balance(token, dest) == expected_tkn[dest]


def test_a_policy_pinning_the_operator_signs_only_attested_requests(
    tmp_path: Path, e2e_chain: Anvil, keys: DevKeys
) -> None:
    lab = Lab(tmp_path / "watcher", e2e_chain, keys)
    operator_key = tmp_path / "operator.key"
    operator_key.write_text(OPERATOR_SECRET.hex() + "\n")
    operator_key.chmod(0o600)
    lab.configure()
    cold = RealSigner(tmp_path)
    cold.pair(lab)
    dest = keys.address(10)
    operator = Attester(OPERATOR_SECRET).address.checksummed()
    cold.write_policy(
        _policy([dest], None) + f'\n[[operator]]\naddress = "{operator}"\nlabel = "desk"\n'
    )
    lab.ok(
        "intake",
        str(lab.write("one.csv", f"id,chain,asset,destination,amount\nx1,anvil,ETH,{dest},1\n")),
    )
    lab.ok("build")
    [unattested] = lab.request_files()
    refused = cold.run_sign(unattested, tmp_path / "refused.txt")
    assert refused.returncode == 3, refused.stdout[-2000:] + refused.stderr

    # The same withdrawal, attested this time (a second watcher home with the operator key).
    attested_lab = Lab(tmp_path / "watcher2", e2e_chain, keys)
    attested_lab.configure(extra=f'\n[operator]\nkey_file = "{operator_key}"\n')
    cold.pair(attested_lab)
    attested_lab.ok(
        "intake",
        str(
            attested_lab.write(
                "one2.csv", f"id,chain,asset,destination,amount\nx2,anvil,ETH,{dest},1\n"
            )
        ),
    )
    attested_lab.ok("build")
    [attested] = attested_lab.request_files()
    response = tmp_path / "attested.txt"
    signed = cold.run_sign(attested, response)
    assert signed.returncode == 0, signed.stdout[-2000:] + signed.stderr
    attested_lab.ok("import", str(response))
    attested_lab.ok("broadcast")
    attested_lab.ok("status")
    assert attested_lab.statuses() == {"x2": "confirmed"}
