"""A wall-clock time burned into a picture as black and white blocks, and read back.

The time (milliseconds since the epoch, 48 bits) and a 16-bit check (from CRC-32) are drawn as
64 square blocks, 16 across and 4 down, in the top-left corner of the luma plane: a block is
white (235) for a one bit and black (16) for a zero. Blocks of 1/16 of the frame width survive
H.264 at any sane bit rate; the check rejects a frame that did not (a slate, a damaged frame).

Pure functions on plane bytes: no numpy is needed, the caller hands the Y plane of a YUV
frame (``bytes(frame.planes[0])`` with ``frame.planes[0].line_size``).
"""

from __future__ import annotations

import zlib

COLUMNS = 16
ROWS = 4
VALUE_BITS = 48
CHECK_BITS = 16
WHITE = 235
BLACK = 16
THRESHOLD = (WHITE + BLACK) // 2


def block_size(width: int, height: int) -> int:
    """Side of one block in pixels for a ``width`` x ``height`` frame (even, at least 8)."""
    side = min(width // COLUMNS, height // (ROWS + 1))
    side -= side % 2
    if side < 8:
        raise ValueError(f"a {width}x{height} frame is too small for the time blocks")
    return side


def check_of(value: int) -> int:
    """The 16-bit check stored next to ``value``."""
    return zlib.crc32(value.to_bytes(6, "big")) & 0xFFFF


def bits_of(value: int) -> list[int]:
    """The 64 block bits for ``value`` (most significant first): value, then its check."""
    if not 0 <= value < 1 << VALUE_BITS:
        raise ValueError(f"{value} does not fit in {VALUE_BITS} bits")
    word = (value << CHECK_BITS) | check_of(value)
    total = VALUE_BITS + CHECK_BITS
    return [(word >> (total - 1 - i)) & 1 for i in range(total)]


def value_of(bits: list[int]) -> int | None:
    """The value the 64 bits hold, or None when the check does not match."""
    word = 0
    for bit in bits:
        word = (word << 1) | bit
    value, check = word >> CHECK_BITS, word & 0xFFFF
    return value if check_of(value) == check else None


def paint(plane: bytearray, width: int, height: int, line_size: int, value: int) -> None:
    """Draw ``value`` as blocks into a luma plane (rows of ``line_size`` bytes), in place."""
    side = block_size(width, height)
    bits = bits_of(value)
    for row in range(ROWS):
        pattern = b"".join(
            bytes([WHITE if bit else BLACK]) * side
            for bit in bits[row * COLUMNS : (row + 1) * COLUMNS]
        )
        for y in range(row * side, (row + 1) * side):
            start = y * line_size
            plane[start : start + len(pattern)] = pattern


def read(
    plane: bytes | bytearray | memoryview, width: int, height: int, line_size: int
) -> int | None:
    """The value painted into a (decoded) luma plane, or None when it cannot be read."""
    side = block_size(width, height)
    view = memoryview(plane)
    quarter = side // 4
    bits: list[int] = []
    for row in range(ROWS):
        for column in range(COLUMNS):
            # Average the middle half of the block (four rows of samples) to ride out noise.
            total = count = 0
            for y in range(row * side + quarter, (row + 1) * side - quarter, max(1, quarter // 2)):
                start = y * line_size + column * side + quarter
                chunk = view[start : start + 2 * quarter]
                total += sum(chunk)
                count += len(chunk)
            bits.append(1 if count and total / count > THRESHOLD else 0)
    return value_of(bits)
