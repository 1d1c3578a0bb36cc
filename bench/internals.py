"""Benchmark: what each of the admin's leanings on Django's internals gains (docs/internals.md).

    .venv/bin/python bench/internals.py [--rounds 2] [--repeat 3] [--pages TEXT] [--roles TEXT]

The admin's database, users and pages are bench/admin.py's (run it first to seed; DATABASE_URL as
there). Each variant is the committed code with one internal swapped for Django's public way,
between requests, in the same process:

- ``app list``: Django's ``admin/app_list.html`` template in place of the list written in Python
  (the cached template loader's entry swapped);
- ``user query``: the signed-in user's statement built and compiled by the queryset at every
  request in place of ``OneRow``'s compiled one.

Each page × role is requested ``--repeat`` times with every variant, in an order that rotates,
so a busier moment of a shared machine falls on all of them; ``--rounds`` runs it all again.
Per variant it prints, over the page × role rows, the median of (variant − committed) / variant:
the share of the path's cost the internal saves, in the process's and PostgreSQL's CPU time a
request and in wall time, each round's median in brackets. A share under a tenth means the
public way returns (the rule in docs/internals.md): a list row's selection box written without
its widget template went that way (6.0 %), and with it its variant here.
"""

import argparse
import gc
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import admin as bench  # noqa: E402


class Variant:
    name = "committed"

    def on(self) -> None:
        pass

    def off(self) -> None:
        pass


class DjangosAppList(Variant):
    name = "app list"
    entry = "admin/app_list.html"

    def on(self) -> None:
        import django.contrib.admin
        from django.template import Template, engines

        engine = engines["django"].engine  # type: ignore[attr-defined]
        self.loader = engine.template_loaders[0]
        self.ours = self.loader.get_template_cache.get(self.entry) or engine.get_template(self.entry)
        path = Path(django.contrib.admin.__file__).parent / "templates" / self.entry
        djangos = Template(path.read_text(), name=self.entry, engine=engine)
        self.loader.get_template_cache[self.entry] = djangos

    def off(self) -> None:
        self.loader.get_template_cache[self.entry] = self.ours


class QuerysetUser(Variant):
    name = "user query"

    def on(self) -> None:
        from hireops.core.compiled import OneRow

        self.ours = OneRow.get

        def get(one_row, value):
            return next(iter(one_row._build(value)[:1]), None)

        OneRow.get = get  # type: ignore[method-assign]

    def off(self) -> None:
        from hireops.core.compiled import OneRow

        OneRow.get = self.ours  # type: ignore[method-assign]


VARIANTS = [Variant(), DjangosAppList(), QuerysetUser()]


def _request(client, url: str) -> tuple[float, float]:
    """Wall ms and CPU ms (this process's and its PostgreSQL server process's) of one request."""
    server = bench._server_cpu_ms() or 0.0
    t0, cpu0 = time.perf_counter(), time.process_time()
    response = client.get(url)
    wall, cpu = (time.perf_counter() - t0) * 1000, (time.process_time() - cpu0) * 1000
    assert response.status_code == 200, f"{url}: {response.status_code}"
    return wall, cpu + (bench._server_cpu_ms() or 0.0) - server


def _row(client, url: str, repeat: int, offset: int) -> dict[str, tuple[float, float]]:
    """Each variant's median (wall, CPU) for one page × role, the variants interleaved."""
    samples: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for variant in VARIANTS:  # warm each variant's caches (templates, compiled statements)
        variant.on()
        try:
            client.get(url)
        finally:
            variant.off()
    gc.collect()
    for i in range(repeat):
        turn = (i + offset) % len(VARIANTS)
        for variant in VARIANTS[turn:] + VARIANTS[:turn]:
            variant.on()
            try:
                samples[variant.name].append(_request(client, url))
            finally:
                variant.off()
    return {
        name: (statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs))
        for name, runs in samples.items()
    }


def _share(public: float, committed: float) -> float:
    return (public - committed) / public * 100 if public else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="requests of each variant a page × role")
    parser.add_argument("--pages", default="", help="only pages whose name contains this")
    parser.add_argument("--roles", default="", help="only roles whose name contains this")
    args = parser.parse_args()

    bench._environment()
    bench._django()
    users = bench._users()
    samples = bench._samples()
    bench._machine()
    rows = []
    for page in bench._pages():
        if args.pages.lower() not in page.name.lower():
            continue
        for key, label, _groups in bench.ROLES:
            user = users[key]
            if args.roles.lower() in label.lower() and bench._sees(page, user):
                query = page.query(key, samples) if callable(page.query) else page.query
                url = page.path + ("?" + urlencode(query) if query else "")
                rows.append((f"{page.name} as {label}", url, bench._signed_in(user)))

    shares: dict[str, list[list[tuple[float, float]]]] = {v.name: [] for v in VARIANTS[1:]}
    for number in range(args.rounds):
        print(f"Round {number + 1} of {args.rounds}: {len(rows)} page × role rows", flush=True)
        for name in shares:
            shares[name].append([])
        for index, (title, url, client) in enumerate(rows):
            medians = _row(client, url, args.repeat, offset=index + number)
            wall, cpu = medians["committed"]
            line = [f"  {title}: committed {cpu:.1f} ms CPU, {wall:.1f} ms"]
            for name in shares:
                public_wall, public_cpu = medians[name]
                share = (_share(public_cpu, cpu), _share(public_wall, wall))
                shares[name][-1].append(share)
                line.append(f"{name} {share[0]:+.1f} % CPU, {share[1]:+.1f} % wall")
            print("; ".join(line), flush=True)

    print("\nShare of a page's cost each internal saves (median over rows; each round's in brackets):")
    for name, rounds in shares.items():
        cpu = statistics.median(c for round_ in rounds for c, _ in round_)
        wall = statistics.median(w for round_ in rounds for _, w in round_)
        by_round = " / ".join(f"{statistics.median(c for c, _ in r):.1f}" for r in rounds)
        walls = " / ".join(f"{statistics.median(w for _, w in r):.1f}" for r in rounds)
        print(f"  {name:14} {cpu:5.1f} % of CPU ({by_round}), {wall:5.1f} % of wall time ({walls})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
