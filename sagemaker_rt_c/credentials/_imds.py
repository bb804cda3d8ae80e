"""The EC2 instance metadata service: role credentials and the region, as botocore asks.

``IMDSFetcher``, ``InstanceMetadataFetcher`` and ``InstanceMetadataRegionFetcher`` mirror
botocore's classes in ``botocore/utils.py``:

* IMDSv2 first: ``PUT latest/api/token`` (TTL 21600 s). A 404, 403 or 405, a read timeout or
  ``metadata_service_num_attempts`` connection failures give no token and the requests go out
  without one (IMDSv1), unless ``ec2_metadata_v1_disabled`` (then ``MetadataRetrievalError``
  when the credentials are fetched); a 400 gives up.
* Each request (token, role name, credentials) is tried ``metadata_service_num_attempts``
  times (default 1) with ``metadata_service_timeout`` seconds (default 1) to connect and
  to read; non-200 and empty answers, and credentials that are not JSON, are retried.
* A ``metadata_service_timeout`` of 0 or below raises ``HTTPClientError`` (urllib3 refuses it
  before sending), as does a token the service returns with CR or LF in it (unusable in a
  header; the message names the header, not the token). An endpoint whose port urllib3
  cannot parse raises ``InvalidIMDSEndpointError``. The role name is percent-encoded into
  the credentials URL as urllib3 encodes it (``a b`` -> ``a%20b``).
* ``AWS_EC2_METADATA_DISABLED=true`` disables all of it; ``AWS_EC2_METADATA_SERVICE_ENDPOINT``
  (or ``ec2_metadata_service_endpoint``) replaces ``http://169.254.169.254/``;
  ``ec2_metadata_service_endpoint_mode = IPv6`` (or ``imds_use_ipv6``) picks
  ``http://[fd00:ec2::254]/``.
* Credentials that expire within 15 minutes plus 2-10 minutes of jitter are given a new
  expiry that far in the future, as botocore's "static stability" extension does, so an
  instance whose metadata service is stale keeps working and asks again later.

Requests go through the environment's proxy unless NO_PROXY covers the address, as botocore.
"""

import os

from .._settings.proxies import _proxy_url, _split_scheme_netloc
from .._settings.regions import _valid_endpoint_url
from .._settings.useragent import _user_agent
from ._base import _imds_config

__all__ = [
    "IMDSFetcher",
    "InstanceMetadataFetcher",
    "InstanceMetadataRegionFetcher",
    "region_from_session",
]

DEFAULT_METADATA_SERVICE_TIMEOUT = 1
METADATA_BASE_URL = "http://169.254.169.254/"
METADATA_BASE_URL_IPv6 = "http://[fd00:ec2::254]/"


class _RetriesExceededError(Exception):
    """Internal: the attempts ran out (or the service is disabled)."""


class BadIMDSRequestError(Exception):
    def __init__(self, request):
        self.request = request


def _encoding_from_headers(headers, default="ISO-8859-1"):
    # botocore.utils.get_encoding_from_headers
    content_type = headers.get("content-type")
    if not content_type:
        return None
    from email.message import Message

    message = Message()
    message["content-type"] = content_type
    charset = message.get_param("charset")
    if charset is not None:
        return charset
    if "text" in content_type:
        return default
    return None


def _text(response):
    return response.body.decode(_encoding_from_headers(response.headers) or "utf-8")


