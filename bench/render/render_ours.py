"""Our `layers` renderer over a planned collection, one token after another in one process, as a
worker's pool process runs them: the layer set opened once, decoded pieces cached.

    python bench/render/render_ours.py PLAN.json OUT_DIR

PLAN.json: {"config": path, "sample_every": n, "tokens": [{"edition", "configuration", "traits"}]}
Prints one JSON line: wall time, per-token times, RSS samples, peak RSS, PNG sizes.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

from emprops.art.layers import PieceCache, open_layer_set, render_token


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


def main(plan_path: str, out_dir: str) -> None:
    plan = json.loads(Path(plan_path).read_text())
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    times, sizes, rss = [], [], []
    started = time.perf_counter()
    layer_set = open_layer_set(Path(plan["config"]))
    cache = PieceCache()
    for index, token in enumerate(plan["tokens"]):
        t0 = time.perf_counter()
        art = render_token(layer_set, token["configuration"], token["traits"], cache)
        (out / f"{token['edition']}.{art.extension}").write_bytes(art.data)
        times.append(time.perf_counter() - t0)
        sizes.append(len(art.data))
        if index % plan["sample_every"] == 0 or index == len(plan["tokens"]) - 1:
            rss.append([index, _rss()])
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(
        json.dumps(
            {
                "engine": "ours",
                "wall": wall,
                "times": times,
                "sizes": sizes,
                "rss": rss,
                "peak_rss": peak,
                "cache_bytes": cache.bytes,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
