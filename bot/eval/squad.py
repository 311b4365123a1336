"""``qabot eval import-squad``: a SQuAD-format reading-comprehension set → an eval set with its own articles.

Reading-comprehension sets (CMRC 2018, DRCD, SQuAD itself) pair human-written questions with the
paragraph that answers them. Used *open-domain* they test the whole bot on text nobody here tuned for:
each document becomes an article (its title line, then its paragraphs), every question is asked
against the index of all of them, and a question about a document deliberately left out of the index
is an unanswerable one with a realistic near-miss collection around it.

Sampling is seeded and written down (``OUT/import.json``), so anyone can rebuild the same set:

- the documents are shuffled; the first ``docs`` are indexed, the next ``unanswerable`` are left out;
- answerable items: at most ``PER_DOC`` questions of each indexed document, ``answerable`` in all;
- unanswerable items: one question of each left-out document; with ``near_miss``, also questions whose
  answering paragraph was dropped from their (indexed) document — the hardest kind: the subject is there;
  with ``figure_miss``, questions asking for a figure whose document lost only the sentences stating it
  (what is counted and its subject are still there, the figure is not: 「V3.0有多少参数？」 of an article
  that never gives the count); with ``sentence_miss``, the same for a question of any kind (「总经理是谁？」
  of an article that names only the 董事长);
- with ``lead``, every indexed document is cut to its first paragraph (a short article, as a news brief
  or a company notice is: the subject is in every sentence, a long article's other paragraphs are not
  there to speak of what is asked); its answerable questions are those on that paragraph, and its near
  misses (``near_miss``) questions on the paragraphs cut off;
- ``key_facts``: one fact, the gold answer's distinct spellings; ``evidence``: the sentence around the
  first answer span; ``type``: ``number`` when the answer has a digit, ``traditional`` for a
  traditional-script question, else ``fact``.
"""
from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.chunk import sentences
from bot.eval.metrics import key
from bot.textnorm import to_simplified

PER_DOC = 2  # questions per indexed document at most: a set about few documents says little
_UNSAFE = re.compile(r"[^\w\u3400-\u9fff-]+")


class SquadError(ValueError):
    """The file is not a SQuAD-format set (the message says what is missing)."""


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answers: tuple[str, ...]  # distinct gold spellings, first the first annotator's
    context: str  # the paragraph the first answer is in
    start: int  # of the first answer in ``context``
    paragraph: int  # its position among the document's paragraphs


@dataclass(frozen=True)
class SquadDoc:
    title: str
    paragraphs: tuple[str, ...]
    questions: tuple[Question, ...]

    def text(self, without: int | None = None, drop: tuple[str, ...] = (), lead: bool = False) -> str:
        """The article file: its title line, then its paragraphs (only the first with ``lead``; but
        ``without``, and without the sentences that say any of ``drop``), a blank line between."""
        kept = [p for i, p in enumerate(self.paragraphs[:1] if lead else self.paragraphs) if i != without]
        if drop:
            kept = ["".join(p[c.start : c.end] for c in sentences(p) if not any(d in p[c.start : c.end] for d in drop))
                    for p in kept]
        return "\n\n".join((self.title, *(p for p in kept if p.strip()))) + "\n"


