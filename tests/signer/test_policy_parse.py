"""Policy files: a valid policy parses to exact base units; every mistake names its line."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.address import Address
from signer.errors import PolicyFileError
from signer.keys.bip32 import DerivationPath
from signer.policy import AssetKey, load_policy, parse_policy, parse_policy_bytes, policy_template
from signer.policy.model import ApprovalVia, SafeProfile
from signer.policy.parse import MAX_POLICY_BYTES

USDC = Address(bytes.fromhex("a0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"))
HOT = Address(bytes.fromhex("5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"))
SAFE = Address(bytes.fromhex("dbf03b407c01e7cd3cbea99509d93f8dddc8c6fb"))
# secp256k1 generator G, compressed (SEC 2 §2.4.1): the public key of private key 1, whose
# address is the well-known 0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf.
G_COMPRESSED = "0x0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
KEY_ONE_ADDRESS = "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"

FULL = """\
[policy]
name = "full"
version = 7

[[chain]]
id = 1
label = "Ethereum"
max_fee_per_gas_gwei = "150.5"
max_total_fee_native = "0.05"

[[chain]]
id = 8453

[[account]]
path = "m/44'/60'/0'/0/3"
label = "cold"

[[destination]]
chain = 1
address = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
assets = [
  "native",
  "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48",
]
label = "Hot"

[[limit]]
chain = 1
asset = "native"
per_tx = "1.5"
per_24h = "10"

[[limit]]
chain = 1
asset = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
decimals = 6
per_tx = "1000.25"
per_24h = "5000"

[[call]]
chain = 1
to = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
selector = "0xd0e30db0"
label = "WETH deposit"

[[approval]]
chain = 1
token = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
spender = "0x000000000022D473030F116dDEE9F6B43aC78BA3"
via = ["approve", "permit2"]
decimals = 6
max_amount = "100"

[[typed_data]]
chain = 1
verifying_contract = "0x00000000000000ADc04C56Bf30aC9d3c0aAF14dC"
primary_type = "OrderComponents"

[[personal_message]]
prefix = "Sign in to example.com"

[[multisend_call_only]]
chain = 1
address = "0x9641d764fc13c8B624c04430C7356C1C7C8102e2"

[[safe]]
chain = 1
address = "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB"
profile = "governance"
admin_functions = ["addOwnerWithThreshold", "changeThreshold"]
allow_gas_refund = true

[[operator]]
public_key = "0x0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
label = "ops"
"""

HOT_TEXT = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
USDC_TEXT = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
DEST = '\n[[destination]]\nchain = 1\naddress = "' + HOT_TEXT + '"\n'
ACCOUNT = "\n[[account]]\npath = \"m/44'/60'/0'/0/0\"\n"

# A minimal valid policy the mistakes below are made in; "#!" marks the line to be named.
BASE = """\
[policy]
name = "base"
version = 1

