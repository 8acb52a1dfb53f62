from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.effective_flags import EffectiveFlags
from ...models.error import Error
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    *,
    tenant: str | Unset = UNSET,
    user_id: str | Unset = UNSET,
    if_none_match: None | str | Unset = UNSET,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(if_none_match, Unset):
        headers["If-None-Match"] = if_none_match



    

    params: dict[str, Any] = {}

    params["tenant"] = tenant

    params["user_id"] = user_id


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/flags",
        "params": params,
    }


    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Any | EffectiveFlags | Error | None:
    if response.status_code == 200:
        response_200 = EffectiveFlags.from_dict(response.json())



        return response_200

    if response.status_code == 304:
        response_304 = cast(Any, None)
        return response_304

    if response.status_code == 401:
        response_401 = Error.from_dict(response.json())



        return response_401

    if response.status_code == 403:
        response_403 = Error.from_dict(response.json())



        return response_403

    if response.status_code == 404:
        response_404 = Error.from_dict(response.json())



        return response_404

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Any | EffectiveFlags | Error]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    tenant: str | Unset = UNSET,
    user_id: str | Unset = UNSET,
    if_none_match: None | str | Unset = UNSET,

) -> Response[Any | EffectiveFlags | Error]:
    """ The tenant's feature flags.

     Every flag's effective value for the tenant (or for one of its users with `user_id`) and
    the rule that decided it: a tenant override, else the plan's default, else a sticky
    percentage rollout, else the flag's default.

    Answers carry a strong `ETag` and `Cache-Control: private, no-cache`: send the ETag back
    in `If-None-Match` and an unchanged answer is `304 Not Modified` without a body. A
    suspended tenant's flags are not served (403).

    Args:
        tenant (str | Unset):
        user_id (str | Unset):
        if_none_match (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | EffectiveFlags | Error]
     """


    kwargs = _get_kwargs(
        tenant=tenant,
user_id=user_id,
if_none_match=if_none_match,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    *,
    client: AuthenticatedClient,
    tenant: str | Unset = UNSET,
    user_id: str | Unset = UNSET,
    if_none_match: None | str | Unset = UNSET,

) -> Any | EffectiveFlags | Error | None:
    """ The tenant's feature flags.

     Every flag's effective value for the tenant (or for one of its users with `user_id`) and
    the rule that decided it: a tenant override, else the plan's default, else a sticky
    percentage rollout, else the flag's default.

    Answers carry a strong `ETag` and `Cache-Control: private, no-cache`: send the ETag back
    in `If-None-Match` and an unchanged answer is `304 Not Modified` without a body. A
    suspended tenant's flags are not served (403).

    Args:
        tenant (str | Unset):
        user_id (str | Unset):
        if_none_match (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | EffectiveFlags | Error
     """


    return sync_detailed(
        client=client,
tenant=tenant,
user_id=user_id,
if_none_match=if_none_match,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    tenant: str | Unset = UNSET,
    user_id: str | Unset = UNSET,
    if_none_match: None | str | Unset = UNSET,

) -> Response[Any | EffectiveFlags | Error]:
    """ The tenant's feature flags.

     Every flag's effective value for the tenant (or for one of its users with `user_id`) and
    the rule that decided it: a tenant override, else the plan's default, else a sticky
    percentage rollout, else the flag's default.

    Answers carry a strong `ETag` and `Cache-Control: private, no-cache`: send the ETag back
    in `If-None-Match` and an unchanged answer is `304 Not Modified` without a body. A
    suspended tenant's flags are not served (403).

    Args:
        tenant (str | Unset):
        user_id (str | Unset):
        if_none_match (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | EffectiveFlags | Error]
     """


    kwargs = _get_kwargs(
        tenant=tenant,
user_id=user_id,
if_none_match=if_none_match,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    *,
    client: AuthenticatedClient,
    tenant: str | Unset = UNSET,
    user_id: str | Unset = UNSET,
    if_none_match: None | str | Unset = UNSET,

) -> Any | EffectiveFlags | Error | None:
    """ The tenant's feature flags.

     Every flag's effective value for the tenant (or for one of its users with `user_id`) and
    the rule that decided it: a tenant override, else the plan's default, else a sticky
    percentage rollout, else the flag's default.

    Answers carry a strong `ETag` and `Cache-Control: private, no-cache`: send the ETag back
    in `If-None-Match` and an unchanged answer is `304 Not Modified` without a body. A
    suspended tenant's flags are not served (403).

    Args:
        tenant (str | Unset):
        user_id (str | Unset):
        if_none_match (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | EffectiveFlags | Error
     """


    return (await asyncio_detailed(
        client=client,
tenant=tenant,
user_id=user_id,
if_none_match=if_none_match,

    )).parsed
