"""Submissions against /ping with wrk, interleaved in one run: ratios that survive a busy machine.

Run: .venv/bin/python bench/bench_wrk.py [--db postgresql,sqlite] [--rounds 3] [--seconds 10]
     [--connections 32] [--compare-root /path/to/another/checkout]

For each database it migrates a throw-away database, adds 2,000 desks and an API key
(bench/harness.py), serves the app with gunicorn (gunicorn.conf.py, rate limits off) and runs
wrk (https://github.com/wg/wrk, `--latency`) in rounds, each round every scenario in turn:

  ping   GET /ping, a constant: the framework's floor, measured in the same round
  api    POST /api/v1/responses with a bearer key; a Lua script makes a fresh UUID, desk, level
         and answers for every request, so wrk stays cheap and the server does all the work
  form   POST /s/<desk token> (303), each request a new citizen: a random address in
         X-Forwarded-For and the session cookie and CSRF token of a form page fetched before
         the run (one of 64, none of which has sent anything yet)

Because the machine may be shared, the figures that count are the ratios to /ping within a
round and the server's CPU per request (CPU seconds of gunicorn's process group over the
round's acknowledged requests); the load average is printed beside every line.

`--compare-root` starts a second gunicorn from another checkout (same database, same venv) and
alternates the two in every round: an A/B comparison of two versions of the code in one run.

Goals (issue 18, 2 cores, 32 connections): api >= 0.4 x ping, form >= 0.25 x ping, p99 <= 100 ms,
no non-2xx/3xx answers. At the end the stored responses are counted: every acknowledged
request must be there.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import (  # noqa: E402
    CRITERIA,
    LEVELS,
    Client,
    Server,
    group_cpu_seconds,
    named_cpu_seconds,
    postgres_database,
    postgres_url,
    prepare_site,
    print_machine,
    sqlite_database,
    workspace,
)

WRK = shutil.which("wrk") or "/usr/bin/wrk"
SCENARIOS = ("ping", "api", "form")
SESSIONS = 64

LUA_COMMON = r"""
local salt = %(salt)d
local levels = {%(levels)s}
local criteria = {%(criteria)s}
local hex = "0123456789abcdef"
local counter = 0
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  -- Each wrk run passes a new seed: ids never repeat between runs or threads.
  math.randomseed(salt + tonumber(args[1]) + tid * 100003)
end

