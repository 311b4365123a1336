from bot import tokens
from bot.chunk import chunk_document, sentences
from bot.clean import load_document
from bot.config import ROOT

ARTICLES = sorted((ROOT / "store" / "articles").glob("*.txt"))


def test_sentences_split_on_full_and_half_width_marks_with_closing_quotes():
    text = "他说:“算力很重要。”这是第一句?第二句!第三句;最后一句……"
    got = [text[s.start : s.end] for s in sentences(text)]
    assert got == ["他说:“算力很重要。”", "这是第一句?", "第二句!", "第三句;", "最后一句……"]


def test_decimal_points_do_not_end_sentences():
    text = "占比达25.4%,对标GPT3.5的水平。"
    assert len(sentences(text)) == 1


def test_chunk_offsets_round_trip_to_the_cleaned_source_for_every_article():
    for path in ARTICLES:
        doc = load_document(path)
        chunks = chunk_document(doc, max_tokens=160, overlap_tokens=40)
        assert chunks
        for c in chunks:
            assert doc.text[c.start : c.end] == c.text
            assert c.source == path.name and c.title == doc.title


def test_chunks_respect_the_token_budget_and_overlap():
    doc = load_document(ARTICLES[0])
    chunks = chunk_document(doc, max_tokens=120, overlap_tokens=30)
    longest_sentence = max(tokens.count(doc.text[s.start : s.end]) for s in sentences(doc.text))
    assert all(tokens.count(c.text) <= max(120, longest_sentence) for c in chunks)
    spans = sentences(doc.text)
    for a, b in zip(chunks, chunks[1:]):
        last = next(s for s in reversed(spans) if s.end <= a.end)
        if tokens.count(doc.text[last.start : last.end]) <= 30 and last.start > a.start:
            assert b.start <= last.start < a.end  # a short closing sentence is repeated in the next chunk
    assert all(b.start > a.start for a, b in zip(chunks, chunks[1:]))  # always moves forward


def test_chunk_ids_are_content_hashes():
    doc = load_document(ARTICLES[1])
    first = chunk_document(doc, 160, 40)
    again = chunk_document(doc, 160, 40)
    assert [c.id for c in first] == [c.id for c in again]
    assert len({c.id for c in first}) == len(first)


def test_a_title_in_book_marks_is_not_cut_at_its_own_exclamation_mark():
    text = "《卡拉OK.LIVE！‧台北‧我》是张雨生发行的第六张国语专辑。专辑很好！"
    got = [text[s.start : s.end] for s in sentences(text)]
    assert got == ["《卡拉OK.LIVE！‧台北‧我》是张雨生发行的第六张国语专辑。", "专辑很好！"]


def test_an_unclosed_book_mark_still_splits_sentences():
    text = "他写了《未完！后来呢？还有。"
    assert [text[s.start : s.end] for s in sentences(text)] == ["他写了《未完！", "后来呢？", "还有。"]


def test_a_long_run_is_never_cut_inside_a_figure():
    text = "分布于" + "、".join(["某地"] * 40) + "，生长于海拔100米至2,800米的地区" + "、林缘" * 20 + "。"
    got = [text[s.start : s.end] for s in sentences(text)]
    assert "".join(got) == text and len(got) > 1
    assert not any(piece.startswith("800米") for piece in got)
    assert not any(piece.endswith("2,") for piece in got)
