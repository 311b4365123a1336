"""👍/👎 under each chat answer, and a comment box that opens after a vote.

Gradio's like event sends the index of the rated message group, and our handler receives the chat as the
browser holds it. The group's answer message carries the id under which :class:`~bot.feedback.shown.Recent`
keeps the answer, in ``metadata["id"]`` (Gradio reads that key only to nest *titled* thought messages, so
on the untitled answer it changes nothing on screen). Clicking the same thumb again takes the vote back.
"""
from __future__ import annotations

from itertools import takewhile
from typing import Any

import gradio as gr

from bot.config import Settings
from bot.feedback.shown import Recent
from bot.feedback.store import MAX_COMMENT_CHARS, VOTES, FeedbackError, FeedbackStore, Vote
from bot.gitinfo import running_commit
from bot.types import Answer

FEEDBACK_OPTIONS = ("Like", "Dislike")  # the two strings Gradio draws as thumbs (zh-CN labels: 赞 / 踩)
NOT_AN_ANSWER = "这条消息不是回答，无法评价。"
EXPIRED = "这条回答已过期（服务重启过，或回答时间太久），无法评价；请重新提问后再评价。"
WITHDRAWN = "这条回答的评价已撤回，意见没有保存。"
THANKS = "谢谢，意见已记录。"
PROMPT: dict[Vote, str] = {"up": "想补充什么？（可选）", "down": "哪里不对？（可选，例如正确答案或应引用的文章）"}
WORD: dict[Vote, str] = {"up": "赞", "down": "踩"}  # as the thumbs are labelled
QUESTION_CHARS = 30  # of the rated question, shown in the comment box's label


