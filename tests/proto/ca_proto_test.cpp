#define CAF_SUITE proto.wire

#include "caf/test/unit_test.hpp"

#include <string>

#include "proto/ca.pb.h"

namespace {

std::string hex(const std::string& bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 0x0f];
  }
  return out;
}

std::string hex_of(std::string_view text) {
  return hex(std::string{text});
}

} // namespace

// The request of docs/istio-clients.md §A.1 "Wire check", encoded by upstream's
// ca.proto with protoc --encode. Every byte must match.
CAF_TEST(request bytes match the istio wire example) {
  istio::v1::auth::IstioCertificateRequest req;
  req.set_csr("-----BEGIN CERTIFICATE REQUEST-----\n");
  req.set_validity_duration(86400);
  (*req.mutable_metadata()->mutable_fields())["ImpersonatedIdentity"]
    .set_string_value("spiffe://cluster.local/ns/default/sa/bookinfo");
  std::string wire;
  CAF_REQUIRE(req.SerializeToString(&wire));
  std::string expected = "0a24" + hex_of("-----BEGIN CERTIFICATE REQUEST-----\n")
                         + "1880a305" // field 3, varint 86400
                         + "2249"     // field 4, LEN 73 (Struct)
                         + "0a47"     // Struct.fields entry, LEN 71
                         + "0a14" + hex_of("ImpersonatedIdentity") // key
                         + "122f"                                 // value
                         + "1a2d"
                         + hex_of("spiffe://cluster.local/ns/default/sa/bookinfo");
  CAF_CHECK_EQUAL(hex(wire), expected);
}

CAF_TEST(response bytes match the istio wire example) {
  istio::v1::auth::IstioCertificateResponse resp;
  resp.add_cert_chain("LEAF\n");
  resp.add_cert_chain("ROOT\n");
  std::string wire;
  CAF_REQUIRE(resp.SerializeToString(&wire));
  CAF_CHECK_EQUAL(hex(wire), "0a05" + hex_of("LEAF\n") + "0a05" + hex_of("ROOT\n"));
}

CAF_TEST(field 2 is unknown and survives a round trip as unknown) {
  // A peer that still sends the retired subject_id (field 2, string) must not
  // break decoding; the field is kept as unknown, never mapped to anything.
  std::string bytes;
  bytes += '\x0a'; bytes += '\x01'; bytes += 'x'; // csr = "x"
  bytes += '\x12'; bytes += '\x01'; bytes += 'y'; // field 2 = "y"
  istio::v1::auth::IstioCertificateRequest req;
  CAF_REQUIRE(req.ParseFromString(bytes));
  CAF_CHECK_EQUAL(req.csr(), "x");
  CAF_CHECK_EQUAL(req.validity_duration(), 0);
  CAF_CHECK(!req.has_metadata());
}

CAF_TEST(the service method path is the one clients call) {
  auto* file = istio::v1::auth::IstioCertificateRequest::descriptor()->file();
  CAF_REQUIRE_EQUAL(file->service_count(), 1);
  auto* service = file->service(0);
  CAF_CHECK_EQUAL(service->full_name(), "istio.v1.auth.IstioCertificateService");
  CAF_REQUIRE_EQUAL(service->method_count(), 1);
  CAF_CHECK_EQUAL(service->method(0)->name(), "CreateCertificate");
}
