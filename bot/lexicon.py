"""The word lists and patterns the question analysis and the answer stages read, as data in one place.

They describe Chinese (and English) questions and answer sentences in general: question words, function
words, how a question asks for a time, a figure or a person, how a list is enumerated. None exists for
one question or one article; the decisions built on them (answer or refuse, which sentence answers)
are weighed by models fitted on the external sets (``bot.gate``, ``bot.ranker``), not by hand.
Every pattern runs on ``bot.textnorm.normalize``d text (simplified, half-width punctuation, lower case).
"""
from __future__ import annotations

import re

# --- characters ------------------------------------------------------------------------------------------
CJK = "\u3400-\u9fff"  # CJK unified ideographs and extension A
CJK_CHAR = re.compile(f"[{CJK}]")
CJK_RUN = re.compile(f"[{CJK}]+")
LATIN_LETTER = re.compile(r"[A-Za-z]")
WORD_CHAR = re.compile(r"[^\W_]")  # a letter, digit or Han character
SENTENCE_END = "。！？!?；;…"  # what ends a sentence (bot.chunk splits there)
CLOSERS = "”’」』)）\""  # may follow a sentence end and still belong to the sentence
ENDS = SENTENCE_END + CLOSERS
CLAUSE_BREAKS = "，,：:" + SENTENCE_END  # what ends a clause inside a sentence

# --- words that shape a question rather than name its topic -----------------------------------------------
# Removed before a question's terms are taken: they say what kind of answer is wanted, not where it is.
SCAFFOLD = (
    "多少", "多大", "多久", "多长", "什么", "哪些", "哪几", "哪个", "哪里", "怎么样", "怎么", "怎样", "如何", "是否",
    "为什么", "为啥", "分别", "到底", "具体", "大概", "大约", "文章", "文中", "这几篇", "这些", "这篇", "那个", "这个",
    "一下", "请问", "简单概括", "概括", "总结", "主要讲了", "讲了", "主要内容", "主要观点", "核心观点", "主要", "内容",
    "报道", "那篇", "该文", "本文", "全文", "提到", "说的", "说法", "认为", "觉得", "有没有", "按照", "根据", "据",
    "里", "吗", "呢", "吧", "啊", "的", "了", "是", "和", "与", "跟", "及", "对", "在", "把", "被", "都", "有",
    "几", "谁", "哪", "么", "说", "讲", "给", "要", "会", "能",
)
SCAFFOLD_RE = re.compile("|".join(sorted(SCAFFOLD, key=len, reverse=True)))
# Function and question words that say nothing about which passage answers (BM25 and coverage skip them).
STOPWORDS = frozenset(
    "的 了 是 在 和 与 及 或 也 都 就 而 但 又 把 被 让 给 对 从 到 为 以 于 之 其 这 那 这个 那个 这些 那些 "
    "什么 多少 哪些 哪个 哪里 怎么 怎么样 怎样 如何 为什么 为啥 是否 有没有 吗 呢 吧 啊 么 几 哪 谁 "
    "一个 一些 有 没有 说 讲 提到 认为 觉得 文章 文中 里 中 上 下 我 你 他 她 它 我们 你们 他们 "
    "分别 具体 到底 大概 大约 一下 请问 请 能 会 要 可以 还 跟 比 "
    "the a an of to in on and or is are was were what which who how when why does did do".split()
)
# English words that shape a question (bot.bridge leaves them out), and time words every article matches.
ENGLISH_STOPWORDS = frozenset("""
a an the of to in on at for by with from and or but is are was were be been being do does did how many
much what which who whom whose when where why i me my you your we our they their it its this that these
those there here as into about according article articles text passage passages please answer chinese
english tell say said says mention mentioned can could would should will shall may might has have had not
no yes if than then so such all any some more most other one also just only very give list name named
describe explain question questions reply respond something someone thing things today tomorrow yesterday
now currently current latest recent recently summarize summarise summary overview main point points key
content contents report story interview
""".split())

