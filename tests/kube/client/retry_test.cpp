#define CAF_SUITE kube.retry
#include "caf/test/unit_test.hpp"

#include "caf/sec.hpp"

#include "kube/api/errc.hpp"
#include "kube/client/request.hpp"
#include "kube/client/retry_policy.hpp"

using namespace istio_csr::kube;
using namespace std::chrono_literals;

namespace {

retry_policy::failure fail(errc code, bool sent, bool idempotent,
                           int attempt = 1) {
  retry_policy::failure f;
  f.err = make_error(code, "x");
  f.request_sent = sent;
  f.idempotent = idempotent;
  f.attempt = attempt;
  return f;
}

} // namespace

CAF_TEST(which failures are retried) {
  retry_policy p;
  // 429: always, even a non-idempotent write.
  CAF_CHECK(p.next_delay(fail(errc::too_many_requests, true, false), 0.5));
  // Connection failure before sending: always.
  CAF_CHECK(p.next_delay(fail(errc::connection_failed, false, false), 0.5));
  // ... after sending: only idempotent requests.
  CAF_CHECK(p.next_delay(fail(errc::connection_failed, true, true), 0.5));
  CAF_CHECK(!p.next_delay(fail(errc::connection_failed, true, false), 0.5));
  // 5xx and server timeouts: only idempotent requests.
  CAF_CHECK(p.next_delay(fail(errc::server_error, true, true), 0.5));
  CAF_CHECK(!p.next_delay(fail(errc::server_error, true, false), 0.5));
  CAF_CHECK(p.next_delay(fail(errc::timeout, true, true), 0.5));
  CAF_CHECK(!p.next_delay(fail(errc::timeout, true, false), 0.5));
  // Never: client errors, TLS, decode errors, cancellation.
  for (auto code :
       {errc::not_found, errc::conflict, errc::already_exists, errc::invalid,
        errc::forbidden, errc::unauthorized, errc::gone, errc::tls_error,
        errc::decode_error, errc::cancelled, errc::config_error})
    CAF_CHECK(!p.next_delay(fail(code, false, true), 0.5));
  // Errors of other categories.
  retry_policy::failure other;
  other.err = caf::make_error(caf::sec::runtime_error);
  other.idempotent = true;
  CAF_CHECK(!p.next_delay(other, 0.5));
}

CAF_TEST(the request kinds that are idempotent) {
  CAF_CHECK(request::get(resources::pods, "a", "b").idempotent());
  CAF_CHECK(request::list_of(resources::pods, "a").idempotent());
  CAF_CHECK(request::watch(resources::pods, "a").idempotent());
  // TokenReview stores nothing: retrying is safe.
  CAF_CHECK(request::create(resources::tokenreviews, "", {}).idempotent());
  CAF_CHECK(request::create_subresource(resources::serviceaccounts, "ns", "sa",
                                        "token", {})
              .idempotent());
  // A CertificateRequest with generateName could be created twice.
  nlohmann::json cr{{"metadata", {{"generateName", "istio-csr-"}}}};
  CAF_CHECK(
    !request::create(resources::certificaterequests, "ns", cr).idempotent());
  // ... unless it has a fixed name and its caller reads a 409 back.
  auto named = request::create(
    resources::certificaterequests, "ns",
    {{"metadata",
      {{"name", "istio-csr-bcdfg"}, {"generateName", "istio-csr-"}}}});
  CAF_CHECK(!named.idempotent());
  named.repeatable_create = true;
  CAF_CHECK(named.idempotent());
  auto unnamed = request::create(resources::certificaterequests, "ns", cr);
  unnamed.repeatable_create = true;
  CAF_CHECK(!unnamed.idempotent());
  CAF_CHECK(!request::update(resources::configmaps, {}).idempotent());
  CAF_CHECK(!request::remove(resources::configmaps, "a", "b").idempotent());
  CAF_CHECK(
    !request::merge_patch(resources::configmaps, "a", "b", {}).idempotent());
}

CAF_TEST(backoff doubles with jitter and stops at max attempts) {
  retry_policy p;
  p.initial_backoff = 100ms;
  p.max_backoff = 1000ms;
  p.max_attempts = 6;
  auto f = fail(errc::server_error, true, true);
  auto delays = std::vector<int64_t>{};
  for (int attempt = 1; attempt <= 5; ++attempt) {
    f.attempt = attempt;
    auto d = p.next_delay(f, 1.0);
    CAF_REQUIRE(d);
    delays.push_back(d->count());
  }
  CAF_CHECK_EQUAL(delays, (std::vector<int64_t>{100, 200, 400, 800, 1000}));
  f.attempt = 2;
  CAF_CHECK_EQUAL(p.next_delay(f, 0.0)->count(), 100); // 50% of 200
  f.attempt = 6;
  CAF_CHECK(!p.next_delay(f, 0.5));
}

CAF_TEST(retry after is honoured and capped) {
  retry_policy p;
  p.max_retry_after = 10s;
  auto f = fail(errc::too_many_requests, true, false);
  f.retry_after = 3s;
  CAF_CHECK_EQUAL(p.next_delay(f, 0.0)->count(), 3000);
  f.retry_after = 3600s;
  CAF_CHECK_EQUAL(p.next_delay(f, 0.0)->count(), 10000);
}
