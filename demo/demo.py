"""`make demo`: a local SageMaker Runtime endpoint, invoked through sagemaker_rt_c.

Starts a local endpoint hosting two toy models, then calls them the way boto3 code does:
a JSON inference, a CSV one, a model failure caught as client.exceptions.ModelError, an
unknown endpoint, and a short timing run against boto3 when boto3 is installed.
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from local_endpoint import LocalEndpoint  # noqa: E402

import sagemaker_rt_c  # noqa: E402

POSITIVE = {"good", "great", "love", "fast", "excellent"}
NEGATIVE = {"bad", "slow", "hate", "broken", "awful"}


def sentiment(body, content_type):
    if content_type != "application/json":
        raise ValueError(f"expected application/json, got {content_type}")
    text = json.loads(body)["text"].lower().split()
    score = sum(w in POSITIVE for w in text) - sum(w in NEGATIVE for w in text)
    label = "POSITIVE" if score > 0 else "NEGATIVE" if score < 0 else "NEUTRAL"
    return json.dumps({"label": label, "score": score}).encode(), "application/json"


def csv_sum(body, content_type):
    rows = [line.split(",") for line in body.decode().splitlines() if line]
    return "\n".join(str(sum(float(x) for x in r)) for r in rows).encode(), "text/csv"


def main():
    creds = dict(
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    )
    with LocalEndpoint({"sentiment": sentiment, "csv-sum": csv_sum}) as server:
        rt = sagemaker_rt_c.client("sagemaker-runtime", endpoint_url=server.url, **creds)
        print(f"local endpoint: {server.url}   client: {rt!r}")

        out = rt.invoke_endpoint(
            EndpointName="sentiment",
            ContentType="application/json",
            Body=json.dumps({"text": "I love how fast this is"}),
        )
        print(
            "sentiment ->",
            out["Body"].read().decode(),
            "| variant:",
            out["InvokedProductionVariant"],
            "| status:",
            out["ResponseMetadata"]["HTTPStatusCode"],
        )

        out = rt.invoke_endpoint(
            EndpointName="csv-sum", ContentType="text/csv", Body=b"1,2,3\n4.5,5.5\n"
        )
        print("csv-sum   ->", out["Body"].read().decode().replace("\n", " | "))

        try:
            rt.invoke_endpoint(EndpointName="sentiment", ContentType="text/plain", Body=b"hi")
        except rt.exceptions.ModelError as e:
            print(
                "ModelError caught:",
                e.response["OriginalStatusCode"],
                "-",
                e.response["OriginalMessage"],
            )

        try:
            rt.invoke_endpoint(EndpointName="missing", Body=b"{}")
        except rt.exceptions.ValidationError as e:
            print("ValidationError caught:", e)

        n = 2000
        body = json.dumps({"text": "great"}).encode()
        t = time.perf_counter()
        for _ in range(n):
            rt.invoke_endpoint(EndpointName="sentiment", ContentType="application/json", Body=body)
        ours = (time.perf_counter() - t) / n
        print(f"sagemaker_rt_c: {ours * 1e6:8.1f} us per call ({n} calls, keep-alive)")
        try:
            import boto3
        except ImportError:
            print("(boto3 not installed: no comparison)")
            return
        b3 = boto3.client("sagemaker-runtime", endpoint_url=server.url, **creds)
        n3 = 300
        t = time.perf_counter()
        for _ in range(n3):
            b3.invoke_endpoint(EndpointName="sentiment", ContentType="application/json", Body=body)
        theirs = (time.perf_counter() - t) / n3
        print(f"boto3:          {theirs * 1e6:8.1f} us per call ({n3} calls)")
        print(
            f"the local server (Python http.server) costs most of both; ratio {theirs / ours:.1f}x"
        )


if __name__ == "__main__":
    main()
