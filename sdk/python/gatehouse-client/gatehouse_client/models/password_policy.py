from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset







T = TypeVar("T", bound="PasswordPolicy")



@_attrs_define
class PasswordPolicy:
    """ A tenant's password rules. Passwords in a list of common passwords are always refused.

        Attributes:
            min_length (int): Minimum number of characters (8-128).
            require_upper (bool): An upper case letter is required.
            require_lower (bool): A lower case letter is required.
            require_digit (bool): A digit is required.
            require_symbol (bool): A character that is neither a letter nor a digit is required (a space counts).
            min_strength (int): Minimum strength score of the zxcvbn estimate (0-4); 0 turns the estimate off.
            history (int): How many previous passwords may not be reused (0-24).
     """

    min_length: int
    require_upper: bool
    require_lower: bool
    require_digit: bool
    require_symbol: bool
    min_strength: int
    history: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        min_length = self.min_length

        require_upper = self.require_upper

        require_lower = self.require_lower

        require_digit = self.require_digit

        require_symbol = self.require_symbol

        min_strength = self.min_strength

        history = self.history


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "min_length": min_length,
            "require_upper": require_upper,
            "require_lower": require_lower,
            "require_digit": require_digit,
            "require_symbol": require_symbol,
            "min_strength": min_strength,
            "history": history,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        min_length = d.pop("min_length")

        require_upper = d.pop("require_upper")

        require_lower = d.pop("require_lower")

        require_digit = d.pop("require_digit")

        require_symbol = d.pop("require_symbol")

        min_strength = d.pop("min_strength")

        history = d.pop("history")

        password_policy = cls(
            min_length=min_length,
            require_upper=require_upper,
            require_lower=require_lower,
            require_digit=require_digit,
            require_symbol=require_symbol,
            min_strength=min_strength,
            history=history,
        )


        password_policy.additional_properties = d
        return password_policy

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
