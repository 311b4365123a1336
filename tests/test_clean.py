"""Cleaning of each of the five real articles, and of files that are not articles."""
from pathlib import Path

import pytest

from bot.clean import CleanError, clean_text, derive_title, load_document, strip_glosses
from bot.config import ROOT

ARTICLES = ROOT / "store" / "articles"


def doc(name: str):
    return load_document(ARTICLES / name)


def test_000_drops_stock_ticker_widgets_and_byline_keeps_the_speech():
    d = doc("000_56f6738d973ede18.txt")
    assert "诊股" not in d.text and "人气:" not in d.text
    assert "56家银行及非银机构、55家科技公司的170多位嘉宾通过线上线下参会" in d.text
    assert "中国银行原行长李礼辉" in d.text
    assert d.title == "AI迭代与算力竞争"


def test_001_pinyin_glosses_and_html_residue_are_removed_words_kept():
    d = doc("001_4c16fc4f0885e345.txt")
    assert "(gè)" not in d.text and "(xué)" not in d.text and "/p>" not in d.text
    assert "在這個科學與資本和聚光燈緊密結合的時代" in d.text
    assert "基于昇騰生態的“飛星一號”大模型算力平臺" in d.text
    assert not d.text.endswith("?")
    assert "(LLM)" in d.text  # a real parenthetical is not a gloss


def test_002_navigation_login_related_list_and_footer_are_gone_title_kept_once():
    d = doc("002_e3bc3ba30a8100f6.txt")
    for junk in ("用户名", "网站首页", "栏目导航", "相关栏目", "打印本文章", "您的名字", "版权所有", "Copyright", "浏览:525"):
        assert junk not in d.text, junk
    title = "薛澜:中国大部分模型都是“套壳”,算力也被“卡脖子”了"
    assert d.title == title and d.text.count(title) == 1
    assert d.text.rstrip().endswith("为世界和平发展服务。”")


def test_003_broken_paragraphs_and_infographic_captions_are_rejoined():
    d = doc("003_0fed65722026f005.txt")
    assert "所需算力又会是一波乘数效应" in d.text  # one sentence split over two lines
    assert "人工智能算力占比达 25.4%" in d.text  # a figure stays with its label
    assert "\n\n提升竞争力\n\n" in d.text  # a heading stays a heading


def test_004_copyright_notice_dropped_english_gloss_kept():
    d = doc("004_3c609e55f06ef016.txt")
    assert "未经书面授权" not in d.text and "知识产权均属" not in d.text
    assert "“涌现(emergence)”" in d.text
    assert d.title == "从个人、行业到区域发展,AI产业如何更好发展?"


def test_empty_binary_and_undecodable_files_are_rejected_with_a_reason(tmp_path: Path):
    cases = {"empty.txt": b"", "image.txt": b"\x89PNG\r\n\x1a\n\x00\x00\x00", "noise.txt": bytes(range(128, 256)) * 50}
    for name, raw in cases.items():
        (tmp_path / name).write_bytes(raw)
        with pytest.raises(CleanError) as err:
            load_document(tmp_path / name)
        assert str(err.value), name


def test_strip_glosses_for_strings_quoted_from_raw_files():
    assert strip_glosses("訓(xùn)練一次成本140萬美元") == "訓練一次成本140萬美元"


def test_clean_text_keeps_content_of_a_plain_article():
    raw = "标题\n\n第一段正文。\n\n第二段正文，没有任何噪声。"
    assert clean_text(raw) == raw
    assert derive_title(clean_text(raw), "x") == "标题"
