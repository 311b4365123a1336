"""``qabot eval import-squad`` and ``qabot eval --articles``: SQuAD-format sets that bring their own
articles, answered against an index of exactly those articles (run as the commands a user runs)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.eval.dataset import load
from bot.eval.metrics import key
from bot.eval.squad import SquadError

ROOT = Path(__file__).resolve().parents[1]

DOCS = [
    ("青石镇", ["青石镇位于云岭山脉东麓，始建于1368年。全镇以石板路和古桥闻名。",
             "镇上的拱桥共有七座，其中最长的是望月桥，长四十二米。"],
     [("青石镇始建于哪一年？", "1368年"), ("青石镇最长的桥叫什么？", "望月桥"), ("青石镇有几座拱桥？", "七座")]),
    ("蓝鳍鱼", ["蓝鳍鱼是一种生活在冷水海域的大型鱼类。成年蓝鳍鱼体长可达三米。"],
     [("蓝鳍鱼生活在什么海域？", "冷水海域"), ("成年蓝鳍鱼体长可达多少？", "三米")]),
    ("红砖厂", ["红砖厂建于1958年，曾是全省最大的砖瓦企业。工厂于2001年关闭。"],
     [("红砖厂于哪一年关闭？", "2001年")]),
    ("白沙湖", ["白沙湖是一座高原湖泊，湖面海拔三千二百米。湖中盛产裸鲤。"],
     [("白沙湖湖面海拔多少米？", "三千二百米")]),
]


def squad_file(tmp_path: Path) -> Path:
    data = []
    for d, (title, paragraphs, questions) in enumerate(DOCS):
        paras = []
        for p, context in enumerate(paragraphs):
            qas = [{"id": f"{d}-{p}-{i}", "question": q, "answers": [{"text": a, "answer_start": context.find(a)}]}
                   for i, (q, a) in enumerate(questions) if a in context]
            paras.append({"context": context, "qas": qas})
        data.append({"title": title, "paragraphs": paras})
    # SQuAD 2.0's impossible questions and answers that are not where the file says are skipped
    data[0]["paragraphs"][0]["qas"] += [
        {"id": "impossible", "question": "青石镇有多少人？", "answers": [], "is_impossible": True},
        {"id": "nowhere", "question": "青石镇的镇长是谁？", "answers": [{"text": "张三", "answer_start": 3}]},
    ]
    path = tmp_path / "squad.json"
    path.write_text(json.dumps({"version": "test", "data": data}, ensure_ascii=False), encoding="utf-8")
    return path


def qabot(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=1800)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A store of the test's own: nothing here touches the project's index."""
    return {**os.environ, "BOT_STORE_DIR": str(tmp_path / "store"), "BOT_PROVIDER": "extractive",
            "BOT_JUDGE_BASE_URL": ""}


def test_import_squad_round_trips(tmp_path, env):
    source = squad_file(tmp_path)
    run = qabot(env, "eval", "import-squad", str(source), str(tmp_path / "set"), "--docs", "3", "--answerable", "5",
                "--unanswerable", "1", "--seed", "7")
    assert run.returncode == 0, run.stderr
    items = load(tmp_path / "set" / "qa.jsonl")  # the eval loader accepts it as it is
    articles = {p.name: p.read_text(encoding="utf-8") for p in (tmp_path / "set" / "articles").iterdir()}
    assert len(articles) == 3
    titles = {text.split("\n\n")[0] for text in articles.values()}
    left_out = {d[0] for d in DOCS} - titles
    assert len(left_out) == 1
    by_title = {d[0]: d for d in DOCS}
    for text in articles.values():  # title line, then the paragraphs
        title = text.split("\n\n")[0]
        assert text == "\n\n".join([title, *by_title[title][1]]) + "\n"
    answerable = [i for i in items if i.answerable]
    unanswerable = [i for i in items if not i.answerable]
    assert len(unanswerable) == 1
    asked_about = [d for d in DOCS if any(q == unanswerable[0].question for q, _ in d[2])]
    assert [d[0] for d in asked_about] == list(left_out)  # about the document left out of the index
    assert {i.id for i in items}.isdisjoint({"impossible", "nowhere"})
    for item in answerable:
        (answer,) = item.key_facts
        assert item.sources[0] in articles
        article = articles[item.sources[0]]
        assert answer[0] in item.evidence[0] and key(item.evidence[0]) in key(article)
        assert item.answer == answer[0]
    per_doc = [i.sources[0] for i in answerable]
    assert max(per_doc.count(s) for s in per_doc) <= 2
    record = json.loads((tmp_path / "set" / "import.json").read_text())
    assert record["seed"] == 7 and record["articles"] == 3

    # the same seed gives the same set; --exclude keeps another set's questions out
    again = qabot(env, "eval", "import-squad", str(source), str(tmp_path / "again"), "--docs", "3", "--answerable", "5",
                  "--unanswerable", "1", "--seed", "7")
    assert again.returncode == 0
    assert (tmp_path / "again" / "qa.jsonl").read_bytes() == (tmp_path / "set" / "qa.jsonl").read_bytes()
    other = qabot(env, "eval", "import-squad", str(source), str(tmp_path / "other"), "--docs", "3", "--answerable", "5",
                  "--unanswerable", "1", "--seed", "7", "--exclude", str(tmp_path / "set" / "qa.jsonl"))
    assert other.returncode == 0
    assert {i.id for i in load(tmp_path / "other" / "qa.jsonl")}.isdisjoint({i.id for i in items})


