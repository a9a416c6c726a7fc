"""Postcodes by country (orders/postcodes.py): the one rule the order file and the
ingestion of pulled orders ask, with the numbers spreadsheets make of postcodes."""

import pytest

from orders.postcodes import MAX_LENGTH, PostcodeError, postcode_normalise, postcode_problem


@pytest.mark.parametrize(
    ("country", "value", "expected"),
    [
        # United States: 5 digits or ZIP+4; the zeros a spreadsheet dropped come back
        ("US", "02134", "02134"),
        ("US", "02134-1234", "02134-1234"),
        ("US", "02134 1234", "02134-1234"),
        ("US", "021341234", "02134-1234"),
        ("US", "2134", "02134"),  # Excel's CSV of a ZIP it took for a number
        ("US", 2134, "02134"),  # a numeric xlsx cell
        ("US", 2134.0, "02134"),  # the same cell as calamine reads it
        ("US", 501, "00501"),  # three digits only from a numeric cell
        ("US", 21341234, "02134-1234"),  # ZIP+4 as one number
        ("US", " 10001 ", "10001"),
        # Japan: 7 digits written NNN-NNNN, however they were typed
        ("JP", "100-0001", "100-0001"),
        ("JP", "1000001", "100-0001"),
        ("JP", "〒100-0001", "100-0001"),
        ("JP", "〒 100-0001", "100-0001"),
        ("JP", "１００－０００１", "100-0001"),  # full-width digits and dash
        ("JP", "100ー0001", "100-0001"),  # the long-vowel mark typed for a dash
        ("JP", 1000001, "100-0001"),
        ("JP", 600001.0, "060-0001"),  # Sapporo, its zero lost in a numeric cell
        # Canada: A1A 1A1
        ("CA", "K1A 0B1", "K1A 0B1"),
        ("CA", "k1a0b1", "K1A 0B1"),
        ("CA", "  h2x-1y4 ", "H2X 1Y4"),
        # United Kingdom: outward and inward code, one space, upper case
        ("GB", "SW1A 1AA", "SW1A 1AA"),
        ("GB", "sw1a1aa", "SW1A 1AA"),
        ("GB", "m1 1ae", "M1 1AE"),
        ("GB", "B33  8TH", "B33 8TH"),
        ("GB", "CR2 6XH", "CR2 6XH"),
        ("GB", "DN55 1PT", "DN55 1PT"),
        ("GB", "W1A 0AX", "W1A 0AX"),
        # Germany, France, Italy, Spain, South Korea: 5 digits
        ("DE", "10115", "10115"),
        ("DE", 1067, "01067"),  # Dresden from a numeric cell
        ("FR", "75001", "75001"),
        ("IT", "00184", "00184"),
        ("ES", "28013", "28013"),
        ("KR", "04524", "04524"),
        # Australia 4 digits, China 6 digits, the Netherlands 1234 AB
        ("AU", "2000", "2000"),
        ("AU", 800, "0800"),  # Darwin
        ("CN", "100000", "100000"),
        ("CN", 10000, "010000"),  # Hohhot
        ("NL", "1234 AB", "1234 AB"),
        ("NL", "1234ab", "1234 AB"),
        # a country without a rule: trimmed, accepted
        ("BR", "  01310-100 ", "01310-100"),
        ("SG", 238801, "238801"),
        ("", "anything  goes", "anything goes"),
        (None, "12345", "12345"),
        # empty is not this module's business
        ("JP", "", ""),
        ("US", None, ""),
    ],
)
def test_postcode_normalise_accepts_and_writes_each_countrys_way(country, value, expected):
    assert postcode_normalise(country, value) == expected
    assert postcode_problem(country, value) is None


@pytest.mark.parametrize(
    ("country", "value", "hint"),
    [
        ("US", "213", "5 digits"),  # three digits typed as text are not padded
        ("US", "123456", "5 digits"),
        ("US", "02134-12", "ZIP+4"),
        ("US", "ABCDE", "5 digits"),
        ("US", 42, "5 digits"),  # no postcode lost three zeros
        ("JP", "100-001", "100-0001"),
        ("JP", "10000011", "7 digits"),
        ("JP", "〒100-OOO1", "7 digits"),  # letters O for zeros
        ("CA", "K1A 0B", "K1A 0B1"),
        ("CA", "D1A 0B1", "K1A 0B1"),  # Canada Post uses no D
        ("CA", "12345", "K1A 0B1"),
        ("GB", "SW1A", "SW1A 1AA"),
        ("GB", "12345", "SW1A 1AA"),
        ("DE", "1011", "5 digits"),  # text is not padded outside the US
        ("DE", "101155", "5 digits"),
        ("FR", "75OO1", "5 digits"),
        ("IT", "0018", "5 digits"),
        ("ES", "280130", "5 digits"),
        ("KR", "1234", "5 digits"),
        ("AU", "20000", "4 digits"),
        ("CN", "10000", "6 digits"),  # text: the lost zero is not guessed
        ("NL", "0123 AB", "1234 AB"),
        ("NL", "1234 SA", "1234 AB"),  # SA, SD and SS are not used
        ("NL", "1234", "1234 AB"),
    ],
)
def test_postcode_normalise_refuses_what_cannot_be_the_countrys(country, value, hint):
    with pytest.raises(PostcodeError) as refused:
        postcode_normalise(country, value)
    assert isinstance(refused.value, ValueError)
    message = refused.value.message
    assert hint in message
    assert f"“{str(value).strip()}”" in message  # the person sees what they typed
    assert postcode_problem(country, value) == message


def test_postcode_refusal_says_what_a_japanese_postcode_looks_like():
    assert postcode_problem("JP", "10000011") == ("“10000011” is not a Japanese postcode: 7 digits, written 100-0001.")


def test_postcode_with_decimals_is_refused():
    assert "no decimals" in postcode_problem("US", 2134.5)


def test_postcode_of_a_country_without_a_rule_is_limited_in_length():
    assert postcode_normalise("BR", "x" * MAX_LENGTH) == "x" * MAX_LENGTH
    problem = postcode_problem("BR", "x" * 500)
    assert "at most 20 characters" in problem
    assert len(problem) < 120  # a huge cell is not echoed back whole


def test_postcode_country_codes_are_read_in_any_case():
    assert postcode_normalise("jp", "1000001") == "100-0001"
