"""A Gradio Chatbot that shows what users type as text, never as HTML.

ChatInterface appends the raw question to the chat itself, before our function runs, and the Chatbot
renders it as sanitised Markdown/HTML — ``<img src=x onerror=...>`` would become an element. The one hook
every value passes through on its way to the browser is the component's ``postprocess``; its inverse,
``preprocess``, sees every value coming back. Escaping user text in the first and unescaping it in the
second keeps the displayed text literal while our code keeps working with what was typed.
"""
from __future__ import annotations

from typing import Any

import gradio as gr
from gradio.components.chatbot import ChatbotDataMessages, TextMessage

from bot.render import escape, to_plain


class LiteralChatbot(gr.Chatbot):
    """``gr.Chatbot`` whose user messages are escaped on the way out and restored on the way in."""

    is_template = True  # the browser side is the stock Chatbot

    def postprocess(self, value: Any) -> ChatbotDataMessages:
        data = super().postprocess(value)
        for message in data.root:
            if message.role == "user":
                for part in message.content:
                    if isinstance(part, TextMessage):
                        part.text = escape(part.text)
        return data

    def preprocess(self, payload: ChatbotDataMessages | None) -> list[Any]:
        messages = super().preprocess(payload)
        for message in messages:
            if message["role"] == "user":
                for part in message["content"]:
                    if isinstance(part, dict) and part.get("type") == "text":
                        part["text"] = to_plain(part["text"])
        return messages