def test_import_squad_refuses_a_file_that_is_not_squad(tmp_path, env):
    bad = tmp_path / "bad.json"
    bad.write_text('{"rows": []}', encoding="utf-8")
    run = qabot(env, "eval", "import-squad", str(bad), str(tmp_path / "out"))
    assert run.returncode == 2 and "not a SQuAD-format JSON file" in run.stderr


@pytest.mark.e2e
def test_eval_articles_answers_from_an_index_of_exactly_those_articles(tmp_path, env):
    source = squad_file(tmp_path)
    assert qabot(env, "eval", "import-squad", str(source), str(tmp_path / "set"), "--docs", "3", "--answerable", "5",
                 "--unanswerable", "1", "--seed", "7").returncode == 0
    dataset, articles = tmp_path / "set" / "qa.jsonl", tmp_path / "set" / "articles"
    names = {p.name for p in articles.iterdir()}
    out = tmp_path / "run"
    run = qabot(env, "eval", "--dataset", str(dataset), "--articles", str(articles), "--out", str(out),
                "--baseline", str(tmp_path / "b.json"))
    assert run.returncode == 0, run.stderr
    assert "index: 3 篇文章" in run.stderr
    records = [json.loads(line) for line in (out / "items.jsonl").read_text().splitlines()]
    retrieved = {h["source"] for r in records for h in r["retrieved"]}
    assert retrieved and retrieved <= names  # nothing from the project's five articles
    assert not (tmp_path / "store" / "chroma").exists()  # the configured index was never opened
    stores = list((tmp_path / "store" / "eval").iterdir())
    assert len(stores) == 1

    # unchanged articles: the same store, nothing re-embedded
    run = qabot(env, "eval", "--dataset", str(dataset), "--articles", str(articles), "--out", str(tmp_path / "r2"),
                "--baseline", str(tmp_path / "b.json"))
    assert run.returncode == 0 and "新增 0 个片段" in run.stderr
    assert list((tmp_path / "store" / "eval").iterdir()) == stores

    # a changed folder gets a fresh store holding exactly its articles; the stale one is gone
    removed = sorted(names)[0]
    (articles / removed).unlink()
    run = qabot(env, "eval", "--dataset", str(dataset), "--articles", str(articles), "--out", str(tmp_path / "r3"),
                "--baseline", str(tmp_path / "b.json"))
    assert run.returncode == 0 and "index: 2 篇文章" in run.stderr
    now = list((tmp_path / "store" / "eval").iterdir())
    assert len(now) == 1 and now != stores
    records = [json.loads(line) for line in (tmp_path / "r3" / "items.jsonl").read_text().splitlines()]
    assert removed not in {h["source"] for r in records for h in r["retrieved"]}


def test_eval_articles_must_be_a_folder(tmp_path, env):
    run = qabot(env, "eval", "--articles", str(tmp_path / "nope"), "--out", str(tmp_path / "o"))
    assert run.returncode == 2 and "not a folder" in run.stderr


def _one_doc_file(tmp_path: Path, title: str, paragraphs: list[str], questions: list[tuple[str, str]]) -> Path:
    data = [{"title": title, "paragraphs": [
        {"context": c, "qas": [{"id": f"q{i}", "question": q, "answers": [{"text": a, "answer_start": c.find(a)}]}
                               for i, (q, a) in enumerate(questions) if a in c]} for c in paragraphs]}]
    source = tmp_path / "squad.json"
    source.write_text(json.dumps({"version": "test", "data": data}, ensure_ascii=False), encoding="utf-8")
    return source


