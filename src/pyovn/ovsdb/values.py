"""Conversion of column values between OVSDB JSON (RFC 7047 section 5.1) and Python.

Python forms, decided by the column's :class:`~pyovn.ovsdb.schema.Form`: scalar → atom,
optional → atom or None, set → sorted tuple of atoms, map → dict. Atoms are str, int,
float and bool; a UUID (row reference) is its string.

Decoders run once per column per row on the load path, so each is a small closure
chosen once per column type rather than a generic walk over the type. Row references
and map keys repeat across rows (every Port_Binding of a switch names its datapath,
every Logical_Flow has the same ``external_ids`` keys), and the JSON decoder makes a
new string for each occurrence: they are interned, so each is held once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from sys import intern
from typing import Any

from pyovn.ovsdb.errors import OvsdbValueError
from pyovn.ovsdb.schema import ColumnType, Form

__all__ = [
    "NamedUuid",
    "atom_to_json",
    "decoder",
    "default_value",
    "diff_applier",
    "encode",
    "is_uuid",
]

Decoder = Callable[[Any], Any]
DiffApplier = Callable[[Any, Any], Any]

ZERO_UUID = "00000000-0000-0000-0000-000000000000"
_UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                      r"[0-9a-fA-F]{12}\Z")
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def is_uuid(text: object) -> bool:
    """Whether ``text`` is a UUID string (the form row references take)."""
    return isinstance(text, str) and _UUID_RE.match(text) is not None


class NamedUuid(str):
    """A reference to a row inserted by the same transaction under this ``uuid_name``.

    A plain str that is not a UUID is taken as a named UUID too; this class makes it
    explicit.
    """

    __slots__ = ()


# --- JSON → Python -------------------------------------------------------------------

def _uuid_atom(j: Any) -> str:
    return intern(j[1])


def identity(j: Any) -> Any:
    """The decoder of atoms whose JSON is already their Python form."""
    return j


def _atom_decoder(atomic: str) -> Decoder:
    if atomic == "uuid":
        return _uuid_atom
    if atomic == "real":
        return float
    return identity


def decoder(ctype: ColumnType) -> Decoder:
    """The function turning a column's JSON value into its Python form."""
    key = _atom_decoder(ctype.key)
    form = ctype.form
    if form is Form.SCALAR:
        return key
    if form is Form.MAP:
        val = _atom_decoder(ctype.value or "string")
        if key is identity and val is identity:
            if ctype.key == "string":
                def dec_map_str(j: Any) -> Any:
                    return {intern(k): v for k, v in j[1]}
                return dec_map_str

            def dec_map_plain(j: Any) -> Any:
                return dict(j[1])
            return dec_map_plain

        def dec_map(j: Any) -> Any:
            return {key(k): val(v) for k, v in j[1]}
        return dec_map
    if form is Form.OPTIONAL:
        if ctype.key == "uuid":
            def dec_opt_uuid(j: Any) -> Any:
                if j[0] == "uuid":
                    return intern(j[1])
                return intern(j[1][0][1]) if j[1] else None
            return dec_opt_uuid

        def dec_opt(j: Any) -> Any:
            if j.__class__ is list:
                return key(j[1][0]) if j[1] else None
            return key(j)
        return dec_opt
    if ctype.key == "uuid":
        def dec_set_uuid(j: Any) -> Any:
            if j[0] == "uuid":
                return (intern(j[1]),)
            return tuple(sorted([intern(a[1]) for a in j[1]]))
        return dec_set_uuid

    def dec_set(j: Any) -> Any:
        if j.__class__ is list:
            return tuple(sorted([key(a) for a in j[1]]))
        return (key(j),)
    return dec_set


def default_value(ctype: ColumnType) -> Any:
    """The Python value of a column that the server omitted (its type's default).

    Maps get a fresh dict each call so rows never share a mutable default.
    """
    form = ctype.form
    if form is Form.MAP:
        return {}
    if form is Form.SET:
        return ()
    if form is Form.OPTIONAL:
        return None
    return {"integer": 0, "real": 0.0, "boolean": False, "string": "",
            "uuid": ZERO_UUID}[ctype.key]


