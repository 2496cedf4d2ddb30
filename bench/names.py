"""Names for simulated users: registration refuses names with digits (a question typed by mistake often has them)."""

NUMERALS = "零一二三四五六七八九"


def chinese_name(number: int, prefix: str = "经理") -> str:
    """经理 + the number in Chinese numerals: 经理一二 for 12."""
    return prefix + "".join(NUMERALS[int(d)] for d in str(number))
