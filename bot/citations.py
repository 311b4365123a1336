"""From a draft with ``[n]`` markers to an answer whose every citation is a verified verbatim quote.

Each sentence of the draft must be supported by a passage it cites: its text found verbatim in the
passage (after normalisation, so a simplified sentence matches a traditional source), or — for an LLM's
paraphrase — a passage sentence covering most of its terms and containing every number and rank it states. The
quote attached is the passage's own text, cut from the cleaned document. A paraphrase must also not
bring in a name the collection uses elsewhere (a noun rare in the collection and missing from the passage):
"Sora是百度推出的" covers most of "OpenAI推出了…Sora" but moves the tool to another company. A sentence
that no passage supports is dropped (an LLM's invention); a marker pointing at the wrong passage is
re-pointed.
Citations are renumbered 1, 2, … in order of first use.

An answer written from chosen sentences must also keep what they state: :func:`lost_facts` names the
figures and names of those sentences that a verified answer left out (a small model shortens 「从400万迅速
上升到530多万」 to 「530多万」), so that the chain can quote the sentences instead.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from jieba import posseg

from bot.chunk import sentences
from bot.config import REFUSAL
from bot.evidence import coverage
from bot import lexicon, ranker
from bot.lexicon import ENDS
from bot.question import Question, question_terms, tagged
from bot.textnorm import normalize, to_simplified
from bot.types import Citation, Hit

_MARKS = re.compile(r"((?:\s*\[\d+\])+)")
_MARK = re.compile(r"\[(\d+)\]")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
# LLMs format answers as Markdown lists; a list number ("2. ") is no figure of the claim, and "**" no text.
_LIST_MARK = re.compile(r"^(?:[-*•·]\s*|\d{1,2}(?:[.)）]\s+|、)|[（(]\d{1,2}[)）]\s*)")
MIN_SUPPORT = 0.6  # share of a paraphrased sentence's terms that its quote must contain
RARE_SHARE = 0.05  # a noun in at most this share of the chunks names something specific (百度, 孔蓉)
_ENTITY_TAGS = tuple(tag for tags in lexicon.ENTITY_TAGS.values() for tag in tags)  # person, place, organisation


def _nouns(text: str) -> set[str]:
    """Nouns, abbreviations and Latin words of the text (jieba's tags: 百度 n, 华为 nr, sora eng): verbs
    and the like are how a paraphrase differs, names are what it must not change."""
    return {w for w, tag in posseg.lcut(normalize(text)) if len(w) >= 2 and (tag[:1] == "n" or tag in ("eng", "j"))}


@dataclass
class Claim:
    text: str  # the sentence without its markers
    cited: list[int]  # 0-based passage positions named by its markers


def split_claims(draft: str) -> list[Claim]:
    """Sentences of the draft; markers belong to the sentence they follow (earlier sentences of the same
    stretch cite nothing and must find their support themselves)."""
    pieces = _MARKS.split(draft)
    claims = []
    for i in range(0, len(pieces), 2):
        text = pieces[i]
        marks = [int(n) - 1 for n in _MARK.findall(pieces[i + 1])] if i + 1 < len(pieces) else []
        spans = sentences(text)
        for j, span in enumerate(spans):
            claim = _LIST_MARK.sub("", text[span.start : span.end].replace("**", "")).strip()
            if claim:
                claims.append(Claim(claim, marks if j == len(spans) - 1 else []))
    return claims


def _strip_end(text: str) -> str:
    return text.rstrip("。！？!?；;…,，.、 ").lstrip("”’」』")


def locate(claim: str, hit: Hit, share: Callable[[str], float] = lambda _: 0.0) -> tuple[int, int, float] | None:
    """Where in the passage ``claim`` is supported: (start, end) in the chunk text and a support score.
    ``share`` tells how common a word is in the collection (share of chunks; 0 when unknown)."""
    chunk = hit.chunk.text
    needle = normalize(_strip_end(claim))
    if len(needle) >= 4:
        at = normalize(chunk).find(needle)
        if at >= 0:
            end = at + len(needle)
            while end < len(chunk) and chunk[end] in ENDS:  # keep the sentence's own ending
                end += 1
            return at, end, 1.0
    passage = normalize(chunk)
    if any(0 < share(w) <= RARE_SHARE and w not in passage for w in _nouns(claim)):
        return None  # a name from elsewhere in the collection: the paraphrase mixes sources up
    terms = question_terms(claim)
    numbers = set(_NUMBER.findall(normalize(claim)))
    ranks = set(lexicon.ORDINAL.findall(normalize(claim)))
    best: tuple[int, int, float] | None = None
    for span in sentences(chunk):
        text = chunk[span.start : span.end]
        if numbers - set(_NUMBER.findall(normalize(text))) or ranks - set(lexicon.ORDINAL.findall(normalize(text))):
            continue  # a figure or rank the passage does not state is never "supported" (共26道题 → 第26道题)
        score = coverage(terms, text)
        if score >= MIN_SUPPORT and (best is None or score > best[2]):
            best = (span.start, span.end, score)
    return best


def build(draft: str, hits: list[Hit], share: Callable[[str], float] = lambda _: 0.0,
          ) -> tuple[str, list[Citation], bool]:
    """The verified answer text, its citations, and whether it is a refusal. ``share``: see ``locate``."""
    if REFUSAL in draft or not draft.strip():
        return REFUSAL, [], True
    out: list[str] = []
    citations: list[Citation] = []
    index: dict[tuple[str, int, int], int] = {}
    for claim in split_claims(draft):
        support = _support(claim, hits, share)
        if support is None:
            continue
        hit, (a, b, score) = support
        chunk = hit.chunk
        quote = chunk.text[a:b]
        key = (chunk.source, chunk.start + a, chunk.start + b)
        if key not in index:
            assert quote and quote in chunk.text  # verbatim by construction; never ship an unchecked quote
            index[key] = len(citations) + 1
            citations.append(Citation(index[key], chunk.source, chunk.title, quote, round(score, 3), *key[1:]))
        out.append(f"{claim.text}[{index[key]}]")
    if not out:
        return "", [], False
    return "".join(out), citations, False


def widen(answer: str, evidence: list[str]) -> str:
    """The verified ``answer`` with each sentence that is only a piece of a clause of its ``evidence`` (a
    small model copies the bare 88% or 1,750米) given as that whole clause, in simplified script — 「GPT-4的
    正确率高达88%。」, 「生长于海拔1,750米的地区。」 — so that it reads as a sentence and says what the
    figure is of. Still verbatim source text; the markers stay."""
    out = []
    for claim in split_claims(answer):
        text, piece = claim.text, normalize(_strip_end(claim.text))
        for sentence in evidence:
            norm = normalize(sentence)
            at = norm.find(piece) if piece else -1
            if at < 0:
                continue
            start, end = ranker.clause_of(norm, at)[0], ranker.clause_of(norm, at + len(piece) - 1)[1]
            if end - start > len(piece):
                text = to_simplified(sentence[start:end].strip())
                text += "" if text[-1:] in ENDS else "。"
            break
        out.append(text + "".join(f"[{n + 1}]" for n in claim.cited))
    return "".join(out)


def merge(parts: list[tuple[str, list[Citation]]]) -> tuple[str, list[Citation]]:
    """The verified answers of a question's parts as one: their citations renumbered in order of first
    use (a quote two parts share keeps one number), their texts joined."""
    texts: list[str] = []
    merged: list[Citation] = []
    index: dict[tuple[str, int, int], int] = {}
    for text, cited in parts:
        numbers = {}
        for c in cited:
            key = (c.source, c.start, c.end)
            if key not in index:
                index[key] = len(merged) + 1
                merged.append(replace(c, n=index[key]))
            numbers[c.n] = index[key]
        texts.append(_MARK.sub(lambda m: f"[{numbers.get(int(m.group(1)), int(m.group(1)))}]", text))
    return "".join(texts), merged


def _support(claim: Claim, hits: list[Hit], share: Callable[[str], float],
             ) -> tuple[Hit, tuple[int, int, float]] | None:
    """The cited passage that supports the claim best, else any other passage that does."""
    cited = [i for i in claim.cited if 0 <= i < len(hits)]
    for group in (cited, [i for i in range(len(hits)) if i not in cited]):
        found = [(hits[i], loc) for i in group if (loc := locate(claim.text, hits[i], share))]
        if found:
            return max(found, key=lambda f: f[1][2])
    return None


def stated_facts(text: str, asked: str) -> set[str]:
    """The figures and names ``text`` states that the question ``asked`` does not (normalised): numbers
    and Latin names whole (400万, 88%, GPT-4, 2023年), ranks (第二), people, places and organisations
    (jieba's tags), 《works》. What a question already says, an answer need not repeat. Figures in words
    (三倍, 一个) are left out: on eval/qa.jsonl they flagged answers that had lost nothing the digits and
    names did not flag too."""
    norm, question = normalize(text), normalize(asked)
    found = {t for t in lexicon.EXACT.findall(norm) if len(t) > 1 or t.isdigit()}
    found |= set(lexicon.ORDINAL.findall(norm)) | set(lexicon.WORK.findall(norm))
    words = tagged(norm)
    # jieba's dictionary knows 高达 only as a person's name: a "name" right before a figure (高达88%) is
    # the verb of the amount, not somebody
    found |= {w for i, (w, tag) in enumerate(words) if len(w) >= 2 and tag.startswith(_ENTITY_TAGS)
              and not (i + 1 < len(words) and words[i + 1][0][:1].isdigit())}
    return {f for f in found if f not in question}


def lost_facts(answer: str, evidence: list[str], question: Question) -> list[str]:
    """The facts (:func:`stated_facts`) of the ``evidence`` sentences that the verified ``answer`` does
    not state, in the order the sentences give them; its ``[n]`` markers are no figures. For a factoid
    (:attr:`Question.asks_one`) only the facts of the clause holding each sentence's answer
    (:func:`bot.ranker.answer_candidate`) count: asked GPT-4's score, 「GPT-3.5的正确率为58%，GPT-4的正确率
    高达88%」 needs 88% only."""
    said = normalize(_MARK.sub("", answer))
    lost: list[str] = []
    for sentence in evidence:
        found = ranker.answer_candidate(question, sentence) if question.asks_one else None
        if found is not None:  # the clause that holds the answer (normalising keeps every offset)
            start, end = ranker.clause_of(normalize(sentence), found[0])
            sentence = sentence[start:end]
        lost += sorted(f for f in stated_facts(sentence, question.text) if f not in said and f not in lost)
    return lost