class IMDSFetcher:
    _RETRIES_EXCEEDED_ERROR_CLS = _RetriesExceededError
    _TOKEN_PATH = "latest/api/token"
    _TOKEN_TTL = "21600"

    def __init__(
        self,
        timeout=DEFAULT_METADATA_SERVICE_TIMEOUT,
        num_attempts=1,
        base_url=METADATA_BASE_URL,
        env=None,
        user_agent=None,
        config=None,
    ):
        self._timeout = timeout
        self._num_attempts = num_attempts
        if config is None:
            config = {}
        self._base_url = self._select_base_url(base_url, config)
        self._config = config
        if env is None:
            env = os.environ.copy()
        self._disabled = env.get("AWS_EC2_METADATA_DISABLED", "false").lower() == "true"
        self._imds_v1_disabled = config.get("ec2_metadata_v1_disabled")
        self._user_agent = user_agent

    def get_base_url(self):
        return self._base_url

    def _select_base_url(self, base_url, config):
        requires_ipv6 = config.get("ec2_metadata_service_endpoint_mode") == "ipv6"
        custom_metadata_endpoint = config.get("ec2_metadata_service_endpoint")
        if base_url != METADATA_BASE_URL:
            chosen_base_url = base_url
        elif custom_metadata_endpoint:
            chosen_base_url = custom_metadata_endpoint
        elif requires_ipv6:
            chosen_base_url = METADATA_BASE_URL_IPv6
        else:
            chosen_base_url = METADATA_BASE_URL
        if not _valid_endpoint_url(chosen_base_url):
            from ..exceptions import InvalidIMDSEndpointError

            raise InvalidIMDSEndpointError(endpoint=chosen_base_url)
        return chosen_base_url

    def _construct_url(self, path):
        sep = ""
        if self._base_url and not self._base_url.endswith("/"):
            sep = "/"
        return f"{self._base_url}{sep}{path}"

    def _send(self, method, url, headers):
        from .._transport import http as _http  # lazy: only when the service is asked

        scheme, netloc = _split_scheme_netloc(url)
        return _http.send(
            method,
            url,
            list(headers.items()),
            connect_timeout=self._timeout,
            read_timeout=self._timeout,
            proxy_url=_proxy_url(scheme, netloc, None),
        )

    def _fetch_metadata_token(self):
        from .._transport.http import LocationParseError  # lazy, as _http
        from ..exceptions import (
            ConnectionClosedError,
            ConnectTimeoutError,
            EndpointConnectionError,
            HTTPClientError,
            InvalidIMDSEndpointError,
            ReadTimeoutError,
        )

        self._assert_enabled()
        url = self._construct_url(self._TOKEN_PATH)
        headers = {"x-aws-ec2-metadata-token-ttl-seconds": self._TOKEN_TTL}
        self._add_user_agent(headers)
        for _ in range(self._num_attempts):
            try:
                response = self._send("PUT", url, headers)
                if response.status == 200:
                    return _text(response)
                elif response.status in (404, 403, 405):
                    return None
                elif response.status == 400:
                    raise BadIMDSRequestError(url)
            except ReadTimeoutError:
                return None
            except (EndpointConnectionError, ConnectionClosedError, ConnectTimeoutError):
                pass
            except HTTPClientError as e:
                # A URL urllib3 cannot parse (a port above 65535 ...); anything else that
                # urllib3 refuses (a timeout of 0 ...) escapes, as in botocore.
                if isinstance(e.kwargs.get("error"), LocationParseError):
                    raise InvalidIMDSEndpointError(endpoint=url, error=e) from None
                raise
        return None

    def _get_request(self, url_path, retry_func, token=None):
        from ..exceptions import (
            ConnectionClosedError,
            ConnectTimeoutError,
            EndpointConnectionError,
            ReadTimeoutError,
        )

        self._assert_enabled()
        if not token:
            self._assert_v1_enabled()
        if retry_func is None:
            retry_func = self._default_retry
        url = self._construct_url(url_path)
        headers = {}
        if token is not None:
            headers["x-aws-ec2-metadata-token"] = token
        self._add_user_agent(headers)
        for _ in range(self._num_attempts):
            try:
                response = self._send("GET", url, headers)
                if not retry_func(response):
                    return response
            except (
                ReadTimeoutError,
                EndpointConnectionError,
                ConnectionClosedError,
                ConnectTimeoutError,
            ):
                pass
        raise self._RETRIES_EXCEEDED_ERROR_CLS()

    def _add_user_agent(self, headers):
        if self._user_agent is not None:
            headers["User-Agent"] = self._user_agent

    def _assert_enabled(self):
        if self._disabled:
            raise self._RETRIES_EXCEEDED_ERROR_CLS()

    def _assert_v1_enabled(self):
        if self._imds_v1_disabled:
            from ..exceptions import MetadataRetrievalError

            raise MetadataRetrievalError(
                error_msg=(
                    "Unable to retrieve token for use in IMDSv2 call and IMDSv1 has been disabled"
                )
            )

    def _default_retry(self, response):
        return self._is_non_ok_response(response) or self._is_empty(response)

    def _is_non_ok_response(self, response):
        return response.status != 200

    def _is_empty(self, response):
        return not response.body


