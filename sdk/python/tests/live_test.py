"""The Python SDK against the running server (the test command's browser-test server): an
application signs in with client credentials, reads flags and sends usage events; a tenant
admin creates people and lists them page by page; a refusal carries the API's error body.

    BASE_URL=http://localhost:3100 GATEHOUSE_BIN=target/debug/gatehouse \
      .venv-e2e/bin/python sdk/python/tests/live_test.py
"""
import datetime
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "gatehouse-client"))

from gatehouse_client import AuthenticatedClient, Client  # noqa: E402
from gatehouse_client.api.billing import report_usage_events  # noqa: E402
from gatehouse_client.api.flags import get_flags  # noqa: E402
from gatehouse_client.api.oauth import oauth_token  # noqa: E402
from gatehouse_client.api.users import invite_user, list_users  # noqa: E402
from gatehouse_client.models import (  # noqa: E402
    Error,
    InviteUser,
    TokenForm,
    GrantType,
    TokenResponse,
    UsageEvent,
    UsageIngested,
    UserPage,
)

BASE_URL = os.environ.get("BASE_URL", "http://localhost:3100")
ENV = {**os.environ, "DATABASE_URL": os.environ.get("E2E_DATABASE_URL", os.environ.get("DATABASE_URL", ""))}
ROOT = HERE.parents[2]


def cli(*args):
    out = subprocess.run([os.environ.get("GATEHOUSE_BIN", "target/debug/gatehouse"), *args],
                         env=ENV, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def an_application_signs_in_reads_flags_and_reports_usage_once():
    app = cli("app", "register", "--name", f"Python SDK {time.time_ns()}", "--tenant", "acme",
              "--grant", "client_credentials")
    key = cli("app", "key", "issue", app["id"], "--scope", "flag:read", "--scope", "bill:write")
    anonymous = Client(base_url=BASE_URL, httpx_args={"auth": (key["client_id"], key["client_secret"])})
    token = oauth_token.sync(client=anonymous, body=TokenForm(
        grant_type=GrantType.CLIENT_CREDENTIALS, scope="flag:read bill:write"))
    assert isinstance(token, TokenResponse), token
    client = AuthenticatedClient(base_url=BASE_URL, token=token.access_token)
    flags = get_flags.sync(client=client)
    assert flags is not None and len(flags.flags.additional_properties) > 0, flags
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    event = UsageEvent(id=f"py-{time.time_ns()}", timestamp=now, event_type="api.call", quantity=2)
    first = report_usage_events.sync(client=client, body=event)
    assert isinstance(first, UsageIngested) and first.accepted == 1, first
    again = report_usage_events.sync(client=client, body=event)
    assert isinstance(again, UsageIngested) and again.duplicates == 1, again


def a_tenant_admin_creates_people_and_lists_them_with_cursors():
    tokens = json.loads(subprocess.run(["node", str(ROOT / "end2end/support/api_tokens.mjs")],
                                       check=True, capture_output=True, text=True).stdout)
    admin = AuthenticatedClient(base_url=BASE_URL, token=tokens["admin"])
    run = time.time_ns()
    made = set()
    for n in (1, 2, 3):
        person = invite_user.sync(client=admin, body=InviteUser(email=f"py-{run}-{n}@acme.test", name=f"Py {n}"))
        assert not isinstance(person, Error) and person is not None, person
        made.add(str(person.id))
    seen, cursor, pages = set(), None, 0
    while True:
        kwargs = {"cursor": cursor} if cursor else {}
        page = list_users.sync(client=admin, search=f"py-{run}", limit=2, **kwargs)
        assert isinstance(page, UserPage), page
        pages += 1
        seen |= {str(p.id) for p in page.data}
        cursor = page.next_cursor
        if not cursor:
            break
    assert seen == made and pages == 2, (seen, made, pages)
    refused = invite_user.sync_detailed(client=admin, body=InviteUser(email="nope@x.test", name="x" * 201))
    assert refused.status_code == 422 and isinstance(refused.parsed, Error), refused
    assert [d.field for d in refused.parsed.details] == ["name"], refused.parsed


if __name__ == "__main__":
    for check in (an_application_signs_in_reads_flags_and_reports_usage_once,
                  a_tenant_admin_creates_people_and_lists_them_with_cursors):
        check()
        print(f"ok - {check.__name__}")