[[chain]]
id = 1
"""


def test_full_policy_parses_to_base_units() -> None:
    policy = parse_policy(FULL)
    assert (policy.name, policy.version) == ("full", 7)
    assert policy.sha256 == hashlib.sha256(FULL.encode()).digest()
    chain = policy.chain(1)
    assert chain is not None
    assert chain.max_fee_per_gas == 150_500_000_000
    assert chain.max_total_fee == 5 * 10**16
    base = policy.chain(8453)
    assert base is not None and base.max_fee_per_gas is None and base.max_total_fee is None
    assert policy.account(DerivationPath.parse("m/44'/60'/0'/0/3")) is not None
    destination = policy.destination(1, HOT)
    assert destination is not None
    assert destination.assets == (AssetKey(1, None), AssetKey(1, USDC))
    native = policy.limit(AssetKey(1, None))
    assert native is not None and (native.per_tx, native.per_24h) == (15 * 10**17, 10**19)
    usdc = policy.limit(AssetKey(1, USDC))
    assert usdc is not None and (usdc.per_tx, usdc.per_24h) == (1_000_250_000, 5_000_000_000)
    assert policy.calls[0].selector == bytes.fromhex("d0e30db0")
    approval = policy.approvals[0]
    assert approval.via == {ApprovalVia.APPROVE, ApprovalVia.PERMIT2}
    assert approval.max_amount == 100_000_000 and not approval.allow_unlimited
    safe = policy.safe(1, SAFE)
    assert safe is not None and safe.profile is SafeProfile.GOVERNANCE
    assert safe.admin_functions == {"addOwnerWithThreshold", "changeThreshold"}
    assert safe.allow_gas_refund and not safe.allow_pre_1_3 and not safe.allow_messages
    assert policy.operators[0].address.checksummed() == KEY_ONE_ADDRESS


def test_rules_name_their_table_path_and_lines() -> None:
    policy = parse_policy(FULL)
    lines = FULL.splitlines()
    limit = policy.limits[1]
    assert limit.ref.path == "limit[1]"
    assert lines[limit.ref.line - 1] == "[[limit]]"
    per_24h = limit.ref.key("per_24h")
    assert per_24h.path == "limit[1].per_24h"
    assert lines[per_24h.line - 1] == 'per_24h = "5000"'


def test_policy_hash_is_of_the_exact_file_bytes(tmp_path: Path) -> None:
    crlf = FULL.replace("\n", "\r\n").encode()
    path = tmp_path / "policy.toml"
    path.write_bytes(crlf)
    policy = load_policy(path)
    assert policy.sha256 == hashlib.sha256(crlf).digest()
    assert policy.hash_hex == hashlib.sha256(crlf).hexdigest()
    assert parse_policy_bytes(crlf) == policy


def test_a_missing_file_is_a_policy_file_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyFileError, match="cannot read"):
        load_policy(tmp_path / "absent.toml")


def test_template_parses_and_allows_nothing() -> None:
    policy = parse_policy(policy_template("Treasury signer"))
    assert policy.name == "Treasury signer"
    rules = (
        policy.chains,
        policy.accounts,
        policy.destinations,
        policy.limits,
        policy.calls,
        policy.approvals,
        policy.typed_data,
        policy.personal_messages,
        policy.multisend_call_only,
        policy.safes,
        policy.operators,
    )
    assert all(not rule for rule in rules)


@pytest.mark.parametrize("name", ["", 'a "quoted" name', "back\\slash", "x" * 65, "tab\there"])
def test_template_refuses_names_that_would_break_it(name: str) -> None:
    with pytest.raises(PolicyFileError):
        policy_template(name)


# (case id, policy text with the expected line marked "#!", fragment of the message)
BAD: list[tuple[str, str, str]] = [
    ("toml-syntax", BASE + "label = #!\n", "not valid TOML"),
    ("toml-duplicate-key", BASE + 'label = "a"\nlabel = "b" #!\n', "not valid TOML"),
    ("missing-policy", "#!\n[[chain]]\nid = 1\n", "missing the [policy] table"),
    ("policy-as-array", '[[policy]] #!\nname = "x"\nversion = 1\n', "[policy] must be a table"),
    ("policy-missing-version", '[policy] #!\nname = "x"\n', "missing required key 'version'"),
    ("version-zero", '[policy]\nname = "x"\nversion = 0 #!\n', "between 1"),
    ("unknown-table", BASE + "\n[[destinations]] #!\nchain = 1\n", "unknown table"),
    ("unknown-key", BASE + 'fee = "1" #!\n', "unknown key"),
    ("missing-key", BASE + "\n[[account]] #!\nlabel = 'x'\n", "missing required key 'path'"),
    ("string-for-int", BASE + '\n[[chain]]\nid = "10" #!\n', "must be a whole number"),
    ("bool-for-int", BASE + "\n[[chain]]\nid = true #!\n", "must be a whole number"),
    ("chain-id-zero", BASE + "\n[[chain]]\nid = 0 #!\n", "between 1"),
    ("duplicate-chain", BASE + "\n[[chain]] #!\nid = 1\n", "duplicate entry"),
    ("label-non-printable", BASE + 'label = "x\\u202ey" #!\n', "non-printable"),
    ("label-not-text", BASE + "label = 5 #!\n", "must be a string"),
    ("fee-float", BASE + "max_fee_per_gas_gwei = 1.5 #!\n", "never floats"),
    ("fee-integer", BASE + "max_fee_per_gas_gwei = 150 #!\n", "decimal strings"),
    ("fee-too-precise", BASE + 'max_fee_per_gas_gwei = "1.0000000001" #!\n', "decimal places"),
    ("amount-exponent", BASE + 'max_total_fee_native = "1e3" #!\n', "not a decimal amount"),
    ("amount-negative", BASE + 'max_total_fee_native = "-1" #!\n', "not a decimal amount"),
    ("amount-space", BASE + 'max_total_fee_native = " 1" #!\n', "not a decimal amount"),
    ("amount-huge", BASE + 'max_total_fee_native = "1' + "0" * 70 + '" #!\n', "out of range"),
    ("bad-path", BASE + "\n[[account]]\npath = \"m/44'/60'/x\" #!\n", "not a number"),
    ("not-ethereum-path", BASE + "\n[[account]]\npath = \"m/44'/0'/0'/0/0\" #!\n", "not below"),
    ("path-not-text", BASE + "\n[[account]]\npath = 44 #!\n", "derivation path string"),
    (
        "duplicate-account",
        BASE + ACCOUNT + "\n[[account]] #!\npath = \"m/44'/60'/0'/0/0\"\n",
        "duplicate entry: the same as account[0]",
    ),
    (
        "address-lowercase",
        BASE + '\n[[destination]]\nchain = 1\naddress = "' + HOT_TEXT.lower() + '" #!\n'
        'assets = ["native"]\nlabel = "x"\n',
        "checksummed form: 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    ),
    (
        "address-bad-checksum",
        BASE + '\n[[destination]]\nchain = 1\naddress = "0x5AAe' + HOT_TEXT[6:] + '" #!\n'
        'assets = ["native"]\nlabel = "x"\n',
        "wrong EIP-55 checksum",
    ),
    (
        "address-short",
        BASE + '\n[[destination]]\nchain = 1\naddress = "0x5aAeb605" #!\nassets = ["native"]\n'
        'label = "x"\n',
        "is not an address",
    ),
    (
        "address-not-hex",
        BASE + '\n[[destination]]\nchain = 1\naddress = "0x' + "g" * 40 + '" #!\n'
        'assets = ["native"]\nlabel = "x"\n',
        "is not an address",
    ),
    (
        "asset-element-lowercase",
        BASE
        + '\n[[destination]]\nchain = 1\naddress = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"\n'
        + 'assets = [\n  "native",\n  "'
        + USDC_TEXT.lower()
        + '", #!\n]\nlabel = "x"\n',
        "checksummed form",
    ),
    (
        "asset-unknown-word",
        BASE
        + '\n[[destination]]\nchain = 1\naddress = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"\n'
        'assets = ["ETH"] #!\nlabel = "x"\n',
        '"native" or a token contract address',
    ),
    (
        "asset-listed-twice",
        BASE
        + '\n[[destination]]\nchain = 1\naddress = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"\n'
        'assets = [\n  "native",\n  "native", #!\n]\nlabel = "x"\n',
        "listed twice",
    ),
    (
        "assets-empty",
        BASE
        + '\n[[destination]]\nchain = 1\naddress = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"\n'
        'assets = [] #!\nlabel = "x"\n',
        "must not be empty",
    ),
    (
        "destination-without-label",
        BASE
        + '\n[[destination]] #!\nchain = 1\naddress = "'
        + HOT_TEXT
        + '"\nassets = ["native"]\n',
        "missing required key 'label'",
    ),
    (
        "duplicate-destination",
        BASE
        + '\n[[destination]]\nchain = 1\naddress = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"\n'
        'assets = ["native"]\nlabel = "x"\n'
        '\n[[destination]] #!\nchain = 1\naddress = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"\n'
        'assets = ["native"]\nlabel = "y"\n',
        "duplicate entry: the same as destination[0]",
    ),
    (
        "chain-not-listed",
        BASE
        + '\n[[destination]]\nchain = 5 #!\naddress = "'
        + HOT_TEXT
        + '"\nassets = ["native"]\nlabel = "x"\n',
        "chain 5 is not listed",
    ),
    (
        "limit-amount-integer",
        BASE + '\n[[limit]]\nchain = 1\nasset = "native"\nper_tx = 10 #!\nper_24h = "100"\n',
        "decimal strings",
    ),
    (
        "limit-too-precise",
        BASE + '\n[[limit]]\nchain = 1\nasset = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"\n'
        'decimals = 6\nper_tx = "0.0000001" #!\nper_24h = "100"\n',
        "7 decimal places; this asset has 6",
    ),
    (
        "limit-token-without-decimals",
        BASE + '\n[[limit]] #!\nchain = 1\nasset = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"\n'
        'per_tx = "1"\nper_24h = "100"\n',
        "must state the token's decimals",
    ),
    (
        "limit-decimals-out-of-range",
        BASE + '\n[[limit]]\nchain = 1\nasset = "native"\ndecimals = 99 #!\nper_tx = "1"\n'
        'per_24h = "100"\n',
        "between 0 and 36",
    ),
    (
        "limit-per-tx-above-window",
        BASE + '\n[[limit]]\nchain = 1\nasset = "native"\nper_tx = "101" #!\nper_24h = "100"\n',
        "larger than per_24h",
    ),
    (
        "limit-asset-not-text",
        BASE + '\n[[limit]]\nchain = 1\nasset = 0 #!\nper_tx = "1"\nper_24h = "100"\n',
        "must be a string",
    ),
    (
        "duplicate-limit",
        BASE + '\n[[limit]]\nchain = 1\nasset = "native"\nper_tx = "1"\nper_24h = "100"\n'
        '\n[[limit]] #!\nchain = 1\nasset = "native"\nper_tx = "2"\nper_24h = "100"\n',
        "duplicate entry: the same as limit[0]",
    ),
    (
        "selector-malformed",
        BASE + '\n[[call]]\nchain = 1\nto = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"\n'
        'selector = "deposit()" #!\n',
        "4-byte selector",
    ),
    (
        "approval-unknown-via",
        BASE + '\n[[approval]]\nchain = 1\ntoken = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"\n'
        'spender = "0x000000000022D473030F116dDEE9F6B43aC78BA3"\nvia = [\n  "approve",\n'
        '  "infinite", #!\n]\n',
        '"infinite" is not one of',
    ),
    (
        "approval-max-and-unlimited",
        BASE + '\n[[approval]]\nchain = 1\ntoken = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"\n'
        'spender = "0x000000000022D473030F116dDEE9F6B43aC78BA3"\ndecimals = 6\n'
        'max_amount = "1" #!\nallow_unlimited = true\n',
        "contradicts allow_unlimited",
    ),
    (
        "approval-max-without-decimals",
        BASE
        + '\n[[approval]] #!\nchain = 1\ntoken = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"\n'
        'spender = "0x000000000022D473030F116dDEE9F6B43aC78BA3"\nmax_amount = "1"\n',
        "needs the token's decimals",
    ),
    (
        "approval-decimals-alone",
        BASE + '\n[[approval]]\nchain = 1\ntoken = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"\n'
        'spender = "0x000000000022D473030F116dDEE9F6B43aC78BA3"\ndecimals = 6 #!\n',
        "only used with max_amount",
    ),
    (
        "approval-unlimited-not-bool",
        BASE + '\n[[approval]]\nchain = 1\ntoken = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"\n'
        'spender = "0x000000000022D473030F116dDEE9F6B43aC78BA3"\nallow_unlimited = "yes" #!\n',
        "true or false",
    ),
    (
        "typed-data-bad-type-name",
        BASE + "\n[[typed_data]]\nchain = 1\n"
        'verifying_contract = "0x00000000000000ADc04C56Bf30aC9d3c0aAF14dC"\n'
        'primary_type = "Order Components" #!\n',
        "EIP-712 struct name",
    ),
    (
        "personal-prefix-too-short",
        BASE + '\n[[personal_message]]\nprefix = "Sign" #!\n',
        "at least 8 characters",
    ),
    (
        "safe-bad-profile",
        BASE + '\n[[safe]]\nchain = 1\naddress = "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB"\n'
        'profile = "admin" #!\n',
        'must be "owner" or "governance"',
    ),
    (
        "safe-owner-with-admin-functions",
        BASE + '\n[[safe]]\nchain = 1\naddress = "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB"\n'
        'profile = "owner"\nadmin_functions = ["changeThreshold"] #!\n',
        'only allowed with profile = "governance"',
    ),
    (
        "safe-governance-without-functions",
        BASE + '\n[[safe]] #!\nchain = 1\naddress = "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB"\n'
        'profile = "governance"\n',
        "must list its admin_functions",
    ),
    (
        "safe-unknown-admin-function",
        BASE + '\n[[safe]]\nchain = 1\naddress = "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB"\n'
        'profile = "governance"\nadmin_functions = [\n  "changeThreshold",\n'
        '  "transferOwnership", #!\n]\n',
        "is not a Safe admin function",
    ),
    (
        "operator-key-and-address",
        BASE
        + '\n[[operator]] #!\npublic_key = "'
        + G_COMPRESSED
        + '"\naddress = "'
        + KEY_ONE_ADDRESS
        + '"\n',
        "exactly one of public_key or address",
    ),
    (
        "operator-neither",
        BASE + '\n[[operator]] #!\nlabel = "ops"\n',
        "exactly one of public_key or address",
    ),
    (
        "operator-not-on-curve",
        BASE + '\n[[operator]]\npublic_key = "0x02' + "ff" * 32 + '" #!\n',
        "not a point on secp256k1",
    ),
    (
        "operator-key-length",
        BASE + '\n[[operator]]\npublic_key = "0x0279be" #!\n',
        "33 or 65 bytes",
    ),
    (
        "operator-key-not-hex",
        BASE + '\n[[operator]]\npublic_key = "0xzz" #!\n',
        "is not hex",
    ),
    (
        "table-as-value",
        BASE + "account = \"m/44'/60'/0'/0/0\" #!\n",
        "unknown key",
    ),
    (
        "array-as-value",
        '[policy]\nname = "x"\nversion = 1\nchain = 5 #!\n',
        "unknown key",
    ),
    (
        "top-level-array-not-tables",
        'chain = 5 #!\n[policy]\nname = "x"\nversion = 1\n',
        "must be an array of tables",
    ),
]


@pytest.mark.parametrize(("case", "text", "fragment"), BAD, ids=[case for case, _, _ in BAD])
def test_each_mistake_names_its_line(case: str, text: str, fragment: str) -> None:
    marked = [number for number, line in enumerate(text.splitlines(), 1) if "#!" in line]
    assert len(marked) == 1, case
    with pytest.raises(PolicyFileError) as caught:
        parse_policy(text)
    assert caught.value.line == marked[0], str(caught.value)
    assert fragment in str(caught.value)
    assert str(caught.value).startswith(f"line {marked[0]}: ")


def test_invalid_utf8_names_its_line() -> None:
    data = BASE.encode() + b'label = "caf\xe9"\n'
    with pytest.raises(PolicyFileError, match="not valid UTF-8") as caught:
        parse_policy_bytes(data)
    assert caught.value.line == 7


def test_oversized_file_is_refused_before_parsing() -> None:
    with pytest.raises(PolicyFileError, match="larger than") as caught:
        parse_policy_bytes(b"#" * (MAX_POLICY_BYTES + 1))
    assert caught.value.line == 1
    with pytest.raises(PolicyFileError, match="larger than"):
        parse_policy("#" * (MAX_POLICY_BYTES + 1))


def test_error_at_end_of_document_names_the_last_line() -> None:
    text = BASE + '[[account]]\npath = "m/44'
    with pytest.raises(PolicyFileError, match="not valid TOML") as caught:
        parse_policy(text)
    assert caught.value.line == len(text.splitlines())


@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=len(FULL)),
            st.integers(min_value=0, max_value=3),
            st.text(alphabet=st.sampled_from("01xX\"=[]#.\n'abcdefABCDEF_ -\\"), max_size=4),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_mutated_policies_parse_or_name_a_line(edits: list[tuple[int, int, str]]) -> None:
    text = FULL
    for position, cut, insert in edits:
        position = min(position, len(text))
        text = text[:position] + insert + text[position + cut :]
    try:
        parse_policy(text)
    except PolicyFileError as error:
        assert error.line is not None
        assert 1 <= error.line <= max(1, len(text.splitlines()))
