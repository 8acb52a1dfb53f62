"""Loopback DNS server for the domain-verification tests (needs dnslib).

    python dns_server.py PORT RECORDS_JSON

Serves UDP and TCP on 127.0.0.1:PORT. RECORDS_JSON maps a name to its TXT strings, e.g.
{"_gatehouse-challenge.acme.test": ["gatehouse-domain-verification=abc"]}; it is read again for
every query, so a test may rewrite it while the server runs. A listed name answers its TXT
strings (an empty answer for other types), any other name gets NXDOMAIN. Prints
`dns ready PORT` once both sockets listen; stops on SIGTERM/SIGINT.
"""
import json
import signal
import sys
import threading

from dnslib import QTYPE, RCODE, RR, TXT
from dnslib.server import BaseResolver, DNSLogger, DNSServer


def canonical(name):
    return str(name).rstrip(".").lower()


class TxtFromFile(BaseResolver):
    def __init__(self, path):
        self.path = path

    def lookup(self, name):
        try:
            with open(self.path, encoding="utf-8") as f:
                table = json.load(f)
        except (OSError, ValueError):
            return None  # missing or half-written file: behave as if empty
        for key, values in table.items():
            if canonical(key) == name:
                return [values] if isinstance(values, str) else list(values)
        return None

    def resolve(self, request, handler):
        reply = request.reply()
        qname = request.q.qname
        values = self.lookup(canonical(qname))
        if values is None:
            reply.header.rcode = RCODE.NXDOMAIN
        elif request.q.qtype in (QTYPE.TXT, QTYPE.ANY):
            for value in values:
                reply.add_answer(RR(qname, QTYPE.TXT, rdata=TXT(value), ttl=0))
        return reply


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: dns_server.py PORT RECORDS_JSON")
    port, path = int(sys.argv[1]), sys.argv[2]
    resolver = TxtFromFile(path)
    quiet = DNSLogger(log="-request,-reply,-truncated,-data", prefix=False)
    servers = [DNSServer(resolver, address="127.0.0.1", port=port, tcp=tcp, logger=quiet)
               for tcp in (False, True)]
    for server in servers:
        server.start_thread()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    print(f"dns ready {port}", flush=True)
    stop.wait()
    for server in servers:
        server.stop()


if __name__ == "__main__":
    main()
