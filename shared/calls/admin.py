"""Known contract-administration calls: Ownable, proxy upgrades and admins, AccessControl roles."""

from __future__ import annotations

from shared.calls.catalog import FunctionSpec, NestedCall
from shared.calls.model import CallKind, Operation

_OZ = "OpenZeppelin/openzeppelin-contracts"
_OWNABLE = f"{_OZ} v5.0.0 contracts/access/Ownable.sol"
_OWNABLE2STEP = f"{_OZ} v5.0.0 contracts/access/Ownable2Step.sol"
_UUPS = f"{_OZ} v4.9.0 contracts/proxy/utils/UUPSUpgradeable.sol"
_TRANSPARENT = f"{_OZ} v4.9.0 contracts/proxy/transparent/TransparentUpgradeableProxy.sol"
_PROXY_ADMIN = f"{_OZ} v4.9.0 contracts/proxy/transparent/ProxyAdmin.sol"
_ACCESS = f"{_OZ} v5.0.0 contracts/access/AccessControl.sol"

# ERC-1967: upgradeToAndCall delegatecalls `data` into the new implementation in the
# proxy's storage, so that payload is an inner delegatecall and is decoded as one.
# OpenZeppelin v5 skips the call when data is empty (v4.9 forces an empty call).
_INIT_CALL = NestedCall(
    to_arg="newImplementation",
    data_arg="data",
    operation=Operation.DELEGATECALL,
    only_if_data=True,
)

FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        "transferOwnership(address)",
        "0xf2fde38b",
        CallKind.OWNERSHIP_CHANGE,
        ("newOwner",),
        _OWNABLE,
    ),
    FunctionSpec(
        "renounceOwnership()",
        "0x715018a6",
        CallKind.OWNERSHIP_CHANGE,
        (),
        _OWNABLE,
        note="leaves the contract without an owner, for ever",
    ),
    FunctionSpec(
        "acceptOwnership()",
        "0x79ba5097",
        CallKind.OWNERSHIP_CHANGE,
        (),
        _OWNABLE2STEP,
    ),
    FunctionSpec(
        "upgradeTo(address)",
        "0x3659cfe6",
        CallKind.UPGRADE,
        ("newImplementation",),
        _UUPS,
        note="same signature on UUPS proxies, transparent proxies and UpgradeableBeacon",
    ),
    FunctionSpec(
        "upgradeToAndCall(address,bytes)",
        "0x4f1ef286",
        CallKind.UPGRADE,
        ("newImplementation", "data"),
        _UUPS,
        inner=_INIT_CALL,
    ),
    FunctionSpec(
        "changeAdmin(address)",
        "0x8f283970",
        CallKind.OWNERSHIP_CHANGE,
        ("newAdmin",),
        _TRANSPARENT,
        note="ERC-1967 admin: the account that may upgrade the proxy",
    ),
    FunctionSpec(
        "upgrade(address,address)",
        "0x99a88ec4",
        CallKind.UPGRADE,
        ("proxy", "implementation"),
        _PROXY_ADMIN,
    ),
    FunctionSpec(
        "upgradeAndCall(address,address,bytes)",
        "0x9623609d",
        CallKind.UPGRADE,
        ("proxy", "implementation", "data"),
        _PROXY_ADMIN,
        inner=NestedCall(
            to_arg="implementation",
            data_arg="data",
            operation=Operation.DELEGATECALL,
            only_if_data=True,
        ),
    ),
    FunctionSpec(
        "changeProxyAdmin(address,address)",
        "0x7eff275e",
        CallKind.OWNERSHIP_CHANGE,
        ("proxy", "newAdmin"),
        _PROXY_ADMIN,
    ),
    FunctionSpec(
        "grantRole(bytes32,address)",
        "0x2f2ff15d",
        CallKind.ROLE_CHANGE,
        ("role", "account"),
        _ACCESS,
    ),
    FunctionSpec(
        "revokeRole(bytes32,address)",
        "0xd547741f",
        CallKind.ROLE_CHANGE,
        ("role", "account"),
        _ACCESS,
    ),
    FunctionSpec(
        "renounceRole(bytes32,address)",
        "0x36568abe",
        CallKind.ROLE_CHANGE,
        ("role", "account"),
        _ACCESS,
    ),
)
