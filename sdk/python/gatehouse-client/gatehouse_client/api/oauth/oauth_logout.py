from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...types import UNSET, Unset



def _get_kwargs(
    *,
    id_token_hint: str | Unset = UNSET,
    client_id: str | Unset = UNSET,
    post_logout_redirect_uri: str | Unset = UNSET,
    state: str | Unset = UNSET,

) -> dict[str, Any]:
    

    

    params: dict[str, Any] = {}

    params["id_token_hint"] = id_token_hint

    params["client_id"] = client_id

    params["post_logout_redirect_uri"] = post_logout_redirect_uri

    params["state"] = state


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/auth/logout",
        "params": params,
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Any | str | None:
    if response.status_code == 303:
        response_303 = cast(Any, None)
        return response_303

    if response.status_code == 400:
        response_400 = response.text
        return response_400

    if response.status_code == 503:
        response_503 = response.text
        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Any | str]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    id_token_hint: str | Unset = UNSET,
    client_id: str | Unset = UNSET,
    post_logout_redirect_uri: str | Unset = UNSET,
    state: str | Unset = UNSET,

) -> Response[Any | str]:
    """ End-session endpoint.

     RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): ends this browser's
    session and returns to the application's registered post-logout redirect URI, or to
    the sign-in page. Without an `id_token_hint` naming the person and session signed in
    here (or a same-origin request), the person is sent to Gatehouse's own sign-out page to
    confirm instead.

    Args:
        id_token_hint (str | Unset):
        client_id (str | Unset):
        post_logout_redirect_uri (str | Unset):
        state (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | str]
     """


    kwargs = _get_kwargs(
        id_token_hint=id_token_hint,
client_id=client_id,
post_logout_redirect_uri=post_logout_redirect_uri,
state=state,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    *,
    client: AuthenticatedClient | Client,
    id_token_hint: str | Unset = UNSET,
    client_id: str | Unset = UNSET,
    post_logout_redirect_uri: str | Unset = UNSET,
    state: str | Unset = UNSET,

) -> Any | str | None:
    """ End-session endpoint.

     RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): ends this browser's
    session and returns to the application's registered post-logout redirect URI, or to
    the sign-in page. Without an `id_token_hint` naming the person and session signed in
    here (or a same-origin request), the person is sent to Gatehouse's own sign-out page to
    confirm instead.

    Args:
        id_token_hint (str | Unset):
        client_id (str | Unset):
        post_logout_redirect_uri (str | Unset):
        state (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | str
     """


    return sync_detailed(
        client=client,
id_token_hint=id_token_hint,
client_id=client_id,
post_logout_redirect_uri=post_logout_redirect_uri,
state=state,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    id_token_hint: str | Unset = UNSET,
    client_id: str | Unset = UNSET,
    post_logout_redirect_uri: str | Unset = UNSET,
    state: str | Unset = UNSET,

) -> Response[Any | str]:
    """ End-session endpoint.

     RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): ends this browser's
    session and returns to the application's registered post-logout redirect URI, or to
    the sign-in page. Without an `id_token_hint` naming the person and session signed in
    here (or a same-origin request), the person is sent to Gatehouse's own sign-out page to
    confirm instead.

    Args:
        id_token_hint (str | Unset):
        client_id (str | Unset):
        post_logout_redirect_uri (str | Unset):
        state (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | str]
     """


    kwargs = _get_kwargs(
        id_token_hint=id_token_hint,
client_id=client_id,
post_logout_redirect_uri=post_logout_redirect_uri,
state=state,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    id_token_hint: str | Unset = UNSET,
    client_id: str | Unset = UNSET,
    post_logout_redirect_uri: str | Unset = UNSET,
    state: str | Unset = UNSET,

) -> Any | str | None:
    """ End-session endpoint.

     RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): ends this browser's
    session and returns to the application's registered post-logout redirect URI, or to
    the sign-in page. Without an `id_token_hint` naming the person and session signed in
    here (or a same-origin request), the person is sent to Gatehouse's own sign-out page to
    confirm instead.

    Args:
        id_token_hint (str | Unset):
        client_id (str | Unset):
        post_logout_redirect_uri (str | Unset):
        state (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | str
     """


    return (await asyncio_detailed(
        client=client,
id_token_hint=id_token_hint,
client_id=client_id,
post_logout_redirect_uri=post_logout_redirect_uri,
state=state,

    )).parsed
