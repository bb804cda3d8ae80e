"""``sagemaker-rt-c presign ENDPOINT``: print a presigned URL (``generate_presigned_url``)."""

import argparse
import sys

from . import _common
from .invoke import _HEADER_OPTIONS

_DESCRIPTION = """\
Print a presigned URL for an endpoint (client.generate_presigned_url): anyone holding it
can make that request until it expires, without credentials of their own. Nothing is sent;
the URL is signed with your credentials (it names your access key id, never the secret)."""

_EPILOG = (
    """\
examples:
  sagemaker-rt-c presign my-endpoint --expires-in 300 --content-type application/json
  sagemaker-rt-c presign my-endpoint --operation invoke_endpoint_async \\
      --input-location s3://bucket/input.json

"""
    + _common.EXIT_CODES_HELP
)

_OPERATIONS = ("invoke_endpoint", "invoke_endpoint_async", "invoke_endpoint_with_response_stream")
_ASYNC_OPTIONS = [
    ("--input-location", "InputLocation", str, "async: the input's S3 URI"),
    ("--s3-output-path-extension", "S3OutputPathExtension", str, "async: a sub-path for output"),
    ("--filename", "Filename", str, "async: the output's file name"),
    ("--request-ttl-seconds", "RequestTTLSeconds", int, "async: how long the request may wait"),
    (
        "--invocation-timeout-seconds",
        "InvocationTimeoutSeconds",
        int,
        "async: how long the model may take",
    ),
]


HELP = "print a presigned URL for an endpoint"


def add_parser(commands):
    parser = commands.add_parser(
        "presign",
        help=HELP,
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("endpoint", metavar="ENDPOINT", help="the endpoint's name")
    parser.add_argument(
        "--operation",
        choices=_OPERATIONS,
        default="invoke_endpoint",
        help="the client method the URL is for (default: invoke_endpoint)",
    )
    parser.add_argument(
        "--expires-in",
        type=_seconds,
        default=3600,
        metavar="SECONDS",
        help="how long the URL is valid (default: 3600)",
    )
    parser.add_argument(
        "--http-method", metavar="METHOD", help="the HTTP method to sign (default: the operation's)"
    )
    parser.add_argument(
        "--body",
        "-b",
        metavar="@FILE|-|TEXT",
        help="the request body the URL is signed for: @FILE, - (stdin) or the text (default:"
        " empty)",
    )
    for option, name, text in _HEADER_OPTIONS:
        parser.add_argument(option, dest=name, metavar="VALUE", help=text)
    for option, name, kind, text in _ASYNC_OPTIONS:
        metavar = "N" if kind is int else "VALUE"
        parser.add_argument(option, dest=name, type=kind, metavar=metavar, help=text)
    _common.add_client_arguments(parser)
    return parser


def _seconds(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a whole number of seconds") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected at least 1 second")
    return value


def run(args):
    params = {"EndpointName": args.endpoint}
    body = _common.read_body(args.body)
    if body is not None:
        params["Body"] = body
    elif args.operation != "invoke_endpoint_async":
        params["Body"] = b""
    for _, name, _ in _HEADER_OPTIONS:
        if getattr(args, name) is not None:
            params[name] = getattr(args, name)
    for _, name, _, _ in _ASYNC_OPTIONS:
        if getattr(args, name) is not None:
            params[name] = getattr(args, name)
    _, client = _common.make_client(args)
    try:
        url = client.generate_presigned_url(
            args.operation, Params=params, ExpiresIn=args.expires_in, HttpMethod=args.http_method
        )
    except Exception as e:
        names = {c.__name__ for c in type(e).__mro__}
        if not names & {"ClientError", "BotoCoreError"}:
            raise
        kind, code, message = _common.describe(e)
        if kind == _common.CONFIG:
            raise _common.config_error(code, message) from None
        # Parameters it cannot sign (ParamValidationError ...): the user's input.
        raise _common.UsageError(_common.error_line(code, message)) from None
    sys.stdout.write(url + "\n")
    sys.stdout.flush()
    return _common.EXIT_OK
