from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.o_auth_error import OAuthError
from ...models.token_form import TokenForm
from ...models.token_response import TokenResponse
from typing import cast



def _get_kwargs(
    *,
    body: TokenForm,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}


    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/auth/token",
    }

    _kwargs["data"] = body.to_dict()
    headers["Content-Type"] = "application/x-www-form-urlencoded"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> OAuthError | TokenResponse | str | None:
    if response.status_code == 200:
        response_200 = TokenResponse.from_dict(response.json())



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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[OAuthError | TokenResponse | str]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: TokenForm,

) -> Response[OAuthError | TokenResponse | str]:
    """ Token endpoint.

     Issues tokens (RFC 6749 §3.2) for three grants: `authorization_code` (a code from
    `/authorize` with its PKCE verifier), `client_credentials` (an application's key acting
    for itself, for one tenant) and `refresh_token` (single use: a refresh token used twice
    revokes every token of its family). The client authenticates with HTTP Basic
    (`client_secret_basic`) or with `client_id` and `client_secret` in the form
    (`client_secret_post`), not both. Errors are OAuth's (RFC 6749 §5.2), not the API's.

    Args:
        body (TokenForm): A token request (RFC 6749 §4.1.3, §4.4.2, §6). The client authenticates
            with HTTP
            Basic (`client_secret_basic`) or with `client_id` and `client_secret` in this form
            (`client_secret_post`), not both. A parameter given twice is refused.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[OAuthError | TokenResponse | str]
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
    body: TokenForm,

) -> OAuthError | TokenResponse | str | None:
    """ Token endpoint.

     Issues tokens (RFC 6749 §3.2) for three grants: `authorization_code` (a code from
    `/authorize` with its PKCE verifier), `client_credentials` (an application's key acting
    for itself, for one tenant) and `refresh_token` (single use: a refresh token used twice
    revokes every token of its family). The client authenticates with HTTP Basic
    (`client_secret_basic`) or with `client_id` and `client_secret` in the form
    (`client_secret_post`), not both. Errors are OAuth's (RFC 6749 §5.2), not the API's.

    Args:
        body (TokenForm): A token request (RFC 6749 §4.1.3, §4.4.2, §6). The client authenticates
            with HTTP
            Basic (`client_secret_basic`) or with `client_id` and `client_secret` in this form
            (`client_secret_post`), not both. A parameter given twice is refused.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        OAuthError | TokenResponse | str
     """


    return sync_detailed(
        client=client,
body=body,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: TokenForm,

) -> Response[OAuthError | TokenResponse | str]:
    """ Token endpoint.

     Issues tokens (RFC 6749 §3.2) for three grants: `authorization_code` (a code from
    `/authorize` with its PKCE verifier), `client_credentials` (an application's key acting
    for itself, for one tenant) and `refresh_token` (single use: a refresh token used twice
    revokes every token of its family). The client authenticates with HTTP Basic
    (`client_secret_basic`) or with `client_id` and `client_secret` in the form
    (`client_secret_post`), not both. Errors are OAuth's (RFC 6749 §5.2), not the API's.

    Args:
        body (TokenForm): A token request (RFC 6749 §4.1.3, §4.4.2, §6). The client authenticates
            with HTTP
            Basic (`client_secret_basic`) or with `client_id` and `client_secret` in this form
            (`client_secret_post`), not both. A parameter given twice is refused.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[OAuthError | TokenResponse | str]
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
    body: TokenForm,

) -> OAuthError | TokenResponse | str | None:
    """ Token endpoint.

     Issues tokens (RFC 6749 §3.2) for three grants: `authorization_code` (a code from
    `/authorize` with its PKCE verifier), `client_credentials` (an application's key acting
    for itself, for one tenant) and `refresh_token` (single use: a refresh token used twice
    revokes every token of its family). The client authenticates with HTTP Basic
    (`client_secret_basic`) or with `client_id` and `client_secret` in the form
    (`client_secret_post`), not both. Errors are OAuth's (RFC 6749 §5.2), not the API's.

    Args:
        body (TokenForm): A token request (RFC 6749 §4.1.3, §4.4.2, §6). The client authenticates
            with HTTP
            Basic (`client_secret_basic`) or with `client_id` and `client_secret` in this form
            (`client_secret_post`), not both. A parameter given twice is refused.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        OAuthError | TokenResponse | str
     """


    return (await asyncio_detailed(
        client=client,
body=body,

    )).parsed
