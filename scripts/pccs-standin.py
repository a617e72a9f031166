#!/usr/bin/env python3
"""A stand-in PCCS for load and fault runs on loopback (scripts/bench-cluster.sh).

Serves one platform's collateral, taken from a dcap-qvl collateral JSON file, the way a PCCS
(Intel PCS API v4) does: the signed JSON bodies byte for byte, the issuer chains URL-encoded
in the response headers, CRLs as DER.

    GET /sgx/certification/v4/tcb?fmspc=F          {"tcbInfo":..,"signature":".."}
                                                    + TCB-Info-Issuer-Chain
    GET /sgx/certification/v4/qe/identity          {"enclaveIdentity":..,"signature":".."}
                                                    + SGX-Enclave-Identity-Issuer-Chain
    GET /sgx/certification/v4/pckcrl?ca=C          DER + SGX-PCK-CRL-Issuer-Chain
    GET /sgx/certification/v4/rootcacrl            the DER as hex text (as a PCCS answers)
    GET /stats                                     {"requests": {path: count}}

F must be the FMSPC of the fixture's TCB info and C the CA that issued its PCK CRL
(`processor` or `platform`, read from the CRL's issuer); another FMSPC or CA is a 404, a
missing parameter a 400, as a PCCS answers.

It binds to a loopback address only and counts the requests it answers, so that a run can
say how much load the replicas put on the PCCS.

usage: pccs-standin.py COLLATERAL.json PORT
"""
import json
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

collateral_path, port = sys.argv[1], int(sys.argv[2])
with open(collateral_path) as f:
    c = json.load(f)

counts = {}
lock = threading.Lock()


def chain(pem):
    return urllib.parse.quote(pem, safe="")


FMSPC = json.loads(c["tcb_info"])["fmspc"].upper()
PCK_CRL = bytes.fromhex(c["pck_crl"])
# The issuer's common name is in the CRL's DER as plain text.
if b"Intel SGX PCK Platform CA" in PCK_CRL:
    CA = "platform"
elif b"Intel SGX PCK Processor CA" in PCK_CRL:
    CA = "processor"
else:
    sys.exit("pccs-standin: the PCK CRL is issued by neither PCK CA")
# The query parameter each path requires, and the one value this stand-in serves.
REQUIRED = {
    "/sgx/certification/v4/tcb": ("fmspc", FMSPC),
    "/sgx/certification/v4/pckcrl": ("ca", CA),
}

PIECES = {
    "/sgx/certification/v4/tcb": (
        ('{"tcbInfo":%s,"signature":"%s"}' % (c["tcb_info"], c["tcb_info_signature"])).encode(),
        "application/json",
        {"TCB-Info-Issuer-Chain": chain(c["tcb_info_issuer_chain"])},
    ),
    "/sgx/certification/v4/qe/identity": (
        ('{"enclaveIdentity":%s,"signature":"%s"}'
         % (c["qe_identity"], c["qe_identity_signature"])).encode(),
        "application/json",
        {"SGX-Enclave-Identity-Issuer-Chain": chain(c["qe_identity_issuer_chain"])},
    ),
    "/sgx/certification/v4/pckcrl": (
        PCK_CRL,
        "application/pkix-crl",
        {"SGX-PCK-CRL-Issuer-Chain": chain(c["pck_crl_issuer_chain"])},
    ),
    "/sgx/certification/v4/rootcacrl": (
        c["root_ca_crl"].encode(),
        "text/plain",
        {},
    ),
}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        path = url.path.rstrip("/")
        query = urllib.parse.parse_qs(url.query)
        if path == "/stats":
            with lock:
                body = json.dumps({"requests": counts}).encode()
            self.send(200, body, "application/json", {})
            return
        with lock:
            counts[path] = counts.get(path, 0) + 1
        if path not in PIECES:
            self.send(404, b"not found\n", "text/plain", {})
            return
        if path in REQUIRED:
            name, served = REQUIRED[path]
            given = query.get(name, [""])[0]
            if not given:
                self.send(400, b"missing parameter %s\n" % name.encode(), "text/plain", {})
                return
            if given.upper() != served.upper():
                self.send(404, b"no collateral for %s=%s\n" % (name.encode(), given.encode()),
                          "text/plain", {})
                return
        self.send(200, *PIECES[path])

    def send(self, status, body, ctype, headers):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
print(f"pccs-standin: serving {collateral_path} (FMSPC {FMSPC}, {CA} CA) on 127.0.0.1:{port}",
      flush=True)
try:
    server.serve_forever()
except KeyboardInterrupt:
    pass
