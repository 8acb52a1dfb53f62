from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.authorize_request import AuthorizeRequest
from typing import cast



def _get_kwargs(
    *,
    body: AuthorizeRequest,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}


    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/authorize",
    }

    _kwargs["data"] = body.to_dict()
    headers["Content-Type"] = "application/x-www-form-urlencoded"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Any | str | None:
    if response.status_code == 303:
        response_303 = cast(Any, None)
        return response_303

    if response.status_code == 400:
        response_400 = response.text
        return response_400

    if response.status_code == 413:
        response_413 = response.text
        return response_413

    if response.status_code == 415:
        response_415 = response.text
        return response_415

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
    body: AuthorizeRequest,

) -> Response[Any | str]:
    """ Authorization endpoint (form post).

     The same as `GET /authorize`, with the parameters in a form body (OpenID Connect Core
    §3.1.2.1).

    Args:
        body (AuthorizeRequest): An authorization request (RFC 6749 §4.1.1, RFC 7636, OpenID
            Connect Core §3.1.2.1): in
            the query of a GET or the form body of a POST. A parameter given twice is refused.
            `request` and `request_uri` are refused (`request_not_supported`).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | str]
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
    client: AuthenticatedClient | Client,
    body: AuthorizeRequest,

) -> Any | str | None:
    """ Authorization endpoint (form post).

     The same as `GET /authorize`, with the parameters in a form body (OpenID Connect Core
    §3.1.2.1).

    Args:
        body (AuthorizeRequest): An authorization request (RFC 6749 §4.1.1, RFC 7636, OpenID
            Connect Core §3.1.2.1): in
            the query of a GET or the form body of a POST. A parameter given twice is refused.
            `request` and `request_uri` are refused (`request_not_supported`).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | str
     """


    return sync_detailed(
        client=client,
body=body,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: AuthorizeRequest,

) -> Response[Any | str]:
    """ Authorization endpoint (form post).

     The same as `GET /authorize`, with the parameters in a form body (OpenID Connect Core
    §3.1.2.1).

    Args:
        body (AuthorizeRequest): An authorization request (RFC 6749 §4.1.1, RFC 7636, OpenID
            Connect Core §3.1.2.1): in
            the query of a GET or the form body of a POST. A parameter given twice is refused.
            `request` and `request_uri` are refused (`request_not_supported`).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | str]
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
    client: AuthenticatedClient | Client,
    body: AuthorizeRequest,

) -> Any | str | None:
    """ Authorization endpoint (form post).

     The same as `GET /authorize`, with the parameters in a form body (OpenID Connect Core
    §3.1.2.1).

    Args:
        body (AuthorizeRequest): An authorization request (RFC 6749 §4.1.1, RFC 7636, OpenID
            Connect Core §3.1.2.1): in
            the query of a GET or the form body of a POST. A parameter given twice is refused.
            `request` and `request_uri` are refused (`request_not_supported`).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | str
     """


    return (await asyncio_detailed(
        client=client,
body=body,

    )).parsed
