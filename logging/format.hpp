#pragma once

#include <string>
#include <string_view>

namespace istio_csr::logging {

/// Appends `s` in double quotes as Go's `strconv.Quote` writes it (what klog
/// prints for a message and a string value): `\"`, `\\`, `\n`, `\t` and the
/// other C escapes, `\xNN` for other control bytes, DEL and invalid UTF-8;
/// valid UTF-8 stays as is. The result never contains a newline.
void append_quoted(std::string& out, std::string_view s);

/// `append_quoted` into a new string.
std::string quoted(std::string_view s);

/// The safety net under "never log a token or a key": a value containing
/// "PRIVATE KEY-----" (the armor of a PEM key) becomes
/// `[redacted: private key]`, and every JWT in it (three base64url segments,
/// the first starting with "eyJ", as Kubernetes service account tokens)
/// becomes `[redacted: token]`. Applied to every message and field value of
/// both formats.
std::string redact(std::string_view value);

} // namespace istio_csr::logging
