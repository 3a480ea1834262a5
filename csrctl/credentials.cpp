#include "csrctl/credentials.hpp"

#include <fstream>
#include <sstream>

#include "pki/error.hpp"

namespace istio_csr::csrctl {

caf::expected<std::string> read_input(const std::string& path,
                                      const std::string& option) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return pki::invalid("cannot read " + option + " " + path);
  std::ostringstream buf;
  buf << in.rdbuf();
  if (!static_cast<bool>(in) && !in.eof())
    return pki::invalid("cannot read " + option + " " + path);
  return buf.str();
}

caf::expected<std::string> read_token(const std::string& path) {
  auto token = read_input(path, "--token-file");
  if (!token)
    return token;
  while (!token->empty()
         && (token->back() == '\n' || token->back() == '\r'
             || token->back() == ' ' || token->back() == '\t'))
    token->pop_back();
  return token;
}

caf::expected<trust_bundle> trusted_roots(const request_options& opts,
                                          kube_access* kube) {
  if (!opts.root_ca.empty()) {
    auto pem = read_input(opts.root_ca, "--root-ca");
    if (!pem)
      return pem.error();
    return trust_bundle{std::move(*pem), opts.root_ca};
  }
  if (kube == nullptr)
    return pki::invalid("no --root-ca and no Kubernetes access to find the "
                        "mesh root");
  return kube->mesh_root(opts.namespace_.empty() ? "default" : opts.namespace_,
                         opts.issuer_kind, opts.issuer_name,
                         opts.issuer_namespace);
}

} // namespace istio_csr::csrctl
