"""jq expressions from workflow data, evaluated in a child process with a time limit.

The jq library holds the GIL while it runs, so an expression like `[range(1e9)]` on the event loop
(or in a thread) would stall the worker, its heartbeat included, until the lease is lost and the
next worker stalls too. A child process can be killed when it overruns. The child runs this very
file as a script (so it imports nothing of ours), in isolated mode with an empty environment and a
memory cap; expressions that read the environment or files (`env`, `$ENV`, `input`, `import`...)
are refused before they get there.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sys
from typing import Any

MAX_EXPRESSION_CHARS = 4000
CHILD_MEMORY_LIMIT = 1 << 30
MAX_MESSAGE_BYTES = 64 << 20
STARTUP_ALLOWANCE_S = 10.0  # an interpreter start and the jq import, on a busy machine

# Builtins that reach outside the value they are given (environment, files, other inputs, stderr).
_FORBIDDEN = re.compile(
    r"\$ENV\b|\$__loc__|\$__prog_args|(?<![.\w$])(env|input|inputs|input_filename|import|include|"
    r"get_search_list|input_line_number|halt|halt_error|debug|stderr|modulemeta)\b"
)
# String literals without interpolation cannot call anything; drop them before the check.
_PLAIN_STRING = re.compile(r'"(?:[^"\\]|\\[^(])*"')


class JqExpressionError(ValueError):
    """A jq expression that is refused, does not compile, fails, or overruns its time."""


def check_expression(expression: str) -> str:
    """Refuse expressions we will not run; return the expression unchanged otherwise."""
    if not expression.strip():
        raise JqExpressionError("empty jq expression")
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise JqExpressionError(f"jq expression longer than {MAX_EXPRESSION_CHARS} characters")
    found = _FORBIDDEN.search(_PLAIN_STRING.sub('""', expression))
    if found:
        raise JqExpressionError(f"jq expression uses {found.group(0)!r}, which is not allowed")
    return expression


def evaluate_now(expressions: list[str], value: Any, variables: dict[str, Any]) -> list[Any]:
    """Evaluate here: the first output of each expression, None when it has none."""
    import jq

    results: list[Any] = []
    for expression in expressions:
        try:
            outputs = jq.compile(expression, args=variables or None).input_value(value)
            results.append(next(iter(outputs), None))
        except ValueError as exc:
            raise JqExpressionError(f"jq {expression!r}: {str(exc).strip()}") from None
    return results


def _serve_stdio() -> None:
    """The child: one JSON request per line in, one JSON answer per line out."""
    with contextlib.suppress(ValueError, OSError, ImportError):
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY_LIMIT, CHILD_MEMORY_LIMIT))
    import jq  # noqa: F401  (loaded before "ready", so no request pays for it)

    sys.stdout.write("ready\n")
    sys.stdout.flush()
    for line in sys.stdin:
        try:
            expressions, value, variables = json.loads(line)
            answer: list[Any] = ["ok", evaluate_now(expressions, value, variables)]
        except JqExpressionError as exc:
            answer = ["error", str(exc)]
        except MemoryError:
            answer = ["error", "jq evaluation ran out of memory"]
        except ValueError as exc:
            answer = ["error", f"bad request to the jq process: {exc}"]
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


class JqSandbox:
    """One child process that evaluates jq; restarted after a timeout or a crash."""

    def __init__(self, timeout_s: float = 2.0) -> None:
        self.timeout_s = timeout_s
        self._lock = asyncio.Lock()
        self._process: asyncio.subprocess.Process | None = None

    async def evaluate(
        self, expressions: list[str], value: Any, variables: dict[str, Any] | None = None
    ) -> list[Any]:
        for expression in expressions:
            check_expression(expression)
        if not expressions:
            return []
        try:
            request = json.dumps([expressions, value, variables or {}], allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise JqExpressionError(f"value for jq is not plain JSON: {exc}") from None
        async with self._lock:
            return await self._exchange(request.encode() + b"\n")

    async def evaluate_one(
        self, expression: str, value: Any, variables: dict[str, Any] | None = None
    ) -> Any:
        return (await self.evaluate([expression], value, variables))[0]

    async def close(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.returncode is None:
            process.kill()
            await process.wait()

    def _kill_now(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.returncode is None:
            process.kill()

    async def _started(self) -> asyncio.subprocess.Process:
        if self._process is not None and self._process.returncode is None:
            return self._process
        await self.close()
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-I",
            __file__,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            env={},
            limit=MAX_MESSAGE_BYTES,
        )
        self._process = process
        assert process.stdout is not None
        try:
            async with asyncio.timeout(STARTUP_ALLOWANCE_S):
                ready = await process.stdout.readline()
        except TimeoutError:
            ready = b""
        if ready.strip() != b"ready":
            self._kill_now()
            raise JqExpressionError("the jq evaluation process did not start")
        return process

    async def _exchange(self, request: bytes) -> list[Any]:
        process = await self._started()
        assert process.stdin is not None and process.stdout is not None
        try:
            process.stdin.write(request)
            await process.stdin.drain()
            async with asyncio.timeout(self.timeout_s):
                line = await process.stdout.readline()
        except TimeoutError:
            await self.close()
            raise JqExpressionError(
                f"jq evaluation took longer than {self.timeout_s} s and was stopped"
            ) from None
        except asyncio.CancelledError:
            # An answer may still come: never let the next request read it as its own.
            self._kill_now()
            raise
        except (OSError, ValueError) as exc:  # a dead child, or an answer over the line limit
            await self.close()
            raise JqExpressionError(f"jq evaluation process failed: {exc!r}") from None
        if not line:
            await self.close()
            raise JqExpressionError("jq evaluation process died (memory limit?)")
        status, payload = json.loads(line)
        if status != "ok":
            raise JqExpressionError(str(payload))
        result: list[Any] = payload
        return result


if __name__ == "__main__":
    _serve_stdio()
