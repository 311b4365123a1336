"""The browser chat: a Gradio ``ChatInterface`` over ``bot.chain``, plus the JSON ``ask`` API endpoint,
and beside it the 「资料库」 tab (:mod:`bot.library_tab`) where articles are uploaded and deleted.

Everything the chat shows is built by :mod:`bot.render` (which escapes untrusted text) and displayed by
:class:`bot.chatbot.LiteralChatbot` (which escapes what users type). Each answer is one chat bubble: the
answer with its ``[n]`` chips, then a collapsible 「来源」 panel (a Gradio metadata message) quoting every
citation in its context with the supporting span highlighted, and the standalone question a follow-up
was rewritten into.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gradio as gr

from bot import library_tab
from bot.chain import QuestionError, answer, stream
from bot.chatbot import LiteralChatbot
from bot.config import Settings, get_settings
from bot.feedback.ui import FEEDBACK_OPTIONS, Feedback
from bot.providers import PROVIDERS
from bot.render import answer_markdown, answer_messages, history_turns, refusal_message

TITLE = "资料问答"
DESCRIPTION = "只根据本地文章库作答，每句话后标注出处 [n]；展开「来源」可核对原文摘录。"
EXAMPLES = [
    "2022年我国算力总规模是多少？",
    "薛澜认为中国大模型存在哪些问题？",
    "科大讯飞和华为联合发布的飞星一号是什么？",
    "临港新片区的算力产业到2025年有哪些目标？",
]
PROVIDER_LABELS = {"extractive": "原文摘录（离线，无需大模型）", "openai": "OpenAI 兼容接口", "local": "本地大模型"}

# Fonts: the theme's Latin font ships inside gradio (served by the app itself); Chinese falls back to the
# reader's system CJK fonts. Nothing is fetched from a font CDN.
CJK_FONTS = ["Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "sans-serif"]
CSS = """
/* The widget may live inside someone else's page (web component): reset what a host page's styles
   could pass down by inheritance, so the chat looks the same everywhere. */
.gradio-container { letter-spacing: normal; word-spacing: normal; text-transform: none; text-indent: 0;
  text-align: start; font-style: normal; line-height: 1.6; }
/* ... and element rules (a news site's p text-indent of 2em, say): they beat inheritance, so restore it
   one level more specifically. Gradio's own class rules still win. */
.gradio-container div, .gradio-container p, .gradio-container span, .gradio-container li,
.gradio-container blockquote, .gradio-container label, .gradio-container h1, .gradio-container h2,
.gradio-container button, .gradio-container textarea, .gradio-container input {
  text-indent: inherit; letter-spacing: inherit; word-spacing: inherit; text-transform: inherit; }
.gradio-container div, .gradio-container p, .gradio-container li, .gradio-container blockquote {
  line-height: inherit; text-align: inherit; }
/* the 对话 tab fills the page as the chat alone did (Gradio's tab container is a plain block) */
.gradio-container .tabs { display: flex; flex-direction: column; }
.gradio-container .tabs > .tabitem { flex-grow: 1; }
.qa-header h1 { font-size: 1.5rem; margin: 0 0 .15rem 0; }
.qa-header p { margin: 0; color: var(--body-text-color-subdued); }
.gradio-container sup.cite { color: var(--color-accent); font-weight: 600; font-size: .75em; margin: 0 .1em; }
.gradio-container mark.quote { background: #fde68a; color: inherit; font-size: inherit; padding: 0 .1em;
  border-radius: 2px; }
