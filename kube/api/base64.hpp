#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace istio_csr::kube {

/// Standard base64 (RFC 4648, with padding), as Go encodes `[]byte` fields
/// in JSON (e.g. `CertificateRequest.spec.request`, kubeconfig `*-data`).
std::string base64_encode(std::string_view bytes);

/// Decodes standard base64. Padding is required except when the input ends
/// on a quantum boundary; ASCII whitespace (line breaks of PEM-like
/// wrapping) is skipped. Returns nullopt on any other character or a bad
/// length.
std::optional<std::string> base64_decode(std::string_view text);

} // namespace istio_csr::kube
