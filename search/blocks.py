"""Text blocks: what a search snippet is cut from, so it costs a page of text, not a document.

A version's extracted text (its UTF-8 bytes, up to what is indexed) is cut into pieces of
about :data:`BLOCK_SIZE` bytes: piece ``b`` starts at :func:`cut` of byte ``b * BLOCK_SIZE``,
just after the first clean separator (punctuation, or a space after a Latin letter or digit)
within :data:`SEEK` bytes, where no word and no step of the text folding crosses. The indexer
analyses the text piece by piece, so the index's positions of the ``content`` field are those
of the pieces one after the other, and it stores the position each piece starts at: the
block map (:func:`encode_map`), a few bytes per 2 KiB of text, no words.

At query time, the first position of a query word in a hit gives its block
(:func:`block_of`); the snippet reads only the bytes around that block (a segment or two of
the encrypted ``text`` rendition), cuts the same piece again (:func:`piece`: a cut depends
only on the bytes near it) and highlights there. Because the cuts are made on bytes at the
same places both times, the piece analysed at query time is exactly the one indexed, and a
UTF-8 character split by a segment boundary is whole in the bytes read.
"""

from __future__ import annotations

import re
import struct
import sys
import zlib
from array import array
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate

#: Bytes of text per block: about a page. Highlighting a piece costs ~1 ms per KiB.
BLOCK_SIZE = 2048
#: How far past a block's start a clean cut is looked for.
SEEK = 256
#: What a snippet reads of a text indexed without a block map.
PREFIX_BYTES = 4096
#: Bytes a query-time read must cover past the start of the block after the one it shows.
MARGIN = SEEK + 4

_CJK_SEPARATORS = "。，、；：！？（）《》「」『』【】"
#: Cutting just after one of these leaves every word and every folding step whole:
#: punctuation is no part of a word and not a space that folding removes between Chinese
#: characters; a space after a Latin letter or digit is kept by folding. (In bytes: UTF-8
#: never has an ASCII byte or a whole character's encoding inside another character.)
_CLEAN = re.compile(
    rb'[,;:!?()\[\]{}"]|[A-Za-z0-9][ \t\n]|'
    + b"|".join(re.escape(c.encode("utf-8")) for c in _CJK_SEPARATORS)
)
_MAP = struct.Struct("<II")  # format, block size
_MAP_FORMAT = 1


def blocks_in(end: int) -> int:
    """How many blocks a text of ``end`` bytes has (one, even if empty)."""
    return max(1, -(-end // BLOCK_SIZE))


def cut(data: bytes, base: int, block: int, end: int) -> int:
    """Where piece ``block`` starts, as an offset in the text; ``data`` holds the text's
    bytes from offset ``base`` on and covers up to ``block * BLOCK_SIZE + MARGIN`` or the
    text's ``end``, whichever comes first."""
    at = block * BLOCK_SIZE
    if at <= 0:
        return 0
    if at >= end:
        return end
    start, stop = at - base, end - base
    if start < 0 or min(stop, start + MARGIN) > len(data):
        raise ValueError("the bytes given do not cover the cut")
    boundary = start
    while boundary < min(stop, start + 3) and data[boundary] & 0xC0 == 0x80:
        boundary += 1  # to the next character's first byte
    found = _CLEAN.search(data, boundary, min(stop, boundary + SEEK))
    return base + (found.end() if found else boundary)


def cuts(data: bytes) -> list[int]:
    """Where each piece of the whole text ``data`` starts."""
    return [cut(data, 0, block, len(data)) for block in range(blocks_in(len(data)))]


def pieces(data: bytes) -> tuple[str, list[int]]:
    """The whole text decoded piece by piece, and the character offset of each piece."""
    starts = cuts(data)
    texts = [
        data[begin:finish].decode("utf-8", errors="ignore")
        for begin, finish in zip(starts, [*starts[1:], len(data)], strict=True)
    ]
    offsets = list(accumulate((len(t) for t in texts[:-1]), initial=0))
    return "".join(texts), offsets


def wanted(block: int) -> tuple[int, int]:
    """The text bytes (start, length) a query-time read needs to cut piece ``block``."""
    return block * BLOCK_SIZE, BLOCK_SIZE + MARGIN


def piece(data: bytes, base: int, block: int, end: int) -> str:
    """Piece ``block`` of a text of ``end`` bytes, from ``data`` (its bytes from ``base``,
    covering :func:`wanted`), decoded exactly as it was when indexed."""
    begin = cut(data, base, block, end)
    finish = cut(data, base, block + 1, end)
    return data[begin - base : finish - base].decode("utf-8", errors="ignore")


def prefix(data: bytes) -> str:
    """The start of a text, for one indexed without a block map; a character cut off at the
    end is dropped."""
    return data[:PREFIX_BYTES].decode("utf-8", errors="ignore")


def encode_map(starts: Sequence[int]) -> bytes:
    """The token position each piece starts at: little-endian 32-bit integers behind a
    format and block-size header, deflated."""
    positions = array("I", starts)
    if sys.byteorder == "big":
        positions.byteswap()
    return zlib.compress(_MAP.pack(_MAP_FORMAT, BLOCK_SIZE) + positions.tobytes())


def decode_map(stored: object) -> Sequence[int] | None:
    """The positions :func:`encode_map` kept, as a view on the stored bytes (a search looks
    up one position, so nothing is decoded one by one); None when there is no usable map
    (a document indexed without one, or with another block size)."""
    if not isinstance(stored, bytes) or not stored:
        return None
    try:
        raw = zlib.decompress(stored)
    except zlib.error:
        return None
    if len(raw) < _MAP.size or (len(raw) - _MAP.size) % 4:
        return None
    if _MAP.unpack_from(raw) != (_MAP_FORMAT, BLOCK_SIZE):
        return None
    positions = array("I")
    positions.frombytes(raw[_MAP.size :])
    if sys.byteorder == "big":  # written little-endian
        positions.byteswap()
    return positions


def block_of(starts: Sequence[int], position: int) -> int:
    """The piece holding the token at ``position``."""
    return max(0, bisect_right(starts, position) - 1)
