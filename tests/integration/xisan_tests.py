#!/usr/bin/env python3
"""Integration tests: real CPython under `xisan run`, one case per call.

    xisan_tests.py --xisan X --python P --fixtures DIR --cases DIR CASE

Each case runs a program under the checker and asserts on its exit status,
stderr and the JSON report log.  Exit status 0 means the case passed.
"""
import argparse
import glob
import json
import os
import re
import signal
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


class Failure(Exception):
    pass


def check(cond, message, *context):
    if not cond:
        details = "\n".join(str(c) for c in context)
        raise Failure(f"{message}\n{details}" if details else message)


class Env:
    def __init__(self, args):
        self.xisan = args.xisan
        self.python = args.python
        self.fixtures = args.fixtures
        self.plain_fixtures = args.fixtures
        self.instrumented = args.instrumented
        self.build = args.build
        self.cases = args.cases
        self.tmp = tempfile.mkdtemp(prefix="xisan-test-")

    def environ(self, options=None, **extra):
        env = {k: v for k, v in os.environ.items()
               if k not in ("XISAN_OPTIONS", "PYTHONMALLOC", "PYTHONDEVMODE", "LD_PRELOAD")}
        env["PYTHONPATH"] = os.pathsep.join([self.fixtures, self.cases])
        if options is not None:
            env["XISAN_OPTIONS"] = options
        env.update(extra)
        return env

    def run(self, argv, options=None, timeout=240, **extra):
        proc = subprocess.run([self.xisan, "run", "--"] + argv, env=self.environ(options, **extra),
                              capture_output=True, text=True, timeout=timeout, cwd=self.cases)
        return proc

    def run_case(self, case, options):
        log = tempfile.mktemp(prefix="log-", dir=self.tmp)
        opts = f"log_path={log}" + (":" + options if options else "")
        proc = self.run([self.python, os.path.join(self.cases, "cases.py"), case], opts)
        records = []
        for path in sorted(glob.glob(log + ".*.jsonl")):
            with open(path) as f:
                records += [json.loads(line) for line in f]
        return proc, records


def functions(stack):
    return [frame["function"] for frame in stack]


def expect_report(env, case, kind, object_type, access, fn_in_native=None, fn_in_alloc=None,
                  python_top=None, owner_main=True, alloc_python=True):
    """A halting run of `case` makes exactly one report, as described."""
    proc, records = env.run_case(case, "")
    out = proc.stderr
    check(proc.returncode == -signal.SIGABRT, f"expected death by SIGABRT, got {proc.returncode}", out)
    check(len(records) == 1, f"expected 1 JSON report, got {len(records)}", out)
    r = records[0]
    check(r["kind"] == kind and r["access"] == access,
          f"expected {kind}/{access}, got {r['kind']}/{r['access']}", out)
    check(r["object_type"] == object_type, f"object_type {r['object_type']!r} != {object_type!r}")
    banner = re.search(r"^==(\d+)==ERROR: XISan: (\S+) on (\S+) object at 0x[0-9a-f]+ "
                       r"\(access: (\S+)\)$", out, re.M)
    check(banner and banner.group(2) == kind and banner.group(4) == access,
          "text report banner missing or wrong", out)
    check(int(banner.group(1)) == r["pid"], "banner pid differs from the JSON pid")
    check(re.search(rf"^SUMMARY: XISan: {re.escape(kind)} \S+:\d+ in \S+$", out, re.M),
          "SUMMARY line missing", out)
    check("Current thread 0x" in out and "ABORTING" in out, "halt traceback missing", out)
    check(r["owner_interp"] != r["current_interp"], "owner and current interpreter are equal")
    if owner_main:
        check(r["owner_interp"] == 0, f"owner should be the main interpreter: {r['owner_interp']}")
    check(r["python_stack"], "no Python stack", out)
    if python_top:
        top = r["python_stack"][0]
        check((os.path.basename(top["file"]), top["function"]) == python_top,
              f"Python stack top {top} is not {python_top}", out)
        check(top["line"] > 0, "Python frame without a line")
    check(r["native_stack"], "no native stack")
    for frame in r["native_stack"] + r["alloc_native_stack"]:
        check(re.fullmatch(r"0x[0-9a-f]+", frame["pc"]), f"bad pc {frame}")
    if fn_in_native:
        check(fn_in_native in functions(r["native_stack"]),
              f"{fn_in_native} not in the native stack", functions(r["native_stack"]))
        frame = next(f for f in r["native_stack"] if f["function"] == fn_in_native)
        check(frame["file"].endswith(".c") and frame["line"] > 0,
              f"{fn_in_native} frame has no file:line", frame)
    if fn_in_alloc:
        check(fn_in_alloc in functions(r["alloc_native_stack"]),
              f"{fn_in_alloc} not in the allocation stack", functions(r["alloc_native_stack"]))
    if alloc_python:
        check(r["alloc_python_stack"], "no allocation Python stack", out)
    return r


