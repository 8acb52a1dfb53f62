from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="PasswordPolicyChange")



@_attrs_define
class PasswordPolicyChange:
    """ A tenant's password rules as set: every key left out takes its default (not its
    current value).

        Attributes:
            min_length (int | None | Unset): Minimum number of characters: 8-128 (12).
            require_upper (bool | None | Unset): Require an upper case letter (false).
            require_lower (bool | None | Unset): Require a lower case letter (false).
            require_digit (bool | None | Unset): Require a digit (false).
            require_symbol (bool | None | Unset): Require a character that is neither a letter nor a digit, a space included
                (false).
            min_strength (int | None | Unset): Minimum strength score of the zxcvbn estimate: 0-4 (3); 0 turns the estimate
                off.
            history (int | None | Unset): How many previous passwords may not be reused: 0-24 (5).
     """

    min_length: int | None | Unset = UNSET
    require_upper: bool | None | Unset = UNSET
    require_lower: bool | None | Unset = UNSET
    require_digit: bool | None | Unset = UNSET
    require_symbol: bool | None | Unset = UNSET
    min_strength: int | None | Unset = UNSET
    history: int | None | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        min_length: int | None | Unset
        if isinstance(self.min_length, Unset):
            min_length = UNSET
        else:
            min_length = self.min_length

        require_upper: bool | None | Unset
        if isinstance(self.require_upper, Unset):
            require_upper = UNSET
        else:
            require_upper = self.require_upper

        require_lower: bool | None | Unset
        if isinstance(self.require_lower, Unset):
            require_lower = UNSET
        else:
            require_lower = self.require_lower

        require_digit: bool | None | Unset
        if isinstance(self.require_digit, Unset):
            require_digit = UNSET
        else:
            require_digit = self.require_digit

        require_symbol: bool | None | Unset
        if isinstance(self.require_symbol, Unset):
            require_symbol = UNSET
        else:
            require_symbol = self.require_symbol

        min_strength: int | None | Unset
        if isinstance(self.min_strength, Unset):
            min_strength = UNSET
        else:
            min_strength = self.min_strength

        history: int | None | Unset
        if isinstance(self.history, Unset):
            history = UNSET
        else:
            history = self.history


        field_dict: dict[str, Any] = {}

        field_dict.update({
        })
        if min_length is not UNSET:
            field_dict["min_length"] = min_length
        if require_upper is not UNSET:
            field_dict["require_upper"] = require_upper
        if require_lower is not UNSET:
            field_dict["require_lower"] = require_lower
        if require_digit is not UNSET:
            field_dict["require_digit"] = require_digit
        if require_symbol is not UNSET:
            field_dict["require_symbol"] = require_symbol
        if min_strength is not UNSET:
            field_dict["min_strength"] = min_strength
        if history is not UNSET:
            field_dict["history"] = history

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        def _parse_min_length(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        min_length = _parse_min_length(d.pop("min_length", UNSET))


        def _parse_require_upper(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        require_upper = _parse_require_upper(d.pop("require_upper", UNSET))


        def _parse_require_lower(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        require_lower = _parse_require_lower(d.pop("require_lower", UNSET))


        def _parse_require_digit(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        require_digit = _parse_require_digit(d.pop("require_digit", UNSET))


        def _parse_require_symbol(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        require_symbol = _parse_require_symbol(d.pop("require_symbol", UNSET))


        def _parse_min_strength(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        min_strength = _parse_min_strength(d.pop("min_strength", UNSET))


        def _parse_history(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        history = _parse_history(d.pop("history", UNSET))


        password_policy_change = cls(
            min_length=min_length,
            require_upper=require_upper,
            require_lower=require_lower,
            require_digit=require_digit,
            require_symbol=require_symbol,
            min_strength=min_strength,
            history=history,
        )

        return password_policy_change

