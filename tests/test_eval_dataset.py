"""Eval set validation: every bad line is reported with its line number and what is wrong."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.eval.dataset import DatasetError, load

GOOD = {"id": "a1", "question": "多少?", "answer": "60%。", "key_facts": [["60%", "六成"]],
        "sources": ["000_a.txt"], "evidence": ["占全球算力的60%左右"], "type": "number"}
UNANSWERABLE = {"id": "u1", "question": "价格?", "answer": "资料中没有。", "key_facts": [], "sources": [],
                "evidence": [], "type": "unanswerable"}
ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def row(**changes) -> str:
    data = {**GOOD, **changes}
    return json.dumps({k: v for k, v in data.items() if v is not ...}, ensure_ascii=False)


def problems(tmp_path: Path, lines: list[str]) -> list[tuple[int, str]]:
    with pytest.raises(DatasetError) as err:
        load(write(tmp_path, lines))
    assert len(re.findall(r"set\.jsonl:\d+: ", str(err.value))) == len(err.value.problems)  # all in the message
    return err.value.problems


def test_valid_file_loads_with_blank_lines_and_extra_fields(tmp_path):
    items = load(write(tmp_path, [row(), "", json.dumps(UNANSWERABLE), row(id="a2", note="extra is fine")]))
    assert [i.id for i in items] == ["a1", "u1", "a2"]
    assert items[0].key_facts == (("60%", "六成"),)
    assert [i.answerable for i in items] == [True, False, True]


def test_public_set_is_valid():
    items = load(ROOT / "eval" / "qa.jsonl")
    assert len(items) == len({i.id for i in items}) > 0


def test_every_bad_line_reported_with_its_number(tmp_path):
    lines = [
        row(),  # 1 fine
        "{not json",  # 2
        row(id="a2", type="opinion"),  # 3
        row(id="a3", key_facts=["60%"]),  # 4: a fact must be a list of strings
        row(id="a4", question=...),  # 5
        row(id="a1"),  # 6 duplicate id
        row(id="a5", evidence=[]),  # 7 answerable without evidence
        json.dumps({**UNANSWERABLE, "id": "u2", "sources": ["000_a.txt"]}),  # 8
        "[1, 2]",  # 9
        row(id="a6", key_facts=[[]]),  # 10 a fact with no acceptable spelling
    ]
    found = problems(tmp_path, lines)
    assert [n for n, _ in found] == [2, 3, 4, 5, 6, 7, 8, 9, 10]
    text = dict(found)
    assert "not valid JSON" in text[2]
    assert "'type' is 'opinion'" in text[3] and "unanswerable" in text[3]
    assert "key_facts[0]" in text[4] and "list of strings" in text[4]
    assert "missing field 'question'" in text[5]
    assert "duplicate id 'a1' (first on line 1)" in text[6]
    assert "'evidence' must not be empty" in text[7]
    assert "unanswerable item must have empty 'sources'" in text[8]
    assert "JSON object" in text[9]
    assert "key_facts[0]" in text[10]


def test_several_problems_on_one_line_are_all_named(tmp_path):
    found = problems(tmp_path, [row(answer="", sources="000_a.txt")])
    assert {n for n, _ in found} == {1}
    assert any("'answer'" in m for _, m in found) and any("'sources' must be a list" in m for _, m in found)


def test_missing_empty_and_undecodable_files(tmp_path):
    with pytest.raises(DatasetError, match="file not found"):
        load(tmp_path / "absent.jsonl")
    with pytest.raises(DatasetError, match="empty"):
        load(write(tmp_path, [""]))
    bad = tmp_path / "gbk.jsonl"
    bad.write_bytes("问题".encode("gbk"))
    with pytest.raises(DatasetError, match="not UTF-8"):
        load(bad)
