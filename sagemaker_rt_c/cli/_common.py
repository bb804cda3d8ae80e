"""What the commands share: exit codes, the client options, how errors are told apart and
printed."""

import re
import sys

PROG = "sagemaker-rt-c"

EXIT_OK = 0
EXIT_FAILED = 1  # invoke: the call failed; batch: some records failed (all rows written)
EXIT_USAGE = 2  # bad arguments or files (argparse's own code for usage errors)
EXIT_CONFIG = 3  # configuration or credentials
EXIT_UNREACHABLE = 4  # the endpoint could not be reached
EXIT_INTERRUPTED = 130  # Ctrl-C / SIGINT (128 + 2, as shells report it)

EXIT_CODES_HELP = """\
exit status:
  0    success (batch: every record succeeded)
  1    the call failed (invoke: the service's or the model's error, printed as
       "Error: Code: Message"); batch: some records failed (every row is written,
       the failed ones with their error)
  2    usage: bad options or arguments, an input or body file that cannot be read, an
       output that cannot be written or that belongs to another batch job
  3    configuration or credentials: no region, no credentials, an unknown profile,
       credentials the service rejects, an endpoint that does not exist
       (batch: stopped there; rerun the same command to resume)
  4    the endpoint could not be reached (connection refused, DNS, TLS, connect
       timeout) (batch: stopped there; rerun the same command to resume)
  130  interrupted (Ctrl-C, SIGINT) (batch: rerun the same command to resume)"""


class CliError(Exception):
    """An error reported on one line (no traceback) with its exit status."""

    code = EXIT_FAILED

    def __init__(self, message, code=None):
        super().__init__(message)
        if code is not None:
            self.code = code

    def report(self, prog):
        print(f"Error: {self}", file=sys.stderr)


class UsageError(CliError):
    code = EXIT_USAGE

    def report(self, prog):
        print(f"{prog}: error: {self}", file=sys.stderr)


# Errors that are not one call's or one record's: every call would fail the same way.
_CONFIG_CLASSES = frozenset(
    """NoCredentialsError PartialCredentialsError CredentialRetrievalError NoAuthTokenError
    TokenRetrievalError SSOError UnauthorizedSSOTokenError RefreshWithMFAUnsupportedError
    LoginError UnknownCredentialError MetadataRetrievalError BaseEndpointResolverError
    NoRegionError InvalidRegionError ProfileNotFound ConfigParseError ConfigNotFound
    InvalidConfigError InfiniteLoopConfigError UnknownSignatureVersionError
    UnsupportedSignatureVersionError InvalidProxiesConfigError InvalidRetryConfigurationError
    InvalidDefaultsMode InvalidEndpointConfigurationError InvalidIMDSEndpointError
    InvalidIMDSEndpointModeError""".split()
)
# Codes of the service's answers saying the credentials or their permissions are wrong.
_AUTH_CODES = frozenset(
    """UnrecognizedClientException InvalidSignatureException IncompleteSignatureException
    MissingAuthenticationTokenException ExpiredTokenException ExpiredToken
    InvalidClientTokenId SignatureDoesNotMatch AccessDeniedException AccessDenied
    NotAuthorized""".split()
)
# botocore's ConnectionError: EndpointConnectionError, ConnectTimeoutError, SSLError,
# ProxyConnectionError.
_UNREACHABLE_CLASSES = frozenset(["ConnectionError"])
_NOT_FOUND = re.compile(r"^Endpoint .+ of account .+ not found\.?$", re.S)

RECORD, CONFIG, UNREACHABLE = "record", "config", "unreachable"

_USERINFO = re.compile(r"(://)[^/@\s\"']+@")


def redact(text):
    """Hide the user info of any URL in a message (https://user:password@host)."""
    return _USERINFO.sub(r"\1***@", text)


