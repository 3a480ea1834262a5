#define CAF_SUITE kube.errors
#include "caf/test/unit_test.hpp"

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/sec.hpp"

#include "errors/describe.hpp"
#include "kube/api/errc.hpp"
#include "kube/api/status.hpp"
#include "kube/api/validation.hpp"

using namespace istio_csr::kube;
using json = nlohmann::json;

namespace {

json status(int code, const std::string& reason, const std::string& message) {
  return json{{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"},
              {"code", code},     {"reason", reason},   {"message", message}};
}

} // namespace

CAF_TEST(every Status reason maps to its errc and keeps the message) {
  struct row {
    int code;
    const char* reason;
    errc expected;
  };
  std::vector<row> rows{
    {404, "NotFound", errc::not_found},
    {409, "AlreadyExists", errc::already_exists},
    {409, "Conflict", errc::conflict},
    {410, "Expired", errc::gone},
    {410, "Gone", errc::gone},
    {422, "Invalid", errc::invalid},
    {400, "BadRequest", errc::bad_request},
    {415, "UnsupportedMediaType", errc::bad_request},
    {401, "Unauthorized", errc::unauthorized},
    {403, "Forbidden", errc::forbidden},
    {429, "TooManyRequests", errc::too_many_requests},
    {504, "Timeout", errc::timeout},
    {500, "ServerTimeout", errc::timeout},
    {500, "InternalError", errc::server_error},
    {503, "ServiceUnavailable", errc::server_error},
  };
  for (auto& r : rows) {
    auto msg = std::string{"message for "} + r.reason;
    auto err = error_from_status(r.code, status(r.code, r.reason, msg));
    CAF_CHECK_EQUAL(err.category(), error_category);
    CAF_CHECK(is(err, r.expected));
    CAF_CHECK_EQUAL(istio_csr::errors::message(err), msg);
  }
}

CAF_TEST(without a known reason the HTTP code decides) {
  CAF_CHECK(is(error_from_status(409, status(409, "", "x")), errc::conflict));
  CAF_CHECK(is(error_from_status(410, status(410, "", "x")), errc::gone));
  CAF_CHECK(
    is(error_from_status(502, status(502, "", "x")), errc::server_error));
  CAF_CHECK(
    is(error_from_status(418, status(418, "Teapot", "x")), errc::bad_request));
  // A Status whose code differs from the HTTP code: the Status wins.
  CAF_CHECK(is(error_from_status(500, status(404, "", "x")), errc::not_found));
}

CAF_TEST(a body that is not a Status still gives a typed error) {
  auto err = error_from_status(503, json{}, "upstream connect error");
  CAF_CHECK(is(err, errc::server_error));
  CAF_CHECK_EQUAL(istio_csr::errors::message(err),
                  "the server responded with HTTP 503: upstream connect error");
  auto long_body = std::string(1000, 'x');
  auto err2 = error_from_status(404, json{}, long_body);
  CAF_CHECK(is(err2, errc::not_found));
  CAF_CHECK_LESS(istio_csr::errors::message(err2).size(), 400u);
}

CAF_TEST(an ERROR watch event Status maps through its own code) {
  auto ev = status(410, "Expired", "too old resource version: 1 (42)");
  auto err = error_from_status(ev);
  CAF_CHECK(is(err, errc::gone));
  CAF_CHECK_EQUAL(istio_csr::errors::message(err),
                  "too old resource version: 1 (42)");
  // Without `kind` (some proxies) but with code and reason.
  ev.erase("kind");
  CAF_CHECK(is(error_from_status(ev), errc::gone));
}

CAF_TEST(status view reads details causes and retry after) {
  auto st = status(422, "Invalid", "Namespace \"A\" is invalid");
  st["details"]
    = json{{"name", "A"},
           {"kind", "namespaces"},
           {"retryAfterSeconds", 3},
           {"causes", json::array({json{{"reason", "FieldValueInvalid"},
                                        {"message", "bad name"},
                                        {"field", "metadata.name"}},
                                   json{{"reason", "FieldValueInvalid"},
                                        {"message", "bad label"},
                                        {"field", "metadata.labels"}}})}};
  status_view v{st};
  CAF_CHECK(v.is_status());
  CAF_CHECK_EQUAL(v.code(), 422);
  CAF_CHECK_EQUAL(v.details_name(), "A");
  CAF_CHECK_EQUAL(v.details_kind(), "namespaces");
  CAF_REQUIRE_EQUAL(v.causes().size(), 2u);
  auto causes = v.causes();
  CAF_CHECK_EQUAL(causes[1].field, "metadata.labels");
  CAF_CHECK(v.retry_after_seconds() == 3);
  CAF_CHECK(!status_view{json{{"kind", "Pod"}}}.is_status());
}

CAF_TEST(errc helpers and rendering) {
  auto err = make_error(errc::conflict, "the object has been modified");
  CAF_CHECK(errc_of(err) == errc::conflict);
  CAF_CHECK(!errc_of(caf::error{}));
  CAF_CHECK(!errc_of(caf::make_error(caf::sec::runtime_error)));
  CAF_CHECK_EQUAL(istio_csr::errors::describe(err),
                  "kube.conflict: the object has been modified");
  CAF_CHECK_EQUAL(istio_csr::errors::describe(make_error(errc::gone)),
                  "kube.gone");
  CAF_CHECK_EQUAL(to_string(errc::too_many_requests), "too_many_requests");
  // The category renders through an actor system once registered.
  caf::actor_system_config cfg;
  istio_csr::errors::add_categories(cfg, {error_category});
  caf::actor_system sys{cfg};
  CAF_CHECK_EQUAL(sys.render(err),
                  "kube.conflict: the object has been modified");
}
