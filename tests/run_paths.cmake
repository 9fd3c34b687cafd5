# The command and the libraries it loads name their run paths exactly: no
# empty entry in a RUNPATH or RPATH, which the dynamic loader reads as the
# current directory (a libc.so.6 in the directory `xisan run` was started
# from would be loaded into the checker and the checked program).
#
# cmake -DREADELF=... -DFILES="a;b;..." -P this
set(checked 0)
foreach(file IN LISTS FILES)
  execute_process(COMMAND ${READELF} -d ${file} OUTPUT_VARIABLE dyn RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "readelf failed on ${file}")
  endif()
  string(REGEX MATCHALL "\\((RUNPATH|RPATH)\\)[^[]*\\[[^]\n]*\\]" paths "${dyn}")
  foreach(entry IN LISTS paths)
    string(REGEX REPLACE ".*\\[(.*)\\]" "\\1" path "${entry}")
    if(path STREQUAL "" OR path MATCHES "^:|::|:$")
      message(FATAL_ERROR "${file}: run path [${path}] has an empty entry (the current directory)")
    endif()
  endforeach()
  math(EXPR checked "${checked} + 1")
endforeach()
if(checked LESS 3)
  message(FATAL_ERROR "checked only ${checked} files")
endif()
message("${checked} files, no empty run path entry")
