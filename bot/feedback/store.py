"""Ratings of chat answers (👍/👎 and an optional comment) in one SQLite file under the store directory.

SQLite from the standard library because the chat rates from several worker threads at once (the
Gradio queue), possibly from several app processes on one store, while ``qabot feedback list/export``
read: SQLite serialises writers itself, waits for a busy lock (``timeout``), and in WAL mode readers run
beside a writer. A connection per operation, because a ``sqlite3`` connection belongs to the thread that
opened it, and opening one costs far less than the rate at which people click.

One row per rated answer: rating it again replaces the vote (a change of mind) and keeps the comment;
taking the vote back deletes the row.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bot.feedback.shown import Shown, now

Vote = Literal["up", "down"]
VOTES: tuple[Vote, ...] = ("up", "down")
MAX_COMMENT_CHARS = 2000
BUSY_SECONDS = 30.0  # how long a write waits for another writer's lock before it fails

SCHEMA = """
CREATE TABLE IF NOT EXISTS ratings (
    answer_id   TEXT PRIMARY KEY,           -- the id the chat message carried (bot.feedback.shown)
    vote        TEXT NOT NULL CHECK (vote IN ('up', 'down')),
    comment     TEXT NOT NULL DEFAULT '',
    question    TEXT NOT NULL,              -- as the reader typed it
    rewritten   TEXT,                       -- the standalone question a follow-up was searched as
    answer      TEXT NOT NULL,              -- with its [n] markers
    refused     INTEGER NOT NULL,
    provider    TEXT NOT NULL,
    notice      TEXT,
    citations   TEXT NOT NULL,              -- JSON: Answer.to_dict()["citations"]
    retrieved   TEXT NOT NULL,              -- JSON: Answer.to_dict()["retrieved"]
    git_commit  TEXT NOT NULL,
    answered_at TEXT NOT NULL,              -- UTC, ISO 8601
    rated_at    TEXT NOT NULL
);
"""


class FeedbackError(ValueError):
    """A rating or comment that cannot be stored; the message is for the user, in Chinese."""


@dataclass(frozen=True)
class Rating:
    """A stored rating: the answer as shown, the vote, the comment and when it was (last) rated."""

    shown: Shown
    vote: Vote
    comment: str
    rated_at: str


class FeedbackStore:
    """The ratings in ``path``; the file and its table are made on the first write."""

    def __init__(self, path: Path):
        self.path = path

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        """A connection in one transaction (committed on success, rolled back on error), then closed."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with closing(sqlite3.connect(self.path, timeout=BUSY_SECONDS)) as db:
                db.execute("PRAGMA journal_mode=WAL")
                db.executescript(SCHEMA)
                with db:
                    yield db
        except sqlite3.DatabaseError as e:
            raise FeedbackError(f"评价库 {self.path} 无法读写：{e}") from e

    def rate(self, shown: Shown, vote: Vote) -> None:
        """Record ``vote`` on the shown answer, replacing an earlier vote on it (its comment stays)."""
        if vote not in VOTES:
            raise FeedbackError(f"未知的评价 {vote!r}，应为 {' 或 '.join(VOTES)}")
        with self._db() as db:
            db.execute(
                """INSERT INTO ratings (answer_id, vote, question, rewritten, answer, refused, provider, notice,
                                        citations, retrieved, git_commit, answered_at, rated_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (answer_id) DO UPDATE SET vote = excluded.vote, rated_at = excluded.rated_at""",
                (shown.id, vote, shown.question, shown.rewritten, shown.answer, int(shown.refused), shown.provider,
                 shown.notice, json.dumps(shown.citations, ensure_ascii=False),
                 json.dumps(shown.retrieved, ensure_ascii=False), shown.commit, shown.answered_at, now()),
            )

    def comment(self, answer_id: str, text: str) -> bool:
        """Set the comment of a rated answer; ``False`` when that answer has no rating (taken back)."""
        text = text.strip()
        if len(text) > MAX_COMMENT_CHARS:
            raise FeedbackError(f"意见太长（{len(text)} 字），请精简到 {MAX_COMMENT_CHARS} 字以内。")
        with self._db() as db:
            return db.execute("UPDATE ratings SET comment = ? WHERE answer_id = ?", (text, answer_id)).rowcount > 0

    def unrate(self, answer_id: str) -> bool:
        """Take a vote back (the reader clicked the same thumb again); ``False`` when there was none."""
        with self._db() as db:
            return db.execute("DELETE FROM ratings WHERE answer_id = ?", (answer_id,)).rowcount > 0

    def votes(self, answer_ids: list[str]) -> dict[str, Vote]:
        """The current vote on each of ``answer_ids`` that has one."""
        if not answer_ids or not self.path.exists():
            return {}
        marks = ", ".join("?" * len(answer_ids))
        with self._db() as db:
            return dict(db.execute(f"SELECT answer_id, vote FROM ratings WHERE answer_id IN ({marks})", answer_ids))

    def ratings(self) -> list[Rating]:
        """Every rating, oldest first. Reading never creates the file."""
        if not self.path.exists():
            return []
        with self._db() as db:
            rows = db.execute(
                """SELECT answer_id, vote, comment, question, rewritten, answer, refused, provider, notice,
                          citations, retrieved, git_commit, answered_at, rated_at
                   FROM ratings ORDER BY rated_at, rowid"""
            ).fetchall()
        return [
            Rating(
                shown=Shown(id=r[0], question=r[3], rewritten=r[4], answer=r[5], refused=bool(r[6]), provider=r[7],
                            notice=r[8], citations=json.loads(r[9]), retrieved=json.loads(r[10]), commit=r[11],
                            answered_at=r[12]),
                vote=r[1], comment=r[2], rated_at=r[13],
            )
            for r in rows
        ]
