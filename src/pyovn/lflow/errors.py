"""Errors raised by the logical flow language front end.

Exception tree::

    LflowError                  base: anything wrong with a match or actions text
     +-- LflowSyntaxError       the text is malformed (bad token, unexpected token,
     |                          missing parenthesis, unknown field/address set name)
     +-- LflowSemanticError     the text is well formed but means nothing valid (type
                                or width mismatch, nominal field misuse, read-only
                                field assigned, bad prerequisite in the symbol table)

Every error carries OVN 23.03's wording as its message (``str(error)``), so that a
logged reason reads exactly like ovn-controller's, plus the offset in the input at
which it was detected.  Nothing in :mod:`pyovn.lflow` raises any other exception
for bad input: callers (pyovn-northd checking what it emits, pyovn-controller
translating Logical_Flow rows) catch :class:`LflowError`, log the row once with
its UUID and the reason, and skip it.
"""

from __future__ import annotations

__all__ = ["LflowError", "LflowSemanticError", "LflowSyntaxError"]


class LflowError(Exception):
    """Base of every error in a logical flow match or actions string.

    Raised by: nothing directly; see the subclasses.
    What to do: treat the logical flow as unusable; log ``str(error)`` (OVN's
    wording) with the flow's UUID and skip the flow.

    ``reason`` is OVN's message; ``position`` is the character offset in ``text``
    of the token at which the problem was found, or None when the problem is not
    tied to a place in the input (for example a broken prerequisite expansion in
    the symbol table found while annotating).
    """

    def __init__(self, reason: str, *, text: str = "", position: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.text = text
        self.position = position

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only arguments are not pickled by Exception's default reduce;
        # the controller may ship errors across processes in the future.
        return (_rebuild, (type(self), self.reason, self.text, self.position))

    def caret(self) -> str:
        """Return the input with a line under it pointing at ``position``.

        Meant for humans (``pyovn`` CLI, debug logs); empty if there is no
        position.
        """
        if self.position is None:
            return ""
        return f"{self.text}\n{' ' * self.position}^"


def _rebuild(
    cls: type[LflowError], reason: str, text: str, position: int | None
) -> LflowError:
    return cls(reason, text=text, position=position)


class LflowSyntaxError(LflowError):
    """The text does not follow the grammar of OVN matches or actions.

    Raised by: the lexer (invalid characters, malformed numbers and strings,
    unterminated comments) and the expression and action parsers (an unexpected
    token, ``&&`` mixed with ``||`` without parentheses, too deep nesting, a name
    that is not a field, address set or port group).  Most messages begin with
    "Syntax error at `TOKEN'", exactly as ovn-controller reports them.
    What to do: the flow's text is wrong where it was produced (pyovn-northd or a
    CMS-supplied ACL match); fix it there.
    """


class LflowSemanticError(LflowError):
    """The text parses but does not make sense for the fields it names.

    Raised by: the expression parser (string vs integer constants, constants too
    wide for a field, relational operators on nominal fields, nominal fields
    tested negatively, bare multi-bit fields), annotation (recursive or broken
    prerequisites and predicates) and the action parser (read-only or predicate
    fields assigned, width or type mismatches between fields and arguments,
    out-of-range table numbers or queue ids).
    What to do: as for :class:`LflowSyntaxError`; the message names the field and
    the rule that was broken.
    """
