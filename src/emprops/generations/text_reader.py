"""Reading the `.txt` URLs a run's prompts inline: a variable whose value is a text file's URL,
and a step whose output is a text file. Store URLs are read through the blob store; any other
URL through the outbound client, which refuses private addresses, caps size and time."""

from __future__ import annotations

from emprops.storage import BlobStore
from emprops.worker.connectors.job_inputs import load_input, outbound_client
from emprops.worker.connectors.outbound_http import OutboundPolicy
from emprops.workflows.engine import TextReader

MAX_TEXT_BYTES = 1 << 20


def blob_text_reader(store: BlobStore | None, policy: OutboundPolicy | None = None) -> TextReader:
    """A TextReader for the engine: the text (UTF-8) behind a URL, at most 1 MiB of it."""

    async def read(url: str) -> str:
        if "://" not in url:
            raise ValueError(f"{url!r} is not a URL")
        async with outbound_client(policy, service="prompt text") as client:
            data = await load_input(
                url, store=store, client=client, limit=MAX_TEXT_BYTES, service="prompt text"
            )
        return data.decode("utf-8", "replace")

    return read
