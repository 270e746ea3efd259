"""When two names are the same name: teams, interests, rewards, taboo topics, scoring
rules, referral programmes and pseudonyms are unique whatever their case."""

from __future__ import annotations

import unicodedata


def name_key(name: str) -> str:
    """What two names share when they are the same name ("Straße" and "STRASSE", "Ärzte"
    and "ÄRZTE"): the Unicode case fold of the compatibility form. The migration that
    added the key columns keeps a copy of this: change both, and refill the columns, or
    neither."""
    return unicodedata.normalize("NFKC", name).casefold()
