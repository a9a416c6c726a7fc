"""distribution.texts: a sentence our code stored is shown in the reader's language."""

import pytest
from django.utils import translation

from distribution.texts import shown

STORED = [
    # (stored as written in English, as a Chinese reader sees it)
    ("Paid 20.50 USD from the balance.", "已从余额支付 20.50 美元。"),
    ("Created from platform order DEMO-F-0001 (Order file import).", "由平台订单 DEMO-F-0001（订单文件导入）生成。"),
    ("Shipped: every piece has left the warehouse.", "已发货：所有商品均已出库。"),
    ("Payment of 3 order(s)", "支付 3 个订单"),
]


@pytest.mark.parametrize(("english", "chinese"), STORED)
def test_an_english_sentence_reads_in_chinese_and_back(english, chinese):
    # when a Chinese reader sees a sentence stored in English
    with translation.override("zh-hans"):
        assert shown(english) == chinese
        # and one stored in Chinese (written in a Chinese member's request) stays as it is
        assert shown(chinese) == chinese
    # then an English reader sees either as English
    with translation.override("en"):
        assert shown(chinese) == english
        assert shown(english) == english


def test_sentences_in_a_row_are_each_translated_and_labels_in_them_too():
    text = "Created from platform order #1002 (Order file import). Waiting for a mapping of: SKU-1, SKU-2."
    with translation.override("zh-hans"):
        assert shown(text) == "由平台订单 #1002（订单文件导入）生成。等待以下 SKU 的映射：SKU-1, SKU-2。"


def test_words_of_a_person_or_a_platform_stay_as_written():
    with translation.override("zh-hans"):
        for text in ["Hello there, my own words.", "Please ship before Friday", "", "429 Too Many Requests"]:
            assert shown(text) == text
        # a sentence of ours followed by words that are not: ours translated, the rest as written
        assert shown("Paid 20.50 USD from the balance. Thanks, Ada") == "已从余额支付 20.50 美元。Thanks, Ada"
    assert shown(None) == ""


def test_chinese_sentences_in_a_row_read_in_english_with_a_space_between():
    chinese = "由平台订单 #1002（订单文件导入）生成。等待以下 SKU 的映射：SKU-1, SKU-2。"
    with translation.override("en"):
        assert shown(chinese) == (
            "Created from platform order #1002 (Order file import). Waiting for a mapping of: SKU-1, SKU-2."
        )


def test_data_that_reads_like_one_of_our_labels_stays_data():
    with translation.override("zh-hans"):
        # an order numbered "Total" keeps its number; the source, one of our labels, is translated
        assert (
            shown("Created from platform order Total (Order file import).") == "由平台订单 Total（订单文件导入）生成。"
        )
        # a stored word alone that happens to be a label of ours is somebody's text
        assert shown("Total") == "Total"


def test_long_or_hostile_text_is_matched_without_backtracking():
    # texts that made a regex with eight lazy groups backtrack for minutes: each is read in
    # one pass now (the suite would stall here otherwise); longer than 4,000 characters is not ours
    hostile = ["Paid: " + ", " * 1900, "Awaiting second approval: " + "(a) " * 900, "of " * 1300]
    with translation.override("zh-hans"):
        for text in hostile:
            assert shown(text) == text
        # a hundred sentences of ours in a row: each translated, in one pass
        assert shown("Paid 20.50 USD from the balance. " * 100) == "已从余额支付 20.50 美元。" * 100
