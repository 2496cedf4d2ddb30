import pytest

from knowledge.tokenizer import Tokenizer


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    return Tokenizer()


def test_traditional_and_simplified_give_the_same_tokens(tokenizer):
    assert tokenizer.document_tokens("銷售助理個人工作計劃") == tokenizer.document_tokens("销售助理个人工作计划")


def test_english_terms_and_numbers_stay_whole(tokenizer):
    words, _ = tokenizer.document_tokens("客户经理的KPI和ARPU值,BPR试点,SLA协议,权重80%")
    for term in ("kpi", "arpu", "bpr", "sla", "80%"):
        assert term in words


def test_domain_dictionary_keeps_competencies_whole(tokenizer):
    words, _ = tokenizer.document_tokens("客户洞察力的情境模拟测验")
    assert "客户洞察力" in words
    assert "情境模拟测验" in words


def test_stopwords_are_dropped_from_questions(tokenizer):
    terms = tokenizer.query_terms("晋级的流程是什么呢?")
    assert "的" not in terms.words and "什么" not in terms.words
    assert "晋级" in terms.words


def test_query_synonyms_expand_colloquial_words(tokenizer):
    terms = tokenizer.query_terms("隔级领导打分占多少")
    assert "跨级" in terms.expansions
    assert "上司" in terms.expansions


def test_bigrams_cover_cjk_runs(tokenizer):
    assert Tokenizer.bigrams("来电提醒") == ["来电", "电提", "提醒"]
    assert Tokenizer.bigrams("谈") == ["谈"]


def test_latin_terms_count_in_the_bigram_field_as_cjk_words_do() -> None:
    grams = Tokenizer.bigrams("edi 模型分三个阶段 a")
    assert "edi" in grams and "三个" in grams
    assert "a" not in grams  # one letter says nothing


def test_colloquial_filler_is_no_key_word_and_百分百_reaches_100_percent() -> None:
    terms = Tokenizer().query_terms("没有投诉就算客户百分百满意,这么看对不对")
    assert not {"就算", "这么", "对不对"} & set(terms.key_words)
    assert "100%" in terms.expansions


def test_taiwan_软体_and_colloquial_底薪_reach_the_documents_words() -> None:
    # OpenCC folds 軟體 to 软体, not to the mainland 软件 the documents use; 底薪 is what they call 基本工资
    assert "软件" in Tokenizer().query_terms("銷售助理打算學哪些設計軟體").expansions
    assert "基本工资" in Tokenizer().query_terms("中级客户经理B档底薪多少钱").expansions


def test_跳级_is_跨级_and_钱_is_the_documents_货币() -> None:
    # 「客戶經理晉級可以跳級嗎」 is answered by 「逐级晋级…不得跨级」; 「除了钱还有啥成本」 by 「货币成本、时间成本…」
    assert "跨级" in Tokenizer().query_terms("客戶經理晉級可以跳級嗎").expansions
    assert "货币" in Tokenizer().query_terms("客户买东西付出的成本除了钱还有啥").expansions
