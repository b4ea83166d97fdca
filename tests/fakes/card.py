"""The test card number, and a pattern that finds its digits however they were written."""

from __future__ import annotations

import re

CARD = "4111 1111 1111 1111"
# the card's digits as a number of their own ("4111 1111 ...", "41111111", "4111."), not
# inside another number: a float's decimals can hold them ("626.0054111480713" failed CI once,
# a span's "0.0002968620001411182" another time)
CARD_DIGITS = re.compile(r"(?<![\d.])4111(?:\D{0,2}1111|(?!\d))")
