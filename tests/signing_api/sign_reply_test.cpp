#define CAF_SUITE signing_api.sign_reply

#include "caf/test/unit_test.hpp"

#include <optional>
#include <vector>

#include "caf/sec.hpp"

#include "signing_api/sign_errc.hpp"
#include "signing_api/sign_reply.hpp"

using namespace istio_csr::signing_api;

namespace {

struct recorder {
  std::vector<sign_result> results;

  std::shared_ptr<callback_reply> make() {
    return callback_reply::make(
      [this](sign_result r) { results.push_back(std::move(r)); });
  }
};

} // namespace

CAF_TEST(the first finish wins) {
  recorder rec;
  auto reply = rec.make();
  CAF_CHECK(!reply->finished());
  CAF_CHECK(reply->finish(std::vector<std::string>{"leaf", "root"}));
  CAF_CHECK(reply->finished());
  CAF_CHECK(!reply->finish(make_error(sign_errc::timed_out)));
  CAF_REQUIRE_EQUAL(rec.results.size(), 1u);
  CAF_REQUIRE(static_cast<bool>(rec.results.front()));
  CAF_CHECK_EQUAL(rec.results.front()->size(), 2u);
}

CAF_TEST(a cancelled reply runs its callback once and answers cancelled) {
  recorder rec;
  auto reply = rec.make();
  int callbacks = 0;
  reply->on_cancel([&] { ++callbacks; });
  reply->cancel_by_caller();
  reply->cancel_by_caller();
  CAF_CHECK(reply->cancelled());
  CAF_CHECK(reply->finished());
  CAF_CHECK_EQUAL(callbacks, 1);
  // Nothing after the cancellation reaches the caller.
  CAF_CHECK(!reply->finish(std::vector<std::string>{"late"}));
  CAF_REQUIRE_EQUAL(rec.results.size(), 1u);
  CAF_CHECK(sign_errc_of(rec.results.front().error()) == sign_errc::cancelled);
  // A callback set after the cancellation runs at once.
  bool late = false;
  reply->on_cancel([&] { late = true; });
  CAF_CHECK(late);
}

CAF_TEST(errors carry their domain code and detail) {
  auto err = make_error(sign_errc::unauthenticated, "bad token");
  CAF_CHECK(sign_errc_of(err) == sign_errc::unauthenticated);
  CAF_CHECK(!sign_errc_of(caf::error{}));
  CAF_CHECK(!sign_errc_of(caf::make_error(caf::sec::runtime_error)));
  CAF_CHECK_EQUAL(to_string(sign_errc::issuer_overloaded), "issuer_overloaded");
}
