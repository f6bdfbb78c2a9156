#!/usr/bin/env python3
"""A stand-in for kube-apiserver (and, with role "kubelet", for the kubelet's HTTPS port).

No kube-apiserver or k3s binary can run on the test machines. This server responds to the few
calls harbor-keyless makes with the JSON shapes of the real API (metav1.Status error bodies,
/version, Node, Lease, SubjectAccessReview, TokenReview, TokenRequest). It authorizes each
request the way a k3s API server does with `--authorization-mode=Node,RBAC`
and the NodeRestriction admission plugin:

- group system:masters may do everything;
- a node (user system:node:NAME, group system:nodes) may get only its own Node, patch only
  its own nodes/status, create SubjectAccessReviews, TokenReviews and core/v1 Events, and
  use only its own Lease in kube-node-lease (kubernetes plugin/pkg/auth/authorizer/node and
  plugin/pkg/admission/noderestriction), plus what RBAC bindings grant system:nodes;
- everyone else gets what the configured RBAC bindings allow, plus the discovery paths that
  the bootstrap ClusterRoles system:public-info-viewer and system:discovery open to all, and
  the OIDC discovery paths that system:service-account-issuer-discovery opens to service
  accounts.

Known differences from the real server: a client certificate that fails verification (for
example an expired one) ends the TLS handshake here, where kube-apiserver completes the
handshake and answers 401, because Python's ssl module cannot request a client certificate
without verifying it. Only the fields harbor-keyless sends are modelled.

Usage: standin.py --config CONFIG.json --dir DIR
It makes its own CA, serving certificate and client certificates with `openssl` in DIR,
binds 127.0.0.1 on a free port and prints one JSON line: {"port": N, "dir": DIR}. It exits
on SIGTERM, when its standard input closes, or when its parent process exits.

CONFIG keys (all optional):
  role            "apiserver" (default), "kubelet", or "registry" (a Harbor-like registry's
                  /v2/ and /service/token endpoints)
  serverNames     SANs of the serving certificate (DNS names or IP addresses)
  clients         [{"name", "user", "groups", "expired"}]: client certificates to issue,
                  written to DIR/clients/NAME.crt and NAME.key (CN=user, O=each group)
  tokenFile       path of a JSON object {token: {"user", "groups", "audiences"}}, read on
                  every request so tests can rotate tokens
  apiAudiences    the API server's --api-audiences (k3s default when absent)
  version         the /version body
  nodes           {name: {"kubeletVersion": ..., "labels": {...}}}
  bindings        RBAC bindings: [{"kind": "ClusterRoleBinding"|"RoleBinding", "name",
                  "namespace", "roleKind", "roleName", "subjects": [{"kind", "name",
                  "namespace"}], "rules": [{"verbs", "apiGroups", "resources",
                  "resourceNames", "nonResourceURLs"}]}]
  faults          [{"method", "path", "status", "delay", "times"}]: answer matching
                  requests late (delay in seconds) and/or with an error status; "times"
                  limits how many requests a fault applies to
  metrics         text for GET /metrics
  jwks            body of /openid/v1/jwks; issuer for /.well-known/openid-configuration
  issuer
  requestLog      path of a JSON-lines log: identity, method, path, status, bytes (response
                  body), requestBytes, durationMs
  caDir           directory holding ca.crt and ca.key of another stand-in to sign with
                  (a kubelet stand-in trusted like the API server)
  mintJWT         {"kid", "issuer"}: mint JWT-shaped tokens (unsigned, fake signature) with
                  this kid header and iss claim, in place of opaque ones
  registry        for role "registry": {"accept": bool (accept any Basic credential with
                  username "username", default "jwt"), "challenge": false to omit
                  Www-Authenticate, "status": status for GET /v2/ without credentials}
"""

import argparse
import base64
import copy
import datetime
import gzip
import http.server
import ipaddress
import json
import os
import re
import secrets
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import uuid

K3S_API_AUDIENCES = ["https://kubernetes.default.svc.cluster.local", "k3s"]
NODE_LEASE_NAMESPACE = "kube-node-lease"

DEFAULT_VERSION = {
    "major": "1",
    "minor": "34",
    "gitVersion": "v1.34.1+k3s1",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2025-09-10T00:00:00Z",
    "goVersion": "go1.24.6",
    "compiler": "gc",
    "platform": "linux/amd64",
}

# Paths every identity may GET: bootstrap ClusterRoles system:public-info-viewer and
# system:discovery (kubernetes plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go).
PUBLIC_PATHS = {"/version", "/version/", "/healthz", "/livez", "/readyz", "/api", "/api/", "/apis", "/apis/"}
# system:service-account-issuer-discovery, bound to group system:serviceaccounts.
ISSUER_DISCOVERY_PATHS = {"/.well-known/openid-configuration", "/openid/v1/jwks"}


# ---------------------------------------------------------------------------------------
# Certificates


OPENSSL_CONFIG = """
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ ca_ext ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ ca ]
default_ca = standin_ca
[ standin_ca ]
database = {dir}/index.txt
new_certs_dir = {dir}/issued
serial = {dir}/serial
default_md = sha256
policy = policy_any
unique_subject = no
[ policy_any ]
organizationName = optional
commonName = supplied
[ server_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = {sans}
[ client_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
"""