.dark .gradio-container mark.quote, .gradio-container.dark mark.quote { background: #854d0e; }
.gradio-container em.notice { color: #b45309; font-style: normal; }
.gradio-container em.notice::before { content: "⚠ "; }
.gradio-container span.rewritten { color: var(--body-text-color-subdued); font-size: 14px; }
.gradio-container blockquote { margin: .3em 0 .9em 0; color: var(--body-text-color); }
.gradio-container .thought-group .content p, .gradio-container .thought-group .content blockquote {
  font-size: 14px; line-height: 1.7; }
"""


def theme() -> gr.themes.Base:
    """A sober newsroom look: red accent, slate greys, CJK-first font stack, no web fonts from a CDN."""
    return gr.themes.Default(
        primary_hue="red",
        neutral_hue="slate",
        font=[gr.themes.LocalFont("IBM Plex Sans"), *CJK_FONTS],
    )


def build_ui(settings: Settings | None = None) -> gr.Blocks:
    """The Blocks app: the chat (provider choice in a 「设置」 accordion) and the 「资料库」 tab beside it,
    the ``ask`` endpoint and the knowledge base's (:mod:`bot.library_tab`)."""
    settings = settings or get_settings()
    feedback = Feedback(settings)

    def respond(message: str, history: list[dict[str, Any]], provider: str) -> Iterator[list[dict[str, Any]]]:
        """Stream the draft as it is written, then replace it by the verified answer and its sources."""
        yield [{"role": "assistant", "content": "", "metadata": {"title": "正在检索资料…", "status": "pending"}}]
        draft = ""
        try:
            for item in stream(message, history_turns(history), provider=provider, settings=settings):
                if isinstance(item, str):
                    draft += item
                    yield [{"role": "assistant", "content": answer_markdown(draft, streaming=True)}]
                else:
                    yield answer_messages(item, answer_id=feedback.remember(item))
        except QuestionError as err:
            yield [refusal_message(str(err))]

    def ask(question: str, history: list[list[str]] | None = None, provider: str = "") -> dict[str, Any]:
        """Answer one question; returns the same JSON as `qabot ask --json`.

        history: earlier turns as [question, answer] pairs, for follow-ups like 「那美国呢？」.
        provider: extractive | openai | local; empty for the server's default.
        """
        if provider and provider not in PROVIDERS:
            raise gr.Error(f"未知的回答方式 {provider!r}，可选：{'、'.join(PROVIDERS)}")
        if any(not isinstance(t, list | tuple) or len(t) != 2 for t in history or []):
            raise gr.Error("history 应为 [问题, 回答] 对的列表，例如 [[\"2022年算力规模？\", \"……\"]]")
        turns = [(str(q), str(a)) for q, a in (history or [])]
        try:
            return answer(question, turns, provider=provider or None, settings=settings).to_dict()
        except QuestionError as err:
            raise gr.Error(str(err)) from None

    with gr.Blocks(title=TITLE, fill_height=True, analytics_enabled=False) as demo:
        gr.Markdown(f"# {TITLE}\n{DESCRIPTION}", elem_classes="qa-header")
        provider = gr.Radio(
            [(PROVIDER_LABELS.get(name, name), name) for name in PROVIDERS],
            value=settings.provider,
            label="回答方式",
            info="大模型不可用时自动改用原文摘录，并在回答上方提示。",
            render=False,
        )
        with gr.Tab("对话", scale=1):
            chat = gr.ChatInterface(
                respond,
                chatbot=LiteralChatbot(
                    label="对话",
                    show_label=False,
                    latex_delimiters=[],
                    # no copy buttons: they copy a message's source (escapes, tags); a selection copies the text
                    buttons=[],
                    feedback_options=FEEDBACK_OPTIONS,  # 👍/👎, bot/feedback/ui.py
                    placeholder="向资料提问：回答只来自文章库，并逐句标注出处。",
                    scale=1,
                ),
                textbox=gr.Textbox(placeholder="输入问题，按 Enter 发送", lines=1, max_lines=6, submit_btn="发送"),
                additional_inputs=[provider],
                additional_inputs_accordion=gr.Accordion(label="设置", open=False, render=False),
                examples=[[q, None] for q in EXAMPLES],
                api_visibility="private",
                analytics_enabled=False,
                fill_height=True,
            )
            feedback.attach(chat.chatbot)
        with gr.Tab("资料库") as library:
            library_tab.build(settings, library)
        gr.api(ask, api_name="ask")
    return demo
