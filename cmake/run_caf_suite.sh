#!/bin/bash
# run_caf_suite.sh PROGRAM SUITE: how ctest runs one CAF test suite.
#
# CAF 0.17 names a failed CAF_CHECK (file, line, expression) only at console
# verbosity 5, which also lists every passed check ("** ..."): run at 5 and
# drop the passed ones, so a failure in CI says which check.
#
# Exit status: the program's when it failed; 77 (ctest: Skipped) when it
# passed but a test case skipped checks (ICSR_SKIP, tests/support/skip.hpp,
# prints "-> [skipped] why"), so a skip never shows as Passed; else 0.
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT
"$1" -r 300 -n -v 5 -s "^$2\$" 2>&1 | tee "$out" | grep -v '^\*\* '
rc=${PIPESTATUS[0]}
[ "$rc" -ne 0 ] && exit "$rc"
grep -q -e '-> \[skipped\] ' "$out" && exit 77
exit 0
