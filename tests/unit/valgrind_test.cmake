# Runs one Criterion test under valgrind memcheck.
#
# Criterion runs each test in a worker process and ignores the worker's exit
# status once the test has reported, so valgrind's --error-exitcode in the
# worker (errors, and definite leaks found at the worker's exit) never
# reaches ctest.  Each process therefore logs to its own file, and any log
# with a nonzero error count fails the test.
#
# cmake -DVALGRIND=... -DSUPPRESSIONS=... -DLOG_DIR=... -DEXE=... -DFILTER=... -P this
file(REMOVE_RECURSE ${LOG_DIR})
file(MAKE_DIRECTORY ${LOG_DIR})
execute_process(
  COMMAND ${VALGRIND} --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite
          --trace-children=yes --suppressions=${SUPPRESSIONS} --log-file=${LOG_DIR}/%p.log
          ${EXE} --filter ${FILTER} -j1
  RESULT_VARIABLE rc)

file(GLOB logs ${LOG_DIR}/*.log)
if(NOT logs)
  message(FATAL_ERROR "valgrind wrote no log in ${LOG_DIR}")
endif()
set(failed "")
foreach(log IN LISTS logs)
  file(READ ${log} text)
  if(NOT text MATCHES "ERROR SUMMARY: 0 errors")
    message("---- ${log}\n${text}")
    list(APPEND failed ${log})
  endif()
endforeach()
if(failed OR NOT rc EQUAL 0)
  message(FATAL_ERROR "valgrind: exit status ${rc}; logs with errors: ${failed}")
endif()
