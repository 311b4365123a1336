"""Reading an eval set: JSONL, one Q&A item a line.

A bad set must fail loudly before any question is asked (a typo in ``type`` silently dropping an item
from a per-type figure is exactly the kind of error nobody notices), and the message must say which line
and what is wrong so the author can fix every problem in one pass: so all lines are checked and all
problems are reported together.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

TYPES = ("number", "fact", "multi_doc", "unanswerable", "traditional", "summary", "adversarial")
UNANSWERABLE = "unanswerable"
FIELDS = ("id", "question", "answer", "key_facts", "sources", "evidence", "type")


@dataclass(frozen=True)
class Item:
    """One question with its reference answer and the gold facts, sources and evidence it is scored on."""

    id: str
    question: str
    answer: str
    key_facts: tuple[tuple[str, ...], ...]  # each fact: its acceptable spellings
    sources: tuple[str, ...]  # gold article file names
    evidence: tuple[str, ...]  # verbatim spans of the gold articles that hold the answer
    type: str

    @property
    def answerable(self) -> bool:
        return self.type != UNANSWERABLE


class DatasetError(ValueError):
    """The set has bad lines; ``problems`` lists ``(line_number, message)`` for each."""

    def __init__(self, path: Path, problems: list[tuple[int, str]]):
        self.path = path
        self.problems = problems
        lines = "\n".join(f"  {path}:{n}: {msg}" for n, msg in problems)
        super().__init__(f"{len(problems)} problem(s) in eval set {path}:\n{lines}")


def _strings(value: object, field: str, *, allow_empty: bool) -> list[str]:
    """Problems with a field that must be a list of non-empty strings."""
    if not isinstance(value, list):
        return [f"'{field}' must be a list of strings, got {type(value).__name__}"]
    problems = [
        f"'{field}'[{i}] must be a non-empty string, got {v!r}"
        for i, v in enumerate(value)
        if not isinstance(v, str) or not v.strip()
    ]
    if not value and not allow_empty:
        problems.append(f"'{field}' must not be empty for an answerable item")
    return problems


def check_row(row: object) -> list[str]:
    """Everything wrong with one parsed line (empty list: it is a valid item)."""
    if not isinstance(row, dict):
        return [f"a line must be a JSON object, got {type(row).__name__}"]
    problems = [f"missing field '{f}'" for f in FIELDS if f not in row]
    for f in ("id", "question", "answer"):
        if f in row and (not isinstance(row[f], str) or not row[f].strip()):
            problems.append(f"'{f}' must be a non-empty string, got {row[f]!r}")
    kind = row.get("type")
    if "type" in row and kind not in TYPES:
        problems.append(f"'type' is {kind!r}; must be one of {', '.join(TYPES)}")
    answerable = kind != UNANSWERABLE
    if "key_facts" in row:
        facts = row["key_facts"]
        if not isinstance(facts, list):
            problems.append(f"'key_facts' must be a list of facts (each a list of strings), got {type(facts).__name__}")
        else:
            for i, fact in enumerate(facts):
                problems += _strings(fact, f"key_facts[{i}]", allow_empty=False)
            if answerable and not facts:
                problems.append("'key_facts' must not be empty for an answerable item")
            if not answerable and facts:
                problems.append("an unanswerable item must have empty 'key_facts'")
    for f in ("sources", "evidence"):
        if f in row:
            problems += _strings(row[f], f, allow_empty=not answerable)
            if not answerable and row[f]:
                problems.append(f"an unanswerable item must have empty '{f}'")
    return problems


def load(path: str | Path) -> list[Item]:
    """The items of ``path``, or :class:`DatasetError` listing every bad line (blank lines are skipped)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DatasetError(path, [(0, "file not found")]) from None
    except UnicodeDecodeError as e:
        raise DatasetError(path, [(0, f"not UTF-8 text ({e.reason} at byte {e.start})")]) from None
    items: list[Item] = []
    problems: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            problems.append((n, f"not valid JSON: {e.msg} at column {e.colno}"))
            continue
        bad = check_row(row)
        if not bad and row["id"] in seen:
            bad = [f"duplicate id {row['id']!r} (first on line {seen[row['id']]})"]
        problems += [(n, msg) for msg in bad]
        if bad:
            continue
        seen[row["id"]] = n
        items.append(
            Item(
                id=row["id"],
                question=row["question"],
                answer=row["answer"],
                key_facts=tuple(tuple(f) for f in row["key_facts"]),
                sources=tuple(row["sources"]),
                evidence=tuple(row["evidence"]),
                type=row["type"],
            )
        )
    if not problems and not items:
        problems.append((0, "no items: the file is empty"))
    if problems:
        raise DatasetError(path, problems)
    return items
