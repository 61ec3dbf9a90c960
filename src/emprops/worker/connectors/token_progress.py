"""Progress for text that streams token by token, without flooding the progress channel."""

from __future__ import annotations

import time

from emprops.worker.connector import ProgressReporter

# Without a token budget the length is unknown: approach 95 % and never claim to be done.
UNBOUNDED_CEILING = 95.0
UNBOUNDED_HALF_TOKENS = 128


class TokenProgress:
    """Counts streamed chunks and reports a percentage at most every `min_interval_s` seconds
    (or on each whole-percent step when the token budget is known)."""

    def __init__(
        self,
        report: ProgressReporter,
        expected_tokens: int | None = None,
        *,
        min_interval_s: float = 0.25,
    ) -> None:
        self._report = report
        self._expected = expected_tokens if expected_tokens and expected_tokens > 0 else None
        self._min_interval_s = min_interval_s
        self._last_at = 0.0
        self._last_percent = -1.0
        self.tokens = 0
        self.reports: int = 0

    @property
    def percent(self) -> float:
        if self._expected is not None:
            return min(99.0, 100.0 * self.tokens / self._expected)
        return UNBOUNDED_CEILING * self.tokens / (self.tokens + UNBOUNDED_HALF_TOKENS)

    async def add(self, tokens: int = 1) -> None:
        self.tokens += tokens
        now = time.monotonic()
        percent = self.percent
        first = self.reports == 0
        stepped = self._expected is not None and int(percent) > int(self._last_percent)
        if first or stepped or now - self._last_at >= self._min_interval_s:
            self._last_at = now
            self._last_percent = percent
            self.reports += 1
            await self._report(percent, f"{self.tokens} tokens")