def case_cached_object(env):
    r = expect_report(env, "cached_object", "cross-interpreter-access", "list", "call",
                      fn_in_alloc="get_cached", python_top=("sub.py", "use_cached"))
    top = r["alloc_python_stack"][0]
    check((os.path.basename(top["file"]), top["function"]) == ("cases.py", "cached_object"),
          f"allocation Python stack top is {top}")


def case_stored_callback(env):
    # the code object was compiled before any Python frame ran: no alloc Python stack
    expect_report(env, "stored_callback", "cross-interpreter-access", "code", "py-start",
                  fn_in_native="run_callback", python_top=("cases.py", "callback"),
                  alloc_python=False)


def case_slot_drop(env):
    r = expect_report(env, "slot_drop", "cross-interpreter-free", "Payload", "dealloc",
                      fn_in_native="set_slot", python_top=("sub.py", "replace_slot"))
    check(r["summary"]["function"] == "set_slot" and r["summary"]["file"].endswith("xfix.c"),
          f"SUMMARY should name set_slot in xfix.c: {r['summary']}")


def case_use_after_end(env):
    r = expect_report(env, "use_after_end", "use-after-interpreter-end", "Payload", "dealloc",
                      fn_in_native="clear_slot", python_top=("cases.py", "use_after_end"),
                      owner_main=False)
    check(r["owner_ended"] is True and r["current_interp"] == 0, "owner should have ended", r)


def case_continue_mode(env):
    proc, records = env.run_case("all_bugs", "halt_on_error=0")
    out = proc.stderr
    check(proc.returncode == 66, f"expected exit status 66, got {proc.returncode}", out)
    check("all_bugs: done" in proc.stdout, "the program did not run to completion", proc.stdout)
    kinds = {(r["kind"], r["access"]) for r in records}
    for expected in [("cross-interpreter-access", "call"), ("cross-interpreter-access", "py-start"),
                     ("cross-interpreter-free", "dealloc")]:
        check(expected in kinds, f"no {expected} report in continue mode", kinds)
    sites = [(r["kind"], r["access"], json.dumps(r["native_stack"][:8]),
              json.dumps(r["python_stack"][:1])) for r in records]
    check(len(sites) == len(set(sites)), "a site was reported twice", sites)
    # 3 rounds x 5 touches of each bug: far fewer reports than touches
    check(len(records) < 15, f"{len(records)} reports for 3 distinct bugs", out)
    text = len(re.findall(r"^==\d+==ERROR: XISan:", out, re.M))
    check(text == len(records), f"{text} text reports but {len(records)} JSON records")
    summary = re.search(r"^==\d+==XISan: (\d+) reports? \((\d+) repeats.*quarantine holds "
                        r"(\d+) blocks?, (\d+) bytes$", out, re.M)
    check(summary and int(summary.group(1)) == len(records), "summary line missing or wrong", out)
    check(int(summary.group(2)) > 0, "repeats should have been counted", out)
    check(int(summary.group(3)) > 0, "misdirected frees should be quarantined", out)


