# docs/options.md carries the option tables as `xisan help --markdown`
# prints them (scripts/update-docs rewrites them).
#
# cmake -DXISAN=... -DDOC=... -P this
execute_process(COMMAND ${XISAN} help --markdown OUTPUT_VARIABLE generated RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "xisan help --markdown failed (${rc})")
endif()
file(READ ${DOC} doc)
set(begin "<!-- begin: xisan help --markdown -->\n")
set(end "<!-- end: xisan help --markdown -->")
string(FIND "${doc}" "${begin}" a)
string(FIND "${doc}" "${end}" b)
if(a LESS 0 OR b LESS 0)
  message(FATAL_ERROR "${DOC}: generated-table markers not found")
endif()
string(LENGTH "${begin}" len)
math(EXPR a "${a} + ${len}")
math(EXPR n "${b} - ${a}")
string(SUBSTRING "${doc}" ${a} ${n} documented)
if(NOT documented STREQUAL generated)
  message(FATAL_ERROR "${DOC} differs from `xisan help --markdown`: run scripts/update-docs\n"
                      "--- documented\n${documented}--- generated\n${generated}")
endif()
message("docs/options.md matches the option tables")
