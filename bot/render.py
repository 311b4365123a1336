"""Answers ⇄ chat messages: the one place where untrusted text meets the browser.

Gradio's Chatbot renders every message as Markdown plus HTML, then *sanitises* it. A sanitiser removes
what it dislikes instead of showing it: ``<img src=x onerror=...>`` typed by a user survives as a live
``<img>``, and ``<script>`` silently disappears from the question. So every piece of text we did not write
ourselves — the question, document chunks, answers quoted from them — goes through :func:`escape`, which
makes it literal Markdown. The only markup in a message is the few tags added here (``<sup>``,
``<mark>``, ``<code>``, ``<em>``, ``<span>``). :func:`to_plain` inverts a rendered message exactly, so
the chat history handed to the follow-up rewrite (:func:`history_turns`) is the text people actually
typed and read.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from bot.types import Answer, Citation, Hit

# Characters Markdown or HTML could act on. LaTeX rendering is switched off in the UI, so "$" is inert.
_ACTIVE = frozenset("\\`*_[]<>&#~|")
_MARKER = re.compile(r"\[(\d+)\]")
CONTEXT_CHARS = 60  # characters of the chunk shown on each side of a highlighted quote
CURSOR = "▍"  # shown at the end of a draft while it streams


def escape(text: str) -> str:
    """Backslash-escape every active character: the Markdown renderer then prints ``text`` verbatim."""
    return "".join("\\" + ch if ch in _ACTIVE else ch for ch in text)


def to_plain(markdown: str) -> str:
    """The text a rendered message shows: undo :func:`escape` and drop the markup this module added.

    Exact because :func:`escape` leaves no active character unescaped: any bare one is ours.
    """
    out: list[str] = []
    i, n = 0, len(markdown)
    while i < n:
        ch = markdown[i]
        if ch == "\\" and i + 1 < n and markdown[i + 1] in _ACTIVE:
            out.append(markdown[i + 1])
            i += 2
        elif ch == "<":
            close = markdown.find(">", i)
            i = n if close < 0 else close + 1
        elif ch in _ACTIVE:
            i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out).replace(CURSOR, "").strip()


def answer_markdown(text: str, notice: str | None = None, *, streaming: bool = False,
                    emphasis: str | None = None) -> str:
    """The answer with its ``[n]`` markers as superscript chips, the span that answers (``emphasis``, in
    the first sentence) in bold, and a notice (LLM fell back) on top."""
    parts: list[str] = []
    last = 0
    first_end = next((m.start() for m in _MARKER.finditer(text)), len(text))
    at = text.find(emphasis, 0, first_end) if emphasis else -1
    if at >= 0:
        parts.append(f'{escape(text[:at])}<strong class="answer">{escape(emphasis)}</strong>')
        last = at + len(emphasis)
    for m in _MARKER.finditer(text):
        parts.append(escape(text[last : m.start()]))
        parts.append(f'<sup class="cite">\\[{m.group(1)}\\]</sup>')
        last = m.end()
    parts.append(escape(text[last:]))
    body = "".join(parts) + (CURSOR if streaming else "")
    if notice:
        return f'<em class="notice">{escape(notice)}</em>\n\n{body}'
    return body


def _context(citation: Citation, hits: Iterable[Hit]) -> tuple[str, str, str]:
    """(before, quote, after): the quote inside the retrieved chunk it came from, trimmed around it.

    Falls back to the bare quote when no retrieved chunk holds it (e.g. an LLM cited across chunks).
    """
    for hit in hits:
        chunk = hit.chunk
        if chunk.source != citation.source or not chunk.start <= citation.start <= citation.end <= chunk.end:
            continue
        a, b = citation.start - chunk.start, citation.end - chunk.start
        if chunk.text[a:b] != citation.quote:
            continue
        before, after = chunk.text[:a], chunk.text[b:]
        if len(before) > CONTEXT_CHARS:
            before = "…" + before[-CONTEXT_CHARS:]
        if len(after) > CONTEXT_CHARS:
            after = after[:CONTEXT_CHARS] + "…"
        return before, citation.quote, after
    return "", citation.quote, ""


def _blockquote(before: str, quote: str, after: str) -> str:
    """A Markdown blockquote, line by line, with the quote's part of each line in ``<mark>``."""
    segments = [(before, False), (quote, True), (after, False)]
    lines: list[list[str]] = [[]]
    for text, marked in segments:
        for j, piece in enumerate(text.split("\n")):
            if j:
                lines.append([])
            if piece.strip():
                lines[-1].append(f'<mark class="quote">{escape(piece)}</mark>' if marked else escape(piece))
    return "\n".join("> " + "".join(line) for line in lines if line)


