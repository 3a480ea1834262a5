#include "csrctl/request.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ostream>

#include "csrctl/ca_call.hpp"
#include "csrctl/chain.hpp"
#include "csrctl/credentials.hpp"
#include "csrctl/kube_access.hpp"
#include "csrctl/workload.hpp"
#include "errors/describe.hpp"
#include "kube/api/validation.hpp"
#include "pki/error.hpp"

namespace istio_csr::csrctl {

namespace {

constexpr int exit_call_failed = 1;
constexpr int exit_local_failure = 2;

/// Writes `content` to `path` with mode 0600 (the file may hold a key).
bool write_private(const std::string& path, const std::string& content) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return false;
  bool ok = ::fchmod(fd, 0600) == 0;
  size_t done = 0;
  while (ok && done < content.size()) {
    auto n = ::write(fd, content.data() + done, content.size() - done);
    if (n <= 0)
      ok = false;
    else
      done += static_cast<size_t>(n);
  }
  return ::close(fd) == 0 && ok;
}

} // namespace

int run_request(const request_options& opts, std::ostream& out,
                std::ostream& err) {
  auto fail = [&](int code, const std::string& text) {
    err << "error: " << text << '\n';
    return code;
  };
  bool have_workload
    = !opts.namespace_.empty() && !opts.service_account.empty();
  if (opts.impersonate.empty() && !have_workload)
    return fail(exit_local_failure,
                "--namespace and --service-account name the workload "
                "(or pass --impersonate)");
  if (opts.client_cert.empty() != opts.client_key.empty())
    return fail(exit_local_failure,
                "--client-cert and --client-key go together");
  auto identity
    = opts.impersonate.empty()
        ? spiffe_id(opts.trust_domain, opts.namespace_, opts.service_account)
        : opts.impersonate;

  // Whether a token is sent: not with --no-token; a client certificate alone
  // is a renewal (istio-agent rotating with the certificate it holds).
  std::string token;
  bool mint
    = !opts.no_token && opts.token_file.empty() && opts.client_cert.empty();
  if (!opts.bound_pod.empty() && !mint)
    return fail(exit_local_failure,
                "--bound-pod binds a minted token: not with --token-file, "
                "--no-token or --client-cert");
  if (!opts.no_token && !opts.token_file.empty()) {
    auto t = read_token(opts.token_file);
    if (!t)
      return fail(exit_local_failure, errors::message(t.error()));
    token = std::move(*t);
  }
  bool need_kube = mint || opts.root_ca.empty();
  std::unique_ptr<kube_access> kube;
  if (need_kube) {
    if (mint && !have_workload)
      return fail(exit_local_failure,
                  "minting a token needs --namespace and --service-account "
                  "(or pass --token-file or --no-token)");
    auto k = kube_access::make(opts.kubeconfig);
    if (!k)
      return fail(exit_local_failure, errors::message(k.error()));
    kube = std::move(*k);
  }
  if (mint) {
    auto t
      = kube->mint_token(opts.namespace_, opts.service_account, opts.audience,
                         opts.token_expiration, opts.bound_pod);
    if (!t)
      return fail(exit_local_failure, errors::message(t.error()));
    token = std::move(*t);
  }

  auto trust = trusted_roots(opts, kube.get());
  if (!trust)
    return fail(exit_local_failure, errors::message(trust.error()));
  err << "csrctl: trusting the root of " << trust->source << '\n';

  ca_call call;
  if (!opts.client_cert.empty()) {
    auto cert = read_input(opts.client_cert, "--client-cert");
    if (!cert)
      return fail(exit_local_failure, errors::message(cert.error()));
    auto key = read_input(opts.client_key, "--client-key");
    if (!key)
      return fail(exit_local_failure, errors::message(key.error()));
    call.client_cert_pem = std::move(*cert);
    call.client_key_pem = std::move(*key);
  }
  auto workload = make_workload_request(opts.key, opts.key_size, identity);
  if (!workload)
    return fail(exit_local_failure, "cannot make the key and CSR: "
                                      + errors::message(workload.error()));
  call.address = opts.address;
  call.server_name = opts.server_name;
  call.root_pem = trust->pem;
  call.token = token;
  call.cluster_id = opts.cluster_id;
  call.csr_pem = workload->csr.to_pem();
  call.validity_seconds = opts.duration.count();
  if (opts.impersonate.empty())
    call.metadata["CertSigner"] = opts.cert_signer;
  else
    call.metadata["ImpersonatedIdentity"] = opts.impersonate;
  call.timeout = opts.timeout;
  if (!opts.csr_out.empty() && !write_private(opts.csr_out, call.csr_pem))
    return fail(exit_local_failure, "cannot write --csr-out " + opts.csr_out);

  auto res = create_certificate(call);
  if (!res.ok())
    return fail(exit_call_failed,
                status_code_name(res.code) + ": " + res.message);

  auto chain = parse_chain(res.cert_chain);
  if (!chain)
    return fail(exit_call_failed,
                "unusable response: " + errors::message(chain.error()));
  auto problem = check_chain(*chain, workload->key, identity);
  if (opts.output == output_format::pem) {
    out << concat_pem(res.cert_chain);
  } else {
    out << "identity: " << identity << '\n'
        << "chain:    " << res.cert_chain.size() << " elements, "
        << (problem ? "NOT verified" : "verified to the root bundle") << '\n'
        << describe_chain(*chain);
  }
  out.flush();
  if (problem)
    return fail(exit_call_failed, errors::message(problem));
  if (!opts.key_out.empty()
      && !write_private(opts.key_out, workload->key.to_pem()))
    return fail(exit_local_failure, "cannot write --key-out " + opts.key_out);
  return 0;
}

} // namespace istio_csr::csrctl
