"""`emprops worker` with one more connector, `probe` (ours_probe.py), for the latency measurement.

The runtime, broker and CLI are the real ones; only the connector table gains an entry, the way a
deployment adds its own connector. Arguments are those of `emprops worker`."""

from __future__ import annotations

import sys

from emprops.worker.connectors import BUILTIN_CONNECTORS

BUILTIN_CONNECTORS["probe"] = "ours_probe:ProbeConnector"

from emprops.cli import app  # noqa: E402 - after the registration above

if __name__ == "__main__":
    app(["worker", *sys.argv[1:]])
