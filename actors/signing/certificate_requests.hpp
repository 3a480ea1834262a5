#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/api/condition.hpp"
#include "kube/client/request.hpp"

namespace istio_csr::actors::signing {

/// The label that marks a CertificateRequest as created by istio-csr (ours:
/// upstream sets no labels). The cr-watcher's one watch selects on it, and
/// the orphan sweep deletes only objects carrying it.
inline constexpr std::string_view managed_by_label
  = "istio-csr.cert-manager.io/managed-by";
inline constexpr std::string_view managed_by_value = "istio-csr";

/// `managed_by_label=managed_by_value`.
std::string managed_by_selector();

/// Where and how CertificateRequests are created.
struct cr_settings {
  /// `--certificate-namespace`.
  std::string namespace_ = "istio-system";
  /// `--certificate-request-additional-annotations`.
  std::map<std::string, std::string> annotations;
  /// `--preserve-certificate-requests`: never delete.
  bool preserve = false;
};

/// What one CertificateRequest asks for.
struct cr_request {
  /// A fixed `metadata.name` (`new_cr_name()`), sent beside
  /// `generateName` (which the API server then ignores but stores): a
  /// create repeated after an ambiguous failure cannot make a second
  /// object. Empty: the server generates the name.
  std::string name;
  /// The `istio.cert-manager.io/identities` annotation value.
  std::string identities;
  /// The CSR PEM: for workloads, re-encoded from exactly the DER the policy
  /// checked (upstream sends the caller's text as received).
  std::string csr_pem;
  std::chrono::seconds duration{0};
  std::vector<std::string> usages;
  kube::issuer_ref issuer;
};

/// The CertificateRequest of docs/upstream.md §3.1 (`generateName: istio-csr-`,
/// the identities annotation with the additional annotations merged on top,
/// `isCA: false`) plus our `managed_by_label`, and `metadata.name` when
/// `req.name` is set.
nlohmann::json make_cr(const cr_settings& settings, const cr_request& req);

/// `istio-csr-` and five random characters from the API server's
/// `generateName` alphabet: the name the server would have generated,
/// chosen by us (from OpenSSL's CSPRNG, so that nobody can predict it and
/// take it first).
std::string new_cr_name();

/// Whether `existing` (read back after a create answered 409 AlreadyExists)
/// is the object `sent` asked for: the same spec fields, labels and
/// annotations we sent (the API server and cert-manager's webhook add
/// others, such as `spec.username`, and drop empty ones, such as
/// `isCA: false`).
bool is_same_request(const nlohmann::json& sent,
                     const nlohmann::json& existing);

/// Where a CertificateRequest stands, in upstream's order of checks
/// (docs/upstream.md §3.2): any `Denied=True`, then `Ready=False` with reason
/// `Failed`, then a non-empty `status.certificate`.
enum class cr_outcome { pending, denied, failed, issued };

cr_outcome outcome_of(const nlohmann::json& cr);

/// Whether no change can be expected any more (denied, failed or issued).
inline bool is_final(const nlohmann::json& cr) {
  return outcome_of(cr) != cr_outcome::pending;
}

/// A CertificateRequest in a final state, as its waiters need it (what the
/// cr-watcher answers).
struct finished_request {
  std::string name;
  cr_outcome outcome = cr_outcome::pending;
  /// Issued: `status.certificate` decoded; nullopt when it is not valid
  /// base64.
  std::optional<std::string> certificate;
  /// Issued: `status.ca` decoded; nullopt when absent or not valid base64.
  std::optional<std::string> ca;
  /// The conditions as text, for logs (`kube::to_string` of them).
  std::string conditions;
};

/// `cr`, which must be final, as a `finished_request`.
finished_request finished_from(const nlohmann::json& cr);

/// The delete request of a CertificateRequest (no preconditions).
kube::request delete_cr(const std::string& namespace_, const std::string& name);

} // namespace istio_csr::actors::signing
