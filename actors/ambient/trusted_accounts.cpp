#include "actors/ambient/trusted_accounts.hpp"

namespace istio_csr::actors::ambient {

trusted_accounts
trusted_accounts::parse(const std::vector<std::string>& entries) {
  trusted_accounts result;
  for (const auto& entry : entries) {
    auto slash = entry.find('/');
    if (slash == std::string::npos) {
      result.ignored_.push_back(entry);
      continue;
    }
    // Go's strings.Cut: everything after the first '/' is the account, so
    // "a/b/c" trusts the (impossible) account "b/c" of namespace "a".
    result.accounts_.emplace(entry.substr(0, slash), entry.substr(slash + 1));
  }
  return result;
}

bool trusted_accounts::contains(std::string_view namespace_,
                                std::string_view service_account) const {
  return accounts_.count(
           account{std::string{namespace_}, std::string{service_account}})
         > 0;
}

std::string trusted_accounts::to_string() const {
  std::string out;
  for (const auto& [ns, sa] : accounts_) {
    if (!out.empty())
      out += ',';
    out += ns;
    out += '/';
    out += sa;
  }
  return out;
}

} // namespace istio_csr::actors::ambient
