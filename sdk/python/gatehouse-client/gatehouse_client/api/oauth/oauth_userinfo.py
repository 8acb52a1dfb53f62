from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.bearer_error import BearerError
from ...models.user_info import UserInfo
from typing import cast



def _get_kwargs(
    
) -> dict[str, Any]:
    

    

    

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/userinfo",
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> BearerError | UserInfo | None:
    if response.status_code == 200:
        response_200 = UserInfo.from_dict(response.json())



        return response_200

    if response.status_code == 401:
        response_401 = BearerError.from_dict(response.json())



        return response_401

    if response.status_code == 403:
        response_403 = BearerError.from_dict(response.json())



        return response_403

    if response.status_code == 500:
        response_500 = BearerError.from_dict(response.json())



        return response_500

    if response.status_code == 503:
        response_503 = BearerError.from_dict(response.json())



        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[BearerError | UserInfo]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,

) -> Response[BearerError | UserInfo]:
    """ UserInfo endpoint.

     The claims about the person an access token stands for (OpenID Connect Core §5.3): the
    token must carry `openid` and belong to a person who can still sign in. `email` adds
    `email` and `email_verified`, `profile` adds `name`. The token goes in the
    `Authorization: Bearer` header.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[BearerError | UserInfo]
     """


    kwargs = _get_kwargs(
        
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    *,
    client: AuthenticatedClient,

) -> BearerError | UserInfo | None:
    """ UserInfo endpoint.

     The claims about the person an access token stands for (OpenID Connect Core §5.3): the
    token must carry `openid` and belong to a person who can still sign in. `email` adds
    `email` and `email_verified`, `profile` adds `name`. The token goes in the
    `Authorization: Bearer` header.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        BearerError | UserInfo
     """


    return sync_detailed(
        client=client,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient,

) -> Response[BearerError | UserInfo]:
    """ UserInfo endpoint.

     The claims about the person an access token stands for (OpenID Connect Core §5.3): the
    token must carry `openid` and belong to a person who can still sign in. `email` adds
    `email` and `email_verified`, `profile` adds `name`. The token goes in the
    `Authorization: Bearer` header.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[BearerError | UserInfo]
     """


    kwargs = _get_kwargs(
        
    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    *,
    client: AuthenticatedClient,

) -> BearerError | UserInfo | None:
    """ UserInfo endpoint.

     The claims about the person an access token stands for (OpenID Connect Core §5.3): the
    token must carry `openid` and belong to a person who can still sign in. `email` adds
    `email` and `email_verified`, `profile` adds `name`. The token goes in the
    `Authorization: Bearer` header.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        BearerError | UserInfo
     """


    return (await asyncio_detailed(
        client=client,

    )).parsed
