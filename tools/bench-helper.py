#!/usr/bin/env python3
"""Measurement helpers for tools/bench: precise per-invocation timing, streams, load, memory, report.

Every subcommand writes one JSON result file (--out); `report` merges them into the final
JSON and prints the table. Standard library only (Debian 12's python3).
"""
import argparse
import json
import os
import subprocess
import sys
import threading
import time

MiB = 1024 * 1024


# ------------------------------------------------------------------------------ helpers
def percentile(sorted_values, q):
    """Linear interpolation between closest ranks (numpy's default)."""
    if not sorted_values:
        return None
    if len(sorted_values) == 1:
        return sorted_values[0]
    pos = (len(sorted_values) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def summary_ms(samples_ns):
    values = sorted(v / 1e6 for v in samples_ns)
    if not values:
        return {"runs": 0}
    return {
        "runs": len(values),
        "min_ms": values[0],
        "p50_ms": percentile(values, 0.50),
        "p90_ms": percentile(values, 0.90),
        "p99_ms": percentile(values, 0.99),
        "max_ms": values[-1],
        "mean_ms": sum(values) / len(values),
    }


def write_json(path, data):
    with open(path, "w") as f:
        json.dump(data, f, indent=2)
        f.write("\n")


def spawn(argv, stdin_fd, stdout_fd, stderr_fd):
    """posix_spawn with the three standard streams given: the lightest way to start a process.
    Leading NAME=VALUE words set the environment of that process only (as env(1) would, without
    the extra exec that would distort a latency figure)."""
    env = os.environ
    while argv and "=" in argv[0] and not argv[0].startswith("/"):
        name, value = argv[0].split("=", 1)
        env = dict(env, **{name: value})
        argv = argv[1:]
    actions = [
        (os.POSIX_SPAWN_DUP2, stdin_fd, 0),
        (os.POSIX_SPAWN_DUP2, stdout_fd, 1),
        (os.POSIX_SPAWN_DUP2, stderr_fd, 2),
    ]
    return os.posix_spawn(argv[0], argv, env, file_actions=actions)


def run_once(argv, null_fd, err_fd):
    """Wall time of one invocation in ns, and its exit status (decoded)."""
    start = time.perf_counter_ns()
    pid = spawn(argv, null_fd, null_fd, err_fd)
    _, status = os.waitpid(pid, 0)
    elapsed = time.perf_counter_ns() - start
    return elapsed, os.waitstatus_to_exitcode(status)


def read_status(pid):
    """VmRSS, VmHWM (KiB) and thread count of a process from /proc."""
    values = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                    values[key] = int(rest.split()[0])
                elif key == "Threads":
                    values[key] = int(rest.split()[0])
    except OSError:
        pass
    return values


def children_of(pid):
    count = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may contain spaces, so split after the last ')'.
        fields = stat.rpartition(")")[2].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            count += 1
    return count


# ------------------------------------------------------------------------------ latency
def cmd_latency(args):
    argv = args.command
    null_fd = os.open("/dev/null", os.O_RDWR)
    err_fd = os.open(args.stderr, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    for _ in range(args.warmup):
        run_once(argv, null_fd, err_fd)
    samples = []
    failures = 0
    deadline = time.monotonic() + args.max_seconds if args.max_seconds > 0 else None
    limited = False
    while len(samples) < args.runs:
        if deadline is not None and len(samples) >= args.min_runs and time.monotonic() > deadline:
            limited = True
            break
        elapsed, code = run_once(argv, null_fd, err_fd)
        if code != 0:
            failures += 1
        samples.append(elapsed)
    result = {"name": args.name, "command": argv, "requested_runs": args.runs, "failures": failures,
              "time_limited": limited}
    result.update(summary_ms(samples))
    write_json(args.out, result)
    s = result
    note = f" (time-limited to {args.max_seconds:.0f} s)" if limited else ""
    print(f"  {args.name:<22} n={s['runs']:<4} p50 {s['p50_ms']:8.2f} ms  p99 {s['p99_ms']:8.2f} ms"
          f"  failures {failures}{note}", flush=True)


def cmd_interleave(args):
    """Several commands measured in rounds (a, b, c, a, b, c, …): load that comes and goes on
    the machine hits them all alike, so their ratios stay fair."""
    import shlex
    cases = [(key, name, shlex.split(command)) for key, name, command in args.case]
    null_fd = os.open("/dev/null", os.O_RDWR)
    err_fd = os.open(args.stderr, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    for _ in range(args.warmup):
        for _, _, argv in cases:
            run_once(argv, null_fd, err_fd)
    samples = {key: [] for key, _, _ in cases}
    failures = {key: 0 for key, _, _ in cases}
    for _ in range(args.runs):
        for key, _, argv in cases:
            elapsed, code = run_once(argv, null_fd, err_fd)
            samples[key].append(elapsed)
            failures[key] += code != 0
    for key, name, argv in cases:
        result = {"name": name, "command": argv, "requested_runs": args.runs, "failures": failures[key],
                  "time_limited": False, "interleaved": True}
        result.update(summary_ms(samples[key]))
        write_json(os.path.join(args.out_dir, key + ".json"), result)
        print(f"  {name:<22} n={result['runs']:<4} p50 {result['p50_ms']:8.2f} ms  p99 {result['p99_ms']:8.2f} ms"
              f"  failures {failures[key]}", flush=True)


# ------------------------------------------------------------------------------ streams
def cmd_stream(args):
    """Runs a shell pipeline that prints the byte count it received; best of --repeat."""
    best = None
    seconds = []
    ok = True
    received = None
    for _ in range(args.repeat):
        start = time.perf_counter_ns()
        proc = subprocess.run(["bash", "-o", "pipefail", "-c", args.pipeline], stdout=subprocess.PIPE,
                              stderr=open(args.stderr, "a"))
        elapsed = (time.perf_counter_ns() - start) / 1e9
        text = proc.stdout.decode(errors="replace").strip().split()
        received = int(text[-1]) if text and text[-1].isdigit() else None
        if proc.returncode != 0 or received != args.bytes:
            ok = False
            print(f"  {args.name}: FAILED (exit {proc.returncode}, received {received} of {args.bytes} bytes)",
                  flush=True)
            break
        seconds.append(elapsed)
        best = elapsed if best is None else min(best, elapsed)
    result = {"name": args.name, "bytes": args.bytes, "ok": ok, "repeat": args.repeat, "seconds": seconds,
              "mib_per_s": (args.bytes / MiB / best) if ok and best else None}
    write_json(args.out, result)
    if ok:
        print(f"  {args.name:<44} {result['mib_per_s']:8.1f} MiB/s  (best of {args.repeat}: "
              + ", ".join(f"{s:.2f}" for s in seconds) + " s)", flush=True)


# ------------------------------------------------------------------------------ load
def cmd_load(args):
    argv = args.command
    null_fd = os.open("/dev/null", os.O_RDWR)
    err_fd = os.open(args.stderr, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    lock = threading.Lock()
    samples = []
    failures = [0]
    codes = {}
    rss = {"VmRSS_max_kib": 0, "Threads_max": 0}
    stop = threading.Event()
    barrier = threading.Barrier(args.clients + 1)

    def client():
        barrier.wait()
        mine = []
        bad = 0
        for _ in range(args.runs):
            elapsed, code = run_once(argv, null_fd, err_fd)
            mine.append(elapsed)
            if code != 0:
                bad += 1
                with lock:
                    codes[code] = codes.get(code, 0) + 1
        with lock:
            samples.extend(mine)
            failures[0] += bad

    def sampler():
        while not stop.is_set():
            values = read_status(args.pid)
            rss["VmRSS_max_kib"] = max(rss["VmRSS_max_kib"], values.get("VmRSS", 0))
            rss["Threads_max"] = max(rss["Threads_max"], values.get("Threads", 0))
            stop.wait(0.01)

    threads = [threading.Thread(target=client) for _ in range(args.clients)]
    for t in threads:
        t.start()
    watcher = threading.Thread(target=sampler) if args.pid else None
    if watcher:
        watcher.start()
    barrier.wait()
    start = time.perf_counter_ns()
    for t in threads:
        t.join()
    elapsed = (time.perf_counter_ns() - start) / 1e9
    stop.set()
    if watcher:
        watcher.join()
    total = args.clients * args.runs
    result = {"name": args.name, "clients": args.clients, "runs_per_client": args.runs, "invocations": total,
              "failures": failures[0], "failure_exit_codes": {str(k): v for k, v in codes.items()},
              "seconds": elapsed, "ips": total / elapsed}
    result.update({"latency_" + k: v for k, v in summary_ms(samples).items() if k != "runs"})
    if args.pid:
        result.update({"server_" + k: v for k, v in rss.items()})
        result["server_VmHWM_kib"] = read_status(args.pid).get("VmHWM")
    write_json(args.out, result)
    print(f"  {args.name:<22} {args.clients}x{args.runs}: {result['ips']:7.1f} inv/s, failures {failures[0]}, "
          f"latency p50 {result['latency_p50_ms']:.1f} ms p99 {result['latency_p99_ms']:.1f} ms "
          f"max {result['latency_max_ms']:.1f} ms", flush=True)


# ------------------------------------------------------------------------------ memory
def cmd_rss(args):
    values = read_status(args.pid)
    result = {"name": args.name, "pid": args.pid, "VmRSS_kib": values.get("VmRSS"),
              "RssAnon_kib": values.get("RssAnon"), "RssFile_kib": values.get("RssFile"),
              "VmHWM_kib": values.get("VmHWM"), "Threads": values.get("Threads")}
    write_json(args.out, result)
    print(f"  {args.name:<28} VmRSS {values.get('VmRSS', 0) / 1024:.2f} MiB (anon {values.get('RssAnon', 0) / 1024:.2f}, "
          f"file {values.get('RssFile', 0) / 1024:.2f})  VmHWM {values.get('VmHWM', 0) / 1024:.2f} MiB"
          f"  threads {values.get('Threads')}", flush=True)


def cmd_sessions(args):
    """Holds N concurrent sessions (a command that sleeps), samples the server while all are open."""
    argv = args.command
    null_fd = os.open("/dev/null", os.O_RDWR)
    err_fd = os.open(args.stderr, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    pids = [spawn(argv, null_fd, null_fd, err_fd) for _ in range(args.sessions)]
    deadline = time.monotonic() + args.timeout
    reached = 0
    best = {}
    also = {}
    while time.monotonic() < deadline:
        reached = children_of(args.pid)
        if reached >= args.sessions:
            # All commands are running: every session is open. Sample a few times.
            for _ in range(5):
                values = read_status(args.pid)
                if values.get("VmRSS", 0) >= best.get("VmRSS", 0):
                    best = values
                if args.also_pid:
                    values = read_status(args.also_pid)
                    if values.get("VmRSS", 0) >= also.get("VmRSS", 0):
                        also = values
                time.sleep(0.02)
            break
        time.sleep(0.01)
    failures = 0
    for pid in pids:
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            failures += 1
    result = {"name": args.name, "sessions": args.sessions, "sessions_seen": reached, "failures": failures,
              "VmRSS_kib": best.get("VmRSS"), "RssAnon_kib": best.get("RssAnon"), "RssFile_kib": best.get("RssFile"),
              "VmHWM_kib": read_status(args.pid).get("VmHWM"),
              "Threads": best.get("Threads")}
    write_json(args.out, result)
    if args.also_pid and args.also_out:
        write_json(args.also_out, {"name": args.name + " (also sampled)", "sessions_seen": reached,
                                   "VmRSS_kib": also.get("VmRSS"), "RssAnon_kib": also.get("RssAnon"),
                                   "RssFile_kib": also.get("RssFile"), "VmHWM_kib": also.get("VmHWM"),
                                   "Threads": also.get("Threads")})
    rss = (best.get("VmRSS") or 0) / 1024
    print(f"  {args.name:<22} {reached}/{args.sessions} sessions open: VmRSS {rss:.2f} MiB "
          f"(anon {(best.get('RssAnon') or 0) / 1024:.2f}), "
          f"threads {best.get('Threads')}, failures {failures}", flush=True)


# ------------------------------------------------------------------------------ report
def load_results(directory):
    results = {}
    for name in sorted(os.listdir(directory)):
        if name.endswith(".json"):
            with open(os.path.join(directory, name)) as f:
                results[name[:-5]] = json.load(f)
    return results


def cmd_report(args):
    r = load_results(args.results)
    meta = json.load(open(args.meta))
    lines = []
    out = lines.append

    def lat(key):
        v = r.get(key)
        return v if v and v.get("runs") else None

    def fmt(v, spec="{:.2f}"):
        return "-" if v is None else spec.format(v)

    out(f"k8psh benchmark — {meta['mode']} mode, {meta['cores']} cores, {meta['cpu']}, kernel {meta['kernel']}")
    out(f"  {meta['k8psh_version']}; {meta['ssh_version']}; {meta['dropbear_version']}")
    if meta.get("upstream_binary"):
        out(f"  upstream k8psh: {meta['upstream_binary']}")
    out(f"  load average at start {meta['loadavg_start']}, at end {meta['loadavg_end']}")
    if meta["mode"] == "quick":
        out("  QUICK MODE: a smoke test. Few runs, and streams so short that ssh's start-up dominates them:")
        out("  use a full run for any figure or ratio.")
    # Only the start counts: by the end the bench's own 64-way load has raised the average.
    if meta["loadavg_start"] > 0.7 * meta["cores"]:
        out("  WARNING: the machine was busy with other work when this run started; absolute figures are inflated")
    out("")
    out("Latency of `true` (ms, wall time per invocation, stdin/stdout /dev/null). The floor, k8psh and dropbear")
    out("run in interleaved rounds (same conditions for the ratios); back-to-back local runs and ssh on their own.")
    out(f"  {'path':<34}{'runs':>6}{'min':>9}{'p50':>9}{'p90':>9}{'p99':>9}{'fail':>6}")
    rows = [("local /bin/true, back-to-back", "lat_local_seq"), ("local /bin/true (floor)", "lat_local"),
            ("k8psh stub (default: reuse master)", "lat_k8psh"),
            ("k8psh stub, own connection", "lat_k8psh_direct"),
            ("k8psh stub, 10,001-command config", "lat_k8psh_big"),
            ("under script(1), no terminal", "lat_k8psh_tty_base"),
            ("under script(1), a terminal (PTY)", "lat_k8psh_tty"),
            ("dbclient -> dropbear", "lat_dropbear"), ("OpenSSH ssh -> sshd", "lat_ssh")]
    if meta.get("upstream_binary"):  # tools/bench --upstream PATH
        rows[7:7] = [("upstream k8psh stub", "lat_upstream"),
                     ("upstream stub, 10,001 commands", "lat_upstream_big")]
    for label, key in rows:
        v = lat(key)
        if v is None:
            why = r.get(key, {}).get("skipped", "not measured")
            out(f"  {label:<34}{why:>48}")
            continue
        note = " (time-limited)" if v.get("time_limited") else ""
        out(f"  {label:<34}{v['runs']:>6}{v['min_ms']:>9.2f}{v['p50_ms']:>9.2f}{v['p90_ms']:>9.2f}"
            f"{v['p99_ms']:>9.2f}{v['failures']:>6}{note}")
    out("")
    out(f"Throughput (MiB/s, {meta['stream_bytes'] // MiB} MiB of incompressible data, "
        f"best of {meta['stream_repeat']})")
    out(f"  {'path':<34}{'remote→local':>14}{'local→remote':>14}")

    def tp(key):
        v = r.get(key)
        return v.get("mib_per_s") if v and v.get("ok") else None

    ssh_best = {}
    for direction in ("down", "up"):
        candidates = [(tp(f"tp_ssh_{c}_{direction}"), c) for c in meta["ssh_ciphers"]]
        candidates = [c for c in candidates if c[0] is not None]
        ssh_best[direction] = max(candidates) if candidates else (None, None)
    out(f"  {'local pipe (ceiling)':<34}{fmt(tp('tp_local_down'), '{:.1f}'):>14}{fmt(tp('tp_local_up'), '{:.1f}'):>14}")
    out(f"  {'k8psh stub':<34}{fmt(tp('tp_k8psh_down'), '{:.1f}'):>14}{fmt(tp('tp_k8psh_up'), '{:.1f}'):>14}")
    for c in meta["ssh_ciphers"]:
        out(f"  {'ssh -c ' + c:<34}{fmt(tp(f'tp_ssh_{c}_down'), '{:.1f}'):>14}{fmt(tp(f'tp_ssh_{c}_up'), '{:.1f}'):>14}")
    out("")
    out("Load: concurrent clients × sequential runs of `true`")
    out(f"  {'path':<34}{'runs':>10}{'fail':>6}{'inv/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    load_rows = [("k8psh stub", "load_k8psh"), ("OpenSSH ssh -> sshd", "load_ssh")]
    if meta.get("upstream_binary"):
        load_rows.insert(1, ("upstream k8psh stub", "load_upstream"))
    for label, key in load_rows:
        v = r.get(key)
        if not v:
            out(f"  {label:<34}{'not measured':>52}")
            continue
        runs = f"{v['clients']}x{v['runs_per_client']}"
        out(f"  {label:<34}{runs:>10}{v['failures']:>6}{v['ips']:>9.1f}{v['latency_p50_ms']:>9.1f}"
            f"{v['latency_p99_ms']:>9.1f}{v['latency_max_ms']:>9.1f}")
    out("")
    out("Memory and size (server process; anon = heap/stacks, file = mapped pages of the binary)")
    idle = r.get("mem_idle", {})
    first = r.get("mem_first", {})
    idle_after = r.get("mem_idle_after", {})
    sessions = r.get("mem_sessions", {})
    load = r.get("load_k8psh", {})

    def mib(kib):
        return None if kib is None else kib / 1024

    def mem_row(label, v):
        out(f"  {label:<46}{fmt(mib(v.get('VmRSS_kib'))):>7} MiB   anon {fmt(mib(v.get('RssAnon_kib'))):>6}"
            f"   file {fmt(mib(v.get('RssFile_kib'))):>6}   threads {v.get('Threads', '-')}")

    mem_row("VmRSS idle, fresh (before any session)", idle)
    mem_row("VmRSS idle, after one session", first)
    mem_row("VmRSS idle, after the load runs", idle_after)
    mem_row(f"VmRSS with {sessions.get('sessions_seen', '?')} concurrent sessions open", sessions)
    if r.get("mem_master_sessions"):
        mem_row(f"client side: reuse master, {sessions.get('sessions_seen', '?')} channels open",
                r["mem_master_sessions"])
    if r.get("mem_master"):
        mem_row("client side: reuse master, idle after the load", r["mem_master"])
    out(f"  {'VmRSS max sampled during the k8psh load':<46}{fmt(mib(load.get('server_VmRSS_max_kib'))):>7} MiB"
        f"   threads max {load.get('server_Threads_max', '-')}")
    out(f"  {'VmHWM (peak over the whole run)':<46}{fmt(mib(idle_after.get('VmHWM_kib'))):>7} MiB")
    out(f"  {'binary size (stripped)':<46}{fmt(meta['binary_bytes'] / MiB):>7} MiB   ({meta['binary_bytes']} bytes)")
    out("")

    # Targets (issues 6 and 14), all ratios from this run.
    targets = []

    def target(name, value, limit, unit, better="le", info=""):
        if value is None:
            targets.append({"target": name, "value": None, "limit": limit, "op": "<=" if better == "le" else ">=",
                            "pass": None, "info": info})
            return
        ok = value <= limit if better == "le" else value >= limit
        targets.append({"target": name, "value": value, "limit": limit, "op": "<=" if better == "le" else ">=",
                        "unit": unit, "pass": ok, "info": info})

    def ratio(a, b):
        return a / b if a is not None and b else None

    p50 = {k: (lat(f"lat_{k}") or {}).get("p50_ms")
           for k in ("local", "local_seq", "k8psh", "k8psh_big", "k8psh_tty", "k8psh_tty_base", "ssh", "dropbear",
                     "upstream", "upstream_big")}
    no_upstream = "" if p50["upstream"] else "no --upstream"
    target("stub p50 / local /bin/true p50", ratio(p50["k8psh"], p50["local"]), 2.0, "x", info="interleaved")
    target("stub p50 / back-to-back local p50", ratio(p50["k8psh"], p50["local_seq"]), 3.5, "x",
           info="stricter: a hot-cache floor")
    target("stub p50 / upstream stub p50", ratio(p50["k8psh"], p50["upstream"]), 0.85, "x", info=no_upstream)
    target("stub p50 / OpenSSH p50", ratio(p50["k8psh"], p50["ssh"]), 0.05, "x")
    target("terminal stub p50 / same without one", ratio(p50["k8psh_tty"], p50["k8psh_tty_base"]), 1.2, "x",
           info="both under script(1)")
    target("10,001-command config: stub p50 / 1-command", ratio(p50["k8psh_big"], p50["k8psh"]), 1.2, "x")
    target("10,001 commands: stub p50 / upstream's", ratio(p50["k8psh_big"], p50["upstream_big"]), 1.0, "x",
           info=no_upstream)
    target("stub p50 / dropbear p50", ratio(p50["k8psh"], p50["dropbear"]), 0.5, "x",
           info="" if p50["dropbear"] else "dropbear not installed")
    target("stream remote→local / ssh best", ratio(tp("tp_k8psh_down"), ssh_best["down"][0]), 1.5, "x", "ge",
           info=f"ssh best: {ssh_best['down'][1]}")
    target("stream local→remote / ssh best", ratio(tp("tp_k8psh_up"), ssh_best["up"][0]), 1.5, "x", "ge",
           info=f"ssh best: {ssh_best['up'][1]}")
    lk, ls, lu = r.get("load_k8psh"), r.get("load_ssh"), r.get("load_upstream")
    target("64-way load: failures", lk["failures"] if lk else None, 0, "")
    target("64-way load: inv/s / upstream inv/s", ratio(lk["ips"] if lk else None, lu["ips"] if lu else None), 1.5,
           "x", "ge", info="" if lu else "no --upstream")
    target("64-way load: inv/s / ssh inv/s", ratio(lk["ips"] if lk else None, ls["ips"] if ls else None), 5, "x",
           "ge")
    target("idle server RSS, fresh, MiB", mib(idle.get("VmRSS_kib")), 4, "MiB")
    target("idle server RSS, after one session, MiB", mib(first.get("VmRSS_kib")), 4, "MiB")
    target("idle server RSS, after the load, MiB", mib(idle_after.get("VmRSS_kib")), 4, "MiB")
    target("binary size (stripped), MiB", meta["binary_bytes"] / MiB, 8, "MiB")

    out("Targets (issues 6 and 14)")
    out(f"  {'target':<42}{'achieved':>10}{'limit':>10}  result")
    for t in targets:
        op = "≤" if t["op"] == "<=" else "≥"
        if t["value"] is None:
            out(f"  {t['target']:<42}{'-':>10}{op + ' ' + str(t['limit']):>10}  n/a  {t['info']}")
            continue
        value = f"{t['value']:.3f}" if isinstance(t["value"], float) else str(t["value"])
        mark = "PASS" if t["pass"] else "MISS"
        out(f"  {t['target']:<42}{value:>10}{op + ' ' + str(t['limit']):>10}  {mark}  {t['info']}")
    out("")
    out(f"bench wall time {meta.get('elapsed_s', 0):.0f} s (build excluded)")
    table = "\n".join(lines)
    print(table)
    document = {"meta": meta, "results": r, "targets": targets, "table": table}
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    write_json(args.json, document)
    print(f"\nJSON: {args.json}")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("latency")
    p.add_argument("--name", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--runs", type=int, default=300)
    p.add_argument("--min-runs", type=int, default=50)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--max-seconds", type=float, default=0)
    p.add_argument("--stderr", default="/dev/null")
    p.add_argument("command", nargs="+")
    p.set_defaults(func=cmd_latency)

    p = sub.add_parser("interleave")
    p.add_argument("--out-dir", required=True)
    p.add_argument("--runs", type=int, default=300)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--stderr", default="/dev/null")
    p.add_argument("--case", nargs=3, action="append", required=True, metavar=("KEY", "NAME", "COMMAND"))
    p.set_defaults(func=cmd_interleave)

    p = sub.add_parser("stream")
    p.add_argument("--name", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--bytes", type=int, required=True)
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--stderr", default="/dev/null")
    p.add_argument("pipeline")
    p.set_defaults(func=cmd_stream)

    p = sub.add_parser("load")
    p.add_argument("--name", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--clients", type=int, default=64)
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--pid", type=int, default=0)
    p.add_argument("--stderr", default="/dev/null")
    p.add_argument("command", nargs="+")
    p.set_defaults(func=cmd_load)

    p = sub.add_parser("rss")
    p.add_argument("--name", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--pid", type=int, required=True)
    p.set_defaults(func=cmd_rss)

    p = sub.add_parser("sessions")
    p.add_argument("--name", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--sessions", type=int, default=64)
    p.add_argument("--timeout", type=float, default=20)
    p.add_argument("--also-pid", type=int, help="another process sampled at the same moments (the reuse master)")
    p.add_argument("--also-out")
    p.add_argument("--stderr", default="/dev/null")
    p.add_argument("command", nargs="+")
    p.set_defaults(func=cmd_sessions)

    p = sub.add_parser("report")
    p.add_argument("--results", required=True)
    p.add_argument("--meta", required=True)
    p.add_argument("--json", required=True)
    p.set_defaults(func=cmd_report)

    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
