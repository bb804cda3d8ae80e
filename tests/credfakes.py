"""Fake credential services on loopback for the credential-chain tests, and file writers.

Each fake is a ``ScriptedServer`` whose default action routes by path: ``FakeSTS`` (the query
API's AssumeRole / AssumeRoleWithWebIdentity), ``FakeIMDS`` (IMDSv2 token, role name, role
credentials, availability zone), ``FakeContainer`` (the container credentials endpoint) and
``FakeSSO`` (the SSO portal's GetRoleCredentials and SSO OIDC's CreateToken). Their answers are
derived from the request (role ARN, signing key, token ...), so boto3 and sagemaker_rt_c get
the same credentials for the same request, and they record every call. ``fail(...)`` queues
one-off answers (errors, delays, closed connections) ahead of the normal ones.

All keys and secrets here are fake.
"""

import collections
import datetime
import hashlib
import json
import os
import socket
import threading
from urllib.parse import parse_qsl, unquote, urlsplit

from servers import Close, Delay, Reply, ScriptedServer


def utc_in(seconds):
    return datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def digest(*parts):
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:16].upper()


def sha(text):
    return None if text is None else hashlib.sha256(text.encode()).hexdigest()


class _Fake:
    def __init__(self):
        self.calls = []
        self._failures = collections.deque()
        self._lock = threading.Lock()
        self.server = ScriptedServer(default=self._dispatch)
        self.url = self.server.url
        self.port = self.server.port

    def fail(self, *actions):
        """Answer the next requests with these actions (Reply, Delay, Close ...; None: the
        normal answer)."""
        with self._lock:
            self._failures.extend(actions)
        return self

    def _dispatch(self, req):
        with self._lock:
            self.calls.append(req)
            action = self._failures.popleft() if self._failures else None
        return self.handle(req) if action is None else action

    def close(self):
        self.server.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def sts_error(code, message, status=403):
    body = (
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        f"<Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
        "<RequestId>req-err</RequestId></ErrorResponse>"
    ).encode()
    return Reply(status, [("Content-Type", "text/xml")], body)


class FakeSTS(_Fake):
    """AssumeRole: keys derive from RoleArn and the signing access key; web identity: from
    RoleArn and the token."""

    def __init__(self, expires_in=3600, unique=False):
        self.expires_in = expires_in
        # unique: every answer has new keys (refresh tests tell generations apart).
        self.unique = unique
        self.answers = 0
        super().__init__()

    @staticmethod
    def params(req):
        return dict(parse_qsl(req.body.decode()))

    @staticmethod
    def signer(req):
        auth = req.header("authorization")
        if not auth:
            return None
        return auth.split("Credential=", 1)[1].split("/", 1)[0]

    def handle(self, req):
        params = self.params(req)
        action = params.get("Action")
        role_arn = params.get("RoleArn", "")
        if action == "AssumeRole":
            basis = digest(role_arn, self.signer(req))
        elif action == "AssumeRoleWithWebIdentity":
            if self.signer(req) is not None:
                return sts_error("InvalidAction", "web identity calls are unsigned", 400)
            basis = digest(role_arn, params.get("WebIdentityToken"))
        else:
            return sts_error("InvalidAction", f"unknown action {action}", 400)
        self.answers += 1
        if self.unique:
            basis = digest(basis, self.answers)
        account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else "000000000000"
        role_name = role_arn.rsplit("/", 1)[-1]
        session = params.get("RoleSessionName", "")
        result = (
            f"<Credentials><AccessKeyId>ASIA{basis}</AccessKeyId>"
            f"<SecretAccessKey>secret{basis.lower()}</SecretAccessKey>"
            f"<SessionToken>token{basis.lower()}</SessionToken>"
            f"<Expiration>{iso(utc_in(self.expires_in))}</Expiration></Credentials>"
            f"<AssumedRoleUser><AssumedRoleId>AROA{basis}:{session}</AssumedRoleId>"
            f"<Arn>arn:aws:sts::{account}:assumed-role/{role_name}/{session}</Arn>"
            "</AssumedRoleUser>"
        )
        body = (
            f'<{action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
            f"<{action}Result>{result}</{action}Result>"
            "<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>"
            f"</{action}Response>"
        ).encode()
        return Reply(200, [("Content-Type", "text/xml")], body)


