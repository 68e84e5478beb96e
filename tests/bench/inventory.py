#!/usr/bin/env python3
"""Agent inventory benchmark: muster-agent against the peers on this machine.

Runs `muster-agent inventory`, `fusioninventory-inventory`, `ocsinventory-agent --stdout`
and `dpkg-query -W` interleaved, several runs each, and prints the medians of wall time,
CPU time (user+sys), peak RSS, output bytes raw and gzipped, and packages found. The same
figures go to a JSON file (--json). Peers that are not installed are skipped with a note;
`installers/deps-debian.sh --bench` installs them.

usage: tests/bench/inventory.py [--agent PATH] [--runs N] [--json FILE]
"""
import argparse
import gzip
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def count_muster(out):
    return len(json.loads(out)["software"])


def count_xml_softwares(out):
    return len(re.findall(rb"<SOFTWARES>", out))


def count_lines(out):
    return len([l for l in out.splitlines() if l.strip()])


def peers(agent):
    return [
        ("muster-agent inventory", [agent, "inventory"], count_muster),
        ("fusioninventory-inventory", ["fusioninventory-inventory"], count_xml_softwares),
        ("ocsinventory-agent --stdout", ["ocsinventory-agent", "--stdout"], count_xml_softwares),
        ("dpkg-query -W", ["dpkg-query", "-W"], count_lines),
    ]


def run_once(argv):
    """Runs argv with stdout to a file; returns wall s, cpu s, peak RSS KiB, output, exit code.

    Peak RSS comes from GNU time (/usr/bin/time -f %M): the rusage that this Python process
    gets from wait4 would count the forked Python child's memory before exec (about 16 MiB),
    which would hide the real figure of a small program.
    """
    with tempfile.TemporaryFile() as out, tempfile.NamedTemporaryFile("r") as rss:
        start = time.perf_counter()
        proc = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", rss.name] + argv,
                                stdout=out, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        data = out.read()
        peak_kib = int(rss.read().strip().splitlines()[-1])
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, peak_kib, data, code


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_agent = os.path.join(here, "..", "..", "build-release", "agent", "muster-agent")
    parser = argparse.ArgumentParser()
    parser.add_argument("--agent", default=default_agent)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", default="bench-inventory.json")
    args = parser.parse_args()

    candidates = []
    for name, argv, counter in peers(os.path.abspath(args.agent)):
        if shutil.which(argv[0]) or os.path.exists(argv[0]):
            candidates.append((name, argv, counter))
        else:
            print(f"skipped (not installed): {name}", file=sys.stderr)

    samples = {name: [] for name, _, _ in candidates}
    outputs = {}
    for run in range(args.runs + 1):  # the first round warms the page cache, not counted
        for name, argv, counter in candidates:
            wall, cpu, rss, data, code = run_once(argv)
            if code != 0:
                print(f"warning: {name} exited {code}", file=sys.stderr)
            if run > 0:
                samples[name].append((wall, cpu, rss))
            outputs[name] = (data, counter)

    results = []
    for name, _, _ in candidates:
        data, counter = outputs[name]
        try:
            found = counter(data)
        except Exception:  # a peer's odd output must not stop the table
            found = None
        rows = samples[name]
        results.append({
            "tool": name,
            "runs": len(rows),
            "wall_ms_median": round(statistics.median(r[0] for r in rows) * 1000, 1),
            "cpu_ms_median": round(statistics.median(r[1] for r in rows) * 1000, 1),
            "peak_rss_mib_median": round(statistics.median(r[2] for r in rows) / 1024, 1),
            "output_bytes": len(data),
            "output_gzip_bytes": len(gzip.compress(data, 6)),
            "packages_found": found,
        })

    print(f"{'tool':30} {'wall ms':>9} {'cpu ms':>9} {'RSS MiB':>8} {'out B':>9} {'gz B':>8} {'pkgs':>6}")
    for r in results:
        print(f"{r['tool']:30} {r['wall_ms_median']:9.1f} {r['cpu_ms_median']:9.1f} "
              f"{r['peak_rss_mib_median']:8.1f} {r['output_bytes']:9d} "
              f"{r['output_gzip_bytes']:8d} {str(r['packages_found']):>6}")
    base = {r["tool"]: r for r in results}
    ours = base.get("muster-agent inventory")
    fusion = base.get("fusioninventory-inventory")
    ratios = {}
    if ours and fusion:
        ratios = {
            "fusion_wall_over_muster": round(fusion["wall_ms_median"] / max(ours["wall_ms_median"], 0.001), 1),
            "muster_rss_over_fusion": round(ours["peak_rss_mib_median"] / fusion["peak_rss_mib_median"], 3),
        }
        print(f"fusioninventory wall / muster wall: {ratios['fusion_wall_over_muster']}x; "
              f"muster RSS / fusioninventory RSS: {ratios['muster_rss_over_fusion']}")
    report = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "kernel": platform.release(),
                    "processor": platform.processor() or platform.machine()},
        "runs": args.runs,
        "results": results,
        "ratios": ratios,
    }
    with open(args.json, "w") as f:
        json.dump(report, f, indent=2)
    print(f"figures written to {args.json}")


if __name__ == "__main__":
    main()