class InstanceMetadataFetcher(IMDSFetcher):
    _URL_PATH = "latest/meta-data/iam/security-credentials/"
    _REQUIRED_CREDENTIAL_FIELDS = ["AccessKeyId", "SecretAccessKey", "Token", "Expiration"]

    def retrieve_iam_role_credentials(self):
        """The role's credentials as refresh metadata, or {} when there are none."""
        try:
            token = self._fetch_metadata_token()
            role_name = self._get_iam_role(token)
            credentials = self._get_credentials(role_name, token)
            if self._contains_all_credential_fields(credentials):
                credentials = {
                    "role_name": role_name,
                    "access_key": credentials["AccessKeyId"],
                    "secret_key": credentials["SecretAccessKey"],
                    "token": credentials["Token"],
                    "expiry_time": credentials["Expiration"],
                }
                self._evaluate_expiration(credentials)
                return credentials
            # A 200 can carry an error document (Code, Message): no credentials, no retry.
            return {}
        except self._RETRIES_EXCEEDED_ERROR_CLS:
            pass
        except BadIMDSRequestError:
            pass
        return {}

    def _get_iam_role(self, token=None):
        return _text(
            self._get_request(
                url_path=self._URL_PATH,
                retry_func=self._needs_retry_for_role_name,
                token=token,
            )
        )

    def _get_credentials(self, role_name, token=None):
        import json

        response = self._get_request(
            url_path=self._URL_PATH + role_name,
            retry_func=self._needs_retry_for_credentials,
            token=token,
        )
        return json.loads(_text(response))

    def _is_invalid_json(self, response):
        import json

        try:
            json.loads(_text(response))
            return False
        except ValueError:
            return True

    def _needs_retry_for_role_name(self, response):
        return self._is_non_ok_response(response) or self._is_empty(response)

    def _needs_retry_for_credentials(self, response):
        return (
            self._is_non_ok_response(response)
            or self._is_empty(response)
            or self._is_invalid_json(response)
        )

    def _contains_all_credential_fields(self, credentials):
        return all(field in credentials for field in self._REQUIRED_CREDENTIAL_FIELDS)

    def _evaluate_expiration(self, credentials):
        import datetime
        import random

        expiration = credentials.get("expiry_time")
        if expiration is None:
            return
        try:
            expiration = datetime.datetime.strptime(expiration, "%Y-%m-%dT%H:%M:%SZ")
            refresh_interval = self._config.get("ec2_credential_refresh_window", 60 * 10)
            jitter = random.randint(120, 600)
            refresh_interval_with_jitter = refresh_interval + jitter
            current_time = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
            refresh_offset = datetime.timedelta(seconds=refresh_interval_with_jitter)
            extension_time = expiration - refresh_offset
            if current_time >= extension_time:
                new_time = current_time + refresh_offset
                credentials["expiry_time"] = new_time.strftime("%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            pass


class InstanceMetadataRegionFetcher(IMDSFetcher):
    _URL_PATH = "latest/meta-data/placement/availability-zone/"

    def retrieve_region(self):
        """The instance's region (its availability zone without the letter), or None."""
        try:
            return self._get_region()
        except self._RETRIES_EXCEEDED_ERROR_CLS:
            return None

    def _get_region(self):
        token = self._fetch_metadata_token()
        response = self._get_request(
            url_path=self._URL_PATH, retry_func=self._default_retry, token=token
        )
        return _text(response)[:-1]


def region_from_session(session):
    """botocore's IMDSRegionProvider for a session (defaults mode ``auto``)."""
    config = _imds_config(session)
    fetcher = InstanceMetadataRegionFetcher(
        timeout=config.pop("timeout"),
        num_attempts=config.pop("num_attempts"),
        env=os.environ,
        user_agent=_user_agent(session._exec_env, None),
        config=config,
    )
    return fetcher.retrieve_region()
