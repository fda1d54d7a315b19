"""Money is integer fen, shown as ¥1,234.56 and in Chinese capitals on contracts."""

import pytest

from mall.core.money import fen_to_capital, format_fen, parse_yuan


@pytest.mark.parametrize(("fen", "text"), [
    (123456, "¥1,234.56"),
    (0, "¥0.00"),
    (5, "¥0.05"),
    (100, "¥1.00"),
    (123456789012, "¥1,234,567,890.12"),
    (-2050, "-¥20.50"),
])
def test_fen_is_formatted_as_yuan_with_thousands_separators(fen, text):
    assert format_fen(fen) == text


@pytest.mark.parametrize(("fen", "capital"), [
    (1234567, "壹万贰仟叁佰肆拾伍元陆角柒分"),
    (10000000, "壹拾万元整"),
    (100000500, "壹佰万零伍元整"),
    (101000, "壹仟零壹拾元整"),
    (1005, "壹拾元零伍分"),
    (5, "伍分"),
    (50, "伍角"),
    (0, "零元整"),
    (30010000000, "叁亿零壹拾万元整"),
])
def test_amounts_are_written_in_chinese_capitals_for_contracts(fen, capital):
    assert fen_to_capital(fen) == capital


def test_floats_are_refused_as_money():
    with pytest.raises(TypeError):
        format_fen(12.5)
    with pytest.raises(TypeError):
        fen_to_capital(1.0)


@pytest.mark.parametrize(("text", "fen"), [("1,234.5", 123450), ("¥12", 1200), ("0.01", 1),
                                           ("￥3,000.00", 300000)])
def test_typed_yuan_amounts_become_fen(text, fen):
    assert parse_yuan(text) == fen


@pytest.mark.parametrize("text", ["1.005", "abc", "", "NaN"])
def test_amounts_with_sub_fen_digits_or_garbage_are_refused(text):
    with pytest.raises(ValueError):
        parse_yuan(text)


def test_yuan_text_fills_a_form_field_that_parse_yuan_reads_back():
    from mall.core.money import parse_yuan, yuan_text

    for fen in (0, 5, 2990, 80_000_000, 123_456_789):
        assert parse_yuan(yuan_text(fen)) == fen
    assert yuan_text(80_000_000) == "800000.00" and yuan_text(5) == "0.05"
