from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.error import Error
from ...models.flag_definition import FlagDefinition
from ...models.flag_value import FlagValue
from ...models.set_flag_plan_default_plan import SetFlagPlanDefaultPlan
from typing import cast



def _get_kwargs(
    key: str,
    plan: SetFlagPlanDefaultPlan,
    *,
    body: FlagValue,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}


    

    

    _kwargs: dict[str, Any] = {
        "method": "put",
        "url": "/api/v1/flag-definitions/{key}/plans/{plan}".format(key=quote(str(key), safe=""),plan=quote(str(plan), safe=""),),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
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
    plan: SetFlagPlanDefaultPlan,
    *,
    client: AuthenticatedClient,
    body: FlagValue,

) -> Response[Error | FlagDefinition]:
    """ Set a plan's default for a flag (operators).

     Every tenant on the plan gets this value unless it has its own override. Audited.

    Args:
        key (str):
        plan (SetFlagPlanDefaultPlan):
        body (FlagValue): A flag's value, for a plan or a tenant.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | FlagDefinition]
     """


    kwargs = _get_kwargs(
        key=key,
plan=plan,
body=body,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    key: str,
    plan: SetFlagPlanDefaultPlan,
    *,
    client: AuthenticatedClient,
    body: FlagValue,

) -> Error | FlagDefinition | None:
    """ Set a plan's default for a flag (operators).

     Every tenant on the plan gets this value unless it has its own override. Audited.

    Args:
        key (str):
        plan (SetFlagPlanDefaultPlan):
        body (FlagValue): A flag's value, for a plan or a tenant.

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
body=body,

    ).parsed

async def asyncio_detailed(
    key: str,
    plan: SetFlagPlanDefaultPlan,
    *,
    client: AuthenticatedClient,
    body: FlagValue,

) -> Response[Error | FlagDefinition]:
    """ Set a plan's default for a flag (operators).

     Every tenant on the plan gets this value unless it has its own override. Audited.

    Args:
        key (str):
        plan (SetFlagPlanDefaultPlan):
        body (FlagValue): A flag's value, for a plan or a tenant.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | FlagDefinition]
     """


    kwargs = _get_kwargs(
        key=key,
plan=plan,
body=body,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    key: str,
    plan: SetFlagPlanDefaultPlan,
    *,
    client: AuthenticatedClient,
    body: FlagValue,

) -> Error | FlagDefinition | None:
    """ Set a plan's default for a flag (operators).

     Every tenant on the plan gets this value unless it has its own override. Audited.

    Args:
        key (str):
        plan (SetFlagPlanDefaultPlan):
        body (FlagValue): A flag's value, for a plan or a tenant.

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
body=body,

    )).parsed
