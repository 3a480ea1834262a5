#pragma once

#include "caf/test/unit_test.hpp"

// CAF_CHECK_PASSED/FAILED use the unqualified name `term`.
using caf::term;

/// Like CAF_CHECK, but names the table row (`what`) when the check fails.
#define ICSR_CHECK_CASE(cond, what)                                            \
  do {                                                                         \
    if (static_cast<bool>(cond))                                               \
      CAF_CHECK_PASSED(#cond);                                                 \
    else                                                                       \
      CAF_CHECK_FAILED(#cond << " for case: " << what);                        \
  } while (false)
