"""An account's custom menu, checked against WeChat's menu rules before menu/create sees it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from chalicelib.handlers.admin.schemas.common import In, Out
from chalicelib.handlers.admin.schemas.fields import Text
from chalicelib.wechat.menu import MENU_KEYS  # the click keys the callback answers

MenuUrl = Annotated[str, StringConstraints(max_length=1024, pattern=r"^https?://[^\s<>\"']+$")]


def _menu_name(max_bytes: int) -> Any:
    """A button name: plain text within WeChat's byte limit (UTF-8, as menu/create counts it)."""

    def check(value: str) -> str:
        if len(value.encode("utf-8")) > max_bytes:
            raise ValueError(f"at most {max_bytes} bytes (UTF-8; a Chinese character takes 3)")
        return value

    return Annotated[Text(60), AfterValidator(check), Field(description=f"at most {max_bytes} bytes in UTF-8")]


class _MenuLeaf(In):
    type: Literal["click", "view"] | None = Field(None, description="click (with key) or view (with url)")
    key: Literal[MENU_KEYS] | None = Field(None, description="click: what the account answers")
    url: MenuUrl | None = Field(None, description="view: the page opened")

    @model_validator(mode="after")
    def _leaf(self) -> _MenuLeaf:
        if self.type == "click" and (self.key is None or self.url is not None):
            raise ValueError("a click button has a key and no url")
        if self.type == "view" and (self.url is None or self.key is not None):
            raise ValueError("a view button has a url and no key")
        return self


class MenuSubButton(_MenuLeaf):
    name: _menu_name(60)
    type: Literal["click", "view"]


class MenuButton(_MenuLeaf):
    name: _menu_name(16)
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