# --- what a question asks -----------------------------------------------------------------------------------
# Question words: a word that is little more than one (几座, 多少人, 何时) names no topic.
QUESTION_WORDS = re.compile(r"几|多少|哪|什么|谁|啥|何")
# Words that make a clause the one that asks (its terms are the answer's focus).
ASKING = re.compile(r"多少|什么|哪|怎么|如何|几|吗|谁|为什么|为啥|是否|多大|多久|啥|何|how|what|when|which|who|why|where")
INTENTS: dict[str, re.Pattern[str]] = {
    # the gist of one article
    "overview": re.compile(
        r"主要(?:讲|说|写|谈|介绍|报道|内容|观点|意思)|(?:讲|说|写|谈)了(?:些)?(?:什么|啥)|核心观点|主要观点|大意|梗概|摘要|要点"
        r"|(?:概括|总结|概述|归纳).{0,12}(?:这篇|该文|本文|文章|报道|全文|采访)|(?:这篇|该文|本文|文章|报道|全文|采访).{0,12}(?:概括|总结|概述|归纳)"
        r"|main points?|summari[sz]e (?:the|this) (?:article|report|story|interview)|what is (?:the|this) (?:article|report|story) about"),
    # the gist of every article of the collection
    "collection": re.compile(
        r"(?:这几篇|这些|每篇|各篇|所有|全部)(?:文章|资料|报道)|资料库|知识库|有哪些文章|哪几篇文章"
        r"|(?:each|every|all (?:the )?|these )(?:articles?|documents?)|what articles"),
    # the articles themselves asked for (with "collection": a list of every article's gist)
    "articles": re.compile(r"(?:有|是)哪些(?:文章|资料|报道)|哪几篇|(?<!这)几篇文章|多少篇|列出.{0,4}(?:文章|资料)|what articles"),
    # several things: a list whose items may lie far apart
    "list": re.compile(
        r"哪些|哪[几两三四五六七八九十]|几[个项大点方类种层条]|分别|列举|有什么.{0,6}(?:挑战|问题|措施|建议|观点|方面|影响|冲击|风险)"
        r"|\bwhich\b|\bwhat are\b|\blist\b"),
    # an answer from each of several articles
    "across": re.compile(r"分别|各自|对比|比较|区别|异同|都.{0,6}(?:怎么|哪些|什么)|\bcompare\b|\bdifference\b"),
    # a figure
    "quantity": re.compile(r"多少|几[个年月天倍种家成次岁名位]|多大|多高|多快|多久|多长|多重|多远|多深|多宽|多厚|多粗|比例|占比|百分之"
                           r"|how (?:many|much|long|old|far|tall|deep|high|big|large|heavy|wide)"),
    # reads on only with the conversation before it (「那美国呢？」, 「他还说了什么？」)
    "follow_up": re.compile(
        r"^(?:那|那么|还有|另外|此外|他|她|它|他们|她们|其|这|该|and\b|what about|how about|also)"
        r"|(?:他|她|它|他们|这个人|这家|该公司|这件事)|呢[?]?$"),
}
FOLLOW_UP_CHARS = 8  # a question this short (「为什么？」「具体呢？」) reads on from the one before
# Openers that link a question to the one before (「那……」「还有……」); a full question after them that names
# its own subject (「那北京的大模型扶持政策门槛是多少？」) stands on its own.
FOLLOW_UP_LEAD = re.compile(r"^(?:那么|那|还有|另外|此外)")
# A follow-up that only names a new subject (「那美国呢？」「2023年呢？」「换成华为呢」): what is left once its
# lead-in and ending are removed is the subject put in place of the previous question's one.
FOLLOW_UP_SWAP = re.compile(r"^(?:那么|那|还有|另外|换成|如果是|要是)?(?P<subject>.{1,12}?)(?:的情况|的话|的)?"
                            r"(?:呢|怎么样|如何|又如何|又怎么样)?[?。]*$")
# A question that asks for a name (叫什么, 是谁, 哪家): its answer brings the name a later pronoun points at.
ASKS_NAME = re.compile(r"叫什么|什么名字|谁|哪[一]?位|哪家|哪个(?:公司|机构|人)|什么(?:公司|机构|工具|产品|应用|模型|平台)")
# A short quoted term names a thing (“超级员工”, 《AI法案》) even when jieba does not tag it as a name.
QUOTED_NAME = re.compile(r"[“\"《]([^”\"》]{2,12})[”\"》]")
# Words that point at a place the way a name would (jieba tags them as pronouns): the home country.
HOME_PLACES = ("我们国家", "我国", "国内", "本国")
# Pronouns of a follow-up and the kinds of name they stand for (「他还说了什么？」 → the person named before).
PRONOUNS: dict[str, tuple[str, ...]] = {
    "他": ("person",), "她": ("person",), "此人": ("person",), "这个人": ("person",), "这位": ("person",),
    "他们": ("org", "person"), "她们": ("person",), "它": ("org", "name"), "它们": ("org", "name"),
    "该公司": ("org",), "这家公司": ("org",), "这家": ("org",), "该机构": ("org",), "这家企业": ("org",),
    "当地": ("place",), "那里": ("place",), "该地": ("place",),
}

