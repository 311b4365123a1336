"""The items of a list across an article: an enumeration (其一 … 其二 … 其三, 一是 … 二是, 第一 … 第二,
首先 … 其次), or what a counted announcement (「AI治理有四大挑战」) goes on to name (…的挑战, 另一个挑战,
最后一个挑战).

A question like 「带来了哪几方面的冲击和挑战」 is answered by a list whose items open paragraphs far apart:
in 李礼辉's article 其一, 其二 and 其三 are 800 and 2,000 characters apart, with their discussion in
between, so retrieval finds the passage with 其一 and none of the others. When one of the best sentences
is or announces a list, the chain adds the passages holding its items (``complete``), and the extractive
provider quotes them (``members``).
"""
from __future__ import annotations

import re
from collections.abc import Callable

from bot.evidence import chunk_sentences
from bot.lexicon import COUNTED_LIST, LIST_FAMILIES, NOT_A_LIST_HEAD, NUMERALS
from bot.types import Chunk, Hit

_ITEM = re.compile(r"^[“\"「\s]*(" + "|".join(m for f in LIST_FAMILIES for m in f) + r")(?![一二三四五六七八九十百千万年月日个次季届位名天])")
MAX_GAP = 4000  # characters between two items of one list; farther is another list


def item(text: str) -> tuple[int, int] | None:
    """(family, position) when the sentence opens an item of a list: 其二，… → (0, 1)."""
    m = _ITEM.match(text)
    if not m:
        return None
    return next((f, family.index(m.group(1))) for f, family in enumerate(LIST_FAMILIES) if m.group(1) in family)


def siblings(first: tuple[int, str], later: list[tuple[int, str]]) -> list[int]:
    """Indices into ``later`` (start, text — in document order, after ``first``) of the items that
    follow ``first`` in its list: the next position, then the next, until one is missing."""
    found = item(first[1])
    if found is None:
        return []
    family, position = found
    out, last = [], first[0]
    for i, (start, text) in enumerate(later):
        if start - last > MAX_GAP:
            break
        other = item(text)
        if other == (family, position + 1):
            out.append(i)
            position, last = position + 1, start
        elif other is not None and other[0] == family and other[1] <= position:
            break  # the same markers start over: another list (一是 … 二是 … then 一是 … 三是 …)
    return out


LOOK_AHEAD = 4  # a list may open a few sentences after the best sentence that announces it


def announced(text: str) -> tuple[int, str, str] | None:
    """(count, head noun, phrase) of a counted list the sentence announces: 四大挑战 → (4, 挑战, 四大挑战)."""
    m = COUNTED_LIST.search(text)
    if not m or m.group(2) in NOT_A_LIST_HEAD:
        return None
    return NUMERALS.get(m.group(1)) or int(m.group(1)), m.group(2), m.group(0)


def members(first: tuple[int, str], later: list[tuple[int, str]]) -> list[int]:
    """Indices into ``later`` of the rest of the list ``first`` opens or announces: its sibling items,
    or up to the announced count of later sentences naming the head noun (not the announcement again),
    ending at one that says it is the last (最后)."""
    counted = announced(first[1])
    if counted is None:
        return siblings(first, later)
    count, noun, phrase = counted
    out, last = [], first[0]
    for i, (start, text) in enumerate(later):
        if len(out) >= count or start - last > MAX_GAP:
            break
        if noun in text and phrase not in text:
            out.append(i)
            last = start
            if "最后" in text:
                break
    return out


def complete(hits: list[Hit], best: list[tuple[str, int, str]], article: Callable[[str], list[Chunk]]) -> list[Hit]:
    """``hits`` plus the passages holding the items of a list that one of the ``best`` sentences
    (source, start, text) is in or announces (「可能带来哪些冲击与挑战」 → 其一 …); ``article`` gives an
    article's chunks. Added passages rank after the retrieved ones."""
    have = {h.chunk.id for h in hits}
    extra: list[Chunk] = []
    spans: dict[str, list[tuple[int, str]]] = {}
    chunks: dict[str, list[Chunk]] = {}
    for source, start, _ in best:
        if source not in spans:
            chunks[source] = article(source)
            spans[source] = [(s.start, s.text) for s in chunk_sentences(chunks[source])]
        ahead = [s for s in spans[source] if s[0] >= start][:LOOK_AHEAD]
        first = ahead[0] if ahead and announced(ahead[0][1]) else next((s for s in ahead if item(s[1])), None)
        if first is None:
            continue
        later = [s for s in spans[source] if s[0] > first[0]]
        for s_start, s_text in [first] + [later[i] for i in members(first, later)]:
            chunk = next((c for c in chunks[source] if c.start <= s_start and s_start + len(s_text) <= c.end), None)
            if chunk and chunk.id not in have:
                have.add(chunk.id)
                extra.append(chunk)
    return hits + [Hit(chunk=c, score=0.0, rank=len(hits) + n) for n, c in enumerate(extra, 1)]
