#!/usr/bin/env python3
"""A stand-in PCCS for load and fault runs on loopback (scripts/bench-cluster.sh).

Serves one platform's collateral, taken from a dcap-qvl collateral JSON file, the way a PCCS
(Intel PCS API v4) does: the signed JSON bodies byte for byte, the issuer chains URL-encoded
in the response headers, CRLs as DER.

    GET /sgx/certification/v4/tcb?fmspc=..         {"tcbInfo":..,"signature":".."}
                                                    + TCB-Info-Issuer-Chain
    GET /sgx/certification/v4/qe/identity          {"enclaveIdentity":..,"signature":".."}
                                                    + SGX-Enclave-Identity-Issuer-Chain
    GET /sgx/certification/v4/pckcrl?ca=..         DER + SGX-PCK-CRL-Issuer-Chain
    GET /sgx/certification/v4/rootcacrl            the DER as hex text (as a PCCS answers)
    GET /stats                                     {"requests": {path: count}}

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
        bytes.fromhex(c["pck_crl"]),
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
        path = urllib.parse.urlsplit(self.path).path.rstrip("/")
        with lock:
            counts[path] = counts.get(path, 0) + 1
        if path == "/stats":
            self.send(200, json.dumps({"requests": counts}).encode(), "application/json", {})
        elif path in PIECES:
            self.send(200, *PIECES[path])
        else:
            self.send(404, b"not found\n", "text/plain", {})

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
print(f"pccs-standin: serving {collateral_path} on 127.0.0.1:{port}", flush=True)
try:
    server.serve_forever()
except KeyboardInterrupt:
    pass
