"""Generate the demo's data set: short product reviews as JSON Lines, gzip-compressed.

    python tools/gen_reviews.py            # writes sagemaker_rt_c/cli/reviews.jsonl.gz
    python tools/gen_reviews.py --check    # exit 1 if the committed file differs

Deterministic (a seeded random.Random, gzip with no name or time stamp): the same 10,000
records on every run. Each is {"id": "r00001", "text": "..."} built from templates whose
words the built-in sentiment model knows (sagemaker_rt_c.local.models), with negations and
intensifiers, so its verdicts vary. Four records are broken on purpose, for the demo to show
how errors come out: two lines that are not JSON (InvalidInput rows: never sent) and two
objects without a "text" (the model answers 400: ModelError rows).
"""

import argparse
import gzip
import io
import json
import os
import random
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUTPUT = os.path.join(ROOT, "sagemaker_rt_c", "cli", "reviews.jsonl.gz")
RECORDS = 10_000
SEED = 20240611
# index: the broken record there (what the demo says about it is checked by tests/cli).
BROKEN = {
    1234: "not json",
    4321: "no text",
    7777: "not json",
    9001: "no text",
}

PRODUCTS = [
    "headphones", "blender", "laptop stand", "phone case", "coffee grinder", "desk lamp",
    "backpack", "keyboard", "router", "water bottle", "running shoes", "e-reader", "air fryer",
    "webcam", "monitor", "charger", "vacuum", "tent", "kettle", "smart watch", "office chair",
    "toaster", "drone", "speaker", "mattress",
]  # fmt: skip
ASPECTS = [
    "battery life", "build quality", "sound", "price", "setup", "customer support", "design",
    "screen", "shipping", "manual", "app", "fit", "motor", "performance", "packaging",
]  # fmt: skip
POSITIVE = [
    "the {a} is {i}great", "I love the {a}", "the {a} is {i}excellent", "it works perfectly",
    "I would recommend it", "setup was {i}easy", "worth every penny", "shipping was {i}fast",
    "the {a} is {i}amazing", "really happy with the {a}", "a solid {p}", "the {a} is fantastic",
    "my favorite {p} so far", "very reliable", "the {a} is nice and smooth", "super comfortable",
    "pleased with the {a}", "impressive {a}", "the {a} is brilliant", "it works well",
]  # fmt: skip
NEGATIVE = [
    "the {a} is {i}terrible", "it broke after a week", "the {a} is {i}awful",
    "not worth the money", "very disappointed", "I returned it for a refund",
    "the app is {i}buggy", "way too slow", "the {a} is {i}poor", "it crashes all the time",
    "the worst {p} I have owned", "the {a} is a mess", "useless {a}", "the {a} failed twice",
    "so annoying", "too expensive", "the {a} is {i}confusing", "constant problems with the {a}",
    "avoid this {p}", "meh",
]  # fmt: skip
MIXED = [
    "not bad at all", "not great", "hardly worth it", "the {a} is not terrible",
    "nothing special", "the {a} is okay", "it does the job", "the {a} could be better",
]  # fmt: skip
OPENERS = [
    "", "", "", "Honestly, ", "Overall, ", "After two weeks: ", "Update: ", "First impression: ",
    "Bought this as a gift. ", "Third one I have bought. ",
]  # fmt: skip
JOINS = [", and ", ", but ", ". ", "; ", " and "]


def review(rng):
    product = rng.choice(PRODUCTS)
    mood = rng.random()
    if mood < 0.45:
        pools = [POSITIVE, POSITIVE]
    elif mood < 0.85:
        pools = [NEGATIVE, NEGATIVE]
    else:
        pools = [MIXED, rng.choice([POSITIVE, NEGATIVE])]
    rng.shuffle(pools)
    clauses = []
    for pool in pools[: rng.choice([1, 2, 2, 2])]:
        boost = rng.choice(["", "", "", "", "really ", "very ", "extremely ", "quite "])
        clauses.append(rng.choice(pool).format(a=rng.choice(ASPECTS), p=product, i=boost))
    text = clauses[0]
    for clause in clauses[1:]:
        join = rng.choice(JOINS)
        text += join + (clause[0].upper() + clause[1:] if join == ". " else clause)
    opener = rng.choice(OPENERS)
    if not opener and rng.random() < 0.3:
        opener = f"{product.capitalize()}: "
    elif opener.endswith(". ") or not opener:
        text = text[0].upper() + text[1:]
    return f"{opener}{text}" + rng.choice([".", ".", "!", ""])


def lines(records=RECORDS, seed=SEED):
    rng = random.Random(seed)
    for i in range(records):
        text = review(rng)
        broken = BROKEN.get(i)
        if broken == "not json":
            yield '{"id": "r%05d", "text": "%s"' % (i + 1, text.replace('"', "'"))  # no brace
        elif broken == "no text":
            yield json.dumps({"id": f"r{i + 1:05d}", "review": text})
        else:
            yield json.dumps({"id": f"r{i + 1:05d}", "text": text})


def content():
    return ("\n".join(lines()) + "\n").encode("utf-8")


def compressed():
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as f:
        f.write(content())
    return buf.getvalue()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed file")
    parser.add_argument("--output", default=OUTPUT)
    args = parser.parse_args(argv)
    if args.check:
        try:
            with gzip.open(args.output, "rb") as f:
                same = f.read() == content()
        except OSError as e:
            print(f"{args.output}: {e}", file=sys.stderr)
            return 1
        print(f"{args.output}: {'up to date' if same else 'differs: regenerate it'}")
        return 0 if same else 1
    data = compressed()
    with open(args.output, "wb") as f:
        f.write(data)
    print(f"{args.output}: {RECORDS} records, {len(data)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
