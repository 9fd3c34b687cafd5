# A program started with stdin, stdout or stderr closed finds them closed
# under the checker too (test_cmd_line's test_no_std_streams, test_posix's
# test_close_file): libunwind's pipe, which it opens when it starts, used to
# take the free slot, and CPython took the pipe for that stream.  And a
# program that lists its open descriptors up to its limit finds only its
# own (test_subprocess's test_pass_fds_redirected): the pipe sits above the
# limit, when the hard limit lets it (the child here gets a soft limit of
# 1024 under it; with no room, it is not listed).  Each variant runs in a
# child that says which of its streams and descriptors it has; RUN 2
# (checked) must print what RUN 1 (plain) prints.
#
# RUN: %python %s
# CHECK-STDOUT: ^closed stdin: stdin None, stdout ok, stderr ok \(exit 0\)$
# CHECK-STDOUT: ^closed stdin stdout stderr: stdin None, stdout None, stderr None \(exit 0\)$
# CHECK-STDOUT: ^descriptors of a child: (0,1,2|not listed: .*)$
# RUN: %xisan run -- %python %s
# SAME-OUTPUT: 1
# REPORTS: 0
import os
import subprocess
import sys

# libunwind starts at its first use, which a short child may never reach:
# the tests' cross-check walks every captured stack with it too, so it
# starts at the children's first capture, with their streams closed.
os.environ["XISAN_TEST_UNWIND_CROSSCHECK"] = "1"

SAY = """
import os, sys
streams = ", ".join(f"{name} {'None' if getattr(sys, name) is None else 'ok'}"
                    for name in ("stdin", "stdout", "stderr"))
os.write(int(sys.argv[1]), streams.encode())
"""

for closed in (["stdin"], ["stdout"], ["stderr"], ["stdin", "stdout", "stderr"]):
    read, write = os.pipe()
    fds = [i for i, name in enumerate(("stdin", "stdout", "stderr")) if name in closed]

    def close_them():
        for fd in fds:
            os.close(fd)

    child = subprocess.Popen([sys.executable, "-c", SAY, str(write)], pass_fds=[write],
                             preexec_fn=close_them)
    os.close(write)
    said = os.read(read, 200).decode()
    os.close(read)
    child.wait()
    print(f"closed {' '.join(closed)}: {said} (exit {child.returncode})")

# What test_subprocess's fd_status.py does: every descriptor up to the limit.
LIST = """
import os
limit = os.sysconf("SC_OPEN_MAX")
have = []
for fd in range(limit):
    try:
        os.fstat(fd)
    except OSError:
        continue
    have.append(str(fd))
print(",".join(have))
"""
import resource

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if hard == resource.RLIM_INFINITY or hard >= 1024 + 64:
    child = subprocess.run([sys.executable, "-c", "import json, decimal\n" + LIST],
                           capture_output=True, text=True,
                           preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE,
                                                                 (1024, hard)))
    print(f"descriptors of a child: {child.stdout.strip()}")
else:
    print(f"descriptors of a child: not listed: hard limit {hard}")
