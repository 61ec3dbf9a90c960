"""One demo per data directory: a second one would race the first for the same collection."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from emprops.core.errors import ConflictError


class DemoAlreadyRunningError(ConflictError):
    pass


class DemoLock:
    """An exclusive, non-blocking file lock, released by the kernel if the process dies."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "demo.lock"
        self._fd: int | None = None

    def __enter__(self) -> DemoLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise DemoAlreadyRunningError(
                f"another `emprops demo` (pid {holder}) is running on {self.path.parent}: "
                "wait for it to finish, or give this one its own EMPROPS_DATA_DIR",
                details={"lock": str(self.path)},
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
