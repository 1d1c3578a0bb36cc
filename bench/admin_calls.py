"""How much Python an admin page runs, counted rather than timed: the function calls a request
makes under ``cProfile`` (after warm-ups, ``PYTHONHASHSEED=0``), per page and role of
``bench/admin.py``, on its seeded database. A count does not move with the machine's load, so two
trees can be compared on a busy machine where their timings cannot.

    DATABASE_URL=… .venv/bin/python bench/admin_calls.py --out now.json
    (in the other tree, on its own seed)  … --out then.json
    .venv/bin/python bench/admin_calls.py --compare then.json now.json [--page NAME --role LABEL]

The comparison lists every row's ratio, and with ``--page``/``--role`` the functions whose calls
changed most for that row (where the extra work is). The database is ``bench/admin.py``'s: run it
once first to seed it. To count an older tree, copy this file into its bench/.
"""

import argparse
import cProfile
import gc
import json
import os
import pstats
import re
import statistics
import sys
from collections import Counter
from urllib.parse import urlencode

REQUESTS, WARMUP = 10, 3


def _count(out: str, pages: str, roles: str) -> None:
    import admin as bench  # bench/admin.py: its database, users, pages and signing in

    bench._environment()
    bench._django()
    users, samples = bench._users(), bench._samples()
    rows = []
    for page in bench._pages():
        if pages.lower() not in page.name.lower() or getattr(page, "first_view", False):  # older trees: none
            continue
        for key, label, _groups in bench.ROLES:
            if roles.lower() not in label.lower() or not bench._sees(page, users[key]):
                continue
            query = page.query(key, samples) if callable(page.query) else page.query
            url = page.path + ("?" + urlencode(query) if query else "")
            client = bench._signed_in(users[key])
            for _ in range(WARMUP):
                assert client.get(url).status_code == 200, url
            gc.collect()
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(REQUESTS):
                client.get(url)
            profile.disable()
            found = pstats.Stats(profile)
            calls = {":".join(map(str, where)): n for where, (_p, n, *_rest) in found.stats.items()}
            each = found.total_calls / REQUESTS
            rows.append({"page": page.name, "role": label, "calls": each, "functions": calls})
            print(f"  {page.name} as {label}: {each:.0f} calls a request", file=sys.stderr, flush=True)
    with open(out, "w") as file:
        json.dump(rows, file)


def _where(function: str) -> str:
    """A function's place without the tree's or the virtualenv's path, comparable across trees."""
    function = re.sub(r"^.*/site-packages/", "", function)
    return re.sub(r"^/.*?/(hireops|bindings|referrals|orders|config|demo|sandbox)/", r"\1/", function)


def _compare(then_file: str, now_file: str, page: str, role: str) -> None:
    with open(then_file) as file:
        then = {(r["page"], r["role"]): r for r in json.load(file)}
    with open(now_file) as file:
        now = {(r["page"], r["role"]): r for r in json.load(file)}
    both = sorted(set(then) & set(now), key=lambda k: now[k]["calls"] / then[k]["calls"])
    ratios = [now[k]["calls"] / then[k]["calls"] for k in both]
    for ratio, k in zip(ratios, both, strict=True):
        print(f"{ratio:5.2f}×  {k[0]} as {k[1]}")
    print(f"median {statistics.median(ratios):.3f}× over {len(both)} rows")
    if not (page and role):
        return
    then_calls: Counter = Counter()
    now_calls: Counter = Counter()
    for calls, rows in ((then_calls, then), (now_calls, now)):
        for function, n in rows[page, role]["functions"].items():
            calls[_where(function)] += n / REQUESTS
    changed = {f: now_calls[f] - then_calls[f] for f in then_calls.keys() | now_calls.keys()}
    for function, change in sorted(changed.items(), key=lambda item: -abs(item[1]))[:40]:
        print(f"{change:+8.0f}  {then_calls[function]:7.0f} → {now_calls[function]:7.0f}  {function}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", help="count this tree's calls into this JSON file")
    parser.add_argument("--pages", default="", help="only pages whose name contains this")
    parser.add_argument("--roles", default="", help="only roles whose label contains this")
    parser.add_argument("--compare", nargs=2, metavar=("THEN", "NOW"), help="compare two files of counts")
    parser.add_argument("--page", default="", help="with --compare: the functions of this page's row…")
    parser.add_argument("--role", default="", help="…as this role (its label)")
    args = parser.parse_args()
    if args.compare:
        _compare(*args.compare, args.page, args.role)
    elif args.out:
        if os.environ.get("PYTHONHASHSEED") != "0":
            print("set PYTHONHASHSEED=0: a count should not depend on the hash seed", file=sys.stderr)
        _count(args.out, args.pages, args.roles)
    else:
        parser.error("give --out FILE, or --compare THEN NOW")
    return 0


if __name__ == "__main__":
    sys.exit(main())
