"""Small groups' figures stay out of view, also by difference."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from scoring.small_groups import large_enough, withheld_groups, withheld_parts


def test_a_group_needs_the_minimum_size():
    assert large_enough(5, 5)
    assert not large_enough(4, 5)


def test_parts_below_the_minimum_are_withheld():
    assert withheld_parts({"sales": 8, "tech": 12}, 5) == set()
    # Tech alone would be the total minus Sales: the smallest shown part goes too.
    assert withheld_parts({"sales": 8, "tech": 12, "ops": 4}, 5) == {"ops", "sales"}
    # Two small parts together are enough to hide each other within their sum.
    assert withheld_parts({"sales": 8, "ops": 3, "legal": 2}, 5) == {"ops", "legal"}
    assert withheld_parts({}, 5) == set()


@given(
    st.dictionaries(st.integers(0, 30), st.integers(0, 15), max_size=12),
    st.integers(1, 8),
)
def test_no_difference_of_the_total_and_the_shown_parts_is_a_small_group(sizes, k):
    withheld = withheld_parts(sizes, k)
    shown = set(sizes) - withheld
    assert all(sizes[part] >= k for part in shown)
    hidden_people = sum(sizes[part] for part in withheld)
    # The total minus every shown part: nobody, or enough people (unless nothing is
    # left to withhold, when every part is small and all are withheld).
    assert hidden_people == 0 or hidden_people >= k or not shown


def withheld_of(members: dict[str, frozenset[int]], k: int, everyone: int) -> set[str]:
    """``withheld_groups`` told the groups' sizes and overlaps, from who is in each."""
    sizes = {group: len(people) for group, people in members.items()}
    both = {(a, b): len(members[a] & members[b]) for a in members for b in members if a < b}
    return withheld_groups(sizes, both, k, everyone)


def test_overlapping_groups_are_withheld_where_a_difference_isolates_people():
    members = {
        "engineering": frozenset(range(0, 8)),
        "careers": frozenset(range(0, 9)),  # engineering and one more person
        "sales": frozenset(range(20, 26)),
        "events": frozenset(range(30, 32)),  # too few
    }
    withheld = withheld_of(members, 5, everyone=40)
    assert withheld == {"engineering", "events"}


def test_a_group_of_nearly_everyone_is_withheld():
    # The company's total minus this group would be two people.
    assert withheld_of({"all_but_two": frozenset(range(10))}, 5, everyone=12) == {"all_but_two"}
    assert withheld_of({"everyone": frozenset(range(12))}, 5, everyone=12) == set()


@given(
    st.dictionaries(
        st.sampled_from("abcdefgh"), st.frozensets(st.integers(0, 20), max_size=21), max_size=8
    ),
    st.integers(1, 6),
)
def test_no_two_shown_groups_differ_by_a_small_group(members, k):
    everyone = 21
    withheld = withheld_of(members, k, everyone)
    shown = [group for group in members if group not in withheld]
    for group in shown:
        size = len(members[group])
        assert size >= k
        assert everyone - size == 0 or everyone - size >= k
        for other in shown:
            inner, outer = members[group], members[other]
            if inner < outer:
                assert len(outer - inner) >= k
