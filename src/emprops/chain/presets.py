"""Chains by name: what the service needs to know of each, and the configured one resolved."""

from __future__ import annotations

from dataclasses import dataclass

from emprops.core.errors import InvalidInputError
from emprops.core.settings import Settings

# Well-known development keys, funded in their chains' genesis; refused anywhere else.
PYEVM_DEV_KEY = "0x" + "00" * 31 + "01"  # eth-tester's first account
ANVIL_DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"

# 0xSplits v2.2 PushSplitFactory: one address on every chain 0xSplits v2 is deployed to (see
# `emprops.chain.splits`, which calls it).
SPLITS_V2_PUSH_FACTORY = "0x8E8eB0cC6AE34A38B67D5Cf91ACa38f60bc3Ecf4"


@dataclass(frozen=True)
class ChainPreset:
    name: str
    chain_id: int
    confirmations: int
    max_fee_gwei: float
    dev_key: str | None = None  # set on development chains only
    public_rpc: str | None = None  # no public default: production brings its own RPC URL
    # the canonical split factory to use where it has code; None: deploy our own splitter
    splits_factory: str | None = None


PRESETS: dict[str, ChainPreset] = {
    p.name: p
    for p in (
        ChainPreset("local", 1337, 0, 100.0, dev_key=PYEVM_DEV_KEY),
        ChainPreset("anvil", 31337, 0, 100.0, dev_key=ANVIL_DEV_KEY),
        ChainPreset("ethereum", 1, 2, 200.0, splits_factory=SPLITS_V2_PUSH_FACTORY),
        ChainPreset("sepolia", 11155111, 2, 200.0, splits_factory=SPLITS_V2_PUSH_FACTORY),
        ChainPreset("base", 8453, 3, 5.0, splits_factory=SPLITS_V2_PUSH_FACTORY),
        ChainPreset("base-sepolia", 84532, 3, 5.0, splits_factory=SPLITS_V2_PUSH_FACTORY),
        ChainPreset("arbitrum-one", 42161, 3, 5.0, splits_factory=SPLITS_V2_PUSH_FACTORY),
        ChainPreset("arbitrum-sepolia", 421614, 3, 5.0, splits_factory=SPLITS_V2_PUSH_FACTORY),
    )
}


@dataclass(frozen=True)
class ChainTarget:
    """A chain as this process will talk to it."""

    preset: ChainPreset
    rpc_url: str | None  # None: the embedded node, found or started on first use
    signer_key: str
    confirmations: int
    max_fee_wei: int
    rpc_timeout_s: float
    receipt_timeout_s: float

    @property
    def name(self) -> str:
        return self.preset.name

    @property
    def chain_id(self) -> int:
        return self.preset.chain_id


def resolve_chain(settings: Settings, name: str | None = None) -> ChainTarget:
    """The named chain (default: EMPROPS_CHAIN) with this process's RPC URL, key and limits."""
    name = name or settings.chain
    preset = PRESETS.get(name)
    if preset is None:
        raise InvalidInputError(
            f"unknown chain {name!r}; known: {', '.join(PRESETS)}", details={"field": "chain"}
        )
    rpc_url = settings.chain_rpc_url if name == settings.chain else None
    if rpc_url is None and name != "local":
        raise InvalidInputError(
            f"chain {name} needs an RPC URL: set EMPROPS_CHAIN={name} and EMPROPS_CHAIN_RPC_URL",
            details={"field": "chain_rpc_url"},
        )
    key = settings.chain_signer_key.get_secret_value() if settings.chain_signer_key else None
    if key is None:
        if preset.dev_key is None:
            raise InvalidInputError(
                f"chain {name} needs a signer: set EMPROPS_CHAIN_SIGNER_KEY (the development key "
                "is only for local chains)",
                details={"field": "chain_signer_key"},
            )
        key = preset.dev_key
    elif preset.dev_key is None and key.lower() in (PYEVM_DEV_KEY, ANVIL_DEV_KEY):
        raise InvalidInputError(
            f"refusing a well-known development key on {name}: anyone can spend from it",
            details={"field": "chain_signer_key"},
        )
    max_fee = settings.chain_max_fee_gwei or preset.max_fee_gwei
    return ChainTarget(
        preset=preset,
        rpc_url=rpc_url,
        signer_key=key,
        confirmations=preset.confirmations
        if settings.chain_confirmations is None
        else settings.chain_confirmations,
        max_fee_wei=int(max_fee * 10**9),
        rpc_timeout_s=settings.chain_rpc_timeout_s,
        receipt_timeout_s=settings.chain_receipt_timeout_s,
    )
