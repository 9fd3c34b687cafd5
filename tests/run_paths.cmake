# The command and the libraries it loads name their run paths exactly: no
# entry that the dynamic loader would resolve against the current
# directory (an empty one, as a leading, trailing or doubled colon makes,
# or a relative one), which would load a libc.so.6 from wherever
# `xisan run` was started into the checker and the checked program.  Each
# entry is absolute or starts at $ORIGIN; the files of REQUIRED (the
# command, the adapters) must have a run path at all.
#
# cmake -DREADELF=... -DFILES="a;b;..." -DREQUIRED="a;..." -P this
cmake_policy(SET CMP0057 NEW) # if(IN_LIST)
set(checked 0)
foreach(file IN LISTS FILES)
  execute_process(COMMAND ${READELF} -d ${file} OUTPUT_VARIABLE dyn RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0 OR NOT dyn MATCHES "\\(NEEDED\\)")
    message(FATAL_ERROR "readelf -d ${file}: no dynamic section read (exit ${rc})")
  endif()
  string(REGEX MATCHALL "\\((RUNPATH|RPATH)\\)[^[\n]*\\[[^]\n]*\\]" paths "${dyn}")
  if(NOT paths AND file IN_LIST REQUIRED)
    message(FATAL_ERROR "${file}: no run path (the core is found through one)")
  endif()
  foreach(entry IN LISTS paths)
    string(REGEX REPLACE ".*\\[(.*)\\]" "\\1" path "${entry}")
    # a leading, trailing or doubled ':' is an empty entry
    if(path STREQUAL "" OR path MATCHES "^:|::|:$")
      message(FATAL_ERROR "${file}: run path [${path}] has an empty entry (the current directory)")
    endif()
    string(REPLACE ":" ";" parts "${path}")
    foreach(part IN LISTS parts)
      if(NOT part MATCHES "^(/|\\$ORIGIN)")
        message(FATAL_ERROR "${file}: run path [${path}] has the relative entry '${part}' "
                            "(resolved against the current directory)")
      endif()
    endforeach()
    math(EXPR checked "${checked} + 1")
  endforeach()
endforeach()
list(LENGTH REQUIRED required)
if(required EQUAL 0 OR checked LESS required)
  message(FATAL_ERROR "only ${checked} run paths checked")
endif()
message("${checked} run paths, each entry absolute or from $ORIGIN")
