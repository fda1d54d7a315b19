"""Normalised model numbers, so offers of "KFR-35GW/NhGc1B" and "kfr35gw nhgc1b" meet."""

import re
import unicodedata

_SEPARATORS = re.compile(r"[\s\-_/.·（）()]+")


def normalise_model(model: str) -> str:
    """Full-width to half-width, upper case, separators dropped."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", model)).upper()
