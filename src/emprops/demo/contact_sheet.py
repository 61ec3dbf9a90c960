"""A picture of the collection: every packaged token's image in one grid, so a person can see what
the demo made without opening a browser."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

if TYPE_CHECKING:
    from emprops.demo.journey import DemoResult

CELL = 128


def write_contact_sheet(data_dir: Path, out: Path, result: DemoResult) -> Path | None:
    """Writes `out` (PNG) from the package's images; None when there is no package yet."""
    from emprops.packaging import read_package_report

    package_dir = result.package.get("package_dir")
    if not package_dir:
        return None
    report = read_package_report(Path(package_dir))
    entries = report.token_entries
    if not entries:
        return None
    columns = math.ceil(math.sqrt(len(entries)))
    rows = math.ceil(len(entries) / columns)
    sheet = Image.new("RGB", (columns * CELL, rows * CELL), (16, 16, 20))
    for i, entry in enumerate(entries):
        with Image.open(Path(package_dir) / entry.image_file) as image:
            image.seek(0)  # an animated token shows its first frame
            cell = image.convert("RGBA").resize((CELL, CELL), Image.Resampling.LANCZOS)
        sheet.paste(cell, ((i % columns) * CELL, (i // columns) * CELL), cell)
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out, optimize=True)
    return out
