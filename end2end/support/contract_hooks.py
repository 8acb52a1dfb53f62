"""Schemathesis hooks for the contract run (SCHEMATHESIS_HOOKS=contract_hooks): the bulk
routes take NDJSON, which schemathesis cannot serialise on its own. A generated list is
sent as one JSON document per line; a generated string as it is."""
import json

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode()
    items = value if isinstance(value, list) else [value]
    return "\n".join(json.dumps(item) for item in items).encode()
