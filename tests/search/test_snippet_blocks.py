"""Snippets cost a page of text, whatever the document's size (issue 19, item 2).

The text is indexed in pieces of about 2 KiB with a map of where each starts; a snippet finds
the piece of the first match and decrypts only the segments holding it. Counted here through
the archive's real blob store: a match in the middle of a 10 MB text is shown, highlighted,
after reading a few KiB of ciphertext."""

from __future__ import annotations

import importlib
import io
import random
import re
import struct
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive.audit import Actor
from archive.bootstrap import initialize
from archive.config import load_settings
from archive.content import NewRecord, RenditionSource, store
from archive.content.seal import READ_AHEAD, TEXT_SEGMENT_SIZE
from archive.core import Archive
from archive.crypto.stream import HEADER_SIZE, SEGMENT_SIZE
from archive.models import RenditionRole
from search import blocks
from search.analysis import words
from search.index import IndexDoc, Results, Visibility, one_by_one
from search.indexer import flush, open_index, snippet_text
from tests.archive.counting import CountingStore
from tests.conftest import make_environ

EVERYTHING = Visibility(everything=True)
#: Ciphertext a snippet may read: the header with its read-ahead, then two segments.
PER_SNIPPET = HEADER_SIZE + READ_AHEAD + 2 * (TEXT_SEGMENT_SIZE + 16)
sealing = importlib.import_module("archive.content.seal")  # the package's `seal` is the function
SENTENCES = [
    "华东仓储改造项目的会议纪要已经归档，预算审批按计划推进。",
    "The warehouse retrofit was approved by the board (minutes attached); costs rose 3.5%.",
    "甲方与乙方就设备采购签订合同，付款分三期：预付款、进度款、尾款。",
    "Inspection of the loading docks found no defects, but the roof needs repair!",
    "验收报告由监理单位出具 供应商名单见附件二\n",
    "綠色通道的設計圖紙已經更新 另見第五章\n\n",
]


def filler(size: int, seed: int = 1) -> bytes:
    pick = random.Random(seed).choice  # noqa: S311 (test text, not secrets)
    parts, total = [], 0
    while total < size:
        sentence = pick(SENTENCES).encode()
        parts.append(sentence)
        total += len(sentence)
    return b"".join(parts)[:size].decode("utf-8", errors="ignore").encode()


# -- the pieces: cut the same way at index time and at query time --------------------------


@pytest.mark.parametrize("seed", range(4))
def test_each_piece_is_cut_again_exactly_from_the_bytes_around_it(seed: int) -> None:
    data = filler(40_000, seed) + "尾".encode() * 900  # ends in a long run with no separator
    text, offsets = blocks.pieces(data)
    assert text == data.decode()  # nothing lost or doubled at the cuts
    ends = [*offsets[1:], len(text)]
    for block in range(blocks.blocks_in(len(data))):
        start, length = blocks.wanted(block)
        base = start - start % TEXT_SEGMENT_SIZE  # whole segments, as a range read gives
        window = data[base : start + length + 100]
        assert blocks.piece(window, base, block, len(data)) == text[offsets[block] : ends[block]]


def test_cutting_into_pieces_leaves_the_words_as_they_were() -> None:
    data = filler(60_000, 7)
    text, offsets = blocks.pieces(data)
    ends = [*offsets[1:], len(text)]
    pieced = [w for begin, end in zip(offsets, ends, strict=True) for w in words(text[begin:end])]
    assert pieced == list(words(text))


def test_the_block_map_round_trips_and_unknown_maps_are_refused() -> None:
    starts = [0, 310, 655, 655, 1000]
    stored = blocks.encode_map(starts)
    assert list(blocks.decode_map(stored) or []) == starts
    other = zlib.compress(struct.pack("<II", 1, 4096) + bytes(8))  # another block size
    assert blocks.decode_map(other) is None
    assert [blocks.block_of(starts, p) for p in (0, 309, 310, 655, 999, 5000)] == [0, 0, 1, 3, 3, 4]
    assert blocks.decode_map(None) is None
    assert blocks.decode_map(b"not zlib") is None


# -- the archive: a 10 MB text among the hits ----------------------------------------------


@pytest.fixture
def counted(tmp_path: Path) -> Iterator[Archive]:
    arc = Archive(load_settings(make_environ(tmp_path / "home", "sqlite", "local")))
    initialize(arc, Actor.cli())
    arc.blobs = CountingStore(arc.blobs)
    yield arc
    arc.close()


def put_text(arc: Archive, title: str, text: bytes) -> uuid.UUID:
    return store(
        arc,
        io.BytesIO(text),
        actor=Actor.cli(),
        original_filename=f"{title}.txt",
        media_type="text/plain",
        new_record=NewRecord(project="华东", title=title, when="2026-05"),
        renditions=[RenditionSource(RenditionRole.TEXT, "text/plain", io.BytesIO(text))],
    ).record_id


