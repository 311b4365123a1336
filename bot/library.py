"""The knowledge base as a newsroom manages it: upload, list, remove and re-index articles.

The 资料库 tab, its API and the CLI all come here. An uploaded file is checked (name, type, size,
count), read and indexed from a staging copy, and only then moved into ``articles_dir`` under its
checked name — so a rejected file changes nothing, neither the index nor the folder, and no name can
point outside the folder. Ingest runs in the calling process: in the chat app that is the app itself,
whose retriever sees the change on the very next question (``bot.index.local_writes``); other replicas
of a Chroma server see it within seconds, as after ``qabot ingest``.
"""
from __future__ import annotations

import hmac
import ipaddress
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import wraps
from pathlib import Path
from typing import Any, Literal

from bot import store
from bot.clean import check_size
from bot.config import Settings
from bot.deploy import parse_auth
from bot.index import Article, Index
from bot.parse import CleanError

Progress = Callable[[float, str], None]  # (share done, what is happening)
Access = Literal["open", "admin", "read-only"]
MAX_NAME_BYTES = 200  # file systems allow 255; room for a staging suffix
_FORBIDDEN = re.compile(r'[<>:"|?*\x00-\x1f\x7f]')


@dataclass(frozen=True)
class Outcome:
    """What became of one file or article: a result line for the person who asked."""

    name: str
    ok: bool
    message: str
    chunks: int = 0

    def line(self) -> str:
        return f"{'✓' if self.ok else '✗'} {self.name}：{self.message}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- who may change it ----------------------------------------------------------------------------------

def exposed(settings: Settings) -> bool:
    """Reachable from other machines: listening on a non-loopback address, or published by a reverse
    proxy (a root path), which makes even a loopback listener public."""
    if settings.root_path:
        return True
    host = settings.host.strip("[]")
    if host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: assume it is meant to be reached
        return True


def access(settings: Settings) -> Access:
    """``open``: anyone using the page may change the knowledge base (loopback, no ``--admin``);
    ``admin``: after logging in with ``--admin``; ``read-only``: exposed without ``--admin``."""
    if settings.admin:
        return "admin"
    return "read-only" if exposed(settings) else "open"


def is_admin(user: str, password: str, settings: Settings) -> bool:
    if not settings.admin:
        return False
    want_user, want_password = parse_auth(settings.admin)
    ok_user = hmac.compare_digest(user.encode(), want_user.encode())
    return hmac.compare_digest(password.encode(), want_password.encode()) and ok_user


# --- names ----------------------------------------------------------------------------------------------

def stored_name(name: str, settings: Settings) -> str:
    """The name a file is kept under in ``articles_dir`` (and cited by). A name with a path in it is
    refused, not trimmed: ``../x.txt`` is a mistake or an attack, and either way the person should know."""
    if "/" in name or "\\" in name or name.strip() in (".", ".."):
        raise CleanError("文件名不能包含路径（/、\\ 或 ..），请只上传文件本身")
    clean = _FORBIDDEN.sub("", unicodedata.normalize("NFC", name))
    clean = "".join(ch for ch in clean if unicodedata.category(ch) not in {"Cf", "Cc"}).strip().lstrip(".")
    suffix = Path(clean).suffix
    stem = clean[: len(clean) - len(suffix)].strip(" .") if suffix else clean
    if suffix.lower() not in settings.upload_suffixes:
        kinds = "、".join(settings.upload_suffixes)
        raise CleanError(f"不支持的文件类型 {suffix or '（无扩展名）'}，可上传：{kinds}")
    if not stem:
        raise CleanError("文件名无效")
    while len((stem + suffix).encode()) > MAX_NAME_BYTES:
        stem = stem[:-1]
    return stem + suffix


def _article_path(name: str, settings: Settings) -> Path:
    """``articles_dir / name`` for a name that stays inside it (``remove``/``reindex`` take any text)."""
    folder = settings.articles_dir.resolve()
    path = (folder / name).resolve()
    if path.parent != folder or "/" in name or "\\" in name:
        raise CleanError("文章名不能包含路径")
    return path


# --- changes --------------------------------------------------------------------------------------------

