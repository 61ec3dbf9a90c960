"""Is the configured chain there? For /health/ready and `emprops doctor`: the RPC answers with
the preset's chain id. The embedded local node is started on demand, so while none runs it is
not a failure (asking would start one)."""

from __future__ import annotations

import asyncio
import json

from emprops.chain.client import ChainClient
from emprops.chain.presets import resolve_chain
from emprops.core.errors import UnavailableError
from emprops.core.settings import Settings


async def check_chain(settings: Settings) -> str:
    """What was found, in a few words; raises an `EmpropsError` saying what is wrong."""
    target = resolve_chain(settings)
    url = target.rpc_url
    if url is None:
        info = settings.data_dir.resolve() / "chain" / "node.json"
        if not info.is_file():
            return "local chain: the embedded node starts on first use"
        url = str(json.loads(info.read_text()).get("url", ""))
        if not url:
            raise UnavailableError(f"{info} names no URL")
    client = ChainClient(target, url)
    await asyncio.to_thread(client.check_chain)
    head = await asyncio.to_thread(lambda: client.w3.eth.block_number)
    return f"{target.name} (chain id {target.chain_id}) at block {head}"