class FakeIMDS(_Fake):
    """IMDSv2 by default; ``token_status`` 404/403/405 makes it IMDSv1-only, ``v1=False``
    refuses requests without the token (401)."""

    TOKEN = "imds-session-token"

    def __init__(self, role="imds-role", expires_in=3600, az="eu-west-3b", v1=True):
        self.role = role
        self.expires_in = expires_in
        self.az = az
        self.v1 = v1
        self.token_status = 200
        self.credentials_body = None
        super().__init__()

    def creds(self):
        basis = digest("imds", self.role)
        return {
            "Code": "Success",
            "LastUpdated": iso(utc_in(0)),
            "Type": "AWS-HMAC",
            "AccessKeyId": f"ASIAIMDS{basis}",
            "SecretAccessKey": f"imdssecret{basis.lower()}",
            "Token": f"imdstoken{basis.lower()}",
            "Expiration": iso(utc_in(self.expires_in)),
        }

    def handle(self, req):
        path = req.path
        if path.startswith("http://"):
            # Asked as a proxy: the absolute form.
            path = "/" + path.split("/", 3)[3]
        if req.method == "PUT" and path.endswith("latest/api/token"):
            if req.header("x-aws-ec2-metadata-token-ttl-seconds") != "21600":
                return Reply(400, [], b"")
            if self.token_status != 200:
                return Reply(self.token_status, [], b"")
            return Reply(200, [("Content-Type", "text/plain")], self.TOKEN.encode())
        if req.method != "GET":
            return Reply(405, [], b"")
        token = req.header("x-aws-ec2-metadata-token")
        if token is not None and token != self.TOKEN:
            return Reply(401, [], b"")
        if token is None and not self.v1:
            return Reply(401, [], b"")
        prefix = "/latest/meta-data/iam/security-credentials/"
        if path == prefix:
            return Reply(200, [("Content-Type", "text/plain")], self.role.encode())
        if path == prefix + self.role or unquote(path) == prefix + self.role:
            body = self.credentials_body
            if body is None:
                body = json.dumps(self.creds()).encode()
            return Reply(200, [("Content-Type", "text/plain")], body)
        if path == "/latest/meta-data/placement/availability-zone/":
            return Reply(200, [("Content-Type", "text/plain")], self.az.encode())
        return Reply(404, [], b"")


class FakeContainer(_Fake):
    """Any path: the role credentials, if the Authorization header matches ``auth``."""

    def __init__(self, auth=None, expires_in=3600):
        self.auth = auth
        self.expires_in = expires_in
        super().__init__()

    def creds(self, path):
        basis = digest("container", path)
        return {
            "AccessKeyId": f"ASIACONT{basis}",
            "SecretAccessKey": f"containersecret{basis.lower()}",
            "Token": f"containertoken{basis.lower()}",
            "Expiration": iso(utc_in(self.expires_in)),
            "AccountId": "210987654321",
        }

    def handle(self, req):
        if self.auth is not None and req.header("authorization") != self.auth:
            return Reply(401, [("Content-Type", "application/json")], b'{"message":"denied"}')
        body = json.dumps(self.creds(req.path)).encode()
        return Reply(200, [("Content-Type", "application/json")], body)


class FakeSSO(_Fake):
    """SSO portal (GET /federation/credentials) and SSO OIDC (POST /token) on one port."""

    def __init__(self, valid_tokens=(), refresh_tokens=None, expires_in=3600):
        self.valid_tokens = set(valid_tokens)
        # refresh token -> (new access token, new refresh token)
        self.refresh_tokens = dict(refresh_tokens or {})
        self.expires_in = expires_in
        super().__init__()

    def handle(self, req):
        parts = urlsplit(req.path)
        if req.method == "GET" and parts.path == "/federation/credentials":
            query = dict(parse_qsl(parts.query))
            token = req.header("x-amz-sso_bearer_token")
            if token not in self.valid_tokens:
                return Reply(
                    401,
                    [
                        ("Content-Type", "application/json"),
                        ("x-amzn-ErrorType", "UnauthorizedException"),
                    ],
                    b'{"message":"Session token not found or invalid"}',
                )
            basis = digest(token, query.get("role_name"), query.get("account_id"))
            body = {
                "roleCredentials": {
                    "accessKeyId": f"ASIASSO{basis}",
                    "secretAccessKey": f"ssosecret{basis.lower()}",
                    "sessionToken": f"ssotoken{basis.lower()}",
                    "expiration": int(utc_in(self.expires_in).timestamp() * 1000),
                }
            }
            return Reply(200, [("Content-Type", "application/json")], json.dumps(body).encode())
        if req.method == "POST" and parts.path == "/token":
            params = json.loads(req.body)
            pair = self.refresh_tokens.get(params.get("refreshToken"))
            if params.get("grantType") != "refresh_token" or pair is None:
                return Reply(
                    400,
                    [
                        ("Content-Type", "application/json"),
                        ("x-amzn-ErrorType", "InvalidGrantException"),
                    ],
                    b'{"error":"invalid_grant","error_description":"Invalid refresh token"}',
                )
            access, refresh = pair
            self.valid_tokens.add(access)
            body = {
                "accessToken": access,
                "expiresIn": 28800,
                "refreshToken": refresh,
                "tokenType": "Bearer",
            }
            return Reply(200, [("Content-Type", "application/json")], json.dumps(body).encode())
        return Reply(404, [], b"")


def refused_url():
    """A loopback URL nothing listens on (a port bound, never listened on, then released)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"


def write(path, text):
    os.makedirs(os.path.dirname(str(path)), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    return str(path)


def sso_cache_file(home, key):
    name = hashlib.sha1(key.encode()).hexdigest() + ".json"
    return os.path.join(str(home), ".aws", "sso", "cache", name)


def write_sso_token(home, key, access_token, expires_at, **extra):
    """The token `aws sso login` caches for an sso-session name (or legacy start URL)."""
    token = {"accessToken": access_token, "expiresAt": expires_at}
    token.update(extra)
    return write(sso_cache_file(home, key), json.dumps(token))


__all__ = [
    "Close",
    "Delay",
    "Reply",
    "FakeSTS",
    "FakeIMDS",
    "FakeContainer",
    "FakeSSO",
    "sts_error",
    "utc_in",
    "iso",
    "digest",
    "sha",
    "refused_url",
    "write",
    "write_sso_token",
    "sso_cache_file",
]
