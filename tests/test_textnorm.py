from bot.config import ROOT
from bot.textnorm import compact, normalize, to_simplified

ROOT_ARTICLES = ROOT / "store" / "articles"


def test_normalize_is_length_preserving_and_folds_script_width_and_punctuation():
    text = "訊飛的「1+N+X」戰略，ＡＢＣ１２３。這個科學與資本"
    out = normalize(text)
    assert len(out) == len(text)
    assert out == '讯飞的"1+n+x"战略,abc123.这个科学与资本'


def test_offsets_in_normalised_text_are_offsets_in_the_original():
    original = "去年底今年初ChatGPT橫空出世，婦孺皆知"
    at = normalize(original).find("横空出世")
    assert original[at : at + 4] == "橫空出世"


def test_whole_article_stays_aligned():
    text = (ROOT_ARTICLES / "001_4c16fc4f0885e345.txt").read_text(encoding="utf-8")
    assert len(to_simplified(text)) == len(text)


def test_compact_drops_all_white_space():
    assert compact("人工智能算力占比达\n\n25.4%") == "人工智能算力占比达25.4%"





def test_names_that_are_simplified_already_are_kept():
    assert to_simplified("基于昇騰生態") == "基于昇腾生态"