# The answer type a question expects, by how it asks (first match wins, most specific first).
ANSWER_TYPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("time", re.compile(r"什么时候|何时|哪一?年|哪年|几月|哪一?天|何年|什么时间|哪个时期|哪个朝代|什么朝代|哪个年代|什么年代|哪个世纪"
                        r"|\bwhen\b|what year|what time")),
    ("work", re.compile(r"哪[一]?(?:部|本|首|篇|张|幅)|什么(?:作品|书|歌|电影|电视剧|专辑|小说|游戏|节目)|\bwhich (?:book|film|movie|song)")),
    ("person", re.compile(r"谁|哪一?位|什么人|哪一?个人|何人|\bwho(?:m|se)?\b")),
    ("org", re.compile(r"哪[一]?家|哪个(?:公司|机构|组织|大学|学校|团队|球队|政党|部门|企业)|什么(?:公司|机构|组织|大学|学校|团队|球队|政党|部门|企业)"
                       r"|which (?:company|organi[sz]ation|university|team)")),
    ("place", re.compile(r"哪里|哪儿|在哪|何处|何地|哪[个座一]?(?:国家|国|城市|地区|省|州|市|县|岛|山|河)|什么地方|\bwhere\b")),
    ("number", INTENTS["quantity"]),
)

# --- what answer sentences contain ----------------------------------------------------------------------------
# Names and numbers: Latin/number tokens name things exactly (GPT-4, 2023年, A100) and must be in the evidence.
EXACT = re.compile(r"[a-z0-9](?:[a-z0-9.+\-/%]*[a-z0-9%+])?(?:年|月|日|个|家|种|倍|亿|万|人|天)?")
EXACT_SUFFIXES = "年月日个家种倍亿万人天"
YEAR = re.compile(r"(?:1[0-9]|20)\d\d(?=年)")
# A rank (全球第二, 第3名): a fact an answer must not drop, though no digit may say it.
ORDINAL = re.compile(r"第[一二三四五六七八九十百千万\d]+")
# A figure, also when written in words (上万张, 数十家, 三倍多, 十分之一).
_WORD_FIGURE = (r"[一二三四五六七八九十百千万亿两数几上]+(?:个|家|倍|成|年|种|人|天|张|块|台|位|名|件|次|条|项|篇|款|颗|辆|座|米|公里|岁|元|吨|平方)"
                r"|分之[一二三四五六七八九十]")
FIGURE = re.compile(r"\d|" + _WORD_FIGURE)
# A whole figure that may answer "how many": 88%, 1.8万亿, 14 (of 14nm), 三米; not the digits of a name
# (GPT-3.5, A100, TF1236), which letters or a hyphen lead.
NUMBER = re.compile(r"(?<![a-z0-9.\-])\d+(?:[.,]\d+)*(?:\s*%|[万亿千百]+)?|" + _WORD_FIGURE)
TIME = re.compile(r"\d{1,4}\s*(?:年|月|日|世纪|年代)|[〇零一二三四五六七八九十百千]+(?:年|月|日|世纪|年代)|公元|[春夏秋冬]季|朝|时期|\d{4}")
WORK = re.compile(r"《[^》]{1,40}》|<[^<>]{1,40}>")
# jieba part-of-speech tags of named entities (posseg): person, place, organisation, other proper noun
ENTITY_TAGS = {"person": ("nr", "nrfg", "nrt"), "place": ("ns",), "org": ("nt",)}
OTHER_NAME_TAGS = ("nz",)  # another proper name (Latin ones, GPT-4, are taken whole by EXACT instead)
NAME_TAGS = ("nr", "nrfg", "nrt", "ns", "nt", "nz", "eng")
# Tags of words that carry no topic: pronouns and question words (r), prepositions, conjunctions,
# particles, adverbs, interjections, onomatopoeia, modal particles.
FUNCTION_TAGS = ("r", "p", "c", "u", "d", "e", "o", "y")
# The tag of a clause's first word when it has no subject of its own: a preposition (对AI开发者提了什么要求？
# 跟人比怎么样？ 比2017年涨了多少？) opens a clause whose subject is the one before it.
SUBJECTLESS_LEAD_TAGS = ("p",)
# Tags that make up a name or compound noun when adjacent (青石 + 镇, 莫扎 + 伊斯 + 克).
NOMINAL_TAGS = ("n", "j", "eng")
POSSESSIVE = "的"  # 「A的B」: B is a property of A (what a question asks of its subject)
NOT_TOPIC_TAGS = ("v", "a", "t")  # a verb, adjective or time word says what is asked of the subject (得名, 制成,
# 重大, 目前): it is never the subject
PHRASE_BREAK_TAGS = ("v", "p", "c", "x")  # a verb, preposition, conjunction or punctuation ends a noun phrase
PRONOUN_TAGS = ("r",)  # jieba tags a question word (什么, 哪) as a pronoun
# Tags of the words a noun phrase is made of (移动/vn 支付/v 用户/n): what a refusal names after a subject.
PHRASE_TAGS = ("n", "v", "a", "j", "eng")