def upload(files: Sequence[tuple[str, Path]], settings: Settings, progress: Progress | None = None) -> list[Outcome]:
    """Add or replace articles from ``(original name, path)`` pairs; one outcome per file, in order."""
    if len(files) > settings.max_upload_files:
        why = f"一次最多上传 {settings.max_upload_files} 个文件（本次 {len(files)} 个），都未导入"
        return [Outcome(name, False, why) for name, _ in files]
    outcomes: list[Outcome] = []
    taken: set[str] = set()
    for i, (original, path) in enumerate(files):
        def step(done: int, total: int, i: int = i, original: str = original) -> None:
            if progress:
                progress((i + (done / total if total else 0)) / len(files), f"正在导入 {original}（{done}/{total} 个片段）")

        step(0, 0)
        try:
            name = stored_name(original, settings)
            if name in taken:
                raise CleanError("与本次上传的另一个文件同名")
            taken.add(name)
            outcomes.append(_add(name, path, settings, step))
        except CleanError as err:
            outcomes.append(Outcome(original, False, str(err)))
    if progress:
        progress(1.0, "完成")
    return outcomes


def _add(name: str, upload_path: Path, settings: Settings, on_chunks: store.ChunkProgress) -> Outcome:
    check_size(upload_path, settings.max_file_bytes)  # before copying it
    settings.store_dir.mkdir(parents=True, exist_ok=True)
    replaced = (settings.articles_dir / name).exists()
    with tempfile.TemporaryDirectory(dir=settings.store_dir, prefix="upload-") as staging:
        staged = Path(staging) / name  # ingest names the article by its file name: the stored one
        shutil.copyfile(upload_path, staged)
        report = store.ingest([staged], settings=settings, progress=False, on_chunks=on_chunks)
        if report.failed:
            raise CleanError(report.failed[0][1])
        settings.articles_dir.mkdir(parents=True, exist_ok=True)
        shutil.move(staged, settings.articles_dir / name)
    chunks = report.added + report.skipped
    if not (report.added or report.removed):
        return Outcome(name, True, f"与已有版本相同，未改动（{chunks} 个片段）", chunks)
    verb = "已替换同名文章" if replaced else "已导入"
    return Outcome(name, True, f"{verb}，{chunks} 个片段", chunks)


def _by_name(action: Callable[[str, Path, Settings], Outcome]) -> Callable[[str, Settings], Outcome]:
    """``action`` on the article of that name in ``articles_dir``; a name with a path in it, or a failure
    the action raises, comes back as the outcome's reason."""
    @wraps(action)
    def run(name: str, settings: Settings) -> Outcome:
        try:
            return action(name, _article_path(name, settings), settings)
        except CleanError as err:
            return Outcome(name, False, str(err))

    return run


@_by_name
def remove(name: str, path: Path, settings: Settings) -> Outcome:
    """Delete an article from the index (every replica reloads) and its file from ``articles_dir``."""
    removed = store.remove(name, settings)
    had_file = path.is_file()
    if had_file:
        path.unlink()
    if not removed and not had_file:
        raise CleanError("资料库中没有这篇文章")
    return Outcome(name, True, f"已删除，移除 {removed} 个片段", removed)


@_by_name
def reindex(name: str, path: Path, settings: Settings) -> Outcome:
    """Read an article's file again (after a change of the cleaner, the chunking or the file itself)."""
    if not path.is_file():
        raise CleanError(f"{settings.articles_dir} 中没有这篇文章的原文件，无法重新索引")
    report = store.ingest([path], settings=settings, progress=False)
    if report.failed:
        raise CleanError(report.failed[0][1])
    return Outcome(name, True, f"已重新索引：新增 {report.added} 个片段，未变 {report.skipped} 个，移除 {report.removed} 个",
                   report.added + report.skipped)


# --- the list -------------------------------------------------------------------------------------------

COLUMNS = ("标题", "文件", "片段", "添加时间", "大小")


def articles(settings: Settings) -> list[Article]:
    return Index(settings).articles()


def rows(found: Sequence[Article]) -> list[list[str | int]]:
    """The list as a table shows it: local time to the minute, sizes in KB/MB."""
    return [[a.title, a.source, a.chunks, _when(a.added), _size(a.size)] for a in found]


def _when(iso: str | None) -> str:
    return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M") if iso else "—"


def _size(n: int | None) -> str:
    if n is None:
        return "—"
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{max(1, round(n / 1024))} KB"
