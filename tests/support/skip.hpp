#pragma once

#include "caf/test/unit_test.hpp"

/// Says that the running test case skips (the rest of) its checks and why,
/// e.g. "needs devcluster: fault injection". The caller then returns. ctest
/// reports a suite that printed this and failed nothing as "Skipped", never
/// as "Passed" (exit code 77, see `icsr_caf_test`); a failure still fails.
#define ICSR_SKIP(why) CAF_MESSAGE("[skipped] " << why)
