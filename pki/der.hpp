#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace istio_csr::pki::der {

/// ASN.1 universal tag numbers used in this project.
namespace tag {
constexpr std::uint32_t boolean = 1;
constexpr std::uint32_t integer = 2;
constexpr std::uint32_t bit_string = 3;
constexpr std::uint32_t octet_string = 4;
constexpr std::uint32_t object_identifier = 6;
constexpr std::uint32_t sequence = 16;
constexpr std::uint32_t set = 17;
} // namespace tag

/// ASN.1 tag classes.
namespace tag_class {
constexpr int universal = 0;
constexpr int application = 1;
constexpr int context_specific = 2;
constexpr int private_use = 3;
} // namespace tag_class

/// One DER element: identifier, length, content.
struct tlv {
  int cls = 0;
  bool constructed = false;
  std::uint32_t tag = 0;
  /// The content octets.
  std::string_view content;
  /// The whole element, identifier and length included.
  std::string_view whole;

  /// Whether this is the universal, constructed or primitive, element `t`.
  bool is(std::uint32_t t, bool is_constructed) const noexcept {
    return cls == tag_class::universal && tag == t
           && constructed == is_constructed;
  }
};

/// Reads the element at the front of `in` and advances `in` past it, with
/// the rules of Go's `encoding/asn1` (`parseTagAndLength`): high tag numbers
/// that could have been low or that have leading zeros, indefinite lengths,
/// non-minimal lengths and truncated content are refused (nullopt; `in` is
/// then unchanged).
std::optional<tlv> read(std::string_view& in);

/// Whether `in` is exactly one element that is valid DER for Go, and so is
/// every element inside each constructed one, recursively (at most `depth`
/// levels). Primitive contents are not interpreted. What passes here reads
/// the same in OpenSSL and in Go as far as element boundaries go: OpenSSL
/// also takes BER (indefinite lengths, for one), which Go refuses.
bool is_strict(std::string_view in, int depth = 32);

/// The dotted form of an OBJECT IDENTIFIER's content octets ("2.5.29.17"),
/// nullopt when malformed (empty, a sub-identifier with a leading 0x80, one
/// that does not end, or one above 2^63).
std::optional<std::string> oid_text(std::string_view content);

} // namespace istio_csr::pki::der
