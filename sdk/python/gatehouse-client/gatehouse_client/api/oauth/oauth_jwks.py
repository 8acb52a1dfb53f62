from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.json_web_key_set import JsonWebKeySet
from ...models.o_auth_error import OAuthError
from typing import cast



def _get_kwargs(
    
) -> dict[str, Any]:
    

    

    

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/.well-known/jwks.json",
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> JsonWebKeySet | OAuthError | None:
    if response.status_code == 200:
        response_200 = JsonWebKeySet.from_dict(response.json())



        return response_200

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[JsonWebKeySet | OAuthError]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,

) -> Response[JsonWebKeySet | OAuthError]:
    """ The signing keys (JWKS).

     The public keys that verify ID tokens (RS256) and access tokens (ES256 by default), as
    a JSON Web Key Set (RFC 7517). A rotated key stays listed until every token it signed
    has expired. Cacheable for 5 minutes: on an unknown `kid`, fetch the set again.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[JsonWebKeySet | OAuthError]
     """


    kwargs = _get_kwargs(
        
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    *,
    client: AuthenticatedClient | Client,

) -> JsonWebKeySet | OAuthError | None:
    """ The signing keys (JWKS).

     The public keys that verify ID tokens (RS256) and access tokens (ES256 by default), as
    a JSON Web Key Set (RFC 7517). A rotated key stays listed until every token it signed
    has expired. Cacheable for 5 minutes: on an unknown `kid`, fetch the set again.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        JsonWebKeySet | OAuthError
     """


    return sync_detailed(
        client=client,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,

) -> Response[JsonWebKeySet | OAuthError]:
    """ The signing keys (JWKS).

     The public keys that verify ID tokens (RS256) and access tokens (ES256 by default), as
    a JSON Web Key Set (RFC 7517). A rotated key stays listed until every token it signed
    has expired. Cacheable for 5 minutes: on an unknown `kid`, fetch the set again.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[JsonWebKeySet | OAuthError]
     """


    kwargs = _get_kwargs(
        
    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    *,
    client: AuthenticatedClient | Client,

) -> JsonWebKeySet | OAuthError | None:
    """ The signing keys (JWKS).

     The public keys that verify ID tokens (RS256) and access tokens (ES256 by default), as
    a JSON Web Key Set (RFC 7517). A rotated key stays listed until every token it signed
    has expired. Cacheable for 5 minutes: on an unknown `kid`, fetch the set again.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        JsonWebKeySet | OAuthError
     """


    return (await asyncio_detailed(
        client=client,

    )).parsed
