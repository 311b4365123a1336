"""The 「资料库」 tab beside the chat: upload, list, delete and re-index articles, plus its named API.

Who may change the knowledge base is decided by :func:`bot.library.access`: on loopback anyone using
the page; when the app is exposed, only after logging in with ``--admin`` in this tab (a per-session
flag held on the server, in a ``gr.State``), and otherwise nobody — the controls are not shown, and the
handlers refuse on their own as well, since an API client never sees the page.

The API (README "The 资料库 API"): ``/articles`` lists; ``/upload``, ``/remove``, ``/reindex`` change and
return one outcome per file or article; ``/admin_login`` unlocks those for the client's session.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from bot import library
from bot.config import Settings
from bot.library import COLUMNS, Outcome
from bot.render import escape

NOTES = {
    "open": "上传文章即可提问，无需重启；删除后，下一个问题就不再引用它。",
    "admin": "此服务对外开放：上传、删除与重新索引需要先用管理员账号（`--admin`）登录。",
    "read-only": "此服务对外开放且未设置管理员（`--admin`），资料库在网页上只读；"
                 "请在服务器上用 `qabot ingest` / `qabot remove` 管理。",
}
LOGIN_REQUIRED = "需要管理员登录后才能修改资料库"


def _lines(outcomes: list[Outcome]) -> str:
    """Result lines as Markdown: names and reasons come from users' files, so they are escaped."""
    return "\n".join(f"- {escape(o.line())}" for o in outcomes)


def build(settings: Settings, tab: gr.Tab) -> None:
    """The tab's content, inside the caller's ``gr.Tab`` context; refreshed whenever it is opened."""
    mode = library.access(settings)
    allowed = gr.State(mode == "open")
    types = " ".join(settings.upload_suffixes)

    gr.Markdown(NOTES[mode])
    with gr.Row(visible=mode == "admin") as login_row:
        user = gr.Textbox(label="管理员用户名", scale=2)
        password = gr.Textbox(label="密码", type="password", scale=2)
        login = gr.Button("登录", scale=1)
    login_note = gr.Markdown()
    with gr.Column(visible=mode == "open") as manage:
        files = gr.File(label=f"上传文章（{types}；每个不超过 {settings.max_file_mb:g} MB，一次最多 "
                              f"{settings.max_upload_files} 个）", file_count="multiple", type="filepath", height=150)
        add = gr.Button("导入资料库", variant="primary")
        added = gr.Markdown(elem_classes="kb-added", min_height=40)
        with gr.Row():
            chosen = gr.Dropdown(label="选择文章", choices=[], scale=3)
            delete = gr.Button("删除", variant="stop", scale=1)
            redo = gr.Button("重新索引", scale=1)
        changed = gr.Markdown(elem_classes="kb-changed", min_height=40)
    table = gr.Dataframe(headers=list(COLUMNS), datatype=["str", "str", "number", "str", "str"],
                         interactive=False, label="文章列表", wrap=True, elem_classes="kb-table")

    def listing() -> tuple[Any, Any]:
        found = library.articles(settings)
        names = [a.source for a in found]
        return gr.Dataframe(value=library.rows(found)), gr.Dropdown(choices=names, value=None)

    def log_in(name: str, secret: str) -> tuple[bool, str, Any, Any]:
        if library.is_admin(name, secret, settings):
            return True, "✓ 已登录，可以修改资料库。", gr.Row(visible=False), gr.Column(visible=True)
        return False, "✗ 用户名或密码不对。", gr.Row(), gr.Column()

    def do_upload(paths: list[str] | None, ok: bool, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
        outcomes = _upload(paths, ok, progress)
        return (_lines(outcomes), *listing(), None)

    def do_remove(name: str | None, ok: bool) -> tuple[Any, ...]:
        return (_lines([_change(library.remove, name, ok)]), *listing())

    def do_reindex(name: str | None, ok: bool, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
        progress(0, desc=f"正在重新索引 {name or ''}")
        return (_lines([_change(library.reindex, name, ok)]), *listing())

    def _upload(paths: list[str] | None, ok: bool, progress: gr.Progress | None = None) -> list[Outcome]:
        names = [Path(p).name for p in paths or []]  # gradio keeps each upload under its own name
        if not ok:
            return [Outcome(n, False, LOGIN_REQUIRED) for n in names] or [Outcome("", False, LOGIN_REQUIRED)]
        if not names:
            return [Outcome("", False, "请先选择文件")]
        report = None if progress is None else (lambda share, what: progress(share, desc=what))
        return library.upload([(n, Path(p)) for n, p in zip(names, paths or [])], settings, report)

    def _change(action: Any, name: str | None, ok: bool) -> Outcome:
        if not ok:
            return Outcome(name or "", False, LOGIN_REQUIRED)
        if not name:
            return Outcome("", False, "请先选择文章")
        return action(name, settings)

    private: dict[str, Any] = {"api_visibility": "private"}
    tab.select(listing, None, [table, chosen], **private)
    login.click(log_in, [user, password], [allowed, login_note, login_row, manage], **private)
    add.click(do_upload, [files, allowed], [added, table, chosen, files], show_progress_on=[added], **private)
    delete.click(do_remove, [chosen, allowed], [changed, table, chosen], **private)
    redo.click(do_reindex, [chosen, allowed], [changed, table, chosen], show_progress_on=[changed], **private)

    # The named API: the same actions, answering in JSON (outcome per file: name, ok, message, chunks).
    def articles() -> list[dict[str, Any]]:
        """Every article: source (file name), title, chunks, added (ISO time), size (bytes)."""
        return [vars(a) for a in library.articles(settings)]

    def api_upload(paths: list[str] | None, ok: bool) -> list[dict[str, Any]]:
        return [o.to_dict() for o in _upload(paths, ok)]

    def api_remove(name: str, ok: bool) -> dict[str, Any]:
        return _change(library.remove, name, ok).to_dict()

    def api_reindex(name: str, ok: bool) -> dict[str, Any]:
        return _change(library.reindex, name, ok).to_dict()

    def api_login(name: str, secret: str) -> tuple[bool, dict[str, Any]]:
        ok = library.is_admin(name, secret, settings)
        return ok, {"ok": ok, "message": "已登录" if ok else "用户名或密码不对"}

    gr.api(articles, api_name="articles")
    with gr.Column(visible=False):
        api_files = gr.File(file_count="multiple", type="filepath")
        api_name = gr.Textbox()
        api_user, api_password = gr.Textbox(), gr.Textbox()
        api_result = gr.JSON()
        endpoints = [("upload", api_upload, [api_files, allowed], api_result),
                     ("remove", api_remove, [api_name, allowed], api_result),
                     ("reindex", api_reindex, [api_name, allowed], api_result),
                     ("admin_login", api_login, [api_user, api_password], [allowed, api_result])]
        for name, fn, inputs, outputs in endpoints:
            gr.Button(visible=False).click(fn, inputs, outputs, api_name=name)
