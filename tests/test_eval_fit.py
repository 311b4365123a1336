"""``bot.eval.fit``: the pieces of the fitting commands that do not need an index (the commands
themselves run on the external sets; their output is committed as eval/*_model.json)."""
from __future__ import annotations

import math

import numpy as np

from bot.eval.dataset import Item
from bot.eval.fit import Case, auc, cosine_gap, threshold_each
from bot.question import analyse
from bot.types import Chunk, Hit


def _case(item_id: str, question: str, cosines: list[float]) -> Case:
    item = Item(item_id, question, "", (), (), (), "fact")
    chunk = Chunk("c", "a.txt", "a", "正文。", 0, 3)
    return Case("set", item, analyse(question), [Hit(chunk, 0.0, i + 1, dense=c) for i, c in enumerate(cosines)], None)


def test_cosine_gap_is_the_median_drop_from_a_question_to_its_translation() -> None:
    original = [_case("q1", "青石镇始建于哪一年？", [0.91, 0.80]), _case("q2", "望月桥有多长？", [0.93]),
                _case("q3", "白沙湖在哪里？", [0.90])]
    translated = [_case("q1-en", "When was Qingshi Town built?", [0.80, 0.79]),
                  _case("q2-en", "How long is the Wangyue Bridge?", [0.78]),
                  _case("q3-en", "白沙湖 is where?", [0.50])]  # still Chinese: not an English question
    assert math.isclose(cosine_gap(original, translated), np.median([0.11, 0.15]))
    assert cosine_gap(original, []) == 0.0


def test_unobserved_scores_are_left_out_of_auc_and_thresholds() -> None:
    scores, y = np.array([0.9, 0.8, np.nan, 0.2, 0.1]), np.array([1, 1, 1, 0, 0])
    assert auc(scores, y) == 1.0
    assert threshold_each(scores, y, np.array(["a"] * 5), 0.0) == 0.8  # the lowest observed positive


def test_the_threshold_weighs_every_set_the_same() -> None:
    # 0.6 refuses one of set b's two positives and none of a's six: 1 of 8 pooled, (0% + 50%) / 2 = 25% averaged
    scores = np.array([0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.6, 0.5, 0.1, 0.1])
    y = np.array([1, 1, 1, 1, 1, 1, 1, 1, 0, 0])
    sets = np.array(["a", "a", "a", "a", "a", "a", "b", "b", "a", "b"])
    assert threshold_each(scores, y, np.array(["a"] * 10), 0.125) == 0.6  # one set: pooled
    assert threshold_each(scores, y, sets, 0.25) == 0.6
    assert threshold_each(scores, y, sets, 0.2) == 0.5  # 12.5% pooled is not enough
    sets = np.array(["a", "a", "a", "b", "b", "b", "b", "b", "a", "b"])  # b: 0.9 three times, 0.6, 0.5
    assert threshold_each(scores, y, sets, 0.125) == 0.6
