"""``sagemaker-rt-c serve ...``: the local endpoint, exactly ``python -m sagemaker_rt_c.local
serve ...`` (the same options, output and exit statuses)."""

import argparse

_EPILOG = """\
The same command as 'python -m sagemaker_rt_c.local serve'. The URL to give clients as
--endpoint-url is printed alone on the first line of stdout; the rest goes to stderr.

examples:
  sagemaker-rt-c serve                                   # the built-in models
  sagemaker-rt-c serve --endpoint echo=mypkg.handlers:echo --port 8765
  sagemaker-rt-c serve --endpoint model=http://127.0.0.1:8080 --max-concurrency 16

A handler is handler(body) or handler(body, request); it returns bytes, str, a JSON-able
value, (body, content_type), a Response, or a generator (streamed). Built-in models:
sagemaker_rt_c.local.models:sentiment, :sentiment_stream, :stats.

exit status (serve's own): 0 stopped by Ctrl-C or SIGTERM, 1 the endpoint could not
start (port in use, a handler that does not import ...), 2 usage."""


HELP = "run a local SageMaker Runtime endpoint until Ctrl-C (no AWS account needed)"


def add_parser(commands):
    from ..local.__main__ import _DESCRIPTION, add_serve_arguments

    parser = commands.add_parser(
        "serve",
        help=HELP,
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_serve_arguments(parser)
    return parser


def run(args):
    from ..local.__main__ import run_serve

    return run_serve(args)
