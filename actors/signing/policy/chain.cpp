#include "actors/signing/policy/chain.hpp"

#include <algorithm>
#include <memory>
#include <optional>

#include "errors/describe.hpp"
#include "pki/error.hpp"
#include "pki/pem.hpp"
#include "pki/verify.hpp"

namespace istio_csr::actors::signing::policy {

namespace {

// cert-manager's limit against quadratic work on hostile input.
constexpr size_t max_unique_certs = 1000;

// A linked list from leaf (head) to root (tail), as cert-manager's
// chainNode. Nodes are indices into one vector.
struct node {
  size_t cert;
  std::optional<size_t> issuer; // next node up
};

size_t root_of(const std::vector<node>& nodes, size_t i) {
  while (nodes[i].issuer)
    i = *nodes[i].issuer;
  return i;
}

} // namespace

caf::expected<root_bundle> load_root_bundle(std::string pem) {
  if (pem.empty())
    return pki::invalid("root CA bundle is empty");
  auto certs = pki::parse_pem_bundle(pem, max_root_bundle_bytes);
  if (!certs)
    return pki::invalid("failed to decode root CA bundle: "
                        + errors::message(certs.error()));
  return root_bundle{std::move(pem), std::move(*certs)};
}

caf::expected<std::vector<pki::certificate>>
parse_single_chain(std::string_view pem) {
  auto parsed = pki::parse_pem_bundle(pem, max_chain_pem_bytes);
  if (!parsed)
    return std::move(parsed.error());
  // De-duplicate by DER, sorted by DER like cert-manager (the order only
  // matters for which chain a merge keeps, not for the result).
  std::vector<std::pair<std::string, pki::certificate>> by_der;
  for (auto& cert : *parsed)
    by_der.emplace_back(cert.to_der(), cert);
  std::sort(by_der.begin(), by_der.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  by_der.erase(std::unique(by_der.begin(), by_der.end(),
                           [](const auto& a, const auto& b) {
                             return a.first == b.first;
                           }),
               by_der.end());
  if (by_der.size() > max_unique_certs)
    return pki::invalid(
      "certificate chain is too long, must be less than 1000 certificates");
  std::vector<pki::certificate> certs;
  for (auto& [der, cert] : by_der)
    certs.push_back(std::move(cert));
  // Each certificate starts as its own chain; merge until one is left.
  std::vector<node> nodes;
  for (size_t i = 0; i < certs.size(); ++i)
    nodes.push_back(node{i, std::nullopt});
  std::vector<size_t> chains; // heads
  for (size_t i = 0; i < nodes.size(); ++i)
    chains.push_back(i);
  while (chains.size() > 1) {
    auto last = chains.back();
    chains.pop_back();
    bool merged = false;
    for (auto& head : chains) {
      // b = head, a = last (cert-manager's tryMergeChain(a, b)).
      auto b_root = root_of(nodes, head);
      if (certs[nodes[b_root].cert].issued_by(certs[nodes[last].cert])) {
        nodes[b_root].issuer = last;
        merged = true; // head stays the head
        break;
      }
      auto a_root = root_of(nodes, last);
      if (certs[nodes[a_root].cert].issued_by(certs[nodes[head].cert])) {
        nodes[a_root].issuer = head;
        head = last;
        merged = true;
        break;
      }
    }
    if (!merged)
      return pki::invalid("certificate chain is malformed or broken");
  }
  // Walk from the head; the top is kept only if it is not self-signed, or
  // if it is the only certificate.
  std::vector<pki::certificate> out;
  for (auto i = chains.front();; i = *nodes[i].issuer) {
    const auto& cert = certs[nodes[i].cert];
    if (!nodes[i].issuer) {
      if (out.empty() || !cert.is_self_signed())
        out.push_back(cert);
      break;
    }
    out.push_back(cert);
  }
  return out;
}

caf::expected<std::vector<std::string>>
build_response_chain(std::string_view issued_pem, const root_bundle& roots,
                     std::optional<pki::certificate>* leaf) {
  auto chain = parse_single_chain(issued_pem);
  if (!chain)
    return pki::invalid("failed to parse and verify chain returned from "
                        "issuer: "
                        + errors::message(chain.error()));
  std::vector<pki::certificate> intermediates(chain->begin() + 1, chain->end());
  if (auto err = pki::verify_chain(chain->front(), intermediates, roots.certs,
                                   pki::verify_purpose::client_or_server_auth))
    return pki::invalid("failed to verify the issued certificate chain "
                        "against the current mesh roots: "
                        + errors::message(err));
  std::vector<std::string> out;
  out.reserve(chain->size() + 1);
  for (const auto& cert : *chain)
    out.push_back(cert.to_pem());
  out.push_back(roots.pem);
  if (leaf != nullptr)
    *leaf = std::move(chain->front());
  return out;
}

} // namespace istio_csr::actors::signing::policy
