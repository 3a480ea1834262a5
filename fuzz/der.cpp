// Strict DER as Go reads it (`der::read`, `der::is_strict`, OIDs) and the
// extension values decoded from workload CSRs and issued certificates
// (SubjectAltName, KeyUsage, ExtendedKeyUsage).

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_input.hpp"
#include "pki/der.hpp"
#include "pki/extensions.hpp"

using namespace istio_csr;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  auto in = fuzz::text(data, size);
  // Element after element, as the CSR policy walks a SEQUENCE.
  for (auto rest = in; !rest.empty();) {
    auto before = rest;
    auto element = pki::der::read(rest);
    if (!element) {
      fuzz::require(rest == before, "a failed read leaves the input alone");
      break;
    }
    fuzz::require(element->whole.data() == before.data()
                    && element->whole.size() == before.size() - rest.size(),
                  "whole is the prefix read");
    fuzz::require(element->content.data() >= element->whole.data()
                    && element->content.data() + element->content.size()
                         == element->whole.data() + element->whole.size(),
                  "content ends the element");
    if (element->is(pki::der::tag::object_identifier, false))
      (void)pki::der::oid_text(element->content);
  }
  if (pki::der::is_strict(in)) {
    auto rest = in;
    auto element = pki::der::read(rest);
    fuzz::require(element && rest.empty(), "strict DER is one element");
  }
  (void)pki::der::oid_text(in);
  (void)pki::decode_key_usage(in);
  if (auto sans = pki::decode_subject_alt_names(in))
    (void)pki::encode_subject_alt_names(*sans);
  if (auto oids = pki::decode_ext_key_usage(in)) {
    // What we read, we can write, and it reads back the same.
    auto der = pki::encode_ext_key_usage(*oids);
    fuzz::require(static_cast<bool>(der), "decoded EKU OIDs encode");
    auto again = pki::decode_ext_key_usage(*der);
    fuzz::require(again && *again == *oids, "EKU round trip");
  }
  return 0;
}
