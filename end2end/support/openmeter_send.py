"""Send CloudEvents to Gatehouse through OpenMeter's own Python client (PyPI `openmeter`).

Usage: openmeter_send.py BASE_URL TOKEN SUBJECT

BASE_URL is Gatehouse's origin (the client appends /api/v1/events itself), TOKEN an
application access token (sent as `Authorization: Bearer TOKEN`), SUBJECT the tenant's domain.

Three calls, in order:
  single   one `api.call` event, fixed source and id, data {"quantity": 7}
           (POST, Content-Type: application/cloudevents+json)
  resend   the very same event again: Gatehouse must count it as a duplicate
  batch    three `storage.gb` events, data {"quantity": 2} each
           (POST, Content-Type: application/cloudevents-batch+json, a JSON array)

For each call one JSON line goes to stdout, e.g. {"call": "single", "status": 204}.
The client accepts 204 only: any other status raises, and so does a refused connection.
An exception ends the script with exit code 1 and one line "ClassName: message" on stderr
(e.g. "HttpResponseError: Operation returned an invalid status 'OK' Content: {...}").
"""

import datetime
import json
import sys
import uuid

from openmeter import Client
from openmeter.models import Event

SOURCE = "gatehouse-e2e/openmeter-python"
SINGLE_ID = "om-py-single-0001"


def event(subject, type_, id_, quantity, source=SOURCE):
    return Event(
        specversion="1.0",
        id=id_,
        source=source,
        type=type_,
        subject=subject,
        time=datetime.datetime.now(datetime.timezone.utc),
        data={"quantity": quantity},
    )


def status_of(pipeline_response, _deserialized, _headers):
    """`cls` hook of the generated client: its return replaces the call's None."""
    return pipeline_response.http_response.status_code


def main(argv):
    if len(argv) != 4:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    base_url, token, subject = argv[1:]
    # No retries: the client would otherwise re-POST on 500/503/504 after a back-off.
    with Client(endpoint=base_url.rstrip("/"), token=token, retry_total=0) as client:
        single = event(subject, "api.call", SINGLE_ID, 7)
        calls = [
            ("single", lambda: client.events.ingest_event(single, cls=status_of)),
            ("resend", lambda: client.events.ingest_event(single, cls=status_of)),
            (
                "batch",
                lambda: client.events.ingest_events(
                    [event(subject, "storage.gb", f"om-py-batch-{uuid.uuid4()}", 2) for _ in range(3)],
                    cls=status_of,
                ),
            ),
        ]
        for name, call in calls:
            print(json.dumps({"call": name, "status": call()}), flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except Exception as exc:  # one line: the client's messages add "\nContent: <body>"
        message = " ".join(str(exc).split())
        print(f"{type(exc).__name__}: {message}", file=sys.stderr)
        sys.exit(1)
