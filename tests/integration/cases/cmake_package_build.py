# CMake's find_package(xisan) and xisan::python (from the build tree) build a
# checked extension: cached_object.py with it is reported at xfix.c's own
# Py_NewRef.  The program writes the extension's CMake project.
#
# RUN: %python %s %tmp/cmake-ext %root/tests/fixtures/xfix.c
# RUN: cmake -S %tmp/cmake-ext -B %tmp/cmake-ext/build -Dxisan_DIR=%build/lib/cmake/xisan
# RUN: cmake --build %tmp/cmake-ext/build
#
# RUN: %xisan run -- %python %S/cached_object.py
# FIXTURES: %tmp/cmake-ext/build
# EXIT: SIGABRT
# REPORTS: 1
# REPORT-JSON: {"access": "incref", "native_stack": [{"function": "get_cached", \
#   "file": "re:.*/xfix\\.c", "line": %line(tests/fixtures/xfix.c, return Py_NewRef(cached_list);)}, "..."]}
import os
import sys
import sysconfig

project, source = sys.argv[1:]
os.makedirs(project)
with open(os.path.join(project, "CMakeLists.txt"), "w") as f:
    f.write(f"""cmake_minimum_required(VERSION 3.18)
project(instrumented_ext C)
find_package(xisan 0.1 REQUIRED)
add_library(xfix MODULE {source})
set_target_properties(xfix PROPERTIES PREFIX "" SUFFIX "{sysconfig.get_config_var('EXT_SUFFIX')}")
target_include_directories(xfix PRIVATE {sysconfig.get_paths()['include']})
target_compile_options(xfix PRIVATE -g -O1)
target_link_libraries(xfix PRIVATE xisan::python)
""")
