"""A reader of GIF block structure (independent of Pillow) so tests can check what the file holds:
the global colour table, and whether any frame carries a local one."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class GifStructure:
    global_table_size: int | None
    loop_count: int | None = None
    frames: int = 0
    local_tables: int = 0
    delays_cs: list[int] = field(default_factory=list)


def _skip_sub_blocks(data: bytes, pos: int) -> int:
    while data[pos]:
        pos += data[pos] + 1
    return pos + 1


def read_gif_structure(data: bytes) -> GifStructure:
    assert data[:6] in (b"GIF87a", b"GIF89a"), "not a GIF"
    flags = data[10]
    pos = 13
    table = None
    if flags & 0x80:
        table = 2 ** ((flags & 7) + 1)
        pos += 3 * table
    out = GifStructure(global_table_size=table)
    while True:
        marker = data[pos]
        if marker == 0x3B:  # trailer
            return out
        if marker == 0x21:  # extension
            label = data[pos + 1]
            if label == 0xF9:  # graphic control: delay in centiseconds
                out.delays_cs.append(int.from_bytes(data[pos + 4 : pos + 6], "little"))
            if label == 0xFF and data[pos + 3 : pos + 14] == b"NETSCAPE2.0":
                out.loop_count = int.from_bytes(data[pos + 16 : pos + 18], "little")
            pos = _skip_sub_blocks(data, pos + 2)
        elif marker == 0x2C:  # image descriptor
            out.frames += 1
            local = data[pos + 9]
            pos += 10
            if local & 0x80:
                out.local_tables += 1
                pos += 3 * 2 ** ((local & 7) + 1)
            pos = _skip_sub_blocks(data, pos + 1)  # LZW minimum code size, then data
        else:
            raise AssertionError(f"unexpected GIF block 0x{marker:02x} at {pos}")
