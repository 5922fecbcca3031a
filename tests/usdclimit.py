"""The USDC rolling-limit fixture the policy-limit tests share: one account, one hot wallet,
per_tx 700 and per_24h 1,000 USDC on chain 1, and EIP-1559 USDC transfers to build requests."""

from __future__ import annotations

from eth_abi.abi import encode as abi_encode
from eth_utils.abi import function_signature_to_4byte_selector

from shared.address import Address
from shared.erc4527 import DataType, EthSignRequest, Keypath
from shared.registry import default_registries
from shared.tx import DynamicFeeTransaction
from signer.keys.bip32 import DerivationPath
from signer.policy import AssetKey, parse_policy

NOW = 1_750_000_000
PATH_TEXT = "m/44'/60'/0'/0/0"
KEYPATH = Keypath.parse(PATH_TEXT)
PATH = DerivationPath.parse(PATH_TEXT)
REGISTRIES = default_registries()
USDC = Address(bytes.fromhex("a0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"))
HOT = Address(bytes.fromhex("5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"))
UNIT = 10**6
USDC_KEY = AssetKey(1, USDC)
GWEI = 10**9

POLICY = parse_policy(f"""\
[policy]
name = "limits under test"
version = 1

[[chain]]
id = 1
max_fee_per_gas_gwei = "100"
max_total_fee_native = "0.05"

[[account]]
path = "{PATH_TEXT}"

[[destination]]
chain = 1
address = "{HOT}"
assets = ["{USDC}"]
label = "Hot wallet"

[[limit]]
chain = 1
asset = "{USDC}"
decimals = 6
per_tx = "700"
per_24h = "1000"
""")


def usdc_request(amount: int, *, nonce: int = 1, max_fee_gwei: int = 30) -> EthSignRequest:
    """An EIP-1559 USDC transfer of ``amount`` whole USDC to the hot wallet."""
    data = function_signature_to_4byte_selector("transfer(address,uint256)") + abi_encode(
        ["address", "uint256"], [HOT.checksummed(), amount * UNIT]
    )
    transaction = DynamicFeeTransaction(
        chain_id=1,
        nonce=nonce,
        gas_limit=80_000,
        to=USDC,
        value=0,
        data=data,
        max_priority_fee_per_gas=GWEI,
        max_fee_per_gas=max_fee_gwei * GWEI,
        access_list=(),
    )
    return EthSignRequest(
        transaction.unsigned_payload(), DataType.TYPED_TRANSACTION, KEYPATH, chain_id=1
    )