def test_figure_miss_drops_only_the_sentences_giving_the_figure(tmp_path):
    from bot.eval.squad import build

    doc = ("长桥水库", ["长桥水库位于北江上游，于1972年建成。水库的总库容为3.6亿立方米。库区盛产鳙鱼。",
                      "水库大坝高48米，是当地最高的土坝。"],
           [("长桥水库的总库容是多少？", "3.6亿立方米"), ("长桥水库大坝有多高？", "48米"),
            ("长桥水库盛产什么鱼？", "鳙鱼")])
    source = _one_doc_file(tmp_path, *doc)
    record = build(source, tmp_path / "set", docs=1, answerable=3, unanswerable=0, seed=0, figure_miss=1)
    assert record["figure_miss"] == 1
    (article,) = (tmp_path / "set" / "articles").iterdir()
    text = article.read_text(encoding="utf-8")
    items = load(tmp_path / "set" / "qa.jsonl")
    (missed,) = [i for i in items if not i.answerable]
    gone = dict((q, a) for q, a in doc[2])[missed.question]
    assert gone not in text and "长桥水库" in text  # the subject is there, the figure is not
    assert "盛产鳙鱼" in text  # sentences not giving it are kept
    for item in items:
        if item.answerable:  # what stays answerable still has its answer
            assert item.key_facts[0][0] in text and item.question != missed.question


def test_sentence_miss_drops_the_sentences_answering_a_question_of_any_kind(tmp_path):
    from bot.eval.squad import build

    questions = [("云帆科技的总经理是谁？", "李华"), ("云帆科技的董事长是谁？", "张明")]
    source = _one_doc_file(tmp_path, "云帆科技", ["云帆科技总部位于杭州。董事长张明主持了年会。总经理李华介绍了新产品。"],
                           questions)
    record = build(source, tmp_path / "set", docs=1, answerable=2, unanswerable=0, seed=0, sentence_miss=1)
    assert record["sentence_miss"] == 1
    text = next((tmp_path / "set" / "articles").iterdir()).read_text(encoding="utf-8")
    (missed,) = [i for i in load(tmp_path / "set" / "qa.jsonl") if not i.answerable]
    gone = dict(questions)[missed.question]
    assert gone not in text and "云帆科技总部位于杭州。" in text  # the subject stays, the answer goes
    with pytest.raises(SquadError):
        build(source, tmp_path / "other", docs=1, answerable=2, unanswerable=0, seed=0, sentence_miss=1, figure_miss=1)


def test_lead_indexes_first_paragraphs_and_asks_of_the_rest_as_near_misses(tmp_path):
    from bot.eval.squad import build

    questions = [("青石镇始建于哪一年？", "1368年"), ("青石镇最长的桥叫什么？", "望月桥")]
    source = _one_doc_file(tmp_path, "青石镇", ["青石镇位于云岭山脉东麓，始建于1368年。",
                                               "镇上的拱桥共有七座，其中最长的是望月桥。"], questions)
    record = build(source, tmp_path / "set", docs=1, answerable=2, unanswerable=0, seed=0, near_miss=1, lead=True)
    assert record["near_miss"] == 1 and record["lead"]
    text = next((tmp_path / "set" / "articles").iterdir()).read_text(encoding="utf-8")
    assert text == "青石镇\n\n青石镇位于云岭山脉东麓，始建于1368年。\n"  # the title and the first paragraph only
    items = {i.question: i for i in load(tmp_path / "set" / "qa.jsonl")}
    assert items["青石镇始建于哪一年？"].answerable and not items["青石镇最长的桥叫什么？"].answerable


def test_articles_store_uses_the_configured_stores_local_model(tmp_path):
    """An eval store of its own must not hide the bundled model the configured store holds (one joined
    copy per eval set, or none found), and an extractive run must not join one."""
    from bot import model
    from bot.config import LocalOptions, Settings
    from bot.eval.run import articles_settings

    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / "a.txt").write_text("青石镇\n\n青石镇始建于1368年。\n", encoding="utf-8")
    settings = Settings(store_dir=tmp_path / "store", local=LocalOptions(model="qwen2.5-coder-0.5b"))
    assert articles_settings(settings, tmp_path / "articles").local.model_path is None  # nothing joined yet
    assert not (tmp_path / "store" / "models").exists()
    fetched = model.fetch(settings=settings)
    own = articles_settings(settings, tmp_path / "articles")
    assert own.local.model_path == fetched and own.store_dir != settings.store_dir
    assert model.resolve(own) == fetched
