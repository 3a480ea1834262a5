#define CAF_SUITE signing.duration

#include "caf/test/unit_test.hpp"

#include <limits>

#include "actors/signing/policy/duration.hpp"

using namespace std::chrono_literals;
using istio_csr::actors::signing::policy::certificate_duration;

CAF_TEST(requested durations are capped by the maximum) {
  // server_test Test_CreateCertificate: 1800 s with max 2 h → 30 m.
  CAF_CHECK(certificate_duration(1800, 2h) == 30min);
  // 3600 s with max 30 m → 30 m.
  CAF_CHECK(certificate_duration(3600, 30min) == 30min);
  CAF_CHECK(certificate_duration(3600, 1h) == 1h);
  CAF_CHECK(certificate_duration(1, 1h) == 1s);
}

CAF_TEST(durations of zero or less mean the maximum) {
  CAF_CHECK(certificate_duration(0, 1h) == 1h);
  CAF_CHECK(certificate_duration(-1, 1h) == 1h);
  CAF_CHECK(certificate_duration(std::numeric_limits<std::int64_t>::min(), 1h)
            == 1h);
}

CAF_TEST(huge durations do not overflow) {
  CAF_CHECK(certificate_duration(std::numeric_limits<std::int64_t>::max(), 1h)
            == 1h);
  // Go's time.Duration would wrap to a negative value here.
  CAF_CHECK(certificate_duration(10'000'000'000, 24h) == 24h);
}
