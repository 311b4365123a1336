"""bot.render: untrusted text becomes literal Markdown, and chat messages turn back into exact text."""
from __future__ import annotations

import re

import pytest

from bot.render import (
    CURSOR,
    answer_markdown,
    answer_messages,
    escape,
    history_turns,
    refusal_message,
    sources_markdown,
    to_plain,
)
from bot.types import Answer, Chunk, Citation, Hit

NASTY = [
    "<script>alert(1)</script><img src=x onerror=alert(2)>",
    "**粗体** _斜体_ `代码` [链接](http://x) # 标题 ~~删除~~ | 表格 |",
    "反斜杠 \\ 与 \\< 以及 &lt; 和 &amp;",
    "2022年我国算力总规模达到每秒180E(1.8万亿亿次/1.8万京次)FLOPS(浮点运算)。",
    "多行\n第二行\n\n第三段",
]
OUR_TAG = re.compile(r'</?(?:sup|mark|code|em|span)(?: class="[a-z]+")?>')


def _bare_markup(markdown: str) -> list[str]:
    """Active characters not escaped by a backslash and not part of render.py's own markup (its tags,
    and the "> " that starts each blockquote line)."""
    stripped = re.sub(r"(?m)^> ", "", OUR_TAG.sub("", markdown))
    return re.findall(r"(?<!\\)[<>&`]", stripped.replace("\\\\", ""))


@pytest.mark.parametrize("text", NASTY)
def test_escape_round_trips_and_leaves_no_markup(text: str) -> None:
    assert to_plain(escape(text)) == text.strip()
    assert _bare_markup(escape(text)) == []


def test_answer_markers_become_chips_and_text_survives() -> None:
    text = "算力总规模达到180E。[1]另见<img src=x>[2]"
    md = answer_markdown(text)
    assert md.count('<sup class="cite">') == 2
    assert to_plain(md) == text
    assert _bare_markup(md) == []
    assert answer_markdown(text, streaming=True).endswith(CURSOR)
    assert to_plain(answer_markdown(text, streaming=True)) == text


def test_notice_is_shown_above_the_answer() -> None:
    md = answer_markdown("摘录。[1]", "大模型暂不可用，以下为原文摘录。")
    assert md.startswith('<em class="notice">大模型暂不可用')
    assert to_plain(md).endswith("摘录。[1]")


def _answer(doc: str, quote: str, *, rewritten: str | None = None, title: str = "标题") -> Answer:
    chunk = Chunk(id="c", source="doc.txt", title=title, text=doc, start=100, end=100 + len(doc))
    at = doc.index(quote)
    cite = Citation(n=1, source="doc.txt", title=title, quote=quote, score=1.0, start=100 + at,
                    end=100 + at + len(quote))
    return Answer(question="那美国呢？", text=quote + "[1]", refused=False, provider="extractive",
                  rewritten=rewritten, citations=[cite], retrieved=[Hit(chunk=chunk, score=0.5, rank=1)],
                  timings_ms={"total": 250.0})


def test_sources_highlight_the_quote_inside_its_escaped_context() -> None:
    doc = "前文<b>粗</b>。" + "据说<img src=x onerror=alert(1)>排名第二。" + "后文。"
    ans = _answer(doc, "据说<img src=x onerror=alert(1)>排名第二。", title="<i>题</i>")
    md = sources_markdown(ans)
    marked = re.findall(r'<mark class="quote">(.*?)</mark>', md)
    assert [to_plain(m) for m in marked] == ["据说<img src=x onerror=alert(1)>排名第二。"]
    assert "doc.txt" in to_plain(md) and "<i>题</i>" in to_plain(md)
    assert "前文<b>粗</b>。" in to_plain(md)
    assert _bare_markup(md) == []


def test_long_context_is_trimmed_around_the_quote() -> None:
    doc = "甲" * 500 + "关键句。" + "乙" * 500
    plain = to_plain(sources_markdown(_answer(doc, "关键句。")))
    assert "…" + "甲" * 60 + "关键句。" + "乙" * 60 + "…" in plain
    assert "甲" * 61 not in plain


