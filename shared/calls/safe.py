"""Known Safe calls: execTransaction, module execution, approveHash and every configuration change.

Configuration changes cover owners, threshold, modules, guards, the fallback handler and
the singleton (the code a Safe proxy runs): ``changeMasterCopy`` up to v1.2.0, and from
v1.3.0 the migration libraries a Safe delegatecalls to switch singleton.
"""

from __future__ import annotations

from shared.calls.catalog import FunctionSpec, NestedCall
from shared.calls.model import CallKind, Operation

_REPO = "safe-global/safe-smart-account"
_SAFE = f"{_REPO} v1.4.1 contracts/Safe.sol"
_OWNERS = f"{_REPO} v1.4.1 contracts/base/OwnerManager.sol"
_MODULES = f"{_REPO} v1.4.1 contracts/base/ModuleManager.sol"
_GUARD = f"{_REPO} v1.4.1 contracts/base/GuardManager.sol"
_FALLBACK = f"{_REPO} v1.4.1 contracts/base/FallbackManager.sol"
_MODULE_GUARD = f"{_REPO} v1.5.0 contracts/base/ModuleManager.sol"
_MASTER_COPY = f"{_REPO} v1.1.1 contracts/common/MasterCopy.sol"
_DEPLOYMENTS = "safe-global/safe-deployments src/assets/v1.4.1"
_MIGRATION = f"{_DEPLOYMENTS}/safe_migration.json (ABI of SafeMigration)"
_MIGRATION_MAIN = f"{_REPO} main (commit 0174534a) contracts/libraries/SafeMigration.sol"
_TO_L2 = (
    f"{_DEPLOYMENTS}/safe_to_l2_migration.json; {_REPO} contracts/libraries/SafeToL2Migration.sol"
)
_TO_L2_SETUP = (
    f"{_DEPLOYMENTS}/safe_to_l2_setup.json; {_REPO} contracts/libraries/SafeToL2Setup.sol"
)

_EXEC = NestedCall(to_arg="to", data_arg="data", value_arg="value", operation_arg="operation")
_DELEGATED = "only works when a Safe delegatecalls it"

FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        "execTransaction(address,uint256,bytes,uint8,uint256,uint256,uint256,address,address,bytes)",
        "0x6a761202",
        CallKind.SAFE_EXEC,
        (
            "to",
            "value",
            "data",
            "operation",
            "safeTxGas",
            "baseGas",
            "gasPrice",
            "gasToken",
            "refundReceiver",
            "signatures",
        ),
        _SAFE,
        inner=_EXEC,
    ),
    FunctionSpec(
        "execTransactionFromModule(address,uint256,bytes,uint8)",
        "0x468721a7",
        CallKind.SAFE_EXEC,
        ("to", "value", "data", "operation"),
        _MODULES,
        inner=_EXEC,
    ),
    FunctionSpec(
        "execTransactionFromModuleReturnData(address,uint256,bytes,uint8)",
        "0x5229073f",
        CallKind.SAFE_EXEC,
        ("to", "value", "data", "operation"),
        _MODULES,
        inner=_EXEC,
    ),
    FunctionSpec(
        "approveHash(bytes32)",
        "0xd4d9bdcd",
        CallKind.SAFE_HASH_APPROVAL,
        ("hashToApprove",),
        _SAFE,
        note="approves a Safe transaction known only by its hash",
    ),
    FunctionSpec(
        "setup(address[],uint256,address,bytes,address,address,uint256,address)",
        "0xb63e800d",
        CallKind.SAFE_ADMIN,
        (
            "owners",
            "threshold",
            "to",
            "data",
            "fallbackHandler",
            "paymentToken",
            "payment",
            "paymentReceiver",
        ),
        _SAFE,
        # Safe.setup -> setupModules(to, data): a delegatecall when `to` is not zero.
        inner=NestedCall(
            to_arg="to", data_arg="data", operation=Operation.DELEGATECALL, only_if_target=True
        ),
    ),
    FunctionSpec(
        "addOwnerWithThreshold(address,uint256)",
        "0x0d582f13",
        CallKind.SAFE_ADMIN,
        ("owner", "threshold"),
        _OWNERS,
    ),
    FunctionSpec(
        "removeOwner(address,address,uint256)",
        "0xf8dc5dd9",
        CallKind.SAFE_ADMIN,
        ("prevOwner", "owner", "threshold"),
        _OWNERS,
    ),
    FunctionSpec(
        "swapOwner(address,address,address)",
        "0xe318b52b",
        CallKind.SAFE_ADMIN,
        ("prevOwner", "oldOwner", "newOwner"),
        _OWNERS,
    ),
    FunctionSpec(
        "changeThreshold(uint256)",
        "0x694e80c3",
        CallKind.SAFE_ADMIN,
        ("threshold",),
        _OWNERS,
    ),
    FunctionSpec(
        "enableModule(address)",
        "0x610b5925",
        CallKind.SAFE_ADMIN,
        ("module",),
        _MODULES,
        note="a module executes Safe transactions without owner signatures",
    ),
    FunctionSpec(
        "disableModule(address,address)",
        "0xe009cfde",
        CallKind.SAFE_ADMIN,
        ("prevModule", "module"),
        _MODULES,
    ),
    FunctionSpec(
        "setGuard(address)",
        "0xe19a9dd9",
        CallKind.SAFE_ADMIN,
        ("guard",),
        _GUARD,
        note="a guard can block every Safe transaction",
    ),
    FunctionSpec(
        "setModuleGuard(address)",
        "0xe068df37",
        CallKind.SAFE_ADMIN,
        ("moduleGuard",),
        _MODULE_GUARD,
    ),
    FunctionSpec(
        "setFallbackHandler(address)",
        "0xf08a0323",
        CallKind.SAFE_ADMIN,
        ("handler",),
        _FALLBACK,
        note="the handler answers every call the Safe does not implement",
    ),
    FunctionSpec(
        "changeMasterCopy(address)",
        "0x7de7edef",
        CallKind.SAFE_SINGLETON_CHANGE,
        ("masterCopy",),
        _MASTER_COPY,
    ),
    FunctionSpec(
        "migrateSingleton()",
        "0xf6682ab0",
        CallKind.SAFE_SINGLETON_CHANGE,
        (),
        _MIGRATION,
        note=_DELEGATED,
    ),
    FunctionSpec(
        "migrateWithFallbackHandler()",
        "0xed007fc6",
        CallKind.SAFE_SINGLETON_CHANGE,
        (),
        _MIGRATION,
        note=_DELEGATED,
    ),
    FunctionSpec(
        "migrateL2Singleton()",
        "0x07f464a4",
        CallKind.SAFE_SINGLETON_CHANGE,
        (),
        _MIGRATION,
        note=_DELEGATED,
    ),
    FunctionSpec(
        "migrateL2WithFallbackHandler()",
        "0x68cb3d94",
        CallKind.SAFE_SINGLETON_CHANGE,
        (),
        _MIGRATION,
        note=_DELEGATED,
    ),
    FunctionSpec(
        "migrateSingleton(address)",
        "0xff66c04c",
        CallKind.SAFE_SINGLETON_CHANGE,
        ("target",),
        _MIGRATION_MAIN,
        note=_DELEGATED,
    ),
    FunctionSpec(
        "migrateWithFallbackHandler(address,address)",
        "0x4c7140d2",
        CallKind.SAFE_SINGLETON_CHANGE,
        ("target", "fallbackHandler"),
        _MIGRATION_MAIN,
        note=_DELEGATED,
    ),
    FunctionSpec(
        "migrateL2Singleton(address)",
        "0x549276c7",
        CallKind.SAFE_SINGLETON_CHANGE,
        ("target",),
        _MIGRATION_MAIN,
        note=_DELEGATED,
    ),
    FunctionSpec(
        "migrateL2WithFallbackHandler(address,address)",
        "0xd76d5cbf",
        CallKind.SAFE_SINGLETON_CHANGE,
        ("target", "fallbackHandler"),
        _MIGRATION_MAIN,
        note=_DELEGATED,
    ),
    FunctionSpec(
        "migrateToL2(address)",
        "0xef2624ae",
        CallKind.SAFE_SINGLETON_CHANGE,
        ("l2Singleton",),
        _TO_L2,
        note=_DELEGATED,
    ),
    FunctionSpec(
        "migrateFromV111(address,address)",
        "0xd9a20812",
        CallKind.SAFE_SINGLETON_CHANGE,
        ("l2Singleton", "fallbackHandler"),
        _TO_L2,
        note=_DELEGATED,
    ),
    FunctionSpec(
        "setupToL2(address)",
        "0xfe51f643",
        CallKind.SAFE_SINGLETON_CHANGE,
        ("l2Singleton",),
        _TO_L2_SETUP,
        note=_DELEGATED,
    ),
)
