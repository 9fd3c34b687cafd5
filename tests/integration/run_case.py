#!/usr/bin/env python3
"""Runs one integration case file: its RUN lines, the checks after each, then
its verify(case) if it has one.  Directives: README.md in this folder.

    run_case.py --xisan X --python P --fixtures DIR --instrumented DIR --build DIR CASE.py

Exit status 0: passed; 1: failed; 77: skipped.
"""
import argparse
import glob
import importlib.util
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SUPPORT = os.path.join(HERE, "support")
DIRECTIVE = re.compile(r"# ([A-Z][A-Z0-9-]*):(.*)")
FILE_LEVEL = {"LABEL", "TIMEOUT", "OPTIONS", "FIXTURES"}
RUN_LEVEL = {"OPTIONS", "FIXTURES", "TIMEOUT", "EXIT", "STDOUT", "STDERR", "EMPTY",
             "SAME-OUTPUT", "REPORTS", "REPORT-JSON", "RECORD-JSON", "CHECK", "CHECK-NOT", "CHECK-COUNT",
             "CHECK-STDOUT", "CHECK-STDOUT-NOT", "CHECK-STDOUT-COUNT"}
SUBST = re.compile(r"%(%|python|xisan|build|root|tmp|pyinclude|extsuffix|pid|reports|line\(|s\b|S\b)")
BANNER = re.compile(r"^==\d+==ERROR: XISan:", re.M)


class Failure(Exception):
    pass


class Skip(Exception):
    pass


def tail(text, n=3000):
    return text if len(text) <= n else "..." + text[-n:]


def count_range(text):
    """`N`, `N..M` or `N..` as (low, high)."""
    m = re.fullmatch(r"(\d+)(\.\.(\d*))?", text)
    if not m:
        raise Failure(f"bad count {text!r}: N, N..M or N..")
    low = int(m.group(1))
    high = low if m.group(2) is None else int(m.group(3)) if m.group(3) else float("inf")
    return low, high


def mismatch(want, got, where="record"):
    """Where `got` does not match the golden `want` (README: REPORT-JSON), or None."""
    if isinstance(want, dict) and set(want) == {"$every"}:
        if not isinstance(got, list):
            return f"{where}: not a list"
        return next((m for i, g in enumerate(got)
                     if (m := mismatch(want["$every"], g, f"{where}[{i}]"))), None)
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return f"{where}: not an object"
        for key, value in want.items():
            if key not in got:
                return f"{where}: no {key!r}"
            if (m := mismatch(value, got[key], f"{where}.{key}")):
                return m
        return None
    if isinstance(want, list):
        ok = isinstance(got, list) and sequence_matches(want, got)
        return None if ok else f"{where}: {json.dumps(got)[:600]} does not match {json.dumps(want)}"
    if isinstance(want, str) and want.startswith("re:"):
        ok = not isinstance(got, (dict, list)) and re.fullmatch(want[3:], str(got))
        return None if ok else f"{where}: {got!r} does not match /{want[3:]}/"
    ok = type(want) is type(got) and want == got
    return None if ok else f"{where}: {got!r} != {want!r}"


def sequence_matches(want, got):
    if not want:
        return not got
    if want[0] == "...":
        return any(sequence_matches(want[1:], got[i:]) for i in range(len(got) + 1))
    return bool(got) and mismatch(want[0], got[0]) is None and sequence_matches(want[1:], got[1:])


NOT_REPORTS = {"survivors", "repeats"}  # record kinds of the log that are no report (docs/reports.md)


class Result:
    """One finished command: argv, status (negative: killed by that signal),
    stdout, stderr, and the JSON records of its log: `records` all of them,
    `reports` those that are reports (not the exit summary of survivors)."""

    def __init__(self, argv, proc, records, seconds):
        self.argv, self.status = argv, proc.returncode
        self.stdout, self.stderr = proc.stdout, proc.stderr
        self.records, self.seconds = records, seconds
        self.reports = [r for r in records if r.get("kind") not in NOT_REPORTS]

    def find(self, pattern, stream="stderr"):
        """The first match of `pattern` (multiline) in a stream; a failure if none."""
        m = re.search(pattern, getattr(self, stream), re.M)
        if not m:
            raise Failure(f"no match for /{pattern}/ in {stream}\n{tail(getattr(self, stream))}")
        return m

    def describe(self):
        return (f"$ {shlex.join(self.argv)}\nexit status {self.status}, {len(self.reports)} JSON "
                f"reports\n--- stdout ---\n{tail(self.stdout)}\n--- stderr ---\n{tail(self.stderr)}")


