"""Text for CSV cells that people open in a spreadsheet (formula injection, CWE-1236)."""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """A text cell starting like a formula gets a leading apostrophe, so Excel, WPS or
    LibreOffice show it as text instead of running it; other values pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
