// The one translation unit per test program that provides CAF's test main().
#include "caf/test/unit_test_impl.hpp"