def diff_applier(ctype: ColumnType) -> DiffApplier:
    """The function applying an update2 ``modify`` difference to an old Python value.

    Scalars carry the new value; sets (optional columns included) carry the elements that
    changed membership; maps carry removed pairs, added pairs and new values of changed
    keys (ovsdb-server(7) section 4.1.14).
    """
    dec = decoder(ctype)
    form = ctype.form
    if form is Form.SCALAR:
        def apply_scalar(_old: Any, diff: Any) -> Any:
            return dec(diff)
        return apply_scalar
    if form is Form.MAP:
        def apply_map(old: Any, diff: Any) -> Any:
            new = dict(old)
            for k, v in dec(diff).items():
                if k in new and new[k] == v:
                    del new[k]
                else:
                    new[k] = v
            return new
        return apply_map
    set_dec = decoder(ColumnType(ctype.key, None, 0, 2))
    if form is Form.OPTIONAL:
        def apply_optional(old: Any, diff: Any) -> Any:
            # ovsdb-server sends an optional column's (max 1) diff as its new value, not
            # as a set difference (ovsdb-server(7), update2 "modify"; seen on the wire).
            elems = set_dec(diff)
            return elems[0] if elems else None
        return apply_optional

    def apply_set(old: Any, diff: Any) -> Any:
        return tuple(sorted(set(old) ^ set(set_dec(diff))))
    return apply_set


# --- Python → JSON -------------------------------------------------------------------

def atom_to_json(atomic: str, value: Any) -> Any:
    """Encode one atom of type ``atomic``; OvsdbValueError when it does not fit."""
    if atomic == "string":
        if isinstance(value, str):
            return value
    elif atomic == "integer":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif atomic == "real":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif atomic == "boolean":
        if isinstance(value, bool):
            return value
    elif atomic == "uuid" and isinstance(value, str):
        if isinstance(value, NamedUuid) or not is_uuid(value):
            if not _NAME_RE.match(value):
                raise OvsdbValueError(f"{value!r} is neither a UUID nor a uuid-name")
            return ["named-uuid", str(value)]
        return ["uuid", value]
    raise OvsdbValueError(f"{value!r} is not a valid {atomic}")


def _elements(value: Any) -> Iterable[Any]:
    # A bare atom stands for a one-element set, as in OVSDB's own JSON.
    if isinstance(value, str | int | float | bool):
        return (value,)
    if isinstance(value, Mapping):
        raise OvsdbValueError(f"{value!r} is a map where a set is expected")
    return value  # type: ignore[no-any-return]


def encode_set(atomic: str, value: Any) -> Any:
    """Encode an iterable (or a bare atom) as an OVSDB set of ``atomic``."""
    return ["set", [atom_to_json(atomic, a) for a in _elements(value)]]


def encode_map(ctype: ColumnType, value: Any) -> Any:
    """Encode a mapping as an OVSDB map of the column's key and value types."""
    if not isinstance(value, Mapping):
        raise OvsdbValueError(f"{value!r} is not a mapping")
    vtype = ctype.value or "string"
    return ["map", [[atom_to_json(ctype.key, k), atom_to_json(vtype, v)]
                    for k, v in value.items()]]


def encode(ctype: ColumnType, value: Any) -> Any:
    """Encode a whole column value from its Python form (see the module docstring)."""
    form = ctype.form
    if form is Form.SCALAR:
        return atom_to_json(ctype.key, value)
    if form is Form.OPTIONAL:
        if value is None:
            return ["set", []]
        if isinstance(value, tuple | list | set | frozenset):
            return encode_set(ctype.key, value)
        return atom_to_json(ctype.key, value)
    if form is Form.SET:
        return encode_set(ctype.key, value)
    return encode_map(ctype, value)
