"""The container credentials endpoint (ECS, SageMaker Studio, EKS Pod Identity), as botocore.

``ContainerMetadataFetcher`` mirrors botocore's class in ``botocore/utils.py``:
AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is appended to ``http://169.254.170.2``;
AWS_CONTAINER_CREDENTIALS_FULL_URI must be HTTPS, a loopback address, or one of
169.254.170.2, 169.254.170.23, fd00:ec2::23 and localhost (else ``ValueError``). Each fetch
is tried 3 times, 2 seconds to connect and to read, sleeping 1 second after each failure;
a non-200 answer or a body that is not JSON counts as a failure
(``MetadataRetrievalError``, whose message shows a non-200 answer's body as botocore's does,
except a JSON object holding ``SecretAccessKey``, ``Token`` or ``SessionToken``: never
shown). No proxy is used. What urllib3 refuses before sending (a timeout of 0, a URL it
cannot parse, an Authorization value outside Latin-1) raises ``HTTPClientError`` at once,
as in botocore (see ``_http``).
"""

import time

__all__ = ["ContainerMetadataFetcher"]


# Fields of a credentials document whose values are secrets.
_SECRET_FIELDS = ("SecretAccessKey", "Token", "SessionToken")
HIDDEN_BODY = "<not shown: the body holds credential fields>"


def shown_body(text):
    """The body of a non-200 answer as the error message shows it: as is (botocore's
    message), unless it is a JSON object with credential fields, which never reach a
    message."""
    import json

    try:
        document = json.loads(text)
    except ValueError:
        return text
    if isinstance(document, dict) and any(name in document for name in _SECRET_FIELDS):
        return HIDDEN_BODY
    return text


class ContainerMetadataFetcher:
    TIMEOUT_SECONDS = 2
    RETRY_ATTEMPTS = 3
    SLEEP_TIME = 1
    IP_ADDRESS = "169.254.170.2"
    _ALLOWED_HOSTS = [IP_ADDRESS, "169.254.170.23", "fd00:ec2::23", "localhost"]

    def __init__(self, session=None, sleep=time.sleep):
        # botocore builds its HTTP session here, with the timeout of this moment: changing
        # TIMEOUT_SECONDS on the instance afterwards changes nothing, as in botocore.
        self._timeout = self.TIMEOUT_SECONDS
        self._sleep = sleep

    def retrieve_full_uri(self, full_url, headers=None):
        """The JSON document at a full URL (validated as botocore does)."""
        self._validate_allowed_url(full_url)
        return self._retrieve_credentials(full_url, headers)

    def _validate_allowed_url(self, full_url):
        from urllib.parse import urlparse

        parsed = urlparse(full_url)
        if parsed.scheme == "https":
            return
        if self._is_loopback_address(parsed.hostname):
            return
        if not self._check_if_whitelisted_host(parsed.hostname):
            raise ValueError(
                f"Unsupported host '{parsed.hostname}'.  Can only retrieve metadata "
                f"from a loopback address or one of these hosts: "
                f"{', '.join(self._ALLOWED_HOSTS)}"
            )

    def _is_loopback_address(self, hostname):
        from ipaddress import ip_address

        try:
            return ip_address(hostname).is_loopback
        except ValueError:
            return False

    def _check_if_whitelisted_host(self, host):
        return host in self._ALLOWED_HOSTS

    def retrieve_uri(self, relative_uri):
        return self._retrieve_credentials(self.full_url(relative_uri))

    def _retrieve_credentials(self, full_url, extra_headers=None):
        from ..exceptions import MetadataRetrievalError

        headers = {"Accept": "application/json"}
        if extra_headers is not None:
            headers.update(extra_headers)
        attempts = 0
        while True:
            try:
                return self._get_response(full_url, headers, self._timeout)
            except MetadataRetrievalError:
                self._sleep(self.SLEEP_TIME)
                attempts += 1
                if attempts >= self.RETRY_ATTEMPTS:
                    raise

    def _get_response(self, full_url, headers, timeout):
        import json

        from .._transport import http as _http  # lazy: only when the endpoint is asked
        from ..exceptions import (
            ConnectionClosedError,
            ConnectTimeoutError,
            EndpointConnectionError,
            MetadataRetrievalError,
            ReadTimeoutError,
        )

        try:
            response = _http.send(
                "GET",
                full_url,
                list(headers.items()),
                connect_timeout=timeout,
                read_timeout=timeout,
            )
        except (
            ReadTimeoutError,
            EndpointConnectionError,
            ConnectionClosedError,
            ConnectTimeoutError,
        ) as e:
            raise MetadataRetrievalError(
                error_msg=f"Received error when attempting to retrieve container metadata: {e}"
            ) from None
        response_text = response.body.decode("utf-8")
        if response.status != 200:
            raise MetadataRetrievalError(
                error_msg=(
                    f"Received non 200 response {response.status} from container metadata: "
                    f"{shown_body(response_text)}"
                )
            )
        try:
            return json.loads(response_text)
        except ValueError:
            raise MetadataRetrievalError(
                error_msg="Unable to parse JSON returned from container metadata services"
            ) from None

    def full_url(self, relative_uri):
        return f"http://{self.IP_ADDRESS}{relative_uri}"
