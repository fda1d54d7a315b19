"""Credit codes made by uscc_with_check_digit are the ones python-stdnum accepts."""

import pytest
from stdnum.cn import uscc

from mall.core.credit_codes import uscc_with_check_digit

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@pytest.mark.parametrize("first17", [
    "91110000600037341",    # python-stdnum's documented example, 91110000600037341L
    "12430100MB1A23456",
    "9144030511769048X",    # a demo supplier: organisation code ending in its GB 11714 X
    "11430100000000001",
    "91430100YYYYYYYYY",
])
def test_the_completed_code_is_a_valid_uscc(first17):
    code = uscc_with_check_digit(first17)

    assert code[:17] == first17
    assert uscc.is_valid(code)


def test_the_documented_example_gets_its_documented_check_character():
    assert uscc_with_check_digit("91110000600037341") == "91110000600037341L"


def test_every_other_check_character_fails_validation():
    code = uscc_with_check_digit("12430100MB1A23456")

    wrong = [code[:17] + char for char in ALPHABET if char != code[17]]

    assert len(wrong) == 30
    assert not any(uscc.is_valid(candidate) for candidate in wrong)


@pytest.mark.parametrize("first17", [
    "9111000060003734",      # 16 characters
    "91110000600037341L",    # already has its check character
    "A1110000600037341",     # the first eight are digits
    "91110000I00037341",     # I, O, S, V and Z are not in the alphabet
])
def test_malformed_input_is_refused(first17):
    with pytest.raises(ValueError):
        uscc_with_check_digit(first17)