local function uuid4()
  local out = {}
  for i = 1, 32 do
    local n = math.random(0, 15)
    if i == 13 then n = 4 elseif i == 17 then n = 8 + n %% 4 end
    out[#out + 1] = hex:sub(n + 1, n + 1)
    if i == 8 or i == 12 or i == 16 or i == 20 then out[#out + 1] = "-" end
  end
  return table.concat(out)
end

local function answers()
  local chosen = {}
  for _, c in ipairs(criteria) do
    if math.random() < 0.5 then chosen[#chosen + 1] = {c, levels[math.random(#levels)]} end
  end
  return chosen
end
"""

LUA_API = r"""
local key = "%(key)s"
local desks = %(desks)d

request = function()
  local parts = {}
  for _, a in ipairs(answers()) do parts[#parts + 1] = '"' .. a[1] .. '":"' .. a[2] .. '"' end
  local body = '{"id":"' .. uuid4() .. '","desk":"BENCH-Q' .. math.random(desks) ..
    '","level":"' .. levels[math.random(#levels)] .. '","answers":{' ..
    table.concat(parts, ",") .. '}}'
  return wrk.format("POST", "/api/v1/responses", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. key,
  }, body)
end
"""

LUA_FORM = r"""
local paths = {%(paths)s}
local cookies = {%(cookies)s}
local tokens = {%(tokens)s}

request = function()
  local s = math.random(#cookies)
  local body = "csrf_token=" .. tokens[s] .. "&response_id=" .. uuid4() ..
    "&rating=" .. levels[math.random(#levels)]
  for _, a in ipairs(answers()) do body = body .. "&c_" .. a[1] .. "=" .. a[2] end
  -- A new citizen each time: an address in 198.18.0.0/15 (RFC 2544), as nginx reports it.
  local address = "198." .. (18 + math.random(0, 1)) .. "." .. math.random(0, 255) .. "." ..
    math.random(0, 255)
  return wrk.format("POST", paths[math.random(#paths)], {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = cookies[s],
    ["X-Forwarded-For"] = address,
  }, body)
end
"""


def lua_list(values) -> str:
    return ",".join(f'"{v}"' for v in values)


def write_scripts(site, server: Server, directory: Path) -> dict[str, Path | None]:
    common = LUA_COMMON % {
        "salt": secrets.randbelow(2**30),
        "levels": lua_list(LEVELS),
        "criteria": lua_list(CRITERIA),
    }
    cookies, tokens = [], []
    for number in range(SESSIONS):
        client = Client(server.address, number)
        if client.open_form(site.desk_paths[number]) != 200 or not client.csrf:
            raise RuntimeError("could not open the citizen form to get a session")
        cookies.append(client.cookie)
        tokens.append(client.csrf)
        client.close()
    scripts = {
        "ping": None,
        "api": common + LUA_API % {"key": site.api_key, "desks": len(site.desk_codes)},
        "form": common
        + LUA_FORM
        % {
            "paths": lua_list(site.desk_paths),
            "cookies": lua_list(cookies),
            "tokens": lua_list(tokens),
        },
    }
    paths: dict[str, Path | None] = {}
    for name, text in scripts.items():
        if text is None:
            paths[name] = None
            continue
        path = directory / f"{name}-{server.name}.lua"
        path.write_text(text)
        paths[name] = path
    return paths


@dataclass
class Run:
    round: int
    server: str
    scenario: str
    rate: float  # acknowledged (2xx/3xx) per second
    p50: float
    p99: float
    bad: int  # non-2xx/3xx answers and socket errors
    ok: int
    server_cpu: float  # CPUs the server used
    wrk_cpu: float
    load: float
    db_cpu: float = float("nan")  # CPUs PostgreSQL's processes used (nan on SQLite: in-process)
    non_2xx: int = 0  # of `bad`: answers other than 2xx/3xx (the rest: wrk's socket errors)


def parse_ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(server: Server, script: Path | None, path: str, args, seconds: float) -> dict:
    command = [
        WRK,
        f"-t{args.wrk_threads}",
        f"-c{args.connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "--latency",
    ]
    if script is not None:
        command += ["-s", str(script)]
    command.append(f"http://{server.address[0]}:{server.address[1]}{path}")
    command += ["--", str(secrets.randbelow(2**30))]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    total = int(re.search(r"(\d+) requests in ([\d.]+)(\w+)", output).group(1))
    duration = re.search(r"requests in ([\d.]+\w+)", output).group(1)
    non_2xx = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    errors = re.search(r"Socket errors: (.*)", output)
    errors = sum(int(n) for n in re.findall(r"\d+", errors.group(1))) if errors else 0
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", output, re.M))
    if "99" not in percentiles:
        raise RuntimeError(f"wrk printed no latency distribution:\n{output}")
    return {
        "ok": total - non_2xx,
        "bad": non_2xx + errors,
        "non_2xx": non_2xx,
        "errors": errors,
        "seconds": parse_ms(duration) / 1000,
        "p50": parse_ms(percentiles["50"]),
        "p99": parse_ms(percentiles["99"]),
        "output": output,
    }


def measure(round_no: int, server: Server, scenario: str, site, scripts, args) -> Run:
    path = "/ping" if scenario == "ping" else "/api/v1/responses"
    if scenario == "form":
        path = site.desk_paths[0]  # the script picks the desk
    load = os.getloadavg()[0]
    postgres = site.database.kind == "postgresql"
    db0 = named_cpu_seconds("postgres") if postgres else float("nan")
    cpu0 = group_cpu_seconds(server.process.pid)
    wrk_cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = wrk(server, scripts[scenario], path, args, args.seconds)
    wrk_cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu1 = group_cpu_seconds(server.process.pid)
    db1 = named_cpu_seconds("postgres") if postgres else float("nan")
    seconds = result["seconds"]
    return Run(
        round_no,
        server.name,
        scenario,
        result["ok"] / seconds,
        result["p50"],
        result["p99"],
        result["bad"],
        result["ok"],
        (cpu1 - cpu0) / seconds,
        (wrk_cpu1.ru_utime + wrk_cpu1.ru_stime - wrk_cpu0.ru_utime - wrk_cpu0.ru_stime) / seconds,
        load,
        (db1 - db0) / seconds,
        result["non_2xx"],
    )


def run(kind: str, args) -> list[Run]:
    with workspace(keep=args.keep) as directory:
        if args.keep:
            print(f"{kind}: logs in {directory}", flush=True)
        database = (
            sqlite_database(directory) if kind == "sqlite" else postgres_database(postgres_url())
        )
        try:
            site = prepare_site(database)
            servers = [
                Server(
                    site.env(rate_limits=False), directory, args.workers, args.threads, name="this"
                )
            ]
            if args.compare_root:
                other = Server(
                    site.env(rate_limits=False), directory, args.workers, args.threads, name="other"
                )
                other.root = Path(args.compare_root).resolve()
                servers.append(other)
            runs: list[Run] = []
            for server in servers:
                server.start()
            try:
                scripts = {s.name: write_scripts(site, s, directory) for s in servers}
                warm_ok = 0
                for server in servers:  # warm up: workers import, caches fill, pools connect
                    for scenario in args.scenarios:
                        warm = wrk(
                            server, scripts[server.name][scenario], _path(scenario, site), args, 2
                        )
                        warm_ok += warm["ok"] if scenario != "ping" else 0
                site.analyze()  # the statistics of a running site (Site.analyze)
                for round_no in range(1, args.rounds + 1):
                    order = servers if round_no % 2 else servers[::-1]
                    for scenario in args.scenarios:
                        for server in order:
                            result = measure(
                                round_no, server, scenario, site, scripts[server.name], args
                            )
                            runs.append(result)
                            print_run(kind, result, flush=True)
                if args.py_spy:
                    warm_ok += profile(servers[0], scripts["this"], site, args)
            finally:
                for server in servers:
                    server.stop()
            acknowledged = warm_ok + sum(r.ok for r in runs if r.scenario != "ping")
            stored = len(site.stored_ids())
            print(
                f"{kind}: acknowledged (2xx/3xx, warm-up included) {acknowledged:,}, stored "
                f"{stored:,}" + ("" if stored >= acknowledged else "  MISSING ROWS")
            )
            return runs
        finally:
            database.drop()


def profile(server, scripts, site, args) -> int:
    """One more API run of `args.seconds`, not counted in the figures, with py-spy sampling
    gunicorn's workers (`py-spy record --subprocesses --format raw`); the summary is printed
    by bench/profile_submit.py. Returns the acknowledged requests (to count them stored)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    out = Path(args.py_spy).with_suffix(f".{args.kind}.txt")
    command = [
        spy, "record", "--pid", str(server.process.pid), "--subprocesses", "--full-filenames",
        "--format", "raw", "--rate", "100", "--nonblocking", "-o", str(out),
        "--duration", str(int(args.seconds)),
    ]  # fmt: skip
    sampler = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    result = wrk(server, scripts["api"], _path("api", site), args, args.seconds)
    _, errors = sampler.communicate(timeout=60)
    print(f"{args.kind}: py-spy profile of {result['ok']:,} API requests in {out}", flush=True)
    if sampler.returncode == 0:
        from bench.profile_submit import summarise

        summarise(out)
    else:
        print(f"py-spy failed: {errors.decode(errors='replace')[-500:]}")
    return result["ok"]


def _path(scenario: str, site) -> str:
    return {"ping": "/ping", "api": "/api/v1/responses", "form": site.desk_paths[0]}[scenario]


def print_run(kind: str, r: Run, flush=False) -> None:
    per = r.server_cpu * 1000 / r.rate if r.rate else float("nan")
    database = ""
    if not math.isnan(r.db_cpu):
        database = (
            f"  db {r.db_cpu:.2f} cpu  {r.db_cpu * 1000 / r.rate if r.rate else 0:5.2f} ms/req"
        )
    print(
        f"{kind:10} round {r.round} {r.server:5} {r.scenario:5} {r.rate:8.0f}/s  p50 {r.p50:7.1f} ms"
        f"  p99 {r.p99:7.1f} ms  bad {r.bad:4} (non-2xx {r.non_2xx})  server {r.server_cpu:.2f} cpu  {per:5.2f} ms/req"
        f"{database}  wrk {r.wrk_cpu:.2f} cpu  load {r.load:.1f}",
        flush=flush,
    )


def summary(kind: str, runs: list[Run]) -> None:
    print(f"\n{kind}: per round, ratio to the same server's /ping in the same round")
    servers = sorted({r.server for r in runs})
    for server in servers:
        for scenario in ("api", "form"):
            ratios, p99s, cpus, dbs = [], [], [], []
            for round_no in sorted({r.round for r in runs}):
                ping = [
                    r for r in runs if (r.round, r.server, r.scenario) == (round_no, server, "ping")
                ]
                this = [
                    r
                    for r in runs
                    if (r.round, r.server, r.scenario) == (round_no, server, scenario)
                ]
                if ping and this and ping[0].rate:
                    ratios.append(this[0].rate / ping[0].rate)
                    p99s.append(this[0].p99)
                    cpus.append(this[0].server_cpu * 1000 / this[0].rate if this[0].rate else 0)
                    dbs.append(this[0].db_cpu * 1000 / this[0].rate if this[0].rate else 0)
            if ratios:
                goal = 0.4 if scenario == "api" else 0.25
                print(
                    f"  {server:5} {scenario:5} / ping: "
                    + ", ".join(f"{x:.3f}" for x in ratios)
                    + f"  (median {statistics.median(ratios):.3f}, goal >= {goal});"
                    f" p99 {', '.join(f'{x:.0f}' for x in p99s)} ms (goal <= 100);"
                    f" server CPU per request {', '.join(f'{x:.2f}' for x in cpus)} ms"
                    + (
                        f"; PostgreSQL CPU per request {', '.join(f'{x:.2f}' for x in dbs)} ms"
                        if not any(math.isnan(x) for x in dbs)
                        else ""
                    )
                )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="postgresql,sqlite")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--workers", type=int, help="default: gunicorn.conf.py")
    parser.add_argument("--threads", type=int, help="default: gunicorn.conf.py")
    parser.add_argument("--compare-root", help="another checkout to alternate with")
    parser.add_argument("--keep", action="store_true", help="keep gunicorn's logs")
    parser.add_argument(
        "--py-spy",
        metavar="PATH",
        help="after the rounds, profile one more API run with py-spy (PATH.<db>.txt)",
    )
    args = parser.parse_args(argv)
    args.scenarios = [s for s in args.scenarios.split(",") if s]
    if not Path(WRK).exists():
        print("wrk is not installed: skipped")
        return 0
    print_machine()
    print(f"wrk: {WRK}, {args.connections} connections, {args.wrk_threads} threads")
    for kind in args.db.split(","):
        if kind == "postgresql" and not postgres_url():
            print("postgresql: skipped (set BENCH_DATABASE_URL or TEST_DATABASE_URL)")
            continue
        args.kind = kind
        summary(kind, run(kind, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
