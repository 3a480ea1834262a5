#define CAF_SUITE pki.der

#include "caf/test/unit_test.hpp"

#include "pki/der.hpp"

using namespace istio_csr::pki;

namespace {

std::string bytes(std::initializer_list<int> xs) {
  std::string out;
  for (auto x : xs)
    out += static_cast<char>(x);
  return out;
}

} // namespace

CAF_TEST(elements are read with the rules of go) {
  auto in = bytes({0x30, 0x03, 0x02, 0x01, 0x05, 0xff});
  std::string_view view = in;
  auto seq = der::read(view);
  CAF_REQUIRE(seq);
  CAF_CHECK(seq->is(der::tag::sequence, true));
  CAF_CHECK_EQUAL(seq->content.size(), 3u);
  CAF_CHECK_EQUAL(seq->whole.size(), 5u);
  CAF_CHECK_EQUAL(view.size(), 1u);
  // Refused, leaving the input alone: indefinite length, a non-minimal
  // length, a leading zero length byte, truncation, a high tag number that
  // fits the short form.
  for (auto bad : {bytes({0x30, 0x80, 0x00, 0x00}),
                   bytes({0x04, 0x81, 0x05, 1, 2, 3, 4, 5}),
                   bytes({0x04, 0x82, 0x00, 0x80}), bytes({0x04, 0x05, 1, 2}),
                   bytes({0x1f, 0x05, 0x00}), bytes({0x1f, 0x80, 0x21, 0x00}),
                   bytes({0x30})}) {
    std::string_view v = bad;
    CAF_CHECK(!der::read(v));
    CAF_CHECK_EQUAL(v.size(), bad.size());
  }
  // Long form for 128 bytes and more.
  auto long_form = bytes({0x04, 0x81, 0x80}) + std::string(128, 'x');
  std::string_view v = long_form;
  CAF_CHECK(der::read(v));
}

CAF_TEST(strict der has no ber and no trailing data) {
  auto good = bytes({0x30, 0x06, 0x31, 0x04, 0x04, 0x02, 'h', 'i'});
  CAF_CHECK(der::is_strict(good));
  CAF_CHECK(!der::is_strict(good + bytes({0x00})));
  // A constructed OCTET STRING (BER), a primitive SEQUENCE, an indefinite
  // length deep inside.
  CAF_CHECK(!der::is_strict(bytes({0x30, 0x04, 0x24, 0x02, 0x04, 0x00})));
  CAF_CHECK(!der::is_strict(bytes({0x10, 0x00})));
  CAF_CHECK(
    !der::is_strict(bytes({0x30, 0x06, 0x30, 0x80, 0x05, 0x00, 0x00, 0x00})));
  // Context-specific tags may be either.
  CAF_CHECK(der::is_strict(bytes({0x30, 0x04, 0xa0, 0x02, 0x05, 0x00})));
  CAF_CHECK(der::is_strict(bytes({0x30, 0x03, 0x80, 0x01, 0x07})));
  // Nesting is bounded.
  std::string deep = bytes({0x05, 0x00});
  for (int i = 0; i < 40; ++i)
    deep = bytes({0x30, static_cast<int>(deep.size())}) + deep;
  CAF_CHECK(!der::is_strict(deep));
}

CAF_TEST(object identifiers in dotted form) {
  CAF_CHECK_EQUAL(der::oid_text(bytes({0x55, 0x1d, 0x11})).value_or("-"),
                  "2.5.29.17");
  CAF_CHECK_EQUAL(
    der::oid_text(bytes({0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x0e}))
      .value_or("-"),
    "1.2.840.113549.1.9.14");
  CAF_CHECK_EQUAL(der::oid_text(bytes({0x88, 0x37})).value_or("-"), "2.999");
  CAF_CHECK(!der::oid_text(""));
  CAF_CHECK(!der::oid_text(bytes({0x55, 0x80, 0x01})));
  CAF_CHECK(!der::oid_text(bytes({0x55, 0x81})));
}
