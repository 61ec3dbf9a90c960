"""The eth_getLogs block range, adapted to what the provider accepts: halved when it refuses,
doubled back (up to the maximum) after a run of successes, so a brief limit does not stick."""

from __future__ import annotations

from emprops.indexer.config import LogRanges


class AdaptiveRange:
    def __init__(self, policy: LogRanges) -> None:
        self.policy = policy
        self.size = policy.initial
        self._successes = 0
        self.refusals = 0

    def span(self, from_block: int, target: int) -> int:
        """The last block of the next request starting at `from_block`."""
        return min(target, from_block + self.size - 1)

    def shrink(self) -> bool:
        """Halves the range; False when it is already one block (nothing left to try)."""
        self.refusals += 1
        self._successes = 0
        if self.size == 1:
            return False
        self.size = max(1, self.size // 2)
        return True

    def succeeded(self) -> None:
        self._successes += 1
        if self._successes >= self.policy.grow_after and self.size < self.policy.maximum:
            self.size = min(self.policy.maximum, self.size * 2)
            self._successes = 0
