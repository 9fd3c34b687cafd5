# A checked program finds no descriptor of xisan's among its own.  CPython's
# test_subprocess starts a child with only the descriptors it passes and
# checks that the child sees exactly those, up to its descriptor limit.
# libunwind keeps a pipe from the moment it starts; xisan starts it only
# when it first needs it (a stack its own walker cannot follow, a crash),
# and the preload library moves that pipe above the limit where the hard
# limit allows.  Here the hard limit is the soft one.
#
# RUN: %xisan run -- %python %s
# EXIT: 0
# CHECK-STDOUT: ^under xisan: True$
# CHECK-STDOUT: ^descriptors: 0,1,2$
# EMPTY: stderr
import os
import resource
import subprocess
import sys

LIMIT = 4096


def is_open(fd):
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False


if len(sys.argv) > 1:
    with open("/proc/self/maps") as maps:
        print("under xisan:", "libxisan" in maps.read())
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    print("descriptors:", ",".join(str(fd) for fd in range(min(soft, LIMIT)) if is_open(fd)))
else:
    limit = min(resource.getrlimit(resource.RLIMIT_NOFILE)[0], LIMIT)
    # the tests' cross-check (XISAN_TEST_UNWIND_CROSSCHECK) starts libunwind
    # at the first capture: this case is of a run without it
    env = {k: v for k, v in os.environ.items() if k != "XISAN_TEST_UNWIND_CROSSCHECK"}
    child = subprocess.run(
        [sys.executable, __file__, "child"], close_fds=True, stdout=subprocess.PIPE, text=True,
        env=env, preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit)))
    print(child.stdout, end="")
    sys.exit(child.returncode)