def test_multiline_quote_is_marked_line_by_line() -> None:
    doc = "标题行\n\n第一句跨行\n第二行结束。后文"
    md = sources_markdown(_answer(doc, "第一句跨行\n第二行结束。"))
    assert md.count('<mark class="quote">') == 2
    assert all(line.startswith("> ") for line in md.split("\n\n", 1)[1].splitlines())


def test_quote_outside_every_retrieved_chunk_is_shown_alone() -> None:
    ans = _answer("完全无关的片段。", "完全无关的片段。")
    ans.retrieved = []
    assert re.findall(r'<mark class="quote">(.*?)</mark>', sources_markdown(ans)) == ["完全无关的片段。"]


def test_rewritten_question_shown_only_when_it_differs() -> None:
    assert "检索问题" in to_plain(sources_markdown(_answer("句子。", "句子。", rewritten="2022年算力 那美国呢？")))
    assert "检索问题" not in to_plain(sources_markdown(_answer("句子。", "句子。", rewritten="那美国呢？")))


def test_answer_bubble_has_a_closed_sources_panel_naming_the_articles() -> None:
    answer, panel = answer_messages(_answer("句子。", "句子。", title="AI迭代与算力竞争"))
    assert to_plain(answer["content"]) == "句子。[1]"
    # the answer took 250 ms, but no bare "(0.2s)" beside the title: a reader cannot tell what it times
    assert panel["metadata"] == {"title": "来源（1）", "status": "done", "log": "AI迭代与算力竞争"}


def test_history_turns_recovers_what_people_typed_and_read() -> None:
    question = "算力<b>多少</b>？"
    ans = _answer("句子<x>。", "句子<x>。")
    history = [
        {"role": "user", "content": [{"type": "text", "text": question}]},
        *answer_messages(ans),
        {"role": "user", "content": "太长的问题"},
        refusal_message("问题太长（3000 字）"),
        {"role": "user", "content": "那美国呢？"},
        {"role": "assistant", "content": answer_markdown("美国第一。[1]")},
    ]
    assert history_turns(history) == [(question, "句子<x>。[1]"), ("那美国呢？", "美国第一。[1]")]


def test_the_span_that_answers_is_bold_in_the_first_sentence_and_round_trips() -> None:
    text = "青石镇始建于1368年。[1]镇上共有七座拱桥1368。[2]"
    markdown = answer_markdown(text, emphasis="1368年")
    assert markdown.count('<strong class="answer">1368年</strong>') == 1  # the first sentence only
    assert to_plain(markdown) == "青石镇始建于1368年。[1]镇上共有七座拱桥1368。[2]"
    assert "<strong" not in answer_markdown(text, emphasis="七座")  # not in the first sentence: left plain
    nasty = answer_markdown("<b>x</b>是答案。[1]", emphasis="<b>x</b>")
    assert '<strong class="answer">\\<b\\>x\\</b\\></strong>' in nasty  # escaped inside the emphasis too


def test_a_refusal_says_why_from_the_gate_decision() -> None:
    gate = {"answerable": False, "probability": 0.12, "threshold": 0.45, "missing": ["星河电子"],
            "reason": "资料中没有提到「星河电子」。", "features": {},
            "drivers": [{"feature": "subject", "contribution": -2.1}, {"feature": "dense", "contribution": 0.4}]}
    ans = Answer(question="星河电子的董事长是谁？", text="抱歉，资料中没有找到与该问题相关的信息。", refused=True,
                 provider="extractive", gate=gate)
    why = [m for m in answer_messages(ans) if (m.get("metadata") or {}).get("title") == "为什么没有回答"]
    assert len(why) == 1
    content = why[0]["content"]
    assert "资料中没有提到「星河电子」" in content and "0.12" in content and "0.45" in content
    assert "段落中没有问题所问的对象" in content  # the feature that drove the refusal, in words
    assert "语义" not in content  # one that argued for answering is not listed as a reason
    assert history_turns([{"role": "user", "content": ans.question}, *answer_messages(ans)]) == [
        (ans.question, ans.text)]  # the panel is not part of the conversation
