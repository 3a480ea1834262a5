#pragma once

#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace istio_csr::actors::ambient {

/// The service accounts that may impersonate workloads on their own node
/// (`--ca-trusted-node-accounts`, istiod's `CA_TRUSTED_NODE_ACCOUNTS`),
/// typically `istio-system/ztunnel`.
class trusted_accounts {
 public:
  /// `namespace/serviceaccount` pairs.
  using account = std::pair<std::string, std::string>;

  trusted_accounts() = default;

  /// Parses `entries` as istiod does: each entry is cut at its first '/'
  /// into namespace and service account; entries without '/' are kept in
  /// `ignored()` (the caller logs them) and grant nothing.
  static trusted_accounts parse(const std::vector<std::string>& entries);

  /// Whether `namespace_/service_account` may impersonate.
  bool contains(std::string_view namespace_,
                std::string_view service_account) const;

  bool empty() const noexcept {
    return accounts_.empty();
  }

  const std::set<account>& accounts() const noexcept {
    return accounts_;
  }

  /// The entries without '/', as given.
  const std::vector<std::string>& ignored() const noexcept {
    return ignored_;
  }

  /// `ns/sa,ns/sa` (sorted), for logs.
  std::string to_string() const;

 private:
  std::set<account> accounts_;
  std::vector<std::string> ignored_;
};

} // namespace istio_csr::actors::ambient
