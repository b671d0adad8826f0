"""Lexical analysis of OVN logical flow matches and actions.

Tokens and their rules are OVN 23.03's (``lib/lex.c``): identifiers may contain
dots (``eth.src``, ``ct.est``), integers keep the format they were written in
(decimal, hexadecimal, IPv4, IPv6, Ethernet) because OVN prints constants back in
that format, ``value/mask`` forms a masked integer (an IPv4 or IPv6 address with a
decimal mask is a CIDR prefix), ``$name`` names an address set, ``@name`` a port
group and ``^name`` a chassis template variable.  A malformed token does not raise
here: it becomes an ERROR token carrying OVN's message, and the parser that meets
it reports that message (as OVN does), so the first problem in the text wins.

:class:`Lexer` is the cursor the expression and action parsers share; it raises
:class:`~pyovn.lflow.errors.LflowSyntaxError` with OVN's "Syntax error at `x'"
wording.  Token scanning itself lives in :mod:`pyovn.lflow.tokens`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NoReturn

from pyovn.lflow.errors import LflowError, LflowSemanticError, LflowSyntaxError
from pyovn.lflow.format import format_token
from pyovn.lflow.tokens import LexFormat, Token, TokenType, next_token

__all__ = ["LexFormat", "Lexer", "Token", "TokenType", "expand_templates",
           "format_token", "tokenize"]

_INT_MAX = 2**31 - 1


def tokenize(text: str) -> list[Token]:
    """Return every token of ``text`` up to (not including) the END token.

    ERROR tokens are included, not raised: this is the lexer as OVN's
    ``test-ovn lex`` sees it.
    """
    nul = text.find("\0")
    if nul >= 0:
        text = text[:nul]
    tokens: list[Token] = []
    pos = 0
    while True:
        tok = next_token(text, pos)
        if tok.type is TokenType.END:
            return tokens
        tokens.append(tok)
        pos = tok.end


def expand_templates(text: str, template_vars: Mapping[str, str] | None = None
                     ) -> tuple[str, frozenset[str]]:
    """Substitute chassis template variables (``^name``) as ovn-controller does.

    Returns the text to parse and the names of the templates it referenced.
    Text without ``^`` is returned unchanged.  Otherwise, as in OVN 23.03,
    every token is printed back with no separator between tokens, a template
    becoming its value (or its bare name if the variable is not defined); so
    an error token becomes ``error("...")`` and fails the parse later.
    """
    nul = text.find("\0")
    if nul >= 0:
        text = text[:nul]
    if "^" not in text:
        return text, frozenset()
    values = template_vars if template_vars is not None else {}
    out = []
    refs = set()
    for tok in tokenize(text):
        if tok.type is TokenType.TEMPLATE:
            refs.add(tok.s)
            out.append(values.get(tok.s, tok.s))
        else:
            out.append(format_token(tok))
    return "".join(out), frozenset(refs)


class Lexer:
    """A cursor over the tokens of one match or actions string.

    ``token`` is the current token; :meth:`get` advances.  Errors raise at once
    (OVN records only the first error anyway), attributed to the current token.
    """

    __slots__ = ("_ahead", "text", "token")

    def __init__(self, text: str) -> None:
        # OVN reads a C string: a NUL byte ends the input.
        nul = text.find("\0")
        self.text = text if nul < 0 else text[:nul]
        self._ahead: Token | None = None
        self.token = next_token(self.text, 0)

    # --- moving -------------------------------------------------------------

    def get(self) -> TokenType:
        """Advance to the next token and return its type."""
        if self._ahead is not None:
            self.token, self._ahead = self._ahead, None
        else:
            self.token = next_token(self.text, self.token.end)
        return self.token.type

    def lookahead(self) -> TokenType:
        """Return the type of the token after the current one, without moving."""
        if self._ahead is None:
            self._ahead = next_token(self.text, self.token.end)
        return self._ahead.type

    def match(self, ttype: TokenType) -> bool:
        """Consume the current token if it has type ``ttype``."""
        if self.token.type is ttype:
            self.get()
            return True
        return False

    def match_id(self, name: str) -> bool:
        """Consume the current token if it is the identifier ``name``."""
        if self.token.type is TokenType.ID and self.token.s == name:
            self.get()
            return True
        return False

    def match_string(self, s: str) -> bool:
        """Consume the current token if it is the quoted string ``s``."""
        if self.token.type is TokenType.STRING and self.token.s == s:
            self.get()
            return True
        return False

    def force_match(self, ttype: TokenType) -> None:
        """Consume a token of type ``ttype`` or raise "expecting `X'"."""
        if ttype is TokenType.END:
            self.force_end()
        elif not self.match(ttype):
            expected = format_token(Token(ttype, 0, 0))
            self.syntax_error(f"expecting `{expected}'")

    def force_end(self) -> None:
        """Raise "expecting end of input" unless the input is exhausted."""
        if self.token.type is not TokenType.END:
            self.syntax_error("expecting end of input")

    def is_int(self) -> bool:
        """True if the current token is a small (int-sized) decimal integer."""
        tok = self.token
        return (
            tok.type is TokenType.INTEGER
            and tok.fmt is LexFormat.DECIMAL
            and tok.value <= _INT_MAX
        )

    def get_int(self) -> int | None:
        """Consume and return a small decimal integer, or return None."""
        if self.is_int():
            value = self.token.value
            self.get()
            return value
        return None

    def force_int(self) -> int:
        """Consume and return a small decimal integer or raise."""
        value = self.get_int()
        if value is None:
            self.syntax_error("expecting small integer")
        return value

    # --- errors -------------------------------------------------------------

    def _lexical_error(self) -> None:
        # A malformed token always explains the failure better than whatever
        # the parser expected in its place (OVN does the same).
        if self.token.type is TokenType.ERROR:
            raise LflowSyntaxError(
                self.token.s, text=self.text, position=self.token.start
            )

    def syntax_error(self, message: str | None = None) -> NoReturn:
        """Raise "Syntax error at `TOKEN' MESSAGE." for the current token."""
        self._lexical_error()
        tok = self.token
        where = (
            " at end of input"
            if tok.type is TokenType.END
            else f" at `{self.text[tok.start:tok.end]}'"
        )
        tail = f" {message}" if message is not None else ""
        raise LflowSyntaxError(
            f"Syntax error{where}{tail}.", text=self.text, position=tok.start
        )

    def error(
        self, message: str, cls: type[LflowError] = LflowSemanticError
    ) -> NoReturn:
        """Raise ``cls(message)`` at the current token (OVN's ``lexer_error``)."""
        self._lexical_error()
        raise cls(message, text=self.text, position=self.token.start)