def describe(exc):
    """(kind, code, message) of an exception a call raised.

    kind: RECORD (this call's or record's failure), CONFIG (configuration or credentials:
    every call would fail) or UNREACHABLE (the endpoint could not be reached). code: the
    service's error code for a ClientError, else the exception's class name.
    """
    response = getattr(exc, "response", None)
    names = {c.__name__ for c in type(exc).__mro__}
    if isinstance(response, dict) and "ClientError" in names:
        error = response.get("Error") or {}
        code = str(error.get("Code") or "Unknown")
        message = str(error.get("Message") or "")
        if code in _AUTH_CODES or (code == "ValidationError" and _NOT_FOUND.match(message)):
            return CONFIG, code, redact(message)
        return RECORD, code, redact(message)
    code = type(exc).__name__
    message = redact(str(exc))
    if names & _CONFIG_CLASSES:
        return CONFIG, code, message
    if names & _UNREACHABLE_CLASSES:
        return UNREACHABLE, code, message
    return RECORD, code, message


def exit_code_for(kind):
    return {CONFIG: EXIT_CONFIG, UNREACHABLE: EXIT_UNREACHABLE}.get(kind, EXIT_FAILED)


def error_line(code, message):
    """``Code: Message`` on one line (a multi-line message keeps its lines, indented)."""
    message = message.strip().replace("\n", "\n  ")
    return f"{code}: {message}" if message else code


def add_client_arguments(parser):
    group = parser.add_argument_group("client options")
    group.add_argument(
        "--endpoint-url",
        metavar="URL",
        help="send requests to this URL instead of the region's SageMaker Runtime endpoint"
        " (e.g. a local endpoint: http://127.0.0.1:8765)",
    )
    group.add_argument(
        "--region",
        metavar="REGION",
        help="the AWS region (default: AWS_DEFAULT_REGION, the profile's)",
    )
    group.add_argument(
        "--profile",
        metavar="NAME",
        help="a profile of the AWS config and credentials files (default: AWS_PROFILE, default)",
    )
    group.add_argument(
        "--debug",
        action="store_true",
        help="log the client's requests, responses and retries on stderr (never credentials,"
        " signatures or request bodies)",
    )


def make_client(args, max_pool_connections=None):
    """(session, client) from the client options; configuration errors raise CliError."""
    import sagemaker_rt_c

    url = args.endpoint_url
    if url is not None:
        from urllib.parse import urlsplit

        if not re.match(r"^https?://[^/\s]", url, re.I):
            raise UsageError(
                f"--endpoint-url {redact(url)!r}: expected http://HOST[:PORT] or https://..."
            )
        try:
            _ = urlsplit(url).port  # out of range: every call would fail
        except ValueError as e:
            raise UsageError(f"--endpoint-url {redact(url)!r}: {e}") from None
    if args.debug:
        sagemaker_rt_c.set_stream_logger()
    config = None
    if max_pool_connections is not None:
        config = sagemaker_rt_c.Config(max_pool_connections=max_pool_connections)
    try:
        session = sagemaker_rt_c.Session(profile_name=args.profile)
        client = session.client(
            "sagemaker-runtime", region_name=args.region, endpoint_url=url, config=config
        )
    except ValueError as e:  # botocore's "Invalid endpoint: ..."
        raise UsageError(redact(str(e))) from None
    except Exception as e:
        kind, code, message = describe(e)
        if kind != CONFIG:
            raise
        raise config_error(code, message) from None
    return session, client


def config_error(code, message):
    hint = ""
    if code == "NoRegionError":
        hint = " (give --region, or set AWS_DEFAULT_REGION or the profile's region)"
    elif code == "NoCredentialsError":
        hint = (
            " (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, give --profile, or configure"
            " the AWS config files)"
        )
    return CliError(error_line(code, message) + hint, EXIT_CONFIG)


def read_body(spec, what="--body"):
    """The bytes of a ``--body`` value: ``@FILE`` (the file), ``-`` (stdin) or the text."""
    if spec is None:
        return None
    if spec == "-":
        return sys.stdin.buffer.read()
    if spec.startswith("@"):
        path = spec[1:]
        if not path:
            raise UsageError(f"{what} @: expected @FILE")
        try:
            with open(path, "rb") as f:
                return f.read()
        except OSError as e:
            raise UsageError(f"{what}: cannot read {path!r}: {e.strerror or e}") from None
    return spec.encode("utf-8", "surrogateescape")
