"""``sagemaker-rt-c invoke ENDPOINT --body ...``: one call; the response body to stdout."""

import argparse
import sys

from . import _common

_DESCRIPTION = """\
Invoke an endpoint once (InvokeEndpoint) and write the response body to stdout as it is
(bytes). Errors go to stderr as "Error: Code: Message"."""

_EPILOG = (
    """\
examples:
  sagemaker-rt-c invoke my-endpoint --body '{"text": "great product"}'
  sagemaker-rt-c invoke my-endpoint --body @request.json --accept application/json
  cat rows.csv | sagemaker-rt-c invoke my-xgb --content-type text/csv --body -
  sagemaker-rt-c invoke my-llm --stream --body '{"inputs": "Hello"}'

"""
    + _common.EXIT_CODES_HELP
)

# (option, InvokeEndpoint parameter, help)
_HEADER_OPTIONS = [
    ("--content-type", "ContentType", "the body's MIME type (e.g. application/json, text/csv)"),
    ("--accept", "Accept", "the MIME type wanted in the response"),
    ("--custom-attributes", "CustomAttributes", "X-Amzn-SageMaker-Custom-Attributes"),
    ("--target-model", "TargetModel", "the model of a multi-model endpoint"),
    ("--target-variant", "TargetVariant", "the production variant to send the request to"),
    (
        "--target-container-hostname",
        "TargetContainerHostname",
        "the container of a multi-container endpoint",
    ),
    ("--inference-id", "InferenceId", "an identifier for the request (model monitor)"),
    ("--enable-explanations", "EnableExplanations", "SageMaker Clarify's explanation filter"),
    ("--inference-component", "InferenceComponentName", "the inference component to invoke"),
    ("--session-id", "SessionId", "a stateful session's id (or NEW_SESSION)"),
]
# Not parameters of InvokeEndpointWithResponseStream.
_NOT_STREAMED = ("TargetModel", "EnableExplanations")


HELP = "invoke an endpoint once; the response body to stdout"


def add_parser(commands):
    parser = commands.add_parser(
        "invoke",
        help=HELP,
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("endpoint", metavar="ENDPOINT", help="the endpoint's name")
    parser.add_argument(
        "--body",
        "-b",
        required=True,
        metavar="@FILE|-|TEXT",
        help="the request body: @FILE (a file's bytes), - (stdin) or the text itself (UTF-8)",
    )
    for option, name, text in _HEADER_OPTIONS:
        parser.add_argument(option, dest=name, metavar="VALUE", help=text)
    parser.add_argument(
        "--stream",
        action="store_true",
        help="InvokeEndpointWithResponseStream: write each part of the response as it arrives",
    )
    parser.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="also print the response's metadata (content type, variant, request id) to stderr",
    )
    _common.add_client_arguments(parser)
    return parser


def run(args):
    body = _common.read_body(args.body)
    params = {"EndpointName": args.endpoint, "Body": body}
    for _, name, _ in _HEADER_OPTIONS:
        value = getattr(args, name)
        if value is not None:
            params[name] = value
    if args.stream:
        bad = [o for o, n, _ in _HEADER_OPTIONS if n in _NOT_STREAMED and n in params]
        if bad:
            raise _common.UsageError(f"{', '.join(bad)}: not a parameter of a streamed call")
    _, client = _common.make_client(args)
    out = sys.stdout.buffer
    try:
        if args.stream:
            response = client.invoke_endpoint_with_response_stream(**params)
            _metadata(args, response)
            with response["Body"] as stream:
                for part in stream.iter_payloads():
                    out.write(part)
                    out.flush()
        else:
            response = client.invoke_endpoint(**params)
            _metadata(args, response)
            body = response["Body"]
            try:
                for chunk in body.iter_chunks(1 << 16):
                    out.write(chunk)
            finally:
                body.close()
            out.flush()
    except Exception as e:
        if not _is_call_error(e):
            raise
        kind, code, message = _common.describe(e)
        if code in ("ParamValidationError",):
            raise _common.UsageError(_common.error_line(code, message)) from None
        if kind == _common.CONFIG:
            raise _common.config_error(code, message) from None
        out.flush()
        print(f"Error: {_common.error_line(code, message)}", file=sys.stderr)
        return _common.exit_code_for(kind)
    return _common.EXIT_OK


def _is_call_error(exc):
    """An exception of the client (botocore's kinds), not a bug of this program."""
    names = {c.__name__ for c in type(exc).__mro__}
    return bool(names & {"ClientError", "BotoCoreError"})


def _metadata(args, response):
    if not args.verbose:
        return
    meta = response.get("ResponseMetadata") or {}
    lines = [f"HTTPStatusCode: {meta.get('HTTPStatusCode')}", f"RequestId: {meta.get('RequestId')}"]
    for key in ("ContentType", "InvokedProductionVariant", "CustomAttributes", "NewSessionId",
                "ClosedSessionId"):  # fmt: skip
        if response.get(key) is not None:
            lines.append(f"{key}: {response[key]}")
    print("\n".join(lines), file=sys.stderr, flush=True)
