from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.clear_flag_plan_default_plan import ClearFlagPlanDefaultPlan
from ...models.error import Error
from ...models.flag_definition import FlagDefinition
from typing import cast



def _get_kwargs(
    key: str,
    plan: ClearFlagPlanDefaultPlan,

) -> dict[str, Any]:
    

    

    

    _kwargs: dict[str, Any] = {
        "method": "delete",
        "url": "/api/v1/flag-definitions/{key}/plans/{plan}".format(key=quote(str(key), safe=""),plan=quote(str(plan), safe=""),),
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | FlagDefinition | None:
    if response.status_code == 200:
        response_200 = FlagDefinition.from_dict(response.json())



        return response_200

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Error | FlagDefinition]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    key: str,
    plan: ClearFlagPlanDefaultPlan,
    *,
    client: AuthenticatedClient,

) -> Response[Error | FlagDefinition]:
    """ Clear a plan's default for a flag (operators).

     The plan's tenants fall back to the rollout or the flag's default (overrides stay).
    Audited when there was one.

    Args:
        key (str):
        plan (ClearFlagPlanDefaultPlan):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | FlagDefinition]
     """


    kwargs = _get_kwargs(
        key=key,
plan=plan,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    key: str,
    plan: ClearFlagPlanDefaultPlan,
    *,
    client: AuthenticatedClient,

) -> Error | FlagDefinition | None:
    """ Clear a plan's default for a flag (operators).

     The plan's tenants fall back to the rollout or the flag's default (overrides stay).
    Audited when there was one.

    Args:
        key (str):
        plan (ClearFlagPlanDefaultPlan):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | FlagDefinition
     """


    return sync_detailed(
        key=key,
plan=plan,
client=client,

    ).parsed

async def asyncio_detailed(
    key: str,
    plan: ClearFlagPlanDefaultPlan,
    *,
    client: AuthenticatedClient,

) -> Response[Error | FlagDefinition]:
    """ Clear a plan's default for a flag (operators).

     The plan's tenants fall back to the rollout or the flag's default (overrides stay).
    Audited when there was one.

    Args:
        key (str):
        plan (ClearFlagPlanDefaultPlan):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | FlagDefinition]
     """


    kwargs = _get_kwargs(
        key=key,
plan=plan,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    key: str,
    plan: ClearFlagPlanDefaultPlan,
    *,
    client: AuthenticatedClient,

) -> Error | FlagDefinition | None:
    """ Clear a plan's default for a flag (operators).

     The plan's tenants fall back to the rollout or the flag's default (overrides stay).
    Audited when there was one.

    Args:
        key (str):
        plan (ClearFlagPlanDefaultPlan):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | FlagDefinition
     """


    return (await asyncio_detailed(
        key=key,
plan=plan,
client=client,

    )).parsed