class Case:
    def __init__(self, args):
        self.path = os.path.abspath(args.case)
        self.name = os.path.splitext(os.path.basename(self.path))[0]
        self.xisan, self.build = os.path.abspath(args.xisan), os.path.abspath(args.build)
        self.python = args.python
        self.fixture_dirs = {"plain": os.path.abspath(args.fixtures),
                             "instrumented": os.path.abspath(args.instrumented)}
        self.root = ROOT
        self.tmp = tempfile.mkdtemp(prefix=f"xisan-{self.name}-")
        self.runs, self.failures, self._facts = [], [], None
        self.defaults, self.blocks = self.parse()

    # -- directives --------------------------------------------------------
    def parse(self):
        """Directives of the leading comment block: (file-level dict, RUN blocks)."""
        lines, header = open(self.path).read().splitlines(), []
        for number, line in enumerate(lines, 1):
            if line.strip() and not line.startswith("#"):
                break
            if header and header[-1][1].endswith("\\"):
                header[-1] = (header[-1][0], header[-1][1][:-1] + " " + line.lstrip("#").strip())
            elif line.strip():
                header.append((number, line))
        defaults, blocks = {"OPTIONS": [], "TIMEOUT": None, "FIXTURES": "plain"}, []
        for number, line in header:
            m = DIRECTIVE.fullmatch(line)
            if not m:
                continue  # prose
            name, value = m.group(1), m.group(2).strip()
            if name == "RUN":
                blocks.append({"RUN": value, "line": number, "checks": [], "OPTIONS": []})
            elif not blocks and name in FILE_LEVEL:
                defaults[name] = defaults["OPTIONS"] + [value] if name == "OPTIONS" else value
            elif blocks and name in ("OPTIONS", "FIXTURES", "TIMEOUT", "EXIT"):
                block = blocks[-1]
                block[name] = block["OPTIONS"] + [value] if name == "OPTIONS" else value
            elif blocks and name in RUN_LEVEL:
                blocks[-1]["checks"].append((number, name, value))
            else:
                raise SystemExit(f"{self.path}:{number}: {name} is not a directive here")
        return defaults, blocks

    def facts(self):
        if self._facts is None:
            code = ("import sysconfig; print(sysconfig.get_paths()['include']); "
                    "print(sysconfig.get_config_var('EXT_SUFFIX'))")
            out = subprocess.run([self.python, "-c", code], capture_output=True, text=True,
                                 check=True).stdout.split()
            self._facts = {"pyinclude": out[0], "extsuffix": out[1]}
        return self._facts

    def line_of(self, arg):
        """%line(FILE, TEXT): the line of FILE holding TEXT (lines with %line( skipped)."""
        path, _, text = arg.partition(", ")
        with open(os.path.join(ROOT, path)) as f:
            found = [n for n, line in enumerate(f, 1) if text in line and "%line(" not in line]
        if len(found) != 1:
            raise Failure(f"%line({arg}): {len(found)} lines hold {text!r}, not one")
        return found[0]

    def expand(self, text, quote=lambda s: s, result=None):
        """Substitutions; `quote` applies to paths (re.escape in patterns)."""
        out, pos = [], 0
        while (m := SUBST.search(text, pos)):
            out.append(text[pos:m.start()])
            name, pos = m.group(1), m.end()
            if name == "line(":
                depth, end = 1, pos
                while depth:
                    if end == len(text):
                        raise Failure(f"unbalanced %line( in {text!r}")
                    depth += {"(": 1, ")": -1}.get(text[end], 0)
                    end += 1
                out.append(str(self.line_of(self.expand(text[pos:end - 1]))))
                pos = end
            elif name in ("pid", "reports"):
                if result is None:
                    raise Failure(f"%{name} is known only after the run: {text!r}")
                pids = {r["pid"] for r in result.reports}
                if name == "pid" and len(pids) != 1:
                    raise Failure(f"%pid: the run's reports come from {len(pids)} processes")
                out.append(str(pids.pop() if name == "pid" else len(result.reports)))
            elif name == "%":
                out.append("%")
            else:
                value = {"python": self.python, "xisan": self.xisan, "build": self.build,
                         "root": ROOT, "tmp": self.tmp, "s": self.path,
                         "S": os.path.dirname(self.path)}.get(name) or self.facts()[name]
                out.append(quote(value))
        return "".join(out + [text[pos:]])

    # -- running -----------------------------------------------------------
    def run(self, command, options="", fixtures="plain", timeout=240):
        """Runs `command` (a RUN-style string, or an argv list) in the case's
        environment; XISAN_OPTIONS (with a log_path of our own first) only for
        commands that are `xisan` itself."""
        argv = shlex.split(self.expand(command)) if isinstance(command, str) else list(command)
        env = {k: v for k, v in os.environ.items()
               if k not in ("XISAN_OPTIONS", "PYTHONMALLOC", "PYTHONDEVMODE", "LD_PRELOAD")}
        fixtures = self.fixture_dirs.get(fixtures) or self.expand(fixtures)
        env["PYTHONPATH"] = os.pathsep.join([fixtures, SUPPORT])
        log = os.path.join(self.tmp, f"log-{len(self.runs) + 1}-{time.monotonic_ns()}")
        if argv and argv[0] == self.xisan:
            env["XISAN_OPTIONS"] = ":".join([f"log_path={log}"] + ([options] if options else []))
        start = time.monotonic()
        try:
            proc = subprocess.run(argv, env=env, cwd=self.tmp, capture_output=True, text=True,
                                  errors="replace", timeout=timeout)
        except subprocess.TimeoutExpired:
            raise Failure(f"timed out after {timeout} s: {shlex.join(argv)}")
        except OSError as exc:
            raise Failure(f"cannot run {shlex.join(argv)}: {exc}")
        reports = []
        for path in sorted(glob.glob(glob.escape(log) + ".*.jsonl")):
            with open(path) as f:
                reports += [json.loads(line) for line in f]
        return Result(argv, proc, reports, time.monotonic() - start)

    def run_block(self, number, block):
        d = self.defaults
        options = ":".join(o for o in d["OPTIONS"] + block["OPTIONS"] if o)
        timeout = float(block.get("TIMEOUT") or d["TIMEOUT"] or 240)
        where = f"{self.name}.py:{block['line']}"
        try:
            result = self.run(block["RUN"], options, block.get("FIXTURES", d["FIXTURES"]), timeout)
        except Failure as exc:
            self.failures.append(f"{where}: RUN {number}: {exc}")
            self.runs.append(None)
            return
        self.runs.append(result)
        print(f"RUN {number} ({where}): {shlex.join(result.argv)}\n  exit status {result.status}, "
              f"{len(result.reports)} JSON reports, {result.seconds:.1f} s")
        failed, cursors, exact = [], {"stdout": 0, "stderr": 0}, {"stdout": [], "stderr": []}
        for line, name, value in [(block["line"], "EXIT", block.get("EXIT", "0"))] + block["checks"]:
            try:
                self.check_one(result, name, value, cursors, exact)
            except (Failure, re.error, ValueError, LookupError, AttributeError) as exc:
                failed.append(f"{self.name}.py:{line}: {name}: {exc}")
        for stream, patterns in exact.items():
            if patterns and not re.fullmatch("".join(f"(?:{p})\n" for p in patterns),
                                             getattr(result, stream)):
                failed.append(f"{where}: {stream.upper()}: not exactly the lines {patterns}")
        if failed:
            self.failures += failed + [result.describe()]

    def check_one(self, result, name, value, cursors, exact):
        if name == "EXIT" and value != "any":
            want = -getattr(signal, value) if value.startswith("SIG") else int(value)
            if result.status != want:
                raise Failure(f"{result.status}, expected {value}")
        elif name.startswith("CHECK"):
            stream = "stdout" if "-STDOUT" in name else "stderr"
            lines = getattr(result, stream).splitlines()
            if name.endswith("-COUNT"):
                rng, _, value = value.partition(" ")
            pattern = re.compile(self.expand(value.strip(), re.escape, result))
            matching = [i for i, s in enumerate(lines) if pattern.search(s)]
            if name.endswith("-NOT"):
                if matching:
                    raise Failure(f"/{pattern.pattern}/ matches {lines[matching[0]]!r}")
            elif name.endswith("-COUNT"):
                low, high = count_range(rng)
                if not low <= len(matching) <= high:
                    raise Failure(f"{len(matching)} lines match /{pattern.pattern}/, expected {rng}")
            else:
                after = [i for i in matching if i >= cursors[stream]]
                if not after:
                    raise Failure(f"no line of {stream} matches /{pattern.pattern}/ "
                                  f"after line {cursors[stream]}")
                cursors[stream] = after[0] + 1
        elif name in ("STDOUT", "STDERR"):
            exact[name.lower()].append(self.expand(value, re.escape, result))
        elif name == "EMPTY":
            for stream in value.split():
                if getattr(result, stream):
                    raise Failure(f"{stream} is not empty")
        elif name == "SAME-OUTPUT":
            other = self.runs[int(value) - 1]
            if other is None:
                raise Failure(f"RUN {value} did not finish")
            if (result.stdout, result.stderr) != (other.stdout, other.stderr):
                raise Failure(f"output differs from RUN {value}'s:\n{other.describe()}")
        elif name == "REPORTS":
            low, high = count_range(value)
            text = len(BANNER.findall(result.stderr))
            if not low <= len(result.reports) <= high or text != len(result.reports):
                raise Failure(f"{len(result.reports)} JSON reports and {text} text reports, "
                              f"expected {value} of each")
        elif name in ("REPORT-JSON", "RECORD-JSON"):
            want = json.loads(self.expand(value, result=result))
            records = result.reports if name == "REPORT-JSON" else result.records
            misses = [mismatch(want, r) for r in records]
            if not records or all(misses):
                raise Failure(f"no {name.split('-')[0].lower()} matches: " +
                              "; ".join(misses[:3] or ["none in the log"]))

    # -- for verify() ------------------------------------------------------
    def check(self, cond, message, *context):
        if not cond:
            raise Failure("\n".join([message] + [str(c) for c in context]))

    def skip(self, reason):
        raise Skip(reason)

    def verify(self):
        with open(self.path) as f:
            if not re.search(r"^def verify\(", f.read(), re.M):
                return
        sys.path.insert(0, os.path.dirname(self.path))
        sys.dont_write_bytecode = True  # no __pycache__ in the source tree
        spec = importlib.util.spec_from_file_location(f"case_{self.name}", self.path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        try:
            module.verify(self)
        except Failure as exc:
            self.failures.append(f"{self.name}.py: verify: {exc}")
        except Skip:
            raise
        except Exception:
            self.failures.append(f"{self.name}.py: verify raised\n{traceback.format_exc()}")


def main():
    ap = argparse.ArgumentParser()
    for flag in ("--xisan", "--python", "--fixtures", "--instrumented", "--build"):
        ap.add_argument(flag, required=True)
    ap.add_argument("case")
    case = Case(ap.parse_args())
    try:
        for number, block in enumerate(case.blocks, 1):
            case.run_block(number, block)
        case.verify()
    except Skip as exc:
        print(f"skipped {case.name}: {exc}")
        return 77
    except Failure as exc:
        case.failures.append(str(exc))
    if case.failures:
        print("\n".join(["", f"FAIL {case.name}:"] + case.failures + [f"(files in {case.tmp})"]))
        return 1
    shutil.rmtree(case.tmp, ignore_errors=True)
    print(f"ok {case.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
