"""One rule for every price, amount and quantity: whole fen (or units) inside the column's
range, and typed yuan that is no amount, or past any range, is a field error, never a crash."""

import pytest

from mall.core.errors import ValidationFailed
from mall.core.money import (
    AMOUNT,
    MAX_PRICE_FEN,
    PRICE,
    QUANTITY,
    STOCK,
    AmountTooLarge,
    parse_yuan,
    read_yuan,
    require,
    within,
)

BIGINT_MAX = 2**63 - 1
INTEGER_MAX = 2**31 - 1


@pytest.mark.parametrize("text", ["1e30", "1e999999999", "9" * 31, "-1e400000"])
def test_yuan_past_any_range_is_refused_as_too_large_not_overflow(text):
    with pytest.raises(AmountTooLarge):
        parse_yuan(text)


@pytest.mark.parametrize("text", ["1e-999999999", "0.001", "1" * 5000, "1e", "Infinity",
                                  "-sNaN", "¥", "12.34.5"])
def test_yuan_below_a_fen_or_garbage_is_refused_without_arithmetic_errors(text):
    with pytest.raises(ValueError) as caught:
        parse_yuan(text)
    assert not isinstance(caught.value, AmountTooLarge)


@pytest.mark.parametrize(("text", "fen"), [("1.2e1", 1200), ("12.340", 1234), ("0e5", 0),
                                           ("-0.50", -50), ("１２.５", 1250)])
def test_exponents_trailing_zeros_and_full_width_digits_are_read_exactly(text, fen):
    assert parse_yuan(text) == fen


@pytest.mark.parametrize(("text", "message"), [
    ("-0.50", PRICE.message), ("0", PRICE.message), ("1e30", PRICE.message),
    ("99999999999999999999", PRICE.message), ("100000000.01", None),
    ("abc", PRICE.typed), ("1.005", PRICE.typed), ("", PRICE.typed)])
def test_a_typed_price_is_read_inside_its_range_or_refused_next_to_its_field(text, message):
    if message is None:
        assert read_yuan(text, PRICE, "price") == 10_000_000_001
        return
    with pytest.raises(ValidationFailed) as refused:
        read_yuan(text, PRICE, "price")
    assert refused.value.errors == {"price": [message]}
    assert refused.value.status == 422


@pytest.mark.parametrize(("value", "bound", "ok"), [
    (1, PRICE, True), (MAX_PRICE_FEN, PRICE, True), (0, PRICE, False), (-50, PRICE, False),
    (MAX_PRICE_FEN + 1, PRICE, False), (29.9, PRICE, False), (True, PRICE, False),
    ("2990", PRICE, False), (None, PRICE, False),
    (0, AMOUNT, True), (-1, AMOUNT, False), (10**20, AMOUNT, False),
    (0, STOCK, True), (-1, STOCK, False), (INTEGER_MAX, STOCK, False),
    (1, QUANTITY, True), (0, QUANTITY, False), (100_001, QUANTITY, False),
])
def test_only_whole_numbers_inside_the_bound_pass(value, bound, ok):
    assert within(value, bound) is ok
    if ok:
        assert require(value, bound, "field") == value
    else:
        with pytest.raises(ValidationFailed) as refused:
            require(value, bound, "field")
        assert refused.value.errors == {"field": [bound.message]}


def test_every_bound_fits_its_column_with_room_for_sums():
    from mall.core.money import COUNT, MAX_AMOUNT_FEN, POSITIVE_AMOUNT
    from mall.purchasing.orders.cart import MAX_LINES

    assert STOCK.high <= INTEGER_MAX and QUANTITY.high <= INTEGER_MAX
    assert COUNT.high == INTEGER_MAX
    # An order is at most MAX_LINES lines of MAX_QUANTITY at MAX_PRICE_FEN, but it is refused
    # above the direct-purchase limit (an AMOUNT) before anything is stored; the sums of
    # amounts a unit can reach stay inside BIGINT.
    assert MAX_LINES * AMOUNT.high < BIGINT_MAX
    assert POSITIVE_AMOUNT.high == MAX_AMOUNT_FEN and PRICE.high < MAX_AMOUNT_FEN