# How many X: measure words and verbs between 多少 and what is counted (多少个参数, 营收是多少).
MEASURES = set("个块种家位件名项条台张次")
COPULAS = {"是", "有", "为", "达", "到底", "大概", "大约", "起来", "共", "一共", "总共", "了", "会", "能"}
COUNT_ASKS = {"多少", "几", "多大", "多久", "多长", "多高", "多深", "多宽", "多厚", "多重", "多远"}
# How a sentence may state a figure for what is asked, when it does not use the question's word.
_MONEY = r"\d[\d.,]*\s*[万亿]?(?:美元|元|欧元|英镑|日元)|成本|投入|资金|价格|售价|费用"
# A figure with a unit of a dimension: what is asked in 公尺 is stated in 米, a 时速 in 公里/小时, a 体重 in 公斤.
_AMOUNT = r"(?:\d[\d.,]*|[一二三四五六七八九十百千万亿两半数几]+)\s*"  # 42, 四十二
_LENGTH = _AMOUNT + r"(?:米|公尺|厘米|公分|毫米|公里|千米|纳米|微米|英尺|英寸|英里|海里|(?:c|m|k|n)?m(?![a-z]))"
_WEIGHT = _AMOUNT + r"(?:克|公斤|千克|斤|吨|磅|(?:k|m)?g(?![a-z]))"
_PERCENT = r"%|百分之|分之|\d成|占比"
_DURATION = _AMOUNT + r"(?:天|日|周|星期|个月|年|小时|分钟|秒|世纪)"
_AREA = _AMOUNT + r"(?:平方|公顷|亩|km2|km²|m2|m²)"
_DIMENSIONS = {
    _LENGTH: "长度 全长 高度 身高 海拔 深度 宽度 厚度 距离 直径 半径 周长 米 公尺 厘米 公分 毫米 公里 千米 纳米 英尺 英里"
             " 速度 时速 航速 车速 最高速度",
    _WEIGHT: "重量 体重 质量 克 公斤 千克 吨 磅",
    _PERCENT: "比例 百分比 比率 占比 百分点",
    _DURATION: "时长 为期 寿命 任期 工期 周期 历时",
    _AREA: "面积 占地 占地面积 总面积 平方公里 公顷 亩",
}
FIGURE_FORMS: dict[str, str] = {
    "钱": _MONEY, "价格": _MONEY, "价钱": _MONEY, "费用": _MONEY, "成本": _MONEY,
    "时候": r"\d{4}年|\d{1,2}月",
    "时间": r"\d{4}年|\d{1,2}月|\d+天",
    **{word: form for form, words in _DIMENSIONS.items() for word in words.split()},
}
# Nouns that only say "the amount of": what is counted is the noun before them (人口数量, 藏书总量).
AMOUNT_NOUNS = {"数量", "总数", "数目", "总量", "总额", "数", "量"}
# Asking 多长 / 多高 / 多久 names what is measured itself: the word before it is the subject (东关街有多长).
MEASURED_ASKS = COUNT_ASKS - {"多少", "几"}

# --- lists ---------------------------------------------------------------------------------------------------
# Enumerations whose items open sentences far apart (其一 … 其二 … 其三).
LIST_FAMILIES = (
    ("其一", "其二", "其三", "其四", "其五", "其六", "其七", "其八"),
    ("一是", "二是", "三是", "四是", "五是", "六是", "七是", "八是"),
    ("第一", "第二", "第三", "第四", "第五", "第六", "第七", "第八"),
    ("首先", "其次", "再次", "最后"),
)
# A sentence that continues the one before it as the next item (一是, 此外, 例如 …).
ENUMERATOR = re.compile(r"^[“\"]?(?:一是|二是|三是|四是|其一|其二|其三|其四|首先|其次|再次|最后|第[一二三四五六]|此外|同时|另外|"
                        r"具体|包括|例如|比如|即|[1-9一二三四五六][、.．]|[“\"][\w+]{1,3}[”\"]是)")
ANNOUNCES_LIST = re.compile(r"[有几两三四五六七八九十]大|以下|如下|分为|包括|几个方面|几方面")
COUNTED_LIST = re.compile(r"([二两三四五六七八九十]|[2-9])(?:大|个|项|类|点)([\u3400-\u9fff]{2})")
NUMERALS = {"二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
NOT_A_LIST_HEAD = {"方面", "部分", "阶段", "层次", "维度", "问题上"}  # their items are enumerated (其一 …) instead
