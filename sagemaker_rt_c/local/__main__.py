"""``python -m sagemaker_rt_c.local serve ...``: the local endpoint from the command line.

``main(argv)`` parses and runs; it returns the exit status (0 after Ctrl-C or SIGTERM, 2 on
bad arguments, 1 when the endpoint cannot start). The URL to give clients as
``endpoint_url`` is printed alone on the first line of stdout; the rest goes to stderr.
"""

import argparse
import os
import sys

_DESCRIPTION = """\
A SageMaker Runtime endpoint on loopback: /endpoints/NAME/invocations, /async-invocations
and /invocations-response-stream, for any client given its URL as endpoint_url."""

_EPILOG = """\
examples:
  python -m sagemaker_rt_c.local serve                      # the built-in models
  python -m sagemaker_rt_c.local serve --endpoint echo=mypkg.handlers:echo --port 8765
  python -m sagemaker_rt_c.local serve --endpoint model=http://127.0.0.1:8080 \\
      --max-concurrency 16 --credentials-from-env --s3-dir ./s3

A handler is handler(body) or handler(body, request); it returns bytes, str, a JSON-able
value, (body, content_type), a Response, or a generator (streamed). Built-in models:
sagemaker_rt_c.local.models:sentiment, :sentiment_stream, :stats."""


def _endpoint(text):
    name, sep, target = text.partition("=")
    if not sep or not name or not target:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected NAME=module:function or NAME=http://host:port"
        )
    return name, target


def build_parser(prog="python -m sagemaker_rt_c.local"):
    parser = argparse.ArgumentParser(prog=prog, description=_DESCRIPTION)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    serve = commands.add_parser(
        "serve",
        help="run a local endpoint until Ctrl-C",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_serve_arguments(serve)
    return parser


def add_serve_arguments(parser):
    """The ``serve`` options, for a command line that embeds this one."""
    parser.add_argument(
        "--endpoint",
        "-e",
        action="append",
        type=_endpoint,
        default=[],
        metavar="NAME=TARGET",
        help="an endpoint: NAME=module:function (a Python handler) or NAME=http://host:port"
        " (a model container); repeatable. Default: the built-in models (sentiment,"
        " sentiment-stream, stats)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", "-p", type=int, default=0, help="port (default: any free one)")
    parser.add_argument(
        "--max-concurrency",
        type=int,
        default=None,
        metavar="N",
        help="answer 429 ThrottlingException above N requests in flight",
    )
    parser.add_argument(
        "--s3-dir",
        default=None,
        metavar="DIR",
        help="the directory standing for S3 in async invocations: s3://bucket/key is"
        " DIR/bucket/key (default: ./s3)",
    )
    parser.add_argument(
        "--credentials-from-env",
        action="store_true",
        help="verify SigV4 signatures against AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY"
        " (and AWS_SESSION_TOKEN)",
    )
    parser.add_argument(
        "--region",
        default=None,
        help="the only region accepted in signatures (default: any); also used in messages",
    )
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        metavar="MS",
        help="add this much model latency to every invocation (without using a thread)",
    )
    parser.add_argument(
        "--threads", type=int, default=32, help="threads for blocking handlers (32)"
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="log only errors")
    return parser


def run_serve(args, out=None, err=None):
    """Run ``serve`` from parsed arguments; blocks until Ctrl-C or SIGTERM."""
    import logging

    from .server import LocalEndpoint

    out = out or sys.stdout
    err = err or sys.stderr
    logger = logging.getLogger("sagemaker_rt_c.local")
    if not logger.handlers:
        handler = logging.StreamHandler(err)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.ERROR if args.quiet else logging.INFO)
    credentials = None
    if args.credentials_from_env:
        ak = os.environ.get("AWS_ACCESS_KEY_ID")
        sk = os.environ.get("AWS_SECRET_ACCESS_KEY")
        if not ak or not sk:
            print(
                "serve: --credentials-from-env needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                file=err,
            )
            return 2
        credentials = (ak, sk, os.environ.get("AWS_SESSION_TOKEN") or None)
    endpoints = dict(args.endpoint) if args.endpoint else None

    def ready(ep):
        print(ep.url, file=out, flush=True)
        if args.quiet:
            return
        names = ", ".join(f"{n} ({d})" for n, d in ep.endpoints.items())
        extra = []
        if args.max_concurrency:
            extra.append(f"max concurrency {args.max_concurrency}")
        if credentials:
            extra.append("SigV4 verified")
        extra.append(f"S3 in {ep.s3_dir.resolve()}")
        print(f"local endpoint on {ep.url}: {names}; {'; '.join(extra)}", file=err, flush=True)
        print("Ctrl-C to stop", file=err, flush=True)

    try:
        ep = LocalEndpoint(
            endpoints,
            host=args.host,
            port=args.port,
            credentials=credentials,
            region=args.region,
            max_concurrency=args.max_concurrency,
            s3_dir=args.s3_dir if args.s3_dir is not None else "s3",
            latency=args.latency_ms / 1000.0,
            threads=args.threads,
        )
        ep.serve_forever(on_ready=ready)
    except (OSError, ValueError, TypeError, ImportError, AttributeError) as e:
        print(f"serve: {type(e).__name__}: {e}", file=err)
        return 1
    if not args.quiet:
        print("stopped", file=err, flush=True)
    return 0


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "serve":
        return run_serve(args)
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