def sources_markdown(ans: Answer) -> str:
    """The 「来源」 panel: the standalone question a follow-up became, then each citation in context."""
    blocks: list[str] = []
    if ans.rewritten and ans.rewritten.strip() != ans.question.strip():
        blocks.append(f'<span class="rewritten">检索问题：{escape(ans.rewritten)}</span>')
    for c in ans.citations:
        head = f"**\\[{c.n}\\]** {escape(c.title)} · <code>{escape(c.source)}</code>"
        blocks.append(head + "\n\n" + _blockquote(*_context(c, ans.retrieved)))
    if not ans.citations:
        blocks.append("资料中没有可引用的段落。")
    return "\n\n".join(blocks)


def _sources_title(ans: Answer) -> str:
    """Title of the collapsible panel, with the citation count so it says something while closed."""
    return f"来源（{len(ans.citations)}）" if ans.citations else "来源"


def _sources_log(ans: Answer) -> str:
    """The articles cited, shown beside the panel's title so a closed panel still names them."""
    return "、".join(dict.fromkeys(c.title for c in ans.citations))


def history_turns(history: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Chat messages → ``(question, answer)`` pairs as the user read them, for the follow-up rewrite.

    The 「来源」 panels and pending notes are metadata messages and are skipped; an unanswered question
    (an error, a stopped stream) is dropped with its turn.
    """
    turns: list[tuple[str, str]] = []
    question: str | None = None
    reply: str | None = None
    for message in history:
        if (message.get("metadata") or {}).get("title"):
            continue
        text = _text(message.get("content"))
        if message["role"] == "user":
            if question is not None and reply:
                turns.append((question, reply))
            question, reply = text, None
        elif message["role"] == "assistant":
            reply = to_plain(text)
    if question is not None and reply:
        turns.append((question, reply))
    return turns


def _text(content: Any) -> str:
    """Text of a message's content: a string, or Gradio 6's list of typed parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def why_markdown(ans: Answer) -> str:
    """「为什么没有回答」: the gate's reason for each refused part and the features that weighed most."""
    from bot.gate import FEATURE_LABELS

    decisions = [(p["question"], p["gate"]) for p in ans.parts if p["refused"]] or [(None, ans.gate or {})]
    blocks = []
    for question, decision in decisions:
        lines = [f"**{escape(question)}**"] if question else []
        lines.append(escape(decision.get("reason") or "资料中没有找到足以回答的内容。"))
        if "probability" in decision:
            lines.append(f"把握 {decision['probability']:.2f}（回答需要 ≥ {decision['threshold']:.2f}）")
        block = "\n\n".join(lines)
        against = [d for d in decision.get("drivers", []) if d["contribution"] < 0]
        if against:
            block += "\n\n" + "\n".join(f"- {escape(FEATURE_LABELS.get(d['feature'], d['feature']))}" for d in against)
        blocks.append(block)
    return "\n\n".join(blocks)


def answer_messages(ans: Answer, answer_id: str | None = None) -> list[dict[str, Any]]:
    """The finished bubble: answer, then the 「来源」 panel (closed; the title says how many), or for a
    refusal (or a part left unanswered) the 「为什么没有回答」 panel.

    ``answer_id`` goes into the answer message's metadata, for a 👍/👎 on it to name it (bot/feedback/ui.py).
    """
    messages: list[dict[str, Any]] = [
        {"role": "assistant", "content": answer_markdown(ans.text, ans.notice, emphasis=ans.emphasis)}]
    if answer_id:
        messages[0]["metadata"] = {"id": answer_id}
    if ans.refused or any(p["refused"] for p in ans.parts):
        messages.append({"role": "assistant", "content": why_markdown(ans),
                         "metadata": {"title": "为什么没有回答", "status": "done"}})
    if ans.citations or (ans.rewritten and ans.rewritten != ans.question):
        # no "duration": Gradio shows it as a bare "(0.2s)" beside the title, which says nothing to a reader
        metadata: dict[str, Any] = {"title": _sources_title(ans), "status": "done", "log": _sources_log(ans)}
        messages.append({"role": "assistant", "content": sources_markdown(ans), "metadata": metadata})
    return messages


def refusal_message(reason: str) -> dict[str, Any]:
    """Why a question was not taken (empty, too long), as a titled note: not an answer, so
    :func:`history_turns` leaves the question out of the next follow-up's context."""
    return {"role": "assistant", "content": "", "metadata": {"title": f"⚠ {escape(reason)}"}}
