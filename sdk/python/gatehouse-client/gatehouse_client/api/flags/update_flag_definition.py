from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.error import Error
from ...models.flag_definition import FlagDefinition
from ...models.flag_definition_changes import FlagDefinitionChanges
from typing import cast



def _get_kwargs(
    key: str,
    *,
    body: FlagDefinitionChanges,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}


    

    

    _kwargs: dict[str, Any] = {
        "method": "patch",
        "url": "/api/v1/flag-definitions/{key}".format(key=quote(str(key), safe=""),),
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
    *,
    client: AuthenticatedClient,
    body: FlagDefinitionChanges,

) -> Response[Error | FlagDefinition]:
    """ Change a flag's description, default or rollout (operators).

     Only the fields given change; `"rollout_percentage": null` removes the rollout. The key
    cannot change. The old and new values are audited.

    Args:
        key (str):
        body (FlagDefinitionChanges): Changes to a flag definition: the fields given change, the
            others stay.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | FlagDefinition]
     """


    kwargs = _get_kwargs(
        key=key,
body=body,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    key: str,
    *,
    client: AuthenticatedClient,
    body: FlagDefinitionChanges,

) -> Error | FlagDefinition | None:
    """ Change a flag's description, default or rollout (operators).

     Only the fields given change; `"rollout_percentage": null` removes the rollout. The key
    cannot change. The old and new values are audited.

    Args:
        key (str):
        body (FlagDefinitionChanges): Changes to a flag definition: the fields given change, the
            others stay.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | FlagDefinition
     """


    return sync_detailed(
        key=key,
client=client,
body=body,

    ).parsed

async def asyncio_detailed(
    key: str,
    *,
    client: AuthenticatedClient,
    body: FlagDefinitionChanges,

) -> Response[Error | FlagDefinition]:
    """ Change a flag's description, default or rollout (operators).

     Only the fields given change; `"rollout_percentage": null` removes the rollout. The key
    cannot change. The old and new values are audited.

    Args:
        key (str):
        body (FlagDefinitionChanges): Changes to a flag definition: the fields given change, the
            others stay.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | FlagDefinition]
     """


    kwargs = _get_kwargs(
        key=key,
body=body,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    key: str,
    *,
    client: AuthenticatedClient,
    body: FlagDefinitionChanges,

) -> Error | FlagDefinition | None:
    """ Change a flag's description, default or rollout (operators).

     Only the fields given change; `"rollout_percentage": null` removes the rollout. The key
    cannot change. The old and new values are audited.

    Args:
        key (str):
        body (FlagDefinitionChanges): Changes to a flag definition: the fields given change, the
            others stay.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | FlagDefinition
     """


    return (await asyncio_detailed(
        key=key,
client=client,
body=body,

    )).parsed
