from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.o_auth_error import OAuthError
from ...models.revoke_form import RevokeForm
from typing import cast



def _get_kwargs(
    *,
    body: RevokeForm,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}


    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/auth/revoke",
    }

    _kwargs["data"] = body.to_dict()
    headers["Content-Type"] = "application/x-www-form-urlencoded"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Any | OAuthError | str | None:
    if response.status_code == 200:
        response_200 = cast(Any, None)
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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Any | OAuthError | str]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: RevokeForm,

) -> Response[Any | OAuthError | str]:
    """ Token revocation.

     Revokes an access token, or a refresh token with every token of its family (RFC 7009).
    Only the calling client's own tokens are revoked; an unknown token or another client's
    is left alone, with the same answer.

    Args:
        body (RevokeForm): A revocation request (RFC 7009 §2.1), from an authenticated client
            (Basic, or
            `client_id` and `client_secret` in this form). A parameter given twice is refused.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | OAuthError | str]
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
    body: RevokeForm,

) -> Any | OAuthError | str | None:
    """ Token revocation.

     Revokes an access token, or a refresh token with every token of its family (RFC 7009).
    Only the calling client's own tokens are revoked; an unknown token or another client's
    is left alone, with the same answer.

    Args:
        body (RevokeForm): A revocation request (RFC 7009 §2.1), from an authenticated client
            (Basic, or
            `client_id` and `client_secret` in this form). A parameter given twice is refused.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | OAuthError | str
     """


    return sync_detailed(
        client=client,
body=body,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: RevokeForm,

) -> Response[Any | OAuthError | str]:
    """ Token revocation.

     Revokes an access token, or a refresh token with every token of its family (RFC 7009).
    Only the calling client's own tokens are revoked; an unknown token or another client's
    is left alone, with the same answer.

    Args:
        body (RevokeForm): A revocation request (RFC 7009 §2.1), from an authenticated client
            (Basic, or
            `client_id` and `client_secret` in this form). A parameter given twice is refused.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | OAuthError | str]
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
    body: RevokeForm,

) -> Any | OAuthError | str | None:
    """ Token revocation.

     Revokes an access token, or a refresh token with every token of its family (RFC 7009).
    Only the calling client's own tokens are revoked; an unknown token or another client's
    is left alone, with the same answer.

    Args:
        body (RevokeForm): A revocation request (RFC 7009 §2.1), from an authenticated client
            (Basic, or
            `client_id` and `client_secret` in this form). A parameter given twice is refused.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | OAuthError | str
     """


    return (await asyncio_detailed(
        client=client,
body=body,

    )).parsed
