from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.application import Application
from ...models.error import Error
from ...models.register_application import RegisterApplication
from typing import cast



def _get_kwargs(
    *,
    body: RegisterApplication,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}


    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/apps",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Application | Error | None:
    if response.status_code == 201:
        response_201 = Application.from_dict(response.json())



        return response_201

    if response.status_code == 401:
        response_401 = Error.from_dict(response.json())



        return response_401

    if response.status_code == 403:
        response_403 = Error.from_dict(response.json())



        return response_403

    if response.status_code == 422:
        response_422 = Error.from_dict(response.json())



        return response_422

    if response.status_code == 429:
        response_429 = Error.from_dict(response.json())



        return response_429

    if response.status_code == 503:
        response_503 = Error.from_dict(response.json())



        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Application | Error]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: RegisterApplication,

) -> Response[Application | Error]:
    """ Register an application.

     A name is required; the environment defaults to `production` and the grant types to
    `client_credentials`. Unknown tenant domains are refused. Audited
    (`application.register`). Issue a key to let it sign in.

    Args:
        body (RegisterApplication): A new application. Strings are trimmed and a blank or `null`
            field counts as absent;
            `environment`, `grant_types` and `tenants` are case-insensitive.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Application | Error]
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
    body: RegisterApplication,

) -> Application | Error | None:
    """ Register an application.

     A name is required; the environment defaults to `production` and the grant types to
    `client_credentials`. Unknown tenant domains are refused. Audited
    (`application.register`). Issue a key to let it sign in.

    Args:
        body (RegisterApplication): A new application. Strings are trimmed and a blank or `null`
            field counts as absent;
            `environment`, `grant_types` and `tenants` are case-insensitive.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Application | Error
     """


    return sync_detailed(
        client=client,
body=body,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: RegisterApplication,

) -> Response[Application | Error]:
    """ Register an application.

     A name is required; the environment defaults to `production` and the grant types to
    `client_credentials`. Unknown tenant domains are refused. Audited
    (`application.register`). Issue a key to let it sign in.

    Args:
        body (RegisterApplication): A new application. Strings are trimmed and a blank or `null`
            field counts as absent;
            `environment`, `grant_types` and `tenants` are case-insensitive.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Application | Error]
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
    body: RegisterApplication,

) -> Application | Error | None:
    """ Register an application.

     A name is required; the environment defaults to `production` and the grant types to
    `client_credentials`. Unknown tenant domains are refused. Audited
    (`application.register`). Issue a key to let it sign in.

    Args:
        body (RegisterApplication): A new application. Strings are trimmed and a blank or `null`
            field counts as absent;
            `environment`, `grant_types` and `tenants` are case-insensitive.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Application | Error
     """


    return (await asyncio_detailed(
        client=client,
body=body,

    )).parsed
