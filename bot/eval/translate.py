"""``qabot eval translate``: an eval set's questions in English, for measuring (and fitting) how the bot
treats questions asked in another language than its articles'.

The external sets are Chinese questions only, so the relevance gate was fitted on Chinese questions and
an English question's cosines to Chinese passages (all lower) were judged on the Chinese scale. The
bundled local model translates each question once; the English set keeps every other field (the same
answers, key facts and sources) and answers from the same articles (a link to the source set's
``articles/``, so it shares its index). Machine translation by a small model is imperfect, as real
users' English is: the set records each question's Chinese original beside it.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from bot.config import Settings
from bot.eval.dataset import load


_ENGLISH = re.compile(r"[A-Za-z]{3}")  # a reply without one English word did not translate (it answered)


def translate_set(source: Path, out: Path, settings: Settings, limit: int | None = None) -> tuple[int, int]:
    """Write ``out/qa.jsonl`` (the questions of ``source/qa.jsonl`` in English) and ``out/articles``
    (a link to ``source/articles``); return (questions written, replies skipped for not being English:
    a small model sometimes answers the question instead of translating it)."""
    from bot import llamacpp, model

    load(source / "qa.jsonl")  # a broken set fails here, before the model is loaded
    llamacpp.load_cpu_backend()
    from llama_cpp import Llama

    llm = Llama(model_path=str(model.resolve(settings)), n_ctx=512, n_threads=settings.local.threads, verbose=False)
    instruction = (settings.prompts_dir / "translate_question.txt").read_text(encoding="utf-8").strip()
    rows = [json.loads(line) for line in (source / "qa.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    out.mkdir(parents=True, exist_ok=True)
    link = out / "articles"
    if not link.exists():
        link.symlink_to(Path("..") / source.name / "articles")
    written = skipped = 0
    with (out / "qa.jsonl").open("w", encoding="utf-8") as f:
        for row in rows[:limit]:
            reply = llm.create_chat_completion(
                messages=[{"role": "system", "content": instruction}, {"role": "user", "content": row["question"]}],
                max_tokens=64, temperature=0)
            english = (reply["choices"][0]["message"]["content"] or "").strip().splitlines()
            if not english or not _ENGLISH.search(english[0]):
                skipped += 1
                continue
            kind = "fact" if row["type"] == "traditional" else row["type"]  # the script was the question's
            f.write(json.dumps({**row, "id": f"{row['id']}-en", "question": english[0].strip(), "type": kind,
                                "translated_from": row["question"]}, ensure_ascii=False) + "\n")
            written += 1
    return written, skipped
