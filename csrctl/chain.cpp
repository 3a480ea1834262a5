#include "csrctl/chain.hpp"

#include <ctime>
#include <sstream>

#include "errors/describe.hpp"
#include "pki/error.hpp"
#include "pki/pem.hpp"
#include "pki/verify.hpp"

namespace istio_csr::csrctl {

namespace {

std::string rfc3339(std::chrono::system_clock::time_point t) {
  auto secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string join(const std::vector<std::string>& xs) {
  std::string out;
  for (const auto& x : xs) {
    if (!out.empty())
      out += ", ";
    out += x;
  }
  return out;
}

std::string key_text(const pki::public_key& key) {
  switch (key.algorithm()) {
    case pki::key_algorithm::rsa: return "RSA " + std::to_string(key.bits());
    case pki::key_algorithm::ec: return "ECDSA P-" + std::to_string(key.bits());
    default: return "other";
  }
}

std::string dn_text(const std::string& oneline) {
  return oneline.empty() ? std::string{"(empty)"} : oneline;
}

void describe_cert(std::ostream& out, const pki::certificate& cert,
                   const std::string& indent) {
  out << indent << "subject:    " << dn_text(cert.subject_oneline()) << '\n';
  out << indent << "issuer:     " << dn_text(cert.issuer_oneline()) << '\n';
  auto sans = cert.sans();
  if (!sans.uris.empty())
    out << indent << "URI SANs:   " << join(sans.uris) << '\n';
  if (!sans.dns.empty())
    out << indent << "DNS SANs:   " << join(sans.dns) << '\n';
  if (!sans.ips.empty())
    out << indent << "IP SANs:    " << join(sans.ips) << '\n';
  if (!sans.emails.empty())
    out << indent << "email SANs: " << join(sans.emails) << '\n';
  out << indent << "not before: " << rfc3339(cert.not_before()) << '\n';
  out << indent << "not after:  " << rfc3339(cert.not_after()) << '\n';
  out << indent << "key:        " << key_text(cert.public_key())
      << (cert.is_ca() ? ", CA" : "") << '\n';
  out << indent << "serial:     " << cert.serial_hex() << '\n';
}

} // namespace

caf::expected<parsed_chain> parse_chain(const std::vector<std::string>& chain) {
  if (chain.size() <= 1)
    return pki::invalid("invalid empty CertChain: "
                        + std::to_string(chain.size()) + " element(s)");
  auto leaf = pki::certificate::from_pem(chain.front());
  if (!leaf)
    return pki::invalid("element 0 (leaf): " + errors::message(leaf.error()));
  parsed_chain out{std::move(*leaf), {}, {}};
  for (size_t i = 1; i + 1 < chain.size(); ++i) {
    auto cert = pki::certificate::from_pem(chain[i]);
    if (!cert)
      return pki::invalid("element " + std::to_string(i) + ": "
                          + errors::message(cert.error()));
    out.intermediates.push_back(std::move(*cert));
  }
  auto roots = pki::parse_pem_bundle(chain.back(), 330000);
  if (!roots)
    return pki::invalid("element " + std::to_string(chain.size() - 1)
                        + " (root bundle): " + errors::message(roots.error()));
  out.roots = std::move(*roots);
  return out;
}

caf::error check_chain(const parsed_chain& chain, const pki::private_key& key,
                       const std::string& identity) {
  if (!chain.leaf.matches(key))
    return pki::invalid("the leaf does not certify the key of the CSR");
  auto sans = chain.leaf.sans();
  if (sans.uris != std::vector<std::string>{identity})
    return pki::invalid("the leaf's URI SANs are [" + join(sans.uris)
                        + "], expected exactly [" + identity + "]");
  if (auto err = pki::verify_chain(chain.leaf, chain.intermediates, chain.roots,
                                   pki::verify_purpose::client_or_server_auth))
    return pki::invalid("the chain does not verify to its root bundle: "
                        + errors::message(err));
  return {};
}

std::string describe_chain(const parsed_chain& chain) {
  std::ostringstream out;
  out << "[0] leaf\n";
  describe_cert(out, chain.leaf, "    ");
  size_t i = 1;
  for (const auto& cert : chain.intermediates) {
    out << '[' << i++ << "] intermediate\n";
    describe_cert(out, cert, "    ");
  }
  out << '[' << i << "] root bundle (" << chain.roots.size() << " certificate"
      << (chain.roots.size() == 1 ? "" : "s") << ")\n";
  for (size_t r = 0; r < chain.roots.size(); ++r) {
    if (chain.roots.size() > 1)
      out << "    (" << r + 1 << ")\n";
    describe_cert(out, chain.roots[r], "    ");
  }
  return out.str();
}

std::string concat_pem(const std::vector<std::string>& chain) {
  std::string out;
  for (const auto& element : chain) {
    out += element;
    if (!element.empty() && element.back() != '\n')
      out += '\n';
  }
  return out;
}

} // namespace istio_csr::csrctl