def _groups(messages: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Runs of consecutive messages of one role: the bubbles the chat draws, each with its own thumbs."""
    groups: list[list[dict[str, Any]]] = []
    for message in messages:
        if groups and groups[-1][0].get("role") == message.get("role"):
            groups[-1].append(message)
        else:
            groups.append([message])
    return groups


def _group_id(group: list[dict[str, Any]]) -> str | None:
    return next((str(m["metadata"]["id"]) for m in group if (m.get("metadata") or {}).get("id")), None)


def answer_id(messages: list[dict[str, Any]], index: int | list[int] | tuple[int, ...]) -> str | None:
    """The id carried by the rated group: the answer message at ``index`` and its 「来源」 panel after it."""
    start = index[0] if isinstance(index, list | tuple) else index
    if not isinstance(start, int) or not 0 <= start < len(messages):
        return None
    return _group_id(list(takewhile(lambda m: m.get("role") == "assistant", messages[start:])))


def _quoted(question: str) -> str:
    question = " ".join(question.split())
    return question if len(question) <= QUESTION_CHARS else question[: QUESTION_CHARS - 1] + "…"


class Feedback:
    """The chat's side of feedback: remembers shown answers and stores the votes and comments on them."""

    def __init__(self, settings: Settings):
        self.recent = Recent(settings.feedback_remember, running_commit())
        self.store = FeedbackStore(settings.feedback_path)

    def remember(self, answer: Answer) -> str:
        """Keep an answer about to be shown; returns the id its chat message must carry."""
        return self.recent.remember(answer)

    def shown_votes(self, messages: list[dict[str, Any]]) -> gr.Chatbot:
        """The chat's thumbs as stored, one per answer bubble in order (Gradio's ``feedback_value``): the
        browser forgets which thumb was pressed whenever the chat redraws, e.g. on the next answer."""
        bubbles = [_group_id(g) for g in _groups(messages) if g[0].get("role") == "assistant"]
        try:
            votes = self.store.votes([i for i in bubbles if i])
        except FeedbackError:
            votes = {}
        return gr.Chatbot(feedback_value=[FEEDBACK_OPTIONS[VOTES.index(votes[i])] if i in votes else None
                                          for i in bubbles])

    def votes_before(self, index: int | tuple[int, ...], messages: list[dict[str, Any]]) -> gr.Chatbot:
        """The thumbs of the answers before message ``index``. 重试 and 撤销 replace the chat from there on,
        and the browser places thumbs by position: a removed answer's vote must not pass to the next one."""
        start = index[0] if isinstance(index, tuple | list) else index
        return self.shown_votes(messages[:start])

    def on_retry(self, data: gr.RetryData, messages: list[dict[str, Any]]) -> gr.Chatbot:
        return self.votes_before(data.index, messages)

    def on_undo(self, data: gr.UndoData, messages: list[dict[str, Any]]) -> gr.Chatbot:
        return self.votes_before(data.index, messages)

    def on_like(self, data: gr.LikeData, messages: list[dict[str, Any]]) -> tuple[str | None, Any, Any, Any]:
        """A thumb clicked: store the vote (or take it back) and open the comment box for a vote."""
        found = answer_id(messages, data.index)
        shown = self.recent.get(found) if found else None
        vote: Vote | None = "up" if data.liked is True else "down" if data.liked is False else None
        if shown is None:
            gr.Warning(NOT_AN_ANSWER if found is None else EXPIRED)
        else:
            try:
                if vote is None:
                    self.store.unrate(shown.id)
                else:
                    self.store.rate(shown, vote)
            except FeedbackError as e:
                gr.Warning(str(e))
                vote = None
        thumbs = self.shown_votes(messages)  # what is stored, so a vote that failed does not look pressed
        if shown is None or vote is None:
            return None, gr.Row(visible=False), gr.Textbox(value=""), thumbs
        label = f"已记录：你对「{_quoted(shown.question)}」的回答点了{WORD[vote]}。{PROMPT[vote]}"
        return shown.id, gr.Row(visible=True), gr.Textbox(value="", label=label), thumbs

    def on_comment(self, rated: str | None, text: str) -> tuple[Any, Any]:
        """Save the comment on the answer rated last in this session; a failure keeps the typed text."""
        if not rated:
            return gr.Row(visible=False), gr.Textbox(value="")
        if not text.strip():
            gr.Warning("请先填写意见，或直接关闭。")
            return gr.Row(), gr.Textbox()
        try:
            saved = self.store.comment(rated, text)
        except FeedbackError as e:
            gr.Warning(str(e))
            return gr.Row(), gr.Textbox()
        if saved:
            gr.Info(THANKS)
        else:
            gr.Warning(WITHDRAWN)
        return gr.Row(visible=False), gr.Textbox(value="")

    def attach(self, chatbot: gr.Chatbot) -> None:
        """The comment row under the chat, and the events; call inside the Blocks, after the chat."""
        rated = gr.State(None)  # the answer id this session rated last: the comment is about it
        with gr.Row(visible=False, equal_height=False, elem_classes="qa-feedback") as row:
            box = gr.Textbox(label=PROMPT["down"], lines=1, max_lines=4, max_length=MAX_COMMENT_CHARS, scale=1,
                             placeholder="写下意见，按 Enter 提交", submit_btn="提交意见")
            close = gr.Button("关闭", scale=0, min_width=80, size="sm", variant="secondary")
        # One at a time, in the order clicked: a vote and its quick take-back run concurrently on the
        # queue's workers could otherwise land in the wrong order (each takes a millisecond)
        in_order = {"api_visibility": "private", "concurrency_limit": 1, "concurrency_id": "feedback"}
        chatbot.like(self.on_like, [chatbot], [rated, row, box, chatbot], show_progress="hidden", **in_order)
        box.submit(self.on_comment, [rated, box], [row, box], **in_order)
        close.click(lambda: (gr.Row(visible=False), gr.Textbox(value="")), None, [row, box],
                    api_visibility="private", queue=False)
        for event, handler in ((chatbot.retry, self.on_retry), (chatbot.undo, self.on_undo)):
            event(handler, [chatbot], [chatbot], api_visibility="private", queue=False, show_progress="hidden")
        chatbot.clear(lambda: gr.Chatbot(feedback_value=[]), None, [chatbot], api_visibility="private",
                      queue=False, show_progress="hidden")
