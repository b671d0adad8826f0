"""OVN's logical flow language: lexer, symbol table, match and action parsers.

Compatible with OVN 23.03 (``lib/lex.c``, ``lib/expr.c``, ``lib/actions.c``,
``lib/logical-fields.c``): the same tokens, the same symbols, the same
parse trees after annotation, the same canonical text and the same error
messages.  Typical use, as in pyovn-controller::

    text, templates = expand_templates(lflow.match, chassis_template_vars)
    match = parse_expr(text, address_sets=as_by_name, port_groups=pg_by_name,
                       dp_key=datapath.tunnel_key)
    acts = parse_actions(expand_templates(lflow.actions, chassis_template_vars)[0],
                         params=ActionParams(Pipeline.INGRESS, lflow.table_id))
    full = annotate(combine(And, match.expr, acts.prereqs))

``match.address_sets_ref``, ``match.port_groups_ref`` and ``templates`` are
what the flow depends on besides its own row.

All bad input raises :class:`LflowError` (see :mod:`pyovn.lflow.errors`).
Conversion to OpenFlow belongs to sibling modules that consume these trees.
"""

from pyovn.lflow import actions_ext, actions_lookup
from pyovn.lflow.action_parser import (
    LOG_PIPELINE_LEN,
    ActionParams,
    GenOptionDef,
    ParsedActions,
    parse_actions,
)
from pyovn.lflow.actions import Action, Nested, Pipeline, format_actions
from pyovn.lflow.annotate import annotate
from pyovn.lflow.errors import LflowError, LflowSemanticError, LflowSyntaxError
from pyovn.lflow.expr import (
    And,
    Boolean,
    ChassisResident,
    Cmp,
    ConstantSet,
    Expr,
    FieldRef,
    IntConstant,
    Or,
    Relop,
    combine,
    negate,
)
from pyovn.lflow.format import format_expr, format_field, format_token
from pyovn.lflow.lexer import Lexer, LexFormat, Token, TokenType, expand_templates, tokenize
from pyovn.lflow.parser import ParsedExpr, parse_expr, sb_port_group_name
from pyovn.lflow.symtab import (
    Level,
    Symbol,
    SymbolTable,
    WriteScope,
    format_symbol,
    ovn_symtab,
)

__all__ = [
    "LOG_PIPELINE_LEN",
    "Action",
    "ActionParams",
    "And",
    "Boolean",
    "ChassisResident",
    "Cmp",
    "ConstantSet",
    "Expr",
    "FieldRef",
    "GenOptionDef",
    "IntConstant",
    "Level",
    "LexFormat",
    "Lexer",
    "LflowError",
    "LflowSemanticError",
    "LflowSyntaxError",
    "Nested",
    "Or",
    "ParsedActions",
    "ParsedExpr",
    "Pipeline",
    "Relop",
    "Symbol",
    "SymbolTable",
    "Token",
    "TokenType",
    "WriteScope",
    "actions_ext",
    "actions_lookup",
    "annotate",
    "combine",
    "expand_templates",
    "format_actions",
    "format_expr",
    "format_field",
    "format_symbol",
    "format_token",
    "negate",
    "ovn_symtab",
    "parse_actions",
    "parse_expr",
    "sb_port_group_name",
    "tokenize",
]
