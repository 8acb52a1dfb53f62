from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.code_challenge_method import CodeChallengeMethod
from ..models.prompt import Prompt
from ..models.response_type import ResponseType
from ..types import UNSET, Unset






T = TypeVar("T", bound="AuthorizeRequest")



@_attrs_define
class AuthorizeRequest:
    """ An authorization request (RFC 6749 §4.1.1, RFC 7636, OpenID Connect Core §3.1.2.1): in
    the query of a GET or the form body of a POST. A parameter given twice is refused.
    `request` and `request_uri` are refused (`request_not_supported`).

        Attributes:
            client_id (str): The application's client id.
            redirect_uri (str): One of the application's registered redirect URIs, exactly.
            response_type (ResponseType):
            code_challenge (str): PKCE: the base64url SHA-256 of the code verifier (43 characters).
            code_challenge_method (CodeChallengeMethod):
            scope (str | Unset): Space-separated scopes, each allowed for the application; `openid` when absent.
            state (str | Unset): Returned unchanged with the code or the error.
            nonce (str | Unset): Copied into the ID token.
            prompt (Prompt | Unset):
            max_age (int | Unset): The longest time in seconds since the person signed in; an older sign-in is asked
                again.
            organization (str | Unset): The domain of the organization (tenant) to sign in to; a person signed in to
                another one is asked to sign in again.
            login_hint (str | Unset): The email address to offer on the sign-in page (also routes to the
                organization's identity provider).
     """

    client_id: str
    redirect_uri: str
    response_type: ResponseType
    code_challenge: str
    code_challenge_method: CodeChallengeMethod
    scope: str | Unset = UNSET
    state: str | Unset = UNSET
    nonce: str | Unset = UNSET
    prompt: Prompt | Unset = UNSET
    max_age: int | Unset = UNSET
    organization: str | Unset = UNSET
    login_hint: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        client_id = self.client_id

        redirect_uri = self.redirect_uri

        response_type = self.response_type.value

        code_challenge = self.code_challenge

        code_challenge_method = self.code_challenge_method.value

        scope = self.scope

        state = self.state

        nonce = self.nonce

        prompt: str | Unset = UNSET
        if not isinstance(self.prompt, Unset):
            prompt = self.prompt.value


        max_age = self.max_age

        organization = self.organization

        login_hint = self.login_hint


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "response_type": response_type,
            "code_challenge": code_challenge,
            "code_challenge_method": code_challenge_method,
        })
        if scope is not UNSET:
            field_dict["scope"] = scope
        if state is not UNSET:
            field_dict["state"] = state
        if nonce is not UNSET:
            field_dict["nonce"] = nonce
        if prompt is not UNSET:
            field_dict["prompt"] = prompt
        if max_age is not UNSET:
            field_dict["max_age"] = max_age
        if organization is not UNSET:
            field_dict["organization"] = organization
        if login_hint is not UNSET:
            field_dict["login_hint"] = login_hint

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        client_id = d.pop("client_id")

        redirect_uri = d.pop("redirect_uri")

        response_type = ResponseType(d.pop("response_type"))




        code_challenge = d.pop("code_challenge")

        code_challenge_method = CodeChallengeMethod(d.pop("code_challenge_method"))




        scope = d.pop("scope", UNSET)

        state = d.pop("state", UNSET)

        nonce = d.pop("nonce", UNSET)

        _prompt = d.pop("prompt", UNSET)
        prompt: Prompt | Unset
        if isinstance(_prompt,  Unset):
            prompt = UNSET
        else:
            prompt = Prompt(_prompt)




        max_age = d.pop("max_age", UNSET)

        organization = d.pop("organization", UNSET)

        login_hint = d.pop("login_hint", UNSET)

        authorize_request = cls(
            client_id=client_id,
            redirect_uri=redirect_uri,
            response_type=response_type,
            code_challenge=code_challenge,
            code_challenge_method=code_challenge_method,
            scope=scope,
            state=state,
            nonce=nonce,
            prompt=prompt,
            max_age=max_age,
            organization=organization,
            login_hint=login_hint,
        )


        authorize_request.additional_properties = d
        return authorize_request

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