def openssl(*args):
    result = subprocess.run(["openssl", *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError("openssl %s failed: %s" % (args[0], result.stderr.strip()))


def subject(user, groups):
    parts = ["/O=%s" % g for g in groups] + ["/CN=%s" % user]
    return "".join(parts)


def openssl_date(moment):
    return moment.strftime("%Y%m%d%H%M%SZ")


class CertificateAuthority:
    """A CA made with `openssl`, issuing serving and client certificates into a directory."""

    def __init__(self, directory, name, sans, reuse=None):
        self.dir = directory
        os.makedirs(os.path.join(directory, "issued"), exist_ok=True)
        open(os.path.join(directory, "index.txt"), "w").close()
        with open(os.path.join(directory, "serial"), "w") as f:
            f.write("1000\n")
        san_list = []
        for name_or_ip in sans:
            try:
                ipaddress.ip_address(name_or_ip)
                san_list.append("IP:" + name_or_ip)
            except ValueError:
                san_list.append("DNS:" + name_or_ip)
        self.config = os.path.join(directory, "openssl.cnf")
        with open(self.config, "w") as f:
            f.write(OPENSSL_CONFIG.replace("{dir}", directory).replace("{sans}", ",".join(san_list) or "DNS:localhost"))
        self.cert = os.path.join(directory, "ca.crt")
        self.key = os.path.join(directory, "ca.key")
        if reuse:
            # Sign with another stand-in's CA, as k3s signs kubelet serving certificates with
            # its server CA.
            shutil.copyfile(os.path.join(reuse, "ca.crt"), self.cert)
            shutil.copyfile(os.path.join(reuse, "ca.key"), self.key)
            return
        openssl("req", "-x509", "-config", self.config, "-extensions", "ca_ext", "-newkey", "ec",
                "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", self.key,
                "-out", self.cert, "-days", "3650", "-subj", "/CN=" + name)

    def issue(self, base, subj, extensions, expired=False):
        key, csr, cert = base + ".key", base + ".csr", base + ".crt"
        openssl("req", "-new", "-config", self.config, "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", csr, "-subj", subj)
        now = datetime.datetime.now(datetime.timezone.utc)
        if expired:
            start, end = now - datetime.timedelta(days=30), now - datetime.timedelta(days=1)
        else:
            start, end = now - datetime.timedelta(hours=1), now + datetime.timedelta(days=2)
        openssl("ca", "-batch", "-config", self.config, "-extensions", extensions, "-preserveDN",
                "-notext", "-cert", self.cert, "-keyfile", self.key, "-in", csr, "-out", cert,
                "-startdate", openssl_date(start), "-enddate", openssl_date(end))
        os.remove(csr)
        return cert, key


# ---------------------------------------------------------------------------------------
# Status bodies, shaped like k8s.io/apimachinery/pkg/api/errors


def status_body(code, reason, message, details=None):
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason}
    if details is not None:
        body["details"] = details
    body["code"] = code
    return body


def qualified(resource, group):
    return resource + "." + group if group else resource


def forbidden_status(attrs, user, reason=""):
    """403 body as the API server's authorization filter writes it."""
    verb = attrs["verb"]
    if attrs.get("path") is not None:
        message = "User %s cannot %s path %s" % (json.dumps(user), verb, json.dumps(attrs["path"]))
        text = "forbidden: " + message
        if reason:
            text += ": " + reason
        return status_body(403, "Forbidden", text, {})
    resource = attrs["resource"] + ("/" + attrs["subresource"] if attrs.get("subresource") else "")
    scope = ("in the namespace %s" % json.dumps(attrs["namespace"])) if attrs.get("namespace") else "at the cluster scope"
    message = "User %s cannot %s resource %s in API group %s %s" % (
        json.dumps(user), verb, json.dumps(resource), json.dumps(attrs["group"]), scope)
    if reason:
        message += ": " + reason
    return admission_forbidden(attrs, message)


def admission_forbidden(attrs, message):
    """403 body of errors.NewForbidden(groupResource, name, err)."""
    name = attrs.get("name") or ""
    target = qualified(attrs["resource"], attrs["group"])
    text = ("%s %s is forbidden: %s" % (target, json.dumps(name), message)) if name else ("%s is forbidden: %s" % (target, message))
    details = {"group": attrs["group"], "kind": attrs["resource"]} if attrs["group"] else {"kind": attrs["resource"]}
    if name:
        details = {"name": name, **details}
    return status_body(403, "Forbidden", text, details)


def not_found_status(resource, group, name):
    details = {"name": name, "group": group, "kind": resource} if group else {"name": name, "kind": resource}
    return status_body(404, "NotFound", "%s %s not found" % (qualified(resource, group), json.dumps(name)), details)


def conflict_status(resource, group, name):
    return status_body(409, "Conflict",
                       "Operation cannot be fulfilled on %s %s: the object has been modified; please apply your changes to the latest version and try again"
                       % (qualified(resource, group), json.dumps(name)),
                       {"name": name, "group": group, "kind": resource})


def already_exists_status(resource, group, name):
    return status_body(409, "AlreadyExists", "%s %s already exists" % (qualified(resource, group), json.dumps(name)),
                       {"name": name, "group": group, "kind": resource})


UNAUTHORIZED = status_body(401, "Unauthorized", "Unauthorized")
PATH_NOT_FOUND = status_body(404, "NotFound", "the server could not find the requested resource", {})


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------------------
# Authorization


class Identity:
    def __init__(self, user, groups, audiences=None):
        self.user = user
        self.groups = list(groups)
        self.audiences = audiences

    def node_name(self):
        if self.user.startswith("system:node:") and "system:nodes" in self.groups:
            return self.user[len("system:node:"):]
        return None


def matches(values, value):
    return "*" in values or value in values


def rule_allows(rule, attrs):
    if attrs.get("path") is not None:
        urls = rule.get("nonResourceURLs", [])
        path = attrs["path"]
        return matches(rule.get("verbs", []), attrs["verb"]) and any(
            u == "*" or u == path or (u.endswith("*") and path.startswith(u[:-1])) for u in urls)
    resource = attrs["resource"] + ("/" + attrs["subresource"] if attrs.get("subresource") else "")
    names = rule.get("resourceNames", [])
    return (matches(rule.get("verbs", []), attrs["verb"])
            and matches(rule.get("apiGroups", []), attrs["group"])
            and matches(rule.get("resources", []), resource)
            and (not names or attrs.get("name") in names))


def subject_matches(subject, identity):
    kind = subject.get("kind")
    if kind == "User":
        return subject.get("name") == identity.user
    if kind == "Group":
        return subject.get("name") in identity.groups
    if kind == "ServiceAccount":
        return identity.user == "system:serviceaccount:%s:%s" % (subject.get("namespace"), subject.get("name"))
    return False


def describe_subject(subject):
    kind = subject.get("kind")
    if kind == "ServiceAccount":
        return 'ServiceAccount "%s/%s"' % (subject.get("name"), subject.get("namespace"))
    return '%s "%s"' % (kind, subject.get("name"))


class Authorizer:
    """Node authorizer, NodeRestriction and RBAC, in the order k3s configures them."""

    def __init__(self, bindings):
        self.bindings = bindings

    def authorize(self, identity, attrs):
        """Return (allowed, reason, admission_message). The reason is what a
        SubjectAccessReview shows, and what a 403 message ends with. admission_message is
        set when NodeRestriction rejects a request that authorization allowed."""
        if "system:masters" in identity.groups:
            return True, "", None
        node_reason = ""
        node = identity.node_name()
        if node is not None:
            allowed, detail = self.node_decision(node, attrs)
            if allowed:
                return True, "", detail
            node_reason = detail
        allowed, reason, _ = self.rbac(identity, attrs)
        if allowed:
            return True, reason, None
        return False, node_reason, None

    def node_decision(self, node, attrs):
        """The Node authorizer for the resources harbor-keyless uses (kubernetes
        plugin/pkg/auth/authorizer/node/node_authorizer.go): (True, admission_message) to
        allow, or (False, reason) for no opinion, after which RBAC decides. Resources it does
        not subdivide are checked against the bootstrap NodeRules."""
        if attrs.get("path") is not None:
            return False, ""
        resource, group, verb, name = attrs["resource"], attrs["group"], attrs["verb"], attrs.get("name")
        sub = attrs.get("subresource") or ""

        if group == "" and resource == "nodes":
            if sub == "" and verb in ("get", "list", "watch"):
                if name == node:
                    return True, None
                if not name:
                    return False, "node '%s' cannot read all nodes, only its own Node object" % node
                return False, "node '%s' cannot read '%s', only its own Node object" % (node, name)
            if sub == "" and verb in ("create", "update", "patch"):
                return True, None if name in (None, node) else 'node "%s" is not allowed to modify node "%s"' % (node, name)
            if sub == "status" and verb in ("update", "patch"):
                return True, None if name == node else 'node "%s" is not allowed to modify node "%s"' % (node, name)
            return False, ""

        if group == "coordination.k8s.io" and resource == "leases":
            if verb not in ("get", "create", "update", "patch", "delete"):
                return False, "can only get, create, update, patch, or delete a node lease"
            if attrs.get("namespace") != NODE_LEASE_NAMESPACE:
                return False, 'can only access leases in the "%s" system namespace' % NODE_LEASE_NAMESPACE
            if verb != "create" and name != node:
                return False, "can only access node lease with the same name as the requesting node"
            # NodeRestriction checks the name on create, from the new object.
            if verb == "create" and name is not None and name != node:
                return True, "can only access node lease with the same name as the requesting node"
            return True, None

        if group == "" and resource == "serviceaccounts":
            if verb != "create" or sub != "token" or not name:
                return False, "can only create tokens for individual service accounts"
            # The stand-in tracks no pods, so no service account is related to a node.
            return False, "no relationship found between node '%s' and this object" % node

        node_rules = [
            ("authentication.k8s.io", "tokenreviews", ("create",)),
            ("authorization.k8s.io", "subjectaccessreviews", ("create",)),
            ("authorization.k8s.io", "localsubjectaccessreviews", ("create",)),
            ("", "events", ("create", "update", "patch")),
        ]
        for rule_group, rule_resource, verbs in node_rules:
            if group == rule_group and resource == rule_resource and sub == "" and verb in verbs:
                return True, None
        return False, ""

    def rbac(self, identity, attrs):
        path = attrs.get("path")
        if path is not None and attrs["verb"] == "get":
            if path in PUBLIC_PATHS:
                return True, 'RBAC: allowed by ClusterRoleBinding "system:public-info-viewer" of ClusterRole "system:public-info-viewer" to Group "system:authenticated"', None
            if path in ISSUER_DISCOVERY_PATHS and "system:serviceaccounts" in identity.groups:
                return True, 'RBAC: allowed by ClusterRoleBinding "system:service-account-issuer-discovery" of ClusterRole "system:service-account-issuer-discovery" to Group "system:serviceaccounts"', None
        for binding in self.bindings:
            namespaced = binding.get("kind") == "RoleBinding"
            if namespaced and (path is not None or attrs.get("namespace") != binding.get("namespace")):
                continue
            for subject in binding.get("subjects", []):
                if not subject_matches(subject, identity):
                    continue
                if any(rule_allows(rule, attrs) for rule in binding.get("rules", [])):
                    if namespaced:
                        reason = 'RBAC: allowed by RoleBinding "%s/%s" of %s "%s" to %s' % (
                            binding.get("name"), binding.get("namespace"), binding.get("roleKind", "Role"),
                            binding.get("roleName"), describe_subject(subject))
                    else:
                        reason = 'RBAC: allowed by ClusterRoleBinding "%s" of ClusterRole "%s" to %s' % (
                            binding.get("name"), binding.get("roleName"), describe_subject(subject))
                    return True, reason, None
        return False, "", None


# ---------------------------------------------------------------------------------------
# State


class State:
    def __init__(self, config, directory):
        self.config = config
        self.dir = directory
        self.lock = threading.RLock()
        self.role = config.get("role", "apiserver")
        self.authorizer = Authorizer(config.get("bindings", []))
        self.api_audiences = config.get("apiAudiences", K3S_API_AUDIENCES)
        self.version = config.get("version", DEFAULT_VERSION)
        self.faults = copy.deepcopy(config.get("faults", []))
        self.minted_tokens = {}
        self.resource_version = 1000
        self.nodes = {name: self.make_node(name, spec) for name, spec in config.get("nodes", {}).items()}
        self.leases = {}
        self.events = {}
        self.log_path = config.get("requestLog")

    def next_resource_version(self):
        self.resource_version += 1
        return str(self.resource_version)

    def make_node(self, name, spec):
        version = spec.get("kubeletVersion", self.version["gitVersion"])
        return {
            "kind": "Node",
            "apiVersion": "v1",
            "metadata": {"name": name, "uid": str(uuid.uuid4()), "resourceVersion": self.next_resource_version(),
                         "creationTimestamp": now_rfc3339(),
                         "labels": dict({"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                                         "node.kubernetes.io/instance-type": "k3s"}, **spec.get("labels", {})),
                         "annotations": {"k3s.io/hostname": name}},
            "spec": {"podCIDR": "10.42.0.0/24", "podCIDRs": ["10.42.0.0/24"], "providerID": "k3s://" + name},
            "status": {
                "conditions": [{"type": "Ready", "status": "True", "lastHeartbeatTime": now_rfc3339(),
                                "lastTransitionTime": now_rfc3339(), "reason": "KubeletReady",
                                "message": "kubelet is posting ready status"}],
                "nodeInfo": {"machineID": "0" * 32, "systemUUID": "00000000-0000-0000-0000-000000000000",
                             "bootID": "00000000-0000-0000-0000-000000000000", "kernelVersion": "6.1.0-40-amd64",
                             "osImage": "Debian GNU/Linux 12 (bookworm)", "containerRuntimeVersion": "containerd://2.1.4-k3s1",
                             "kubeletVersion": version, "kubeProxyVersion": version, "operatingSystem": "linux",
                             "architecture": "amd64"},
            },
        }

    def tokens(self):
        table = {}
        path = self.config.get("tokenFile")
        if path and os.path.exists(path):
            with open(path) as f:
                table.update(json.load(f))
        with self.lock:
            table.update(self.minted_tokens)
        return table

    def take_fault(self, method, path):
        with self.lock:
            for fault in self.faults:
                if fault.get("method", method) != method or fault.get("path") != path:
                    continue
                times = fault.get("times")
                if times is not None:
                    if times <= 0:
                        continue
                    fault["times"] = times - 1
                return dict(fault)
        return None

    def log(self, entry):
        if not self.log_path:
            return
        with self.lock:
            with open(self.log_path, "a") as f:
                f.write(json.dumps(entry, sort_keys=True) + "\n")


# ---------------------------------------------------------------------------------------
# Requests


API_ROUTES = [
    (re.compile(r"^/api/v1/nodes$"), "nodes", ""),
    (re.compile(r"^/api/v1/nodes/(?P<name>[^/]+)$"), "nodes", ""),
    (re.compile(r"^/api/v1/nodes/(?P<name>[^/]+)/(?P<sub>status)$"), "nodes", ""),
    (re.compile(r"^/api/v1/namespaces/(?P<ns>[^/]+)/events$"), "events", ""),
    (re.compile(r"^/api/v1/namespaces/(?P<ns>[^/]+)/events/(?P<name>[^/]+)$"), "events", ""),
    (re.compile(r"^/api/v1/namespaces/(?P<ns>[^/]+)/serviceaccounts/(?P<name>[^/]+)/(?P<sub>token)$"), "serviceaccounts", ""),
    (re.compile(r"^/apis/authorization\.k8s\.io/v1/subjectaccessreviews$"), "subjectaccessreviews", "authorization.k8s.io"),
    (re.compile(r"^/apis/authentication\.k8s\.io/v1/tokenreviews$"), "tokenreviews", "authentication.k8s.io"),
    (re.compile(r"^/apis/coordination\.k8s\.io/v1/namespaces/(?P<ns>[^/]+)/leases$"), "leases", "coordination.k8s.io"),
    (re.compile(r"^/apis/coordination\.k8s\.io/v1/namespaces/(?P<ns>[^/]+)/leases/(?P<name>[^/]+)$"), "leases", "coordination.k8s.io"),
]

VERBS = {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


def request_attributes(method, path):
    """Authorization attributes of a request, as the API server's request-info resolver
    derives them; None for an unknown resource path."""
    for pattern, resource, group in API_ROUTES:
        m = pattern.match(path)
        if not m:
            continue
        parts = m.groupdict()
        verb = VERBS.get(method, method.lower())
        if method == "GET" and not parts.get("name"):
            verb = "list"
        return {"verb": verb, "resource": resource, "group": group, "namespace": parts.get("ns") or "",
                "name": parts.get("name"), "subresource": parts.get("sub") or ""}
    if path.startswith("/api/") or path.startswith("/apis/"):
        return None
    return {"verb": method.lower(), "path": path}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "apistandin"
    state = None

    def log_message(self, format, *args):
        pass

    def setup(self):
        # Go's net/http (kube-apiserver) disables Nagle's algorithm. Without this the separate
        # header and body writes wait for the client's delayed ACK (about 40 ms per request).
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().setup()

    def handle(self):
        try:
            super().handle()
        except (ssl.SSLError, ConnectionError, OSError) as error:
            # A rejected client certificate or a client that went away.
            if isinstance(error, ssl.SSLError):
                self.state.log({"identity": None, "method": None, "path": None, "status": 0, "bytes": 0,
                                "tls": error.reason or str(error)})

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def do_DELETE(self):
        self.dispatch("DELETE")

    # -- plumbing

    def send(self, code, body, identity, content_type="application/json", headers=None, compressible=False):
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = body
        # Like the API server's /metrics handler (Prometheus client_golang), compress when the
        # client accepts gzip.
        if compressible and "gzip" in (self.headers.get("Accept-Encoding") or ""):
            data = gzip.compress(data)
            headers = dict(headers or {}, **{"Content-Encoding": "gzip"})
        # Log before sending, so a client that has the response also finds its log entry.
        self.state.log({"identity": identity.user if identity else None, "method": self.command,
                        "path": self.path, "status": code, "bytes": len(data),
                        "requestBytes": getattr(self, "request_bytes", 0),
                        "durationMs": round((time.monotonic() - getattr(self, "started", time.monotonic())) * 1000, 1)})
        try:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Audit-Id", str(uuid.uuid4()))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (ConnectionError, OSError):
            pass

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def authenticate(self):
        """Return (identity, error_status); a client certificate wins over a token."""
        cert = self.connection.getpeercert() if hasattr(self.connection, "getpeercert") else None
        if cert:
            user, groups = None, []
            for rdn in cert.get("subject", ()):
                for key, value in rdn:
                    if key == "commonName":
                        user = value
                    elif key == "organizationName":
                        groups.append(value)
            if user:
                return Identity(user, groups + ["system:authenticated"]), None
        header = self.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            entry = self.state.tokens().get(header[len("Bearer "):].strip())
            if entry is None:
                return None, UNAUTHORIZED
            audiences = entry.get("audiences", self.state.api_audiences)
            if not set(audiences) & set(self.state.api_audiences):
                return None, UNAUTHORIZED
            return Identity(entry["user"], entry.get("groups", []) + ["system:authenticated"]), None
        return Identity("system:anonymous", ["system:unauthenticated"]), None

    def dispatch(self, method):
        self.started = time.monotonic()
        path = self.path.split("?", 1)[0]
        identity, failure = self.authenticate()
        body = self.read_body()
        self.request_bytes = len(body)
        if failure is not None:
            return self.send(401, failure, None)

        fault = self.state.take_fault(method, path)
        if fault:
            if fault.get("delay"):
                time.sleep(float(fault["delay"]))
            status = fault.get("status")
            if status == 500:
                return self.send(500, status_body(500, "InternalError", "Internal error occurred: injected by the API stand-in",
                                                  {"causes": [{"message": "injected by the API stand-in"}]}), identity)
            if status == 429:
                return self.send(429, status_body(429, "TooManyRequests", "Too many requests, please try again later.",
                                                  {"retryAfterSeconds": 1}), identity, headers={"Retry-After": "1"})
            if status == 503:
                return self.send(503, status_body(503, "ServiceUnavailable", "the server is currently unable to handle the request"), identity)

        if self.state.role == "kubelet":
            return self.kubelet(method, path, identity)
        if self.state.role == "registry":
            return self.registry(method, path)

        attrs = request_attributes(method, path)
        if attrs is None:
            return self.send(404, PATH_NOT_FOUND, identity)
        try:
            payload = json.loads(body) if body else None
        except ValueError as error:
            return self.send(400, status_body(400, "BadRequest", "error decoding request body: %s" % error), identity)

        # Authorization gets no name for a create, but admission checks the new object's name.
        allowed, reason, _ = self.state.authorizer.authorize(identity, attrs)
        if not allowed:
            return self.send(403, forbidden_status(attrs, identity.user, reason), identity)
        if method == "POST" and attrs.get("path") is None and attrs.get("name") is None and isinstance(payload, dict):
            attrs = dict(attrs, name=(payload.get("metadata") or {}).get("name"))
        _, _, admission = self.state.authorizer.authorize(identity, attrs)
        if admission:
            return self.send(403, admission_forbidden(attrs, admission), identity)

        if attrs.get("path") is not None:
            return self.non_resource(path, identity)
        handler = getattr(self, "handle_" + attrs["resource"], None)
        return handler(method, attrs, payload, identity)

    # -- non-resource paths

    def non_resource(self, path, identity):
        if path in ("/version", "/version/"):
            return self.send(200, self.state.version, identity)
        if path in ("/healthz", "/livez", "/readyz"):
            return self.send(200, "ok", identity, "text/plain; charset=utf-8")
        if path == "/metrics":
            return self.send(200, self.state.config.get("metrics", ""), identity, "text/plain; version=0.0.4; charset=utf-8",
                             compressible=True)
        if path == "/openid/v1/jwks":
            return self.send(200, self.state.config.get("jwks", {"keys": []}), identity, "application/jwk-set+json")
        if path == "/.well-known/openid-configuration":
            issuer = self.state.config.get("issuer", "https://kubernetes.default.svc.cluster.local")
            return self.send(200, {"issuer": issuer, "jwks_uri": "https://127.0.0.1/openid/v1/jwks",
                                   "response_types_supported": ["id_token"], "subject_types_supported": ["public"],
                                   "id_token_signing_alg_values_supported": ["RS256"]}, identity)
        return self.send(404, "404 page not found\n", identity, "text/plain; charset=utf-8")

    def kubelet(self, method, path, identity):
        # The kubelet authorizes /metrics as subresource "metrics" of nodes and returns
        # denials as plain text.
        attrs = {"verb": "get", "resource": "nodes", "group": "", "namespace": "", "name": None, "subresource": "metrics"}
        allowed, _, _ = self.state.authorizer.authorize(identity, attrs)
        if not allowed:
            text = "Forbidden (user=%s, verb=get, resource=nodes, subresource=metrics)" % identity.user
            return self.send(403, text, identity, "text/plain; charset=utf-8")
        if path == "/metrics" and method == "GET":
            return self.send(200, self.state.config.get("metrics", ""), identity, "text/plain; version=0.0.4; charset=utf-8",
                             compressible=True)
        return self.send(404, "404 page not found\n", identity, "text/plain; charset=utf-8")

    def registry(self, method, path):
        # A Harbor-like registry: /v2/ challenges with Bearer and a token realm; the realm
        # accepts or rejects the Basic credential as configured. Credentials are never logged.
        settings = self.state.config.get("registry", {})
        realm = "https://127.0.0.1:%d/service/token" % self.server.server_address[1]
        challenge = {"Www-Authenticate": 'Bearer realm="%s",service="harbor-registry"' % realm}
        if settings.get("challenge") is False:
            challenge = {}
        unauthorized = {"errors": [{"code": "UNAUTHORIZED", "message": "unauthorized: authentication required"}]}
        if path in ("/v2/", "/v2") and method == "GET":
            status = settings.get("status", 401)
            if status != 401:
                return self.send(status, {"errors": [{"code": "UNKNOWN", "message": "status set by the registry stand-in"}]}, None)
            return self.send(401, unauthorized, None, headers=challenge)
        if path == "/service/token" and method == "GET":
            header = self.headers.get("Authorization", "")
            if not header.startswith("Basic "):
                return self.send(401, unauthorized, None)
            try:
                username, _, password = base64.b64decode(header[len("Basic "):]).decode().partition(":")
            except ValueError:
                return self.send(400, {"errors": [{"code": "UNKNOWN", "message": "invalid basic credential"}]}, None)
            if settings.get("accept") and username == settings.get("username", "jwt") and password:
                return self.send(200, {"token": "registry-" + secrets.token_hex(8), "expires_in": 1800,
                                       "issued_at": now_rfc3339()}, None)
            return self.send(401, {"errors": [{"code": "UNAUTHORIZED", "message": "no robots matched your token"}]}, None)
        return self.send(404, {"errors": [{"code": "NOT_FOUND", "message": "not found"}]}, None)

    # -- resources

    def handle_nodes(self, method, attrs, payload, identity):
        name = attrs.get("name")
        with self.state.lock:
            if name is None:
                items = [copy.deepcopy(n) for n in self.state.nodes.values()]
                return self.send(200, {"kind": "NodeList", "apiVersion": "v1",
                                       "metadata": {"resourceVersion": str(self.state.resource_version)}, "items": items}, identity)
            node = self.state.nodes.get(name)
            if node is None:
                return self.send(404, not_found_status("nodes", "", name), identity)
            if method == "GET":
                return self.send(200, copy.deepcopy(node), identity)
            if method == "PATCH" and attrs["subresource"] == "status":
                if self.headers.get("Content-Type") != "application/strategic-merge-patch+json":
                    return self.send(415, status_body(415, "UnsupportedMediaType",
                                                      "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json"), identity)
                merge_node_status(node, (payload or {}).get("status", {}))
                node["metadata"]["resourceVersion"] = self.state.next_resource_version()
                return self.send(200, copy.deepcopy(node), identity)
        return self.send(405, status_body(405, "MethodNotAllowed", "the server does not allow this method on the requested resource"), identity)

    def handle_events(self, method, attrs, payload, identity):
        namespace = attrs["namespace"]
        with self.state.lock:
            if method == "POST":
                event = copy.deepcopy(payload or {})
                meta = event.setdefault("metadata", {})
                if not meta.get("name") and meta.get("generateName"):
                    meta["name"] = meta["generateName"] + secrets.token_hex(3)
                if not meta.get("name"):
                    return self.send(422, status_body(422, "Invalid", 'Event "" is invalid: metadata.name: Required value: name or generateName is required',
                                                      {"kind": "Event", "causes": [{"reason": "FieldValueRequired", "message": "Required value: name or generateName is required", "field": "metadata.name"}]}), identity)
                if meta.get("namespace", namespace) != namespace:
                    return self.send(400, status_body(400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request"), identity)
                # Events about a Node or PersistentVolume must be in "" or "default"; any other
                # event must be in its object's namespace (kubernetes ValidateEvent,
                # pkg/api/validation/events.go).
                involved = event.get("involvedObject") or {}
                involved_namespace = involved.get("namespace") or ""
                if involved.get("kind") in ("Node", "PersistentVolume"):
                    problem = "not allowed for node" if namespace not in ("", "default") else None
                else:
                    problem = "does not match involvedObject" if namespace != involved_namespace else None
                if problem:
                    return self.send(422, status_body(422, "Invalid", 'Event %s is invalid: involvedObject.namespace: Invalid value: %s: %s'
                                                      % (json.dumps(meta["name"]), json.dumps(involved_namespace), problem),
                                                      {"name": meta["name"], "kind": "Event", "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: %s: %s" % (json.dumps(involved_namespace), problem), "field": "involvedObject.namespace"}]}), identity)
                if (namespace, meta["name"]) in self.state.events:
                    return self.send(409, already_exists_status("events", "", meta["name"]), identity)
                meta.update({"namespace": namespace, "uid": str(uuid.uuid4()),
                             "resourceVersion": self.state.next_resource_version(), "creationTimestamp": now_rfc3339()})
                event.setdefault("kind", "Event")
                event.setdefault("apiVersion", "v1")
                self.state.events[(namespace, meta["name"])] = event
                return self.send(201, event, identity)
            if method == "GET" and attrs.get("name") is None:
                items = [copy.deepcopy(e) for (ns, _), e in self.state.events.items() if ns == namespace]
                return self.send(200, {"kind": "EventList", "apiVersion": "v1",
                                       "metadata": {"resourceVersion": str(self.state.resource_version)}, "items": items}, identity)
            event = self.state.events.get((namespace, attrs.get("name")))
            if event is None:
                return self.send(404, not_found_status("events", "", attrs.get("name")), identity)
            return self.send(200, copy.deepcopy(event), identity)

    def handle_serviceaccounts(self, method, attrs, payload, identity):
        spec = (payload or {}).get("spec", {})
        audiences = spec.get("audiences") or self.state.api_audiences
        seconds = int(spec.get("expirationSeconds") or 3600)
        if seconds < 600:
            return self.send(422, status_body(422, "Invalid", 'TokenRequest.authentication.k8s.io "%s" is invalid: spec.expirationSeconds: Invalid value: %d: may not specify a duration less than 10 minutes' % (attrs["name"], seconds),
                                              {"name": attrs["name"], "group": "authentication.k8s.io", "kind": "TokenRequest"}), identity)
        namespace = attrs["namespace"]
        user = "system:serviceaccount:%s:%s" % (namespace, attrs["name"])
        token = "standin." + secrets.token_urlsafe(32)
        shape = self.state.config.get("mintJWT")
        if shape:
            def b64(obj):
                return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")
            claims = {"aud": audiences, "iss": shape.get("issuer", "https://kubernetes.default.svc.cluster.local"),
                      "sub": user, "exp": int(time.time()) + seconds}
            token = b64({"alg": "RS256", "kid": shape.get("kid", "")}) + "." + b64(claims) + "." + secrets.token_urlsafe(32)
        with self.state.lock:
            self.state.minted_tokens[token] = {"user": user, "groups": ["system:serviceaccounts", "system:serviceaccounts:" + namespace],
                                               "audiences": audiences}
        expiry = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")
        return self.send(201, {"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
                               "metadata": {"name": attrs["name"], "namespace": namespace, "creationTimestamp": None},
                               "spec": {"audiences": audiences, "expirationSeconds": seconds, "boundObjectRef": None},
                               "status": {"token": token, "expirationTimestamp": expiry}}, identity)

    def handle_subjectaccessreviews(self, method, attrs, payload, identity):
        spec = (payload or {}).get("spec", {})
        subject = Identity(spec.get("user", ""), spec.get("groups", []))
        resource_attrs = spec.get("resourceAttributes")
        non_resource = spec.get("nonResourceAttributes")
        if resource_attrs:
            review = {"verb": resource_attrs.get("verb", ""), "resource": resource_attrs.get("resource", ""),
                      "group": resource_attrs.get("group", ""), "namespace": resource_attrs.get("namespace", ""),
                      "name": resource_attrs.get("name") or None, "subresource": resource_attrs.get("subresource", "")}
        elif non_resource:
            review = {"verb": non_resource.get("verb", ""), "path": non_resource.get("path", "")}
        else:
            return self.send(422, status_body(422, "Invalid", 'SubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified',
                                              {"group": "authorization.k8s.io", "kind": "SubjectAccessReview"}), identity)
        allowed, reason, _ = self.state.authorizer.authorize(subject, review)
        status = {"allowed": allowed}
        if reason:
            status["reason"] = reason
        return self.send(201, {"kind": "SubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
                               "metadata": {"creationTimestamp": None}, "spec": spec, "status": status}, identity)

    def handle_tokenreviews(self, method, attrs, payload, identity):
        spec = (payload or {}).get("spec", {})
        requested = spec.get("audiences") or self.state.api_audiences
        entry = self.state.tokens().get(spec.get("token", ""))
        status = {"user": {}}
        if entry is None:
            status["error"] = "[invalid bearer token, token lookup failed]"
        else:
            common = [a for a in requested if a in entry.get("audiences", self.state.api_audiences)]
            if common:
                status = {"authenticated": True, "user": {"username": entry["user"], "uid": str(uuid.uuid5(uuid.NAMESPACE_OID, entry["user"])),
                                                          "groups": entry.get("groups", []) + ["system:authenticated"]},
                          "audiences": common}
            else:
                status["error"] = "[invalid bearer token, token audiences %s is invalid for the target audiences %s]" % (
                    json.dumps(entry.get("audiences", [])), json.dumps(requested))
        return self.send(201, {"kind": "TokenReview", "apiVersion": "authentication.k8s.io/v1",
                               "metadata": {"creationTimestamp": None}, "spec": spec, "status": status}, identity)

    def handle_leases(self, method, attrs, payload, identity):
        namespace, name = attrs["namespace"], attrs.get("name")
        group = "coordination.k8s.io"
        with self.state.lock:
            if method == "GET" and name is None:
                items = [copy.deepcopy(l) for (ns, _), l in self.state.leases.items() if ns == namespace]
                return self.send(200, {"kind": "LeaseList", "apiVersion": "coordination.k8s.io/v1",
                                       "metadata": {"resourceVersion": str(self.state.resource_version)}, "items": items}, identity)
            if method == "POST":
                lease = copy.deepcopy(payload or {})
                meta = lease.setdefault("metadata", {})
                name = meta.get("name")
                if (namespace, name) in self.state.leases:
                    return self.send(409, already_exists_status("leases", group, name), identity)
                if meta.get("resourceVersion"):
                    return self.send(500, status_body(500, "InternalError", "Internal error occurred: resourceVersion should not be set on objects to be created"), identity)
                meta.update({"namespace": namespace, "uid": str(uuid.uuid4()),
                             "resourceVersion": self.state.next_resource_version(), "creationTimestamp": now_rfc3339()})
                lease.update({"kind": "Lease", "apiVersion": "coordination.k8s.io/v1"})
                self.state.leases[(namespace, name)] = lease
                return self.send(201, copy.deepcopy(lease), identity)
            current = self.state.leases.get((namespace, name))
            if current is None:
                return self.send(404, not_found_status("leases", group, name), identity)
            if method == "GET":
                return self.send(200, copy.deepcopy(current), identity)
            if method == "PUT":
                lease = copy.deepcopy(payload or {})
                meta = lease.setdefault("metadata", {})
                expected_version = meta.get("resourceVersion")
                if expected_version and expected_version != current["metadata"]["resourceVersion"]:
                    return self.send(409, conflict_status("leases", group, name), identity)
                meta.update({"namespace": namespace, "uid": current["metadata"]["uid"],
                             "creationTimestamp": current["metadata"]["creationTimestamp"],
                             "resourceVersion": self.state.next_resource_version()})
                lease.update({"kind": "Lease", "apiVersion": "coordination.k8s.io/v1"})
                self.state.leases[(namespace, name)] = lease
                return self.send(200, copy.deepcopy(lease), identity)
            if method == "DELETE":
                expected_version = ((payload or {}).get("preconditions") or {}).get("resourceVersion")
                if expected_version and expected_version != current["metadata"]["resourceVersion"]:
                    return self.send(409, status_body(409, "Conflict",
                                                      'Operation cannot be fulfilled on leases.coordination.k8s.io "%s": Precondition failed: ResourceVersion in precondition: %s, ResourceVersion in object meta: %s'
                                                      % (name, expected_version, current["metadata"]["resourceVersion"]),
                                                      {"name": name, "group": group, "kind": "leases"}), identity)
                del self.state.leases[(namespace, name)]
                return self.send(200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                                       "details": {"name": name, "group": group, "kind": "leases", "uid": current["metadata"]["uid"]}}, identity)
        return self.send(405, status_body(405, "MethodNotAllowed", "the server does not allow this method on the requested resource"), identity)


def merge_node_status(node, patch):
    """Strategic merge of a status patch: conditions merge on `type`, other fields replace."""
    status = node["status"]
    for key, value in patch.items():
        if key == "conditions":
            existing = status.setdefault("conditions", [])
            for condition in value:
                for index, old in enumerate(existing):
                    if old.get("type") == condition.get("type"):
                        merged = dict(old)
                        merged.update(condition)
                        existing[index] = merged
                        break
                else:
                    existing.append(dict(condition))
        else:
            status[key] = value


# ---------------------------------------------------------------------------------------


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64


def main():
    parser = argparse.ArgumentParser(description="Loopback stand-in for kube-apiserver")
    parser.add_argument("--config", required=True)
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()
    with open(args.config) as f:
        config = json.load(f)
    directory = os.path.abspath(args.dir)
    os.makedirs(os.path.join(directory, "clients"), exist_ok=True)

    # 1. Certificates: this server's CA and serving certificate, the client certificates,
    #    and an unrelated CA for tests that must fail verification.
    sans = config.get("serverNames", ["localhost", "127.0.0.1"])
    authority = CertificateAuthority(os.path.join(directory, "ca"), "apistandin-ca", sans, reuse=config.get("caDir"))
    server_cert, server_key = authority.issue(os.path.join(directory, "server"), "/CN=kube-apiserver", "server_ext")
    for client in config.get("clients", []):
        authority.issue(os.path.join(directory, "clients", client["name"]), subject(client["user"], client.get("groups", [])),
                        "client_ext", expired=client.get("expired", False))
    CertificateAuthority(os.path.join(directory, "other-ca"), "unrelated-ca", sans)

    # 2. TLS: request a client certificate and verify it against our CA when one is sent.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(server_cert, server_key)
    context.load_verify_locations(authority.cert)
    context.verify_mode = ssl.CERT_OPTIONAL

    Handler.state = State(config, directory)
    server = Server(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)

    # 3. Exit when standard input closes or the parent process goes away, so a test process
    #    that dies leaves no server behind. Both checks are needed: a child that the parent
    #    spawns later can inherit the pipe's write end and keep standard input open.
    parent = os.getppid()

    def exit_on_eof():
        sys.stdin.read()
        os._exit(0)

    def exit_with_parent():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=exit_on_eof, daemon=True).start()
    threading.Thread(target=exit_with_parent, daemon=True).start()
    print(json.dumps({"port": server.server_address[1], "dir": directory}), flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
