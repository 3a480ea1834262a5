#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "caf/expected.hpp"

namespace istio_csr::pki {

class certificate;

/// One decoded PEM block.
struct pem_block {
  std::string type; ///< the label, e.g. "CERTIFICATE"
  std::string der;  ///< the decoded bytes
  /// "Key: value" lines before the base64 data, in order.
  std::vector<std::pair<std::string, std::string>> headers = {};
};

/// Encodes `der` as a PEM block with label `type` (64-column base64 lines,
/// trailing newline).
std::string pem_encode(std::string_view type, std::string_view der);

/// Decodes the first PEM block of `text`, whatever its label, exactly like
/// Go's `pem.Decode` (the rules are in docs/pem.md): text around blocks is
/// ignored, and a malformed candidate (bad base64, END line missing or with
/// another label) is skipped. Errors if no block is found. This is how
/// cert-manager, and every other Go program, reads what we write.
caf::expected<pem_block> first_pem_block(std::string_view text);

/// Decodes every PEM block of `text` (repeated `pem.Decode`).
std::vector<pem_block> pem_blocks(std::string_view text);

/// The DER of `text` if it is exactly one canonical PEM block labelled
/// `type`, with nothing but white space around it (docs/pem.md):
/// - optional blank lines (spaces, tabs, CR, LF) ending with a newline;
/// - `-----BEGIN <type>-----`, optional spaces or tabs, CRLF or LF;
/// - one or more lines of base64 characters, each ending with CRLF or LF,
///   together canonical padded base64 (zero trailing bits) of non-empty data;
/// - `-----END <type>-----`, optional spaces or tabs, then CRLF, LF or the
///   end; then only white space.
/// No headers. Whatever Go's `pem.Decode` reads from the same text is
/// checked to be that one block with these bytes (an error otherwise), so a
/// text accepted here cannot mean something else to a Go program.
caf::expected<std::string> pem_decode_exact(std::string_view text,
                                            std::string_view type);

/// Parses a bundle of PEM certificates, as Go's cert-manager
/// `DecodeX509CertificateSetBytes` and istio-csr's root CA loading do:
/// - more than `max_bytes` of input → error;
/// - a block that is not a "CERTIFICATE" or does not parse → error (text
///   that is no PEM block at all is ignored, as in Go);
/// - no certificate at all → error.
/// Duplicates are kept, order is preserved.
caf::expected<std::vector<certificate>> parse_pem_bundle(std::string_view text,
                                                         std::size_t max_bytes);

} // namespace istio_csr::pki
