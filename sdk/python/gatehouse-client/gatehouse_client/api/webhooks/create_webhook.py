from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.endpoint_with_secret import EndpointWithSecret
from ...models.error import Error
from ...models.new_webhook import NewWebhook
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    *,
    body: NewWebhook,
    tenant: str | Unset = UNSET,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}


    

    params: dict[str, Any] = {}

    params["tenant"] = tenant


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/webhooks",
        "params": params,
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> EndpointWithSecret | Error | None:
    if response.status_code == 201:
        response_201 = EndpointWithSecret.from_dict(response.json())



        return response_201

    if response.status_code == 401:
        response_401 = Error.from_dict(response.json())



        return response_401

    if response.status_code == 403:
        response_403 = Error.from_dict(response.json())



        return response_403

    if response.status_code == 404:
        response_404 = Error.from_dict(response.json())



        return response_404

    if response.status_code == 409:
        response_409 = Error.from_dict(response.json())



        return response_409

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[EndpointWithSecret | Error]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: NewWebhook,
    tenant: str | Unset = UNSET,

) -> Response[EndpointWithSecret | Error]:
    """ Register an endpoint.

     The answer carries the `whsec_` signing secret: it is shown only now. Every message is
    signed as Standard Webhooks 1.0 says (`webhook-id`, `webhook-timestamp`,
    `webhook-signature`), so any of its libraries verifies it.

    Args:
        tenant (str | Unset):
        body (NewWebhook): A new endpoint.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[EndpointWithSecret | Error]
     """


    kwargs = _get_kwargs(
        body=body,
tenant=tenant,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    *,
    client: AuthenticatedClient,
    body: NewWebhook,
    tenant: str | Unset = UNSET,

) -> EndpointWithSecret | Error | None:
    """ Register an endpoint.

     The answer carries the `whsec_` signing secret: it is shown only now. Every message is
    signed as Standard Webhooks 1.0 says (`webhook-id`, `webhook-timestamp`,
    `webhook-signature`), so any of its libraries verifies it.

    Args:
        tenant (str | Unset):
        body (NewWebhook): A new endpoint.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        EndpointWithSecret | Error
     """


    return sync_detailed(
        client=client,
body=body,
tenant=tenant,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: NewWebhook,
    tenant: str | Unset = UNSET,

) -> Response[EndpointWithSecret | Error]:
    """ Register an endpoint.

     The answer carries the `whsec_` signing secret: it is shown only now. Every message is
    signed as Standard Webhooks 1.0 says (`webhook-id`, `webhook-timestamp`,
    `webhook-signature`), so any of its libraries verifies it.

    Args:
        tenant (str | Unset):
        body (NewWebhook): A new endpoint.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[EndpointWithSecret | Error]
     """


    kwargs = _get_kwargs(
        body=body,
tenant=tenant,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    *,
    client: AuthenticatedClient,
    body: NewWebhook,
    tenant: str | Unset = UNSET,

) -> EndpointWithSecret | Error | None:
    """ Register an endpoint.

     The answer carries the `whsec_` signing secret: it is shown only now. Every message is
    signed as Standard Webhooks 1.0 says (`webhook-id`, `webhook-timestamp`,
    `webhook-signature`), so any of its libraries verifies it.

    Args:
        tenant (str | Unset):
        body (NewWebhook): A new endpoint.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        EndpointWithSecret | Error
     """


    return (await asyncio_detailed(
        client=client,
body=body,
tenant=tenant,

    )).parsed