def case_parallel_reports(env):
    proc, records = env.run_case("parallel_reports", "halt_on_error=0")
    out = proc.stderr
    check(proc.returncode == 66, f"exit status {proc.returncode}", out[-3000:])
    check("parallel: done" in proc.stdout, "the program did not complete", proc.stdout)
    # every report is one block: banner ... SUMMARY ... rule, never mixed
    state = "outside"
    blocks = 0
    for line in out.splitlines():
        if re.match(r"^==\d+==ERROR: XISan:", line):
            check(state == "rule", "a report started inside another one", out[-3000:])
            state = "inside"
        elif line.startswith("SUMMARY: XISan:"):
            check(state == "inside", "SUMMARY outside a report", out[-3000:])
            state = "summary"
            blocks += 1
        elif line == "=" * 65:
            state = "outside" if state == "summary" else "rule"
    check(blocks == len(records) and blocks >= 40, f"{blocks} text reports, {len(records)} JSON")
    check({r["thread"] for r in records}.__len__() == 2, "reports should come from both threads")


def case_isolated_threads(env):
    proc, records = env.run_case("isolated_threads", "halt_on_error=0")
    check(proc.returncode == 0, f"exit status {proc.returncode}", proc.stderr)
    check("isolated: ok" in proc.stdout, "the program did not complete", proc.stdout)
    check("XISan" not in proc.stderr and not records, "reports on a correctly isolated module",
          proc.stderr)


def case_child_process(env):
    code = ("import subprocess, sys; "
            "r = subprocess.run([sys.executable, 'cases.py', 'cached_object']); "
            "print('child exit', r.returncode)")
    proc = env.run([env.python, "-c", code])
    check(f"child exit {-signal.SIGABRT}" in proc.stdout, "the child was not stopped", proc.stdout)
    pids = re.findall(r"^==(\d+)==ERROR: XISan: cross-interpreter-access", proc.stderr, re.M)
    check(len(pids) == 1, "expected one report, from the child", proc.stderr)
    check(proc.returncode == 66, f"a run with a report exits 66, got {proc.returncode}")


def marker_program(env):
    marker = os.path.join(env.tmp, "ran")
    return marker, [env.python, "-c", f"open({marker!r}, 'w').close()"]


def case_bad_options(env):
    for options, name in [("halt_on_error=2", "halt_on_error"), ("frobnicate=1", "frobnicate"),
                          ("exitcode", "exitcode"), ("exitcode=300", "exitcode"),
                          ("monitor=call,bogus", "bogus")]:
        marker, argv = marker_program(env)
        proc = env.run(argv, options)
        lines = proc.stderr.splitlines()
        check(proc.returncode == 2, f"{options!r}: exit status {proc.returncode}", proc.stderr)
        check(len(lines) == 1 and lines[0].startswith("xisan: error: XISAN_OPTIONS:")
              and name in lines[0], f"{options!r}: expected one error line naming {name}",
              proc.stderr)
        check(not os.path.exists(marker), f"{options!r}: the program ran")
    marker, argv = marker_program(env)
    proc = subprocess.run([env.xisan, "run", "-o", "verbosity=9", "--"] + argv,
                          env=env.environ(), capture_output=True, text=True)
    check(proc.returncode == 2 and "verbosity" in proc.stderr and not os.path.exists(marker),
          "-o with a bad value must fail before the program starts", proc.stderr)


