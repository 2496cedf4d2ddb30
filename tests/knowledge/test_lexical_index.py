from knowledge.lexical_index import IndexedPassage, LexicalIndex


def _index() -> LexicalIndex:
    return LexicalIndex(
        [
            IndexedPassage("p1", "processes", ["晋级", "流程", "跨级", "上司", "权重"], ["晋级", "级流"]),
            IndexedPassage("p2", "courses", ["谈判", "让步", "底线"], ["谈判", "让步"]),
            IndexedPassage("p3", "cases", ["来电提醒", "青海", "满意度"], ["来电", "电提", "提醒"]),
            IndexedPassage("p4", "courses", ["谈判", "技巧", "倾听"], ["谈判", "技巧"]),
        ],
        bigram_weight=0.5,
    )


def test_best_passage_first_and_zero_scores_never_returned():
    hits = _index().search(words=["让步", "底线"], limit=10)
    assert [h.chunk_id for h in hits] == ["p2"]


def test_collection_filter():
    hits = _index().search(words=["谈判"], collections=["cases"], limit=10)
    assert hits == []
    hits = _index().search(words=["谈判"], collections=["courses"], limit=10)
    assert {h.chunk_id for h in hits} == {"p2", "p4"}


def test_coverage_counts_a_synonym_as_present():
    index = _index()
    plain = index.search(words=["隔级", "上司"], limit=1)[0]
    with_synonym = index.search(words=["隔级", "上司"], synonyms_of={"隔级": ["跨级"]}, limit=1)[0]
    assert plain.chunk_id == with_synonym.chunk_id == "p1"
    assert plain.coverage < 0.6
    assert with_synonym.coverage == 1.0


def test_unknown_words_lower_coverage():
    hit = _index().search(words=["来电提醒", "资费", "价格"], limit=1)[0]
    assert hit.chunk_id == "p3"
    assert hit.coverage < 0.5


def test_expansions_find_passages_the_question_words_miss():
    hits = _index().search(words=["升级"], expansions=["晋级"], limit=5)
    assert [h.chunk_id for h in hits] == ["p1"]


def test_empty_index_returns_nothing():
    assert LexicalIndex([], bigram_weight=0.5).search(words=["谈判"]) == []


def test_a_one_character_word_weighs_less_in_coverage():
    # 「带团队搞团队学习,得多久才见效」: jieba leaves 「带」 and 「才」 as single characters. At full IDF these rare
    # characters outweighed the subject the passage does hold, and an answerable question abstained.
    index = LexicalIndex(
        [
            IndexedPassage("p1", "courses", ["团队", "学习", "周期", "月"], ["团队", "学习"]),
            IndexedPassage("p2", "courses", ["带", "才", "谈判"], ["谈判"]),
            IndexedPassage("p3", "cases", ["客户", "服务"], ["客户", "服务"]),
        ],
        bigram_weight=0.5,
    )
    hit = index.search(words=["团队", "学习"], key_words=["带", "团队", "学习", "才"], limit=1)[0]
    assert hit.chunk_id == "p1"
    assert hit.coverage > 0.5
