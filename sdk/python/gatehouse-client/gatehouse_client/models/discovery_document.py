from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast






T = TypeVar("T", bound="DiscoveryDocument")



@_attrs_define
class DiscoveryDocument:
    """ The authorization server's metadata (OpenID Connect Discovery 1.0 §3, RFC 8414 §2).

        Attributes:
            issuer (str): The issuer: the server's public URL, the `iss` of every token it signs.
            authorization_endpoint (str): `{issuer}/authorize`.
            token_endpoint (str): `{issuer}/auth/token`.
            userinfo_endpoint (str): `{issuer}/userinfo`.
            jwks_uri (str): `{issuer}/.well-known/jwks.json`.
            revocation_endpoint (str): `{issuer}/auth/revoke` (RFC 7009).
            introspection_endpoint (str): `{issuer}/auth/introspect` (RFC 7662).
            end_session_endpoint (str): `{issuer}/auth/logout` (OpenID Connect RP-Initiated Logout 1.0).
            scopes_supported (list[str]): Every scope an application may be granted.
            response_types_supported (list[str]): `["code"]`.
            response_modes_supported (list[str]): `["query"]`.
            grant_types_supported (list[str]): `["authorization_code", "client_credentials", "refresh_token"]`.
            subject_types_supported (list[str]): `["public"]`.
            id_token_signing_alg_values_supported (list[str]): `["RS256"]`.
            token_endpoint_auth_methods_supported (list[str]): `["client_secret_basic", "client_secret_post"]`.
            revocation_endpoint_auth_methods_supported (list[str]): `["client_secret_basic", "client_secret_post"]`.
            introspection_endpoint_auth_methods_supported (list[str]): `["client_secret_basic", "client_secret_post"]`.
            code_challenge_methods_supported (list[str]): `["S256"]`: PKCE is required, `plain` is refused.
            claims_supported (list[str]): The claims ID tokens and `/userinfo` may carry.
            prompt_values_supported (list[str]): `["none", "login", "consent", "select_account"]`.
            authorization_response_iss_parameter_supported (bool): `true`: authorization responses carry `iss` (RFC 9207).
            request_parameter_supported (bool): `false`: request objects are refused.
            request_uri_parameter_supported (bool): `false`.
            claims_parameter_supported (bool): `false`.
     """

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_uri: str
    revocation_endpoint: str
    introspection_endpoint: str
    end_session_endpoint: str
    scopes_supported: list[str]
    response_types_supported: list[str]
    response_modes_supported: list[str]
    grant_types_supported: list[str]
    subject_types_supported: list[str]
    id_token_signing_alg_values_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    revocation_endpoint_auth_methods_supported: list[str]
    introspection_endpoint_auth_methods_supported: list[str]
    code_challenge_methods_supported: list[str]
    claims_supported: list[str]
    prompt_values_supported: list[str]
    authorization_response_iss_parameter_supported: bool
    request_parameter_supported: bool
    request_uri_parameter_supported: bool
    claims_parameter_supported: bool
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        issuer = self.issuer

        authorization_endpoint = self.authorization_endpoint

        token_endpoint = self.token_endpoint

        userinfo_endpoint = self.userinfo_endpoint

        jwks_uri = self.jwks_uri

        revocation_endpoint = self.revocation_endpoint

        introspection_endpoint = self.introspection_endpoint

        end_session_endpoint = self.end_session_endpoint

        scopes_supported = self.scopes_supported



        response_types_supported = self.response_types_supported



        response_modes_supported = self.response_modes_supported



        grant_types_supported = self.grant_types_supported



        subject_types_supported = self.subject_types_supported



        id_token_signing_alg_values_supported = self.id_token_signing_alg_values_supported



        token_endpoint_auth_methods_supported = self.token_endpoint_auth_methods_supported



        revocation_endpoint_auth_methods_supported = self.revocation_endpoint_auth_methods_supported



        introspection_endpoint_auth_methods_supported = self.introspection_endpoint_auth_methods_supported



        code_challenge_methods_supported = self.code_challenge_methods_supported



        claims_supported = self.claims_supported



        prompt_values_supported = self.prompt_values_supported



        authorization_response_iss_parameter_supported = self.authorization_response_iss_parameter_supported

        request_parameter_supported = self.request_parameter_supported

        request_uri_parameter_supported = self.request_uri_parameter_supported

        claims_parameter_supported = self.claims_parameter_supported


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "issuer": issuer,
            "authorization_endpoint": authorization_endpoint,
            "token_endpoint": token_endpoint,
            "userinfo_endpoint": userinfo_endpoint,
            "jwks_uri": jwks_uri,
            "revocation_endpoint": revocation_endpoint,
            "introspection_endpoint": introspection_endpoint,
            "end_session_endpoint": end_session_endpoint,
            "scopes_supported": scopes_supported,
            "response_types_supported": response_types_supported,
            "response_modes_supported": response_modes_supported,
            "grant_types_supported": grant_types_supported,
            "subject_types_supported": subject_types_supported,
            "id_token_signing_alg_values_supported": id_token_signing_alg_values_supported,
            "token_endpoint_auth_methods_supported": token_endpoint_auth_methods_supported,
            "revocation_endpoint_auth_methods_supported": revocation_endpoint_auth_methods_supported,
            "introspection_endpoint_auth_methods_supported": introspection_endpoint_auth_methods_supported,
            "code_challenge_methods_supported": code_challenge_methods_supported,
            "claims_supported": claims_supported,
            "prompt_values_supported": prompt_values_supported,
            "authorization_response_iss_parameter_supported": authorization_response_iss_parameter_supported,
            "request_parameter_supported": request_parameter_supported,
            "request_uri_parameter_supported": request_uri_parameter_supported,
            "claims_parameter_supported": claims_parameter_supported,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        issuer = d.pop("issuer")

        authorization_endpoint = d.pop("authorization_endpoint")

        token_endpoint = d.pop("token_endpoint")

        userinfo_endpoint = d.pop("userinfo_endpoint")

        jwks_uri = d.pop("jwks_uri")

        revocation_endpoint = d.pop("revocation_endpoint")

        introspection_endpoint = d.pop("introspection_endpoint")

        end_session_endpoint = d.pop("end_session_endpoint")

        scopes_supported = cast(list[str], d.pop("scopes_supported"))


        response_types_supported = cast(list[str], d.pop("response_types_supported"))


        response_modes_supported = cast(list[str], d.pop("response_modes_supported"))


        grant_types_supported = cast(list[str], d.pop("grant_types_supported"))


        subject_types_supported = cast(list[str], d.pop("subject_types_supported"))


        id_token_signing_alg_values_supported = cast(list[str], d.pop("id_token_signing_alg_values_supported"))


        token_endpoint_auth_methods_supported = cast(list[str], d.pop("token_endpoint_auth_methods_supported"))


        revocation_endpoint_auth_methods_supported = cast(list[str], d.pop("revocation_endpoint_auth_methods_supported"))


        introspection_endpoint_auth_methods_supported = cast(list[str], d.pop("introspection_endpoint_auth_methods_supported"))


        code_challenge_methods_supported = cast(list[str], d.pop("code_challenge_methods_supported"))


        claims_supported = cast(list[str], d.pop("claims_supported"))


        prompt_values_supported = cast(list[str], d.pop("prompt_values_supported"))


        authorization_response_iss_parameter_supported = d.pop("authorization_response_iss_parameter_supported")

        request_parameter_supported = d.pop("request_parameter_supported")

        request_uri_parameter_supported = d.pop("request_uri_parameter_supported")

        claims_parameter_supported = d.pop("claims_parameter_supported")

        discovery_document = cls(
            issuer=issuer,
            authorization_endpoint=authorization_endpoint,
            token_endpoint=token_endpoint,
            userinfo_endpoint=userinfo_endpoint,
            jwks_uri=jwks_uri,
            revocation_endpoint=revocation_endpoint,
            introspection_endpoint=introspection_endpoint,
            end_session_endpoint=end_session_endpoint,
            scopes_supported=scopes_supported,
            response_types_supported=response_types_supported,
            response_modes_supported=response_modes_supported,
            grant_types_supported=grant_types_supported,
            subject_types_supported=subject_types_supported,
            id_token_signing_alg_values_supported=id_token_signing_alg_values_supported,
            token_endpoint_auth_methods_supported=token_endpoint_auth_methods_supported,
            revocation_endpoint_auth_methods_supported=revocation_endpoint_auth_methods_supported,
            introspection_endpoint_auth_methods_supported=introspection_endpoint_auth_methods_supported,
            code_challenge_methods_supported=code_challenge_methods_supported,
            claims_supported=claims_supported,
            prompt_values_supported=prompt_values_supported,
            authorization_response_iss_parameter_supported=authorization_response_iss_parameter_supported,
            request_parameter_supported=request_parameter_supported,
            request_uri_parameter_supported=request_uri_parameter_supported,
            claims_parameter_supported=claims_parameter_supported,
        )


        discovery_document.additional_properties = d
        return discovery_document

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