def case_bad_flag(env):
    proc = subprocess.run([env.xisan, "run", "--bogus", "--", "true"], capture_output=True, text=True)
    check(proc.returncode == 2 and "--bogus" in proc.stderr, "unknown flag", proc.stderr)
    proc = subprocess.run([env.xisan, "frobnicate"], capture_output=True, text=True)
    check(proc.returncode == 2 and "frobnicate" in proc.stderr, "unknown command", proc.stderr)
    proc = subprocess.run([env.xisan, "run", "--", "/nonexistent/program"], capture_output=True,
                          text=True)
    check(proc.returncode == 127 and "/nonexistent/program" in proc.stderr, "missing program",
          proc.stderr)


def case_unwritable_log(env):
    proc = env.run([env.python, "cases.py", "cached_object"], "log_path=/nonexistent/dir/log")
    check(proc.returncode == -signal.SIGABRT, f"exit status {proc.returncode}", proc.stderr)
    check(re.search(r"^xisan: warning: log_path '/nonexistent/dir/log' is not writable", proc.stderr,
                    re.M), "no warning about log_path", proc.stderr)
    check("ERROR: XISan: cross-interpreter-access" in proc.stderr, "report not on stderr",
          proc.stderr)


def case_exit_status(env):
    proc = env.run([env.python, "-c", "raise SystemExit(3)"])
    check(proc.returncode == 3, f"exit status {proc.returncode}, expected 3", proc.stderr)
    proc = env.run([env.python, "-c", "print('hello')"])
    plain = subprocess.run([env.python, "-c", "print('hello')"], capture_output=True, text=True)
    check(proc.returncode == 0 and proc.stdout == plain.stdout and proc.stderr == plain.stderr,
          "a clean program's output must be unchanged", proc.stderr)


