"""Assemble docs/benchmarks.md from the sections each benchmark writes (docs/benchmarks-*.md)."""

from __future__ import annotations

from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"
ORDER = ["queue", "render", "ipfs", "gas", "api"]
HEADER = """# Benchmarks

Every figure here was measured on this project's 2-core machines, which are shared and noisy:
cells are medians, comparisons are side by side in one run, and ratios matter more than absolute
numbers. Each section names the command that produced it; that command rewrites its section
(`docs/benchmarks-<area>.md`), and `uv run --frozen python bench/collect.py` rebuilds this page.
"""


def main() -> None:
    sections = sorted(
        DOCS.glob("benchmarks-*.md"),
        key=lambda p: (
            ORDER.index(p.stem.split("-", 1)[1]) if p.stem.split("-", 1)[1] in ORDER else 99,
            p.name,
        ),
    )
    body = "\n\n".join(p.read_text().strip() for p in sections)
    (DOCS / "benchmarks.md").write_text(HEADER + "\n" + body + "\n")
    print(f"docs/benchmarks.md from {len(sections)} sections")


if __name__ == "__main__":
    main()
