"""An account's custom menu, checked against WeChat's menu rules before menu/create sees it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from annotated_types import GroupedMetadata
from pydantic import AfterValidator, Field, StringConstraints, model_validator

from chalicelib.handlers.admin.schemas.common import In, Out
from chalicelib.handlers.admin.schemas.fields import PlainText
from chalicelib.wechat.menu import ClickKey  # the keys the callback answers

MenuUrl = Annotated[str, StringConstraints(max_length=1024, pattern=r"^https?://[^\s<>\"']+$")]


@dataclass(frozen=True)
class Utf8Bytes(GroupedMetadata):
    """At most ``max_bytes`` bytes in UTF-8: WeChat's menu/create counts a button name in bytes, not characters.

    A metadata class rather than a function returning ``Annotated[...]``, which mypy cannot check as a type.
    """

    max_bytes: int

    def __iter__(self) -> Iterator[object]:
        yield AfterValidator(self._check)

    def _check(self, value: str) -> str:
        if len(value.encode("utf-8")) > self.max_bytes:
            raise ValueError(f"at most {self.max_bytes} bytes (UTF-8; a Chinese character takes 3)")
        return value


ButtonName = Annotated[str, PlainText(60), Utf8Bytes(16), Field(description="at most 16 bytes in UTF-8")]
SubButtonName = Annotated[str, PlainText(60), Utf8Bytes(60), Field(description="at most 60 bytes in UTF-8")]


class _MenuLeaf(In):
    type: Literal["click", "view"] | None = Field(None, description="click (with key) or view (with url)")
    key: ClickKey | None = Field(None, description="click: what the account answers")
    url: MenuUrl | None = Field(None, description="view: the page opened")

    @model_validator(mode="after")
    def _leaf(self) -> _MenuLeaf:
        if self.type == "click" and (self.key is None or self.url is not None):
            raise ValueError("a click button has a key and no url")
        if self.type == "view" and (self.url is None or self.key is not None):
            raise ValueError("a view button has a url and no key")
        return self


class MenuSubButton(_MenuLeaf):
    name: SubButtonName
    type: Literal["click", "view"]


class MenuButton(_MenuLeaf):
    name: ButtonName
    sub_button: list[MenuSubButton] | None = Field(None, min_length=1, max_length=5)

    @model_validator(mode="after")
    def _parent_or_leaf(self) -> MenuButton:
        if self.sub_button is not None and (self.type or self.key or self.url):
            raise ValueError("a button with sub_button has no type, key or url")
        if self.sub_button is None and self.type is None:
            raise ValueError("a button needs a type (click or view) or sub_button")
        return self


class MenuIn(In):
    button: list[MenuButton] | None = Field(
        None,
        min_length=1,
        max_length=3,
        description="the custom menu (at most 3 buttons of at most 5 sub-buttons); omitted: the product's default menu",
    )


class MenuCurrent(Out):
    menu: dict[str, Any] = Field(description="the menu last published (the product's default before any)")
    default: bool = Field(description="true when no custom menu has been published through this API")
    published_at: datetime | None
