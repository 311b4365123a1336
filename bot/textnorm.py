"""One normalisation for matching Chinese text, shared by retrieval, citation checks and eval.

Traditional → simplified (OpenCC), full-width → half-width, Chinese punctuation → ASCII, lower case.
It is **length-preserving** (one character in, one character out), so an offset found in the normalised
text is the same offset in the original: that is how a simplified question finds, and quotes verbatim,
a passage of a traditional-script article.
"""
from __future__ import annotations

import re
from functools import lru_cache

import opencc

_PUNCT = str.maketrans({
    "，": ",", "。": ".", "？": "?", "！": "!", "；": ";", "：": ":", "（": "(", "）": ")",
    "“": '"', "”": '"', "‘": "'", "’": "'", "「": '"', "」": '"', "『": '"', "』": '"',
    "【": "[", "】": "]", "《": "<", "》": ">", "、": ",", "～": "~", "—": "-", "－": "-",
    "\u3000": " ", "\xa0": " ",
})


@lru_cache(maxsize=1)
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


# Characters that are standard simplified Chinese too, in names OpenCC would spoil (华为昇腾 → 升腾).
KEEP = frozenset("昇")


def to_simplified(text: str) -> str:
    """OpenCC t2s, kept to one character per character (phrase rules that change length are undone)."""
    converted = _converter().convert(text)
    if len(converted) != len(text):
        converted = "".join(c if len(c := _converter().convert(ch)) == 1 else ch for ch in text)
    if KEEP.isdisjoint(text):
        return converted
    return "".join(o if o in KEEP else c for o, c in zip(text, converted))


def _fold_char(ch: str) -> str:
    code = ord(ch)
    if 0xFF01 <= code <= 0xFF5E:  # full-width ASCII block
        return chr(code - 0xFEE0)
    return ch


def normalize(text: str) -> str:
    """Length-preserving normal form for matching (never for display)."""
    folded = "".join(_fold_char(ch) for ch in to_simplified(text)).translate(_PUNCT)
    lowered = folded.lower()
    return lowered if len(lowered) == len(folded) else "".join(
        c if len(c := ch.lower()) == 1 else ch for ch in folded
    )


_SPACE = re.compile(r"\s+")


def compact(text: str) -> str:
    """``normalize`` without any white space: for "is this string in that text" checks across line breaks."""
    return _SPACE.sub("", normalize(text))
