# Command-line mistakes: an unknown flag or command is exit status 2, a
# program that does not exist 127, each named on stderr.
#
# RUN: %xisan run --bogus -- true
# EXIT: 2
# CHECK: --bogus
#
# RUN: %xisan frobnicate
# EXIT: 2
# CHECK: frobnicate
#
# RUN: %xisan run -- /nonexistent/program
# EXIT: 127
# CHECK: /nonexistent/program