def case_crash(env):
    proc = env.run([env.python, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"])
    check(proc.returncode == -signal.SIGSEGV, f"exit status {proc.returncode}", proc.stderr)
    check(re.search(r"^xisan: '.*' was killed by signal 11 ", proc.stderr, re.M),
          "no line saying the program crashed", proc.stderr)


def case_not_python(env):
    note = "xisan: note: no supported Python (CPython 3.12 or 3.13) ran under the checker\n"
    proc = env.run(["sh", "-c", "echo hi; echo err >&2"])
    check(proc.returncode == 0 and proc.stdout == "hi\n", "shell output changed", proc.stdout)
    check(proc.stderr == "err\n" + note, "expected the program's stderr and one note", proc.stderr)
    older = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.11*/bin/python3.11")))
    older += [p for p in ["/usr/bin/python3.11"] if os.path.exists(p)]
    for py in older:
        code = "import sys; print(sys.version_info[:2])"
        plain = subprocess.run([py, "-c", code], capture_output=True, text=True)
        proc = env.run([py, "-c", code])
        check(proc.stdout == plain.stdout and proc.stderr == plain.stderr + note,
              f"{py}: output changed under xisan", proc.stderr)


def case_help(env):
    proc = subprocess.run([env.xisan, "help"], capture_output=True, text=True)
    check(proc.returncode == 0, "xisan help failed")
    with open(os.path.join(ROOT, "src", "options.inc")) as f:
        table = f.read()
    options = re.findall(r"XISAN_OPTION\((BOOL|INT|STR), (\w+), (\"[^\"]*\"|\w+),", table)
    check(len(options) >= 6, "could not read the options table")
    for kind, name, default in options:
        check(re.search(rf"^  {name} +\w+ +default: {re.escape(default)}$", proc.stdout, re.M),
              f"option {name} (default {default}) not listed", proc.stdout)


def fixture_line(text):
    """Line number of `text` in tests/fixtures/xfix.c."""
    with open(os.path.join(ROOT, "tests", "fixtures", "xfix.c")) as f:
        for number, line in enumerate(f, 1):
            if text in line:
                return number
    raise Failure(f"{text!r} not in xfix.c")


def case_instrumented_sites(env):
    """Built with xisan/python.h, the fixture's own C code is where each bug is
    reported: frame #0 is its call site, exact."""
    env.fixtures = env.instrumented
    for case, kind, access, function, text in [
        ("cached_object", "cross-interpreter-access", "incref", "get_cached",
         "return Py_NewRef(cached_list);"),
        ("stored_callback", "cross-interpreter-access", "call", "run_callback",
         "return PyObject_CallNoArgs(stored_callback);"),
        ("slot_drop", "cross-interpreter-access", "decref", "set_slot",
         "Py_XSETREF(slot, Py_NewRef(value));"),
        ("use_after_end", "use-after-interpreter-end", "decref", "clear_slot", "Py_CLEAR(slot);"),
    ]:
        proc, records = env.run_case(case, "")
        check(proc.returncode == -signal.SIGABRT and len(records) == 1,
              f"{case}: expected one report and SIGABRT, got {proc.returncode}", proc.stderr)
        r = records[0]
        top = r["native_stack"][0]
        where = (r["kind"], r["access"], top["function"], os.path.basename(top["file"]), top["line"])
        want = (kind, access, function, "xfix.c", fixture_line(text))
        check(where == want, f"{case}: reported {where}, expected {want}", proc.stderr)
        check(re.search(rf"^SUMMARY: XISan: {kind} \S*xfix.c:{want[4]} in {function}$",
                        proc.stderr, re.M), f"{case}: SUMMARY line", proc.stderr)


def python_build_facts(env):
    code = "import sysconfig; print(sysconfig.get_paths()['include']); print(sysconfig.get_config_var('EXT_SUFFIX'))"
    out = subprocess.run([env.python, "-c", code], capture_output=True, text=True, check=True)
    include, suffix = out.stdout.split()
    return include, suffix


def expect_instrumented_incref(env, module_dir, how):
    env.fixtures = module_dir
    proc, records = env.run_case("cached_object", "")
    check(len(records) == 1, f"{how}: expected one report", proc.stderr[-3000:])
    top = records[0]["native_stack"][0]
    got = (records[0]["access"], top["function"], os.path.basename(top["file"]), top["line"])
    want = ("incref", "get_cached", "xfix.c", fixture_line("return Py_NewRef(cached_list);"))
    check(got == want, f"{how}: reported {got}, expected {want}")


def compile_fixture(env, out_dir, flags):
    include, suffix = python_build_facts(env)
    os.makedirs(out_dir, exist_ok=True)
    src = os.path.join(ROOT, "tests", "fixtures", "xfix.c")
    argv = (["cc", "-shared", "-fPIC", "-g", "-O1", f"-I{include}"] + flags["cflags"] + [src]
            + flags["libs"] + ["-o", os.path.join(out_dir, "xfix" + suffix)])
    proc = subprocess.run(argv, capture_output=True, text=True)
    check(proc.returncode == 0, f"compile failed: {' '.join(argv)}", proc.stderr)


def case_config_build(env):
    """`cc ... $(xisan config --cflags) mod.c $(xisan config --libs)` builds a
    checked extension; an unknown flag is an error."""
    def config(flag):
        return subprocess.run([env.xisan, "config", flag], capture_output=True, text=True,
                              check=True).stdout.split()
    out_dir = os.path.join(env.tmp, "config")
    compile_fixture(env, out_dir, {"cflags": config("--cflags"), "libs": config("--libs")})
    expect_instrumented_incref(env, out_dir, "xisan config")
    bad = subprocess.run([env.xisan, "config", "--bogus"], capture_output=True, text=True)
    check(bad.returncode == 2 and "--bogus" in bad.stderr and not bad.stdout, "config --bogus")


def case_pkgconfig_build(env):
    pc = os.path.join(env.build, "lib", "pkgconfig")
    def pkg(flag):
        return subprocess.run(["pkg-config", flag, "xisan"], capture_output=True, text=True,
                              check=True, env=dict(os.environ, PKG_CONFIG_PATH=pc)).stdout.split()
    out_dir = os.path.join(env.tmp, "pkgconfig")
    compile_fixture(env, out_dir, {"cflags": pkg("--cflags"), "libs": pkg("--libs")})
    expect_instrumented_incref(env, out_dir, "pkg-config")


def case_cmake_package_build(env):
    include, suffix = python_build_facts(env)
    project = os.path.join(env.tmp, "cmake-ext")
    os.makedirs(project)
    with open(os.path.join(project, "CMakeLists.txt"), "w") as f:
        f.write(f"""cmake_minimum_required(VERSION 3.18)
project(instrumented_ext C)
find_package(xisan 0.1 REQUIRED)
add_library(xfix MODULE {os.path.join(ROOT, "tests", "fixtures", "xfix.c")})
set_target_properties(xfix PROPERTIES PREFIX "" SUFFIX "{suffix}")
target_include_directories(xfix PRIVATE {include})
target_compile_options(xfix PRIVATE -g -O1)
target_link_libraries(xfix PRIVATE xisan::python)
""")
    build = os.path.join(project, "build")
    for argv in (["cmake", "-S", project, "-B", build,
                  f"-Dxisan_DIR={os.path.join(env.build, 'lib', 'cmake', 'xisan')}"],
                 ["cmake", "--build", build]):
        proc = subprocess.run(argv, capture_output=True, text=True)
        check(proc.returncode == 0, f"{' '.join(argv)} failed", proc.stdout[-2000:], proc.stderr)
    expect_instrumented_incref(env, build, "find_package(xisan)")


class Skip(Exception):
    pass


def case_header_unsupported_python(env):
    """xisan/python.h with another CPython's headers stops the build with an
    #error naming the supported versions."""
    includes = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.1[01]*/include/python3.1[01]")))
    includes += [p for p in ["/usr/include/python3.11"] if os.path.exists(p + "/Python.h")]
    if not includes:
        raise Skip("no CPython 3.10/3.11 headers on this machine")
    src = os.path.join(env.tmp, "mod.c")
    with open(src, "w") as f:
        f.write("#include <Python.h>\nint answer(void) { return 42; }\n")
    cflags = subprocess.run([env.xisan, "config", "--cflags"], capture_output=True, text=True,
                            check=True).stdout.split()
    for include in includes:
        proc = subprocess.run(["cc", "-c", f"-I{include}"] + cflags + [src, "-o",
                               os.path.join(env.tmp, "mod.o")], capture_output=True, text=True)
        check(proc.returncode != 0 and "supports CPython 3.12 and 3.13 only" in proc.stderr,
              f"{include}: expected the #error", proc.stderr[-2000:])


def case_instrumented_isolated(env):
    env.fixtures = env.instrumented
    case_isolated_threads(env)


def case_instrumented_without_runtime(env):
    """An instrumented extension imported with no xisan in the process works."""
    env_vars = env.environ(PYTHONPATH=os.pathsep.join([env.instrumented, env.cases]))
    for case, expect in [("isolated_threads", "isolated: ok")]:
        proc = subprocess.run([env.python, "cases.py", case], env=env_vars, cwd=env.cases,
                              capture_output=True, text=True, timeout=240)
        check(proc.returncode == 0 and expect in proc.stdout and "XISan" not in proc.stderr,
              f"{case} without the runtime: exit {proc.returncode}", proc.stderr[-2000:])


def drift_of(proc):
    found = re.search(r"refcount before (-?\d+) after (-?\d+) drift (-?\d+)", proc.stdout)
    return int(found.group(3)) if found else None


def case_atomic_hammer(env):
    """atomic_refcount=1: 2 x 1M incref/decref pairs on one shared object from
    two own-GIL interpreters end exact, the run completes, few reports."""
    env.fixtures = env.instrumented
    proc, records = env.run_case("hammer", "halt_on_error=0:atomic_refcount=1")
    check(proc.returncode == 66, f"exit status {proc.returncode}", proc.stderr[-3000:])
    check(drift_of(proc) == 0, f"refcount drift in atomic mode: {proc.stdout}")
    check(0 < len(records) <= 10, f"{len(records)} reports for a handful of sites")
    summary = re.search(r"XISan: (\d+) reports? \((\d+) repeats", proc.stderr)
    check(summary and int(summary.group(2)) >= 4_000_000 - 100,
          "the repeated touches should be counted, not reported", proc.stderr[-2000:])
    # The same hammer with the plain (not instrumented) build, in continue
    # mode: its refcounts race.  Reported, not asserted: a race shows only
    # when the threads overlap.
    env.fixtures = env.plain_fixtures
    plain, _ = env.run_case("hammer", "halt_on_error=0")
    print(f"atomic mode: drift 0, {len(records)} reports; plain build: "
          f"exit {plain.returncode}, drift {drift_of(plain)}")


def case_shadow_exception_class(env):
    """An exception class kept in a C static and put in every interpreter's
    module dict is found by a scan in the second interpreter, no call made."""
    proc, records = env.run_case("shadow_exception_class", "")
    check(proc.returncode == -signal.SIGABRT and len(records) == 1,
          f"expected one report and SIGABRT, got {proc.returncode}", proc.stderr[-3000:])
    r = records[0]
    got = (r["kind"], r["access"], r["object_type"], r["container_type"], r["path"])
    want = ("cross-interpreter-reference", "reference", "type", "dict",
            "sys.modules['xerr'].__dict__['Error']")
    check(got == want, f"reported {got}, expected {want}")
    check(r["owner_interp"] == 0 and r["container_interp"] == r["current_interp"] != 0,
          "the reference goes from the second interpreter to the main one", r)
    check("exec_module" in functions(r["alloc_native_stack"]),
          "the class's allocation stack should name exec_module", functions(r["alloc_native_stack"]))
    check(re.search(r"^  referenced by dict object at 0x[0-9a-f]+ of interpreter \d+ .* at "
                    r"sys\.modules\['xerr'\]\.__dict__\['Error'\]$", proc.stderr, re.M),
          "text report should name the holder and the path", proc.stderr)


def case_shadow_isolated(env):
    """shadow_gc=1 on a correctly isolated module used by several interpreters
    in threads: scans run (each interpreter is scanned as it ends), no report."""
    proc, records = env.run_case("isolated_threads", "halt_on_error=0:shadow_gc=1:verbosity=1")
    check(proc.returncode == 0 and "isolated: ok" in proc.stdout, f"exit {proc.returncode}",
          proc.stderr[-3000:])
    scans = re.findall(r"shadow GC of interpreter \d+: (\d+) objects, (\d+) edges", proc.stderr)
    check(len(scans) >= 5, f"expected a scan of each interpreter, saw {len(scans)}", proc.stderr[-3000:])
    check(all(int(edges) > 0 for _, edges in scans), "a scan visited no edge")
    check(not records and "ERROR: XISan" not in proc.stderr, "reports on an isolated module",
          proc.stderr[-3000:])


def case_shadow_survivor(env):
    """An ended interpreter's list, still referenced from the main interpreter,
    is reported by a scan and summarised at exit by interpreter and type."""
    proc, records = env.run_case("survivor", "halt_on_error=0:shadow_gc=1")
    check(proc.returncode == 66, f"exit status {proc.returncode}", proc.stderr[-3000:])
    check(len(records) == 1, f"{len(records)} reports, expected 1", proc.stderr[-3000:])
    r = records[0]
    check(r["kind"] == "cross-interpreter-reference" and r["owner_ended"] is True
          and r["object_type"] == "list" and r["path"] == "sys.modules['__main__'].__dict__['kept']",
          "expected the ended interpreter's list, held by __main__.kept", r)
    check(re.search(r"^  interpreter (\d+) \(interpreter \1\): 1 list object, allocated at "
                    r"<string>:2 in <module>$", proc.stderr, re.M),
          "no survivors summary at exit", proc.stderr[-3000:])


def case_survivor_in_static(env):
    """An ended interpreter's objects held only by a C static: never touched,
    so no report, but the exit heap scan lists them by type and site (not
    CPython's immortal objects); survivors=0 turns the scan off."""
    proc, records = env.run_case("survivor_in_static", "")
    out = proc.stderr
    check(proc.returncode == 0 and "destroyed" in proc.stdout, f"exit status {proc.returncode}", out)
    check(not records and "ERROR: XISan" not in out, "a report for an untouched survivor", out)
    head = re.search(r"^==\d+==XISan: (\d+) blocks of ended interpreters still allocated at exit "
                     r"\((\d+) objects, 0 found referenced by the shadow GC; immortal objects, "
                     r"never freed by design, not counted: (\d+)\):$", out, re.M)
    check(head, "no survivors summary", out[-3000:])
    owner = r"^  interpreter (\d+) \(interpreter \1\): "
    for line in [r"1 Leaked object, allocated at <string>:5 in keep$",
                 r"1 type object, allocated at <string>:2 in <module>$",
                 r"2 dict objects, allocated at <string>:2 in <module> \(1\); "
                 r"<string>:5 in keep \(1\)$"]:
        check(re.search(owner + line, out, re.M), f"no summary line {line!r}", out[-3000:])
    # the sub-interpreter's interned strings and the like are immortal, and
    # the summary of this small program fits its few objects
    check(int(head.group(3)) > 1000 and int(head.group(1)) < 50,
          "immortal objects counted as survivors", out[-3000:])
    proc, _ = env.run_case("survivor_in_static", "survivors=0")
    check(proc.returncode == 0 and "XISan" not in proc.stderr, "survivors=0 still scans",
          proc.stderr[-3000:])


SUITES = {
    "3.12": ["test__xxsubinterpreters", "test__xxinterpchannels", "test_interpreters"],
    "3.13": ["test__interpreters", "test__interpchannels", "test_interpreters"],
}


def case_cpython_suites_shadow_gc(env):
    case_cpython_suites(env, "shadow_gc=1")


def case_cpython_suites(env, options=""):
    version = subprocess.run([env.python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True).stdout.strip()
    argv = [env.python, "-m", "test"] + SUITES[version]
    totals = re.compile(r"^Total tests: .*$", re.M)
    plain = subprocess.run(argv, env=env.environ(), capture_output=True, text=True, timeout=900)
    log = os.path.join(env.tmp, "suite")
    proc = env.run(argv, f"halt_on_error=0:log_path={log}" + (":" + options if options else ""),
                   timeout=1200)
    reports = glob.glob(log + ".*.jsonl")
    check(proc.returncode == plain.returncode == 0,
          f"exit status {proc.returncode} under xisan, {plain.returncode} without",
          proc.stdout[-3000:], proc.stderr[-3000:])
    check(totals.findall(proc.stdout) == totals.findall(plain.stdout),
          "test totals differ", totals.findall(proc.stdout), totals.findall(plain.stdout))
    check(not reports and "XISan" not in proc.stdout + proc.stderr,
          f"reports in CPython's own suites: {reports}", proc.stderr[-5000:])
    print(totals.findall(proc.stdout))


def main():
    ap = argparse.ArgumentParser()
    for flag in ("--xisan", "--python", "--fixtures", "--instrumented", "--cases", "--build"):
        ap.add_argument(flag, required=True)
    ap.add_argument("case")
    args = ap.parse_args()
    env = Env(args)
    try:
        globals()["case_" + args.case](env)
    except Failure as exc:
        print(f"FAIL {args.case}: {exc}", file=sys.stderr)
        return 1
    except Skip as exc:
        print(f"skipped {args.case}: {exc}")
        return 77
    print(f"ok {args.case}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
