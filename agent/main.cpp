// istio-csr: parses the configuration, sets up logging and (for now) logs
// what it would run with. The actor system is wired in later.
#include <cstdio>

#include "config/go_duration.hpp"
#include "config/parse.hpp"
#include "logging/logging.hpp"

namespace {

void write(std::FILE* out, const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), out);
  std::fflush(out);
}

} // namespace

int main(int argc, char** argv) {
  using namespace istio_csr;
  auto res = config::parse(argc, argv);
  if (!res.should_run()) {
    write(stdout, res.out_text);
    write(stderr, res.err_text);
    return res.exit_code;
  }
  const auto& opts = *res.opts;
  logging::init(
    {opts.telemetry.log_level, opts.telemetry.format == config::log_format::json
                                 ? logging::format::json
                                 : logging::format::text});
  auto log = logging::get("manager");
  // Never log --token or keys: only non-secret settings here.
  logging::info(*log, "starting istio-csr",
                {{"version", config::version()},
                 {"serving-address", opts.serving.address},
                 {"certificate-namespace", opts.issuer.certificate_namespace},
                 {"trust-domain", opts.tls.trust_domain},
                 {"issuer", opts.issuer.static_issuer
                              ? opts.issuer.static_issuer->name + "/"
                                  + opts.issuer.static_issuer->kind + "/"
                                  + opts.issuer.static_issuer->group
                              : std::string{"<runtime>"}},
                 {"max-client-certificate-duration",
                  config::format_go_duration(
                    opts.serving.max_client_certificate_duration)}});
  if (opts.issuer.preserve_certificate_requests)
    logging::warn(*log, "preserving CertificateRequests: they are not deleted "
                        "after signing (debug only)");
  if (opts.kube.disable_rate_limiter)
    logging::info(*log, "the Kubernetes client-side rate limiter is disabled");
  return 0;
}
