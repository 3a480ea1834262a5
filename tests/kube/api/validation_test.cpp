#define CAF_SUITE kube_api.validation
#include "caf/test/unit_test.hpp"
#include "errors/describe.hpp"

#include "kube/api/validation.hpp"
#include "tests/support/check_case.hpp"

using namespace istio_csr::kube;

namespace {

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

} // namespace

CAF_TEST(dns1123 subdomains) {
  for (auto ok :
       {"a", "example.com", "a-b.c-d", "0.1", "istio-csr.cert-manager.svc"})
    ICSR_CHECK_CASE(dns1123_subdomain_errors(ok).empty(), ok);
  CAF_CHECK(dns1123_subdomain_errors(std::string(253, 'a')).empty());
  for (auto bad : {"", "A", "a_b", "-a", "a-", "a..b", ".a", "a.", "a b"})
    ICSR_CHECK_CASE(!dns1123_subdomain_errors(bad).empty(), bad);
  auto long_errs = dns1123_subdomain_errors(std::string(254, 'a'));
  CAF_REQUIRE_EQUAL(long_errs.size(), 1u);
  CAF_CHECK_EQUAL(long_errs[0], "must be no more than 253 characters");
  auto errs = dns1123_subdomain_errors("Foo");
  CAF_REQUIRE_EQUAL(errs.size(), 1u);
  CAF_CHECK_EQUAL(
    errs[0], "a lowercase RFC 1123 subdomain must consist of lower case "
             "alphanumeric characters, '-' or '.', and must start and end "
             "with an alphanumeric character (e.g. 'example.com', regex "
             "used for validation is "
             "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9]"
             ")?)*')");
}

CAF_TEST(dns1123 labels) {
  for (auto ok : {"a", "a-b", "0", "istio-system"})
    ICSR_CHECK_CASE(dns1123_label_errors(ok).empty(), ok);
  CAF_CHECK(dns1123_label_errors(std::string(63, 'a')).empty());
  for (auto bad : {"", "a.b", "A", "-a", "a-", "a_b"})
    ICSR_CHECK_CASE(!dns1123_label_errors(bad).empty(), bad);
  auto errs = dns1123_label_errors(std::string(64, 'a'));
  CAF_REQUIRE_EQUAL(errs.size(), 1u);
  CAF_CHECK_EQUAL(errs[0], "must be no more than 63 characters");
  auto err = validate_dns1123_label("Bad", "namespace");
  CAF_REQUIRE(err);
  CAF_CHECK(contains(istio_csr::errors::message(err),
                     "namespace \"Bad\" is invalid: a "
                     "lowercase RFC 1123 label"));
  CAF_CHECK(!validate_dns1123_label("good"));
  CAF_CHECK(!validate_dns1123_subdomain("good.name"));
}

CAF_TEST(qualified names and label values) {
  for (auto ok : {"a", "A_b.c-D", "example.com/Name", "a.b/c", "1"})
    ICSR_CHECK_CASE(qualified_name_errors(ok).empty(), ok);
  for (auto bad : {"", "/a", "a/", "a/b/c", "_a", "a_", "Ex.com/a", "a b"})
    ICSR_CHECK_CASE(!qualified_name_errors(bad).empty(), bad);
  CAF_CHECK(
    qualified_name_errors(std::string(253, 'p') + "/" + std::string(63, 'n'))
      .empty());
  CAF_CHECK(!qualified_name_errors(std::string(254, 'p') + "/n").empty());
  for (auto ok : {"", "a", "A-b_c.D", "123"})
    ICSR_CHECK_CASE(label_value_errors(ok).empty(), ok);
  for (auto bad : {"-", "a/b", "a b", "a-"})
    ICSR_CHECK_CASE(!label_value_errors(bad).empty(), bad);
  CAF_CHECK(!label_value_errors(std::string(64, 'a')).empty());
  CAF_CHECK(!validate_qualified_name("ok.com/ok"));
  CAF_CHECK(validate_label_value("bad value"));
}

CAF_TEST(annotations) {
  CAF_CHECK(annotations_errors({}).empty());
  CAF_CHECK(annotations_errors({{"a", "x y z"}, {"Example.COM/Key", ""}})
              .empty()); // keys are checked lower-cased
  auto errs
    = annotations_errors({{"a b", "v"}, {"ok", "v"}}, "spec.annotations");
  CAF_REQUIRE_EQUAL(errs.size(), 1u);
  CAF_CHECK(contains(errs[0], "spec.annotations: Invalid value: \"a b\": name "
                              "part must consist of"));
  // The size limit is on keys + values together: 256 KiB is fine, one more
  // byte is not.
  std::string big(256 * 1024 - 1, 'x');
  CAF_CHECK(annotations_errors({{"k", big}}).empty());
  auto too_big = annotations_errors({{"k", big + "x"}});
  CAF_REQUIRE_EQUAL(too_big.size(), 1u);
  CAF_CHECK_EQUAL(too_big[0], "metadata.annotations: Too long: must have at "
                              "most 262144 bytes");
  auto err = validate_annotations({{"/x", "v"}, {"y/", "v"}});
  CAF_REQUIRE(err);
  auto msg = istio_csr::errors::message(err);
  CAF_CHECK(contains(msg, "prefix part must be non-empty"));
  CAF_CHECK(contains(msg, "; "));
  CAF_CHECK(contains(msg, "name part must be non-empty"));
}
