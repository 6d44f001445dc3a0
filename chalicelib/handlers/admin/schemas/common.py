"""The base models every admin resource builds on: strict requests, forgiving responses, pages, errors.

Requests are validated strictly (JSON types as declared, unknown fields
refused); responses pass through their models too, so a field that is not
declared (a secret, a hash) can never reach a client.  Two rules live here
once instead of in every resource: a list answer is ``Page[ItemOut]``, and a
PATCH body is derived from its create body by ``update_of`` (every field
optional; a field the stored item requires may be left out but not set to
null, and the document marks it non-nullable).
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, Literal, TypeVar, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model, model_validator
from pydantic.fields import FieldInfo

from chalicelib.handlers.admin.schemas.fields import Limit


class In(BaseModel):
    """Request bodies: strict JSON types, unknown fields refused."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)


class Query(BaseModel):
    """Query strings: values arrive as text, so types are coerced; unknown parameters refused."""

    model_config = ConfigDict(extra="forbid", populate_by_name=False)


def _neutral(annotation: Any) -> Any:
    """A harmless stand-in for a required value a stored item lacks (``_MISSING`` when there is none)."""
    origin, args = get_origin(annotation), get_args(annotation)
    if annotation is str:
        return ""
    if annotation is bool:
        return False
    if annotation is int:
        return 0
    if origin is list or annotation is list:
        return []
    if origin is dict or annotation is dict:
        return {}
    if origin is Literal and args:
        return args[0]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return {}
    return _MISSING


_MISSING = object()


class Out(BaseModel):
    """Responses.  A stored item that lacks a required attribute (written by an old version or by hand)
    is shaped with neutral values instead of failing the whole read or list."""

    model_config = ConfigDict(extra="ignore", from_attributes=True)

    @model_validator(mode="before")
    @classmethod
    def _fill_missing(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        filled = None
        for name, info in cls.model_fields.items():
            key = info.alias or name
            if data.get(key) is not None or type(None) in get_args(info.annotation) or not info.is_required():
                continue
            value = _neutral(info.annotation)
            if value is not _MISSING:
                filled = filled if filled is not None else dict(data)
                filled[key] = value
        return filled if filled is not None else data


class PageQuery(Query):
    cursor: Annotated[str, StringConstraints(max_length=2048)] | None = None
    limit: Limit = 50


Item = TypeVar("Item", bound=BaseModel)


class Page(Out, Generic[Item]):
    """One page of a cursor-paged list; ``next_cursor`` is null on the last page.

    A resource names its page by subclassing (``class UnitList(Page[UnitOut])``): the class name is the
    document's component name, which the console's generated types use.
    """

    items: list[Item]
    next_cursor: str | None


class ErrorDetail(Out):
    code: str
    message: str
    field: str | None = None


class ErrorOut(Out):
    error: ErrorDetail


def not_null(description: str | None = None) -> Any:
    """A PATCH field that may be left out but not set to null: the stored attribute is required.
    (No ``default`` in the document: leaving it out keeps the stored value.)"""
    return Field(default=None, description=description, json_schema_extra=_drop_default)


def _drop_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def _patch_field(info: FieldInfo, nullable: bool) -> tuple[Any, Any]:
    """One create field as a PATCH field: optional, and null only where the stored value may be absent."""
    annotation: Any = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
    if type(None) in get_args(info.annotation):
        return annotation, Field(default=None, description=info.description)
    if nullable:
        return annotation | None, Field(default=None, description=info.description)
    return annotation, not_null(info.description)


def update_of(
    create: type[BaseModel],
    name: str,
    *,
    base: type[BaseModel] = In,
    omit: tuple[str, ...] = (),
    nullable: tuple[str, ...] = (),
    **changed: Any,
) -> type[BaseModel]:
    """The PATCH body of a resource, derived from its create body so the two cannot drift.

    ``omit`` names the fields a PATCH cannot change (the id in the path, the owner), ``nullable``
    those a create requires but an update may clear with null, ``changed`` adds or replaces fields
    as ``name=(annotation, Field(...))``.  ``base`` carries the validators the create's fields need.
    """
    fields: dict[str, Any] = {  # Any: create_model takes the fields as keywords beside its own options
        field: changed.pop(field) if field in changed else _patch_field(info, field in nullable)
        for field, info in create.model_fields.items()
        if field not in omit
    }
    return create_model(name, __base__=base, __module__=create.__module__, **fields, **changed)
