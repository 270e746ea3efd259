"""Figures about groups, never about the person inside a small one.

A group's figures are shown only when it has at least ``k`` people (the company's
minimum group size). That alone is not enough: where the figures of several groups
and their total are shown, the total minus the shown groups gives away the withheld
ones, and where one shown group holds another, the difference gives away the people
between them. So more is withheld until every difference anyone can take covers no
one or at least ``k`` people.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


def large_enough(people: int, k: int) -> bool:
    return people >= k


def withheld_parts(sizes: Mapping[K, int], k: int) -> set[K]:
    """Which parts of a whole to withhold when the whole's total is shown too: those
    of fewer than ``k`` people, and then, smallest first, as many more as it takes for
    the withheld together to number 0 or at least ``k`` (the total minus the shown
    parts is their sum). ``sizes``: people per part (parts do not overlap)."""
    withheld = {part for part, people in sizes.items() if people < k}
    shown = sorted((people, str(part), part) for part, people in sizes.items() if people >= k)
    while withheld and 0 < sum(sizes[part] for part in withheld) < k and shown:
        withheld.add(shown.pop(0)[2])
    return withheld


def withheld_groups(
    sizes: Mapping[K, int], both: Mapping[tuple[K, K], int], k: int, everyone: int
) -> set[K]:
    """Which of overlapping groups to withhold, given how many people each holds
    (``sizes``), how many are in two at once (``both``, per pair in either order; a
    pair missing: nobody), and how many people there are in all (``everyone``, whose
    total is shown): those of fewer than ``k`` people or more than ``everyone - k``
    (everyone else would be the difference), and, while a shown group holds another
    with fewer than ``k`` people between them, the smaller of the two."""

    def common(one: K, other: K) -> int:
        return both.get((one, other), both.get((other, one), 0))

    withheld = {group for group, people in sizes.items() if people < k or 0 < everyone - people < k}
    changed = True
    while changed:
        changed = False
        shown = sorted(
            (group for group in sizes if group not in withheld),
            key=lambda group: (sizes[group], str(group)),
        )
        for index, smaller in enumerate(shown):
            for larger in shown[index + 1 :]:
                inside = common(smaller, larger) == sizes[smaller]
                if inside and 0 < sizes[larger] - sizes[smaller] < k:
                    withheld.add(smaller)
                    changed = True
                    break
            if changed:
                break
    return withheld