def read(path: Path) -> list[SquadDoc]:
    """The documents of a SQuAD-format file, with their answerable questions (SQuAD 2.0's impossible
    ones and questions whose answer is not where the file says are skipped)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))["data"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as err:
        raise SquadError(f"{path}: not a SQuAD-format JSON file ({type(err).__name__}: {err})") from None
    docs = []
    for n, doc in enumerate(data):
        paragraphs, questions = [], []
        for para in doc.get("paragraphs", []):
            context = " ".join(str(para.get("context", "")).split())
            if not context:
                continue
            paragraphs.append(context)
            for qa in para.get("qas", []):
                if qa.get("is_impossible") or not qa.get("answers") or not str(qa.get("question", "")).strip():
                    continue
                spellings = list(dict.fromkeys(" ".join(str(a.get("text", "")).split()) for a in qa["answers"]))
                spellings = [s for s in spellings if s]
                first = qa["answers"][0]
                start = _locate(context, " ".join(str(first.get("text", "")).split()), int(first.get("answer_start", -1)))
                if not spellings or start < 0:
                    continue
                questions.append(Question(str(qa.get("id", f"{n}-{len(questions)}")), str(qa["question"]).strip(),
                                          tuple(spellings), context, start, len(paragraphs) - 1))
        title = " ".join(str(doc.get("title", "")).split()) or f"文档{n + 1}"
        if paragraphs:
            docs.append(SquadDoc(title, tuple(paragraphs), tuple(questions)))
    if not docs:
        raise SquadError(f"{path}: no documents with text")
    return docs


def _locate(context: str, answer: str, start: int) -> int:
    """Where the answer is in the (whitespace-folded) context: at ``answer_start`` if it is there, else
    its occurrence nearest to it (folding white space moves offsets), else -1."""
    if not answer:
        return -1
    if context[start : start + len(answer)] == answer:
        return start
    found = [m.start() for m in re.finditer(re.escape(answer), context)]
    return min(found, key=lambda at: abs(at - start)) if found else -1


def evidence(question: Question) -> str:
    """The sentence(s) of the paragraph that hold the first answer span."""
    end = question.start + len(question.answers[0])
    spans = [s for s in sentences(question.context) if s.start < end and s.end > question.start]
    if not spans:
        return question.answers[0]
    return question.context[spans[0].start : spans[-1].end]


def _asks_figure(question: Question) -> bool:
    """A question asking how many / how much whose gold answer is a number."""
    from bot.question import answer_type

    return answer_type(question.question) == "number" and bool(re.search(r"\d", question.answers[0]))


def _file_name(n: int, title: str) -> str:
    slug = _UNSAFE.sub("_", title).strip("_")[:40]
    return f"{n:04d}_{slug or 'doc'}.txt"


def _type(question: Question) -> str:
    if to_simplified(question.question) != question.question:
        return "traditional"
    return "number" if re.search(r"\d", question.answers[0]) else "fact"


def _item(question: Question, source: str | None) -> dict[str, Any]:
    if source is None:
        return {"id": question.id, "question": question.question, "answer": "资料中没有相关信息。",
                "key_facts": [], "sources": [], "evidence": [], "type": "unanswerable"}
    return {"id": question.id, "question": question.question, "answer": question.answers[0],
            "key_facts": [list(question.answers)], "sources": [source], "evidence": [evidence(question)],
            "type": _type(question)}


def build(path: Path, out: Path, *, docs: int, answerable: int, unanswerable: int, seed: int,
          exclude: set[str] | None = None, near_miss: int = 0, figure_miss: int = 0,
          sentence_miss: int = 0, lead: bool = False) -> dict[str, Any]:
    """Write ``out/articles/*.txt``, ``out/qa.jsonl`` and ``out/import.json``; return the import record.
    ``exclude``: question ids (as in the file) never to use, e.g. those of another set built from it.
    ``near_miss``: indexed documents of several paragraphs that lose the paragraph answering one of
    their questions, which becomes unanswerable with its own article in the index (the subject is
    there, the answer is not) — when the answer is nowhere else in what is kept. ``figure_miss``: indexed
    documents that lose the sentences giving the answer of one of their questions that asks for a figure
    (a number answer), which becomes unanswerable the same way; ``sentence_miss``: the same for a
    question of any kind (a set has one or the other). ``lead``: every indexed document is its
    first paragraph only (its near misses: questions on the paragraphs cut off)."""
    if figure_miss and sentence_miss:
        raise SquadError("--figure-miss and --sentence-miss make different sets: give one")
    exclude = exclude or set()
    pool = read(path)
    rng = random.Random(seed)
    order = list(range(len(pool)))
    rng.shuffle(order)
    indexed, left_out = order[:docs], order[docs : docs + unanswerable]
    if len(indexed) < docs or len(left_out) < unanswerable:
        raise SquadError(f"{path} has {len(pool)} documents: not enough for {docs} indexed + {unanswerable} left out")
    articles = out / "articles"
    articles.mkdir(parents=True, exist_ok=True)
    for old in articles.glob("*.txt"):
        old.unlink()
    removed: dict[int, Question] = {}
    for i in indexed:
        if len(removed) >= near_miss or len(pool[i].paragraphs) < 2:
            continue
        usable = [q for q in pool[i].questions if q.id not in exclude]
        for q in rng.sample(usable, len(usable)):
            kept = key(pool[i].text(lead=True) if lead else pool[i].text(without=q.paragraph))
            if not any(key(a) in kept for a in q.answers) and not (lead and q.paragraph == 0):
                removed[i] = q
                break
    unstated: dict[int, Question] = {}
    for i in indexed:
        if len(unstated) >= figure_miss + sentence_miss or i in removed:
            continue
        asking = [q for q in pool[i].questions if q.id not in exclude and (sentence_miss or _asks_figure(q))]
        for q in rng.sample(asking, len(asking)):
            kept = key(pool[i].text(drop=q.answers))
            if not any(key(a) in kept for a in q.answers) and kept != key(pool[i].text()):
                unstated[i] = q
                break
    names, texts = {}, {}
    for n, i in enumerate(sorted(indexed), 1):
        names[i] = _file_name(n, pool[i].title)
        without = removed[i].paragraph if i in removed else None
        texts[i] = pool[i].text(without, unstated[i].answers if i in unstated else (), lead)
        (articles / names[i]).write_text(texts[i], encoding="utf-8")
    candidates = []
    for i in indexed:
        gone = removed[i].paragraph if i in removed else None
        kept = key(texts[i])
        usable = [q for q in pool[i].questions if q.id not in exclude and q.paragraph != gone
                  and not (lead and q.paragraph)
                  and (i not in unstated or (q is not unstated[i] and any(key(a) in kept for a in q.answers)))]
        candidates += [(i, q) for q in rng.sample(usable, min(PER_DOC, len(usable)))]
    rng.shuffle(candidates)
    items = [_item(q, names[i]) for i, q in candidates[:answerable]]
    for i in left_out:
        usable = [q for q in pool[i].questions if q.id not in exclude]
        if usable:
            items.append(_item(rng.choice(usable), None))
    items += [_item(q, None) for q in (*removed.values(), *unstated.values())]
    rng.shuffle(items)
    (out / "qa.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in items), encoding="utf-8")
    record = {
        "source": path.name,
        "source_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "seed": seed, "docs": docs, "answerable": answerable, "unanswerable": unanswerable,
        "excluded_questions": len(exclude), "near_miss": len(removed), "figure_miss" if figure_miss else "sentence_miss": len(unstated),
        "lead": lead,
        "items": len(items), "answerable_items": sum(r["type"] != "unanswerable" for r in items),
        "articles": len(names),
    }
    (out / "import.json").write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return record
