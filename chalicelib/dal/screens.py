"""The screens aggregate: the big screens, read by their code.

Services ask here instead of catching ``Screen.DoesNotExist``: a screen that
is gone (deleted meanwhile, or a code nobody registered) is ``None``.
"""

from __future__ import annotations

from pynamodb.exceptions import AttributeDeserializationError

from chalicelib.dal import items
from chalicelib.models.screens import Screen


def find(screen_id: str, *, consistent: bool = False) -> Screen | None:
    """The screen, or ``None`` when there is none."""
    return items.find(Screen, screen_id, consistent=consistent)


def find_code(code: str) -> Screen | None:
    """The screen a user-supplied code names; a code the table cannot even read back counts as none."""
    try:
        return find(code)
    except AttributeDeserializationError:
        return None
