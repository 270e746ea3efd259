"""When two names are the same name."""

from __future__ import annotations

import pytest

from scoring.names import name_key


@pytest.mark.parametrize(
    ("one", "other", "same"),
    [
        ("Sales", "sales", True),
        ("Straße", "STRASSE", True),
        ("Ärzte", "ÄRZTE", True),
        ("ﬁnance", "Finance", True),  # a ligature is its letters (NFKC)
        ("\uff33\uff41\uff4c\uff45\uff53", "Sales", True),  # full-width letters are letters
        ("Sales", "Sales ", False),  # spaces are trimmed at the edge, not here
        ("Ärzte", "Arzte", False),  # accents make another name
        ("Team A", "Team B", False),
    ],
)
def test_names_are_the_same_when_their_case_folds_are(one: str, other: str, same: bool):
    assert (name_key(one) == name_key(other)) is same
