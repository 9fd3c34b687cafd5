# Finds CPython 3.12 and 3.13 interpreters with headers.
#
# -DXISAN_PYTHONS="/path/python3.13;/path/python3.12" names them; otherwise
# pyenv's versions folder and PATH are searched (pyenv shims that refuse to
# run are skipped: every candidate must answer).  For each version found,
# sets XISAN_PY<NN>_EXE / _INCLUDE / _LIBDIR (NN = 312, 313) and appends NN
# to XISAN_PY_VERSIONS.
set(XISAN_PYTHONS "" CACHE STRING "CPython 3.12/3.13 interpreters to build the adapter for")

function(xisan_find_pythons)
  set(candidates ${XISAN_PYTHONS})
  if(NOT candidates)
    set(pyenv_root "$ENV{PYENV_ROOT}")
    if(NOT pyenv_root)
      execute_process(COMMAND pyenv root OUTPUT_VARIABLE pyenv_root
                      OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE rc)
      if(NOT rc EQUAL 0)
        set(pyenv_root "$ENV{HOME}/.pyenv")
      endif()
    endif()
    foreach(minor 13 12)
      file(GLOB found "${pyenv_root}/versions/3.${minor}*/bin/python3.${minor}")
      list(SORT found ORDER DESCENDING)
      list(APPEND candidates ${found})
      find_program(path_py_${minor} NAMES python3.${minor} NO_CACHE)
      if(path_py_${minor})
        list(APPEND candidates ${path_py_${minor}})
      endif()
    endforeach()
  endif()

  set(versions "")
  foreach(py IN LISTS candidates)
    execute_process(
      COMMAND ${py} -c "import sys, sysconfig; print('%d%d' % sys.version_info[:2]); print(sysconfig.get_paths()['include']); print(sysconfig.get_config_var('LIBDIR'))"
      OUTPUT_VARIABLE out ERROR_QUIET RESULT_VARIABLE rc TIMEOUT 20)
    if(NOT rc EQUAL 0)
      continue()
    endif()
    string(REPLACE "\n" ";" out "${out}")
    list(GET out 0 nn)
    list(GET out 1 include)
    list(GET out 2 libdir)
    if(NOT nn MATCHES "^31[23]$" OR NOT EXISTS "${include}/Python.h")
      continue()
    endif()
    if(nn IN_LIST versions)
      continue()
    endif()
    list(APPEND versions ${nn})
    set(XISAN_PY${nn}_EXE "${py}" PARENT_SCOPE)
    set(XISAN_PY${nn}_INCLUDE "${include}" PARENT_SCOPE)
    set(XISAN_PY${nn}_LIBDIR "${libdir}" PARENT_SCOPE)
    string(SUBSTRING "${nn}" 1 2 minor)
    message(STATUS "xisan: CPython 3.${minor} adapter for ${py}")
  endforeach()
  if(NOT versions)
    message(STATUS "xisan: no CPython 3.12 or 3.13 with headers found: building the core only "
                   "(CPython adapter and integration tests skipped; -DXISAN_PYTHONS=... names one)")
  endif()
  list(SORT versions)
  set(XISAN_PY_VERSIONS "${versions}" PARENT_SCOPE)
endfunction()