def searched(arc: Archive, q: str) -> tuple[Results, CountingStore]:
    blobs = arc.blobs
    assert isinstance(blobs, CountingStore)
    blobs.reset()
    with arc.sessions() as session:
        results = open_index(arc).search(
            q,
            EVERYTHING,
            snippets=one_by_one(
                lambda hit, block: snippet_text(arc, session, uuid.UUID(hit.version_id), block)
            ),
        )
    return results, blobs


def marked(snippet: str | None) -> list[str]:
    assert snippet is not None
    return re.findall(r"<mark[^>]*>([^<]+)</mark>", snippet)


def test_a_match_in_the_middle_of_a_10_mb_text_costs_a_page(counted: Archive) -> None:
    half = filler(5 * 1024 * 1024)
    needle = " 仓库迁往冷链中心 the Zanzibar shipment; ".encode()
    big = put_text(counted, "big", half + needle + filler(5 * 1024 * 1024, 2))
    small = put_text(counted, "small", "冷链 Zanzibar 小文件".encode())
    flush(counted)

    results, blobs = searched(counted, "Zanzibar")
    assert {hit.record_id for hit in results.hits} == {str(big), str(small)}
    snippet = next(hit.snippet for hit in results.hits if hit.record_id == str(big))
    assert marked(snippet) == ["Zanzibar"]
    assert "shipment" in (snippet or "")
    assert len(snippet or "") < 600  # a couple of short fragments, not the page
    assert "\n" not in (snippet or "")  # the text's line breaks: one line a fragment
    assert (snippet or "").count(" … ") <= 1
    assert blobs.whole_reads == 0
    assert blobs.bytes_read < 2 * PER_SNIPPET  # both hits' segments

    results, blobs = searched(counted, "冷鏈")  # traditional in the query, folded
    snippet = next(hit.snippet for hit in results.hits if hit.record_id == str(big))
    assert "冷链" in marked(snippet)
    assert blobs.whole_reads == 0
    assert blobs.bytes_read < 2 * PER_SNIPPET

    results, blobs = searched(counted, "小文件 OR 监理")  # the big text matches early on
    snippet = next(hit.snippet for hit in results.hits if hit.record_id == str(big))
    assert "监理" in marked(snippet)
    assert blobs.bytes_read < 2 * PER_SNIPPET


def test_a_title_only_match_reads_no_text(counted: Archive) -> None:
    put_text(counted, "冷链方案", filler(50_000))
    flush(counted)
    results, blobs = searched(counted, "冷链")
    assert [hit.snippet for hit in results.hits] == [None]
    assert blobs.bytes_read == 0


def test_old_renditions_with_1_mib_segments_read_one_segment(
    counted: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sealing.SEGMENT_SIZES, RenditionRole.TEXT, SEGMENT_SIZE)  # as before
    text = filler(3 * 1024 * 1024) + b" Zanzibar " + filler(1024 * 1024, 3)
    put_text(counted, "old", text)
    flush(counted)
    results, blobs = searched(counted, "zanzibar")
    assert marked(results.hits[0].snippet) == ["Zanzibar"]
    assert blobs.whole_reads == 0
    assert blobs.bytes_read <= HEADER_SIZE + READ_AHEAD + 2 * (SEGMENT_SIZE + 16)  # not 4 MB


def test_a_document_indexed_without_a_map_gets_a_prefix_snippet(counted: Archive) -> None:
    text = "会议纪要 Zanzibar 开头。".encode() + filler(3 * 1024 * 1024)
    record = put_text(counted, "unmapped", text)
    flush(counted)
    index = open_index(counted)
    (hit,) = index.search("Zanzibar", EVERYTHING).hits
    index.write(  # as an index written before block maps: the content analysed whole
        [
            IndexDoc(
                record_id=str(record),
                version_id=hit.version_id,
                title="unmapped",
                content=text.decode(),
                name=hit.name,
                project=hit.project,
                department=hit.department,
                sensitivity=hit.sensitivity,
                filed=hit.filed,
            )
        ]
    )
    asked: list[int | None] = []
    blobs = counted.blobs
    assert isinstance(blobs, CountingStore)
    blobs.reset()
    with counted.sessions() as session:

        def source(found: object, block: int | None) -> str | None:
            asked.append(block)
            return snippet_text(counted, session, uuid.UUID(hit.version_id), block)

        (shown,) = index.search("Zanzibar", EVERYTHING, snippets=one_by_one(source)).hits
    assert asked == [None]
    assert marked(shown.snippet) == ["Zanzibar"]
    assert blobs.whole_reads == 0
    assert blobs.bytes_read <= PER_SNIPPET
