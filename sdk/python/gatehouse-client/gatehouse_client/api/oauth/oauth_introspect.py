from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.introspect_form import IntrospectForm
from ...models.introspection import Introspection
from ...models.o_auth_error import OAuthError
from typing import cast



def _get_kwargs(
    *,
    body: IntrospectForm,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}


    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/auth/introspect",
    }

    _kwargs["data"] = body.to_dict()
    headers["Content-Type"] = "application/x-www-form-urlencoded"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Introspection | OAuthError | str | None:
    if response.status_code == 200:
        response_200 = Introspection.from_dict(response.json())



        return response_200

    if response.status_code == 400:
        response_400 = OAuthError.from_dict(response.json())



        return response_400

    if response.status_code == 401:
        response_401 = OAuthError.from_dict(response.json())



        return response_401

    if response.status_code == 413:
        response_413 = response.text
        return response_413

    if response.status_code == 415:
        response_415 = response.text
        return response_415

    if response.status_code == 500:
        response_500 = OAuthError.from_dict(response.json())



        return response_500

    if response.status_code == 503:
        response_503 = OAuthError.from_dict(response.json())



        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Introspection | OAuthError | str]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: IntrospectForm,

) -> Response[Introspection | OAuthError | str]:
    """ Token introspection.

     Says whether an access token or refresh token is live, and what it carries (RFC 7662).
    A token that is unknown, expired, revoked, or none of the calling client's business
    answers `{"active": false}`: a client sees the tokens of its own application, of the
    tenants its application acts for, or any with the `admin` scope.

    Args:
        body (IntrospectForm): An introspection request (RFC 7662 §2.1), from an authenticated
            client (Basic, or
            `client_id` and `client_secret` in this form). A parameter given twice is refused.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Introspection | OAuthError | str]
     """


    kwargs = _get_kwargs(
        body=body,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    *,
    client: AuthenticatedClient,
    body: IntrospectForm,

) -> Introspection | OAuthError | str | None:
    """ Token introspection.

     Says whether an access token or refresh token is live, and what it carries (RFC 7662).
    A token that is unknown, expired, revoked, or none of the calling client's business
    answers `{"active": false}`: a client sees the tokens of its own application, of the
    tenants its application acts for, or any with the `admin` scope.

    Args:
        body (IntrospectForm): An introspection request (RFC 7662 §2.1), from an authenticated
            client (Basic, or
            `client_id` and `client_secret` in this form). A parameter given twice is refused.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Introspection | OAuthError | str
     """


    return sync_detailed(
        client=client,
body=body,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: IntrospectForm,

) -> Response[Introspection | OAuthError | str]:
    """ Token introspection.

     Says whether an access token or refresh token is live, and what it carries (RFC 7662).
    A token that is unknown, expired, revoked, or none of the calling client's business
    answers `{"active": false}`: a client sees the tokens of its own application, of the
    tenants its application acts for, or any with the `admin` scope.

    Args:
        body (IntrospectForm): An introspection request (RFC 7662 §2.1), from an authenticated
            client (Basic, or
            `client_id` and `client_secret` in this form). A parameter given twice is refused.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Introspection | OAuthError | str]
     """


    kwargs = _get_kwargs(
        body=body,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    *,
    client: AuthenticatedClient,
    body: IntrospectForm,

) -> Introspection | OAuthError | str | None:
    """ Token introspection.

     Says whether an access token or refresh token is live, and what it carries (RFC 7662).
    A token that is unknown, expired, revoked, or none of the calling client's business
    answers `{"active": false}`: a client sees the tokens of its own application, of the
    tenants its application acts for, or any with the `admin` scope.

    Args:
        body (IntrospectForm): An introspection request (RFC 7662 §2.1), from an authenticated
            client (Basic, or
            `client_id` and `client_secret` in this form). A parameter given twice is refused.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Introspection | OAuthError | str
     """


    return (await asyncio_detailed(
        client=client,
body=body,

    )).parsed
