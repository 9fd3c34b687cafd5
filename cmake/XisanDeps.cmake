# Third-party libraries, all from Debian packages:
#   libunwind-dev (stacks), libdw-dev (symbolization), uthash-dev (tables),
#   libcriterion-dev (unit tests), libjansson-dev (`xisan report`: JSON, SARIF).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
pkg_check_modules(LIBUNWIND REQUIRED IMPORTED_TARGET libunwind)
# `xisan report` reads the logs and writes JSON and SARIF with jansson.
pkg_check_modules(JANSSON REQUIRED IMPORTED_TARGET jansson)
pkg_check_modules(LIBDW REQUIRED IMPORTED_TARGET libdw)
include(CheckIncludeFile)
check_include_file(uthash.h XISAN_HAVE_UTHASH)
if(NOT XISAN_HAVE_UTHASH)
  message(FATAL_ERROR "uthash.h not found: apt-get install uthash-dev")
endif()
