"""Questions about the whole collection (「这几篇文章分别讲了什么？」「资料库里有哪些文章？」): one cited gist
sentence per article, as a list, instead of the few passages retrieval ranks first (which come from one
or two articles).

Each article's gist is its most central sentence (``bot.overview.central``: the words the article uses
most, a bonus for its lead, and for the question's own topic words when it names one). A collection
larger than ``settings.collection_articles`` is shown through its articles most relevant to the question
(by their best retrieved passage), with a line giving the total, so the answer stays readable on a
hundred articles. The answer is built the same whichever provider is configured: it is a list of quotes,
and every one is verified like any other (``bot.citations``).
"""
from __future__ import annotations

from bot import citations, overview
from bot.question import Question
from bot.textnorm import to_simplified
from bot.retrieve import Retriever
from bot.types import Citation, Hit

GIST_SENTENCES = 1  # per article


def wanted(question: Question) -> bool:
    """A question about every article's gist (「这几篇文章分别讲了什么？」「资料库里有哪些文章？」), not one that
    asks a topic across them (「美国限制英伟达芯片这件事，这几篇文章里分别是怎么说的？」)."""
    return question.asks("collection") and (question.asks("overview") or question.asks("articles"))


def sources(question: Question, index: Retriever, n: int) -> tuple[list[str], int]:
    """The articles to show (at most ``n``, most relevant first when there are more) and how many there are."""
    index.refresh()
    every = list(dict.fromkeys(c.source for c in index.chunks))
    if len(every) <= n:
        return every, len(every)
    ranked = [h.chunk.source for h in index.search(question.text, max(index.settings.candidates, 4 * n))]
    order = list(dict.fromkeys(ranked + every))  # articles no passage of which was retrieved come last
    return order[:n], len(every)


def gists(question: Question, index: Retriever, n: int) -> tuple[str, list[Citation], list[Hit]]:
    """The answer text (a heading line, then one line per article), its citations and the passages quoted."""
    shown, total = sources(question, index, n)
    lines: list[tuple[str, list[Citation]]] = []
    hits: list[Hit] = []
    for source in shown:
        article = index.article(source)
        picked = overview.central(question, article, GIST_SENTENCES)
        if not picked:
            continue
        hit = Hit(chunk=article[picked[0].hit], score=0.0, rank=len(hits) + 1)
        text, cited, refused = citations.build(f"{to_simplified(picked[0].text.strip())}[1]", [hit],
                                               index.share)
        if refused or not cited:
            continue
        hits.append(hit)
        lines.append((f"\n{len(lines) + 1}. {to_simplified(article[0].title)}：{text}", cited))
    if not lines:
        return "", [], []
    head = f"资料库共有 {total} 篇文章" + ("，各篇主要内容：" if len(shown) == total else
                                         f"，以下是与问题最相关的 {len(shown)} 篇：")
    text, cited = citations.merge([(head, [])] + lines)
    return text, cited, hits
