#include "tests/support/test_cluster.hpp"

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string_view>

namespace istio_csr::test {

std::unique_ptr<test_cluster>
test_cluster::start(const std::vector<std::string>& extra_devcluster_args) {
  std::unique_ptr<test_cluster> result{new test_cluster};
  if (const char* real = std::getenv("ISTIO_CSR_TEST_KUBECONFIG");
      real != nullptr && *real != '\0') {
    result->kubeconfig_ = real;
    auto info = result->kubectl({"config", "view", "--minify", "-o",
                                 "jsonpath={.clusters[0].cluster.server}"});
    if (info.exit_code != 0) {
      std::fprintf(stderr, "test_cluster: cannot read %s: %s\n", real,
                   info.err.c_str());
      return nullptr;
    }
    result->server_ = info.out;
    if (!result->adopt_real_cluster())
      return nullptr;
    return result;
  }
  result->dir_ = std::make_unique<temp_dir>();
  result->kubeconfig_ = result->dir_->file("kubeconfig");
  std::vector<std::string> argv{bin("devcluster"), "--listen", "127.0.0.1:0",
                                "--kubeconfig-out", result->kubeconfig_};
  argv.insert(argv.end(), extra_devcluster_args.begin(),
              extra_devcluster_args.end());
  result->process_ = child_process::spawn(argv);
  if (!result->process_) {
    std::fprintf(stderr, "test_cluster: cannot start %s\n", argv[0].c_str());
    return nullptr;
  }
  static const std::string ready = "devcluster listening on ";
  auto line = result->process_->wait_for_line(ready, 30s);
  if (!line) {
    std::fprintf(
      stderr, "test_cluster: devcluster did not get ready:\n%s\n%s\n",
      result->process_->out().c_str(), result->process_->err().c_str());
    return nullptr;
  }
  result->server_ = line->substr(line->find(ready) + ready.size());
  return result;
}

bool test_cluster::adopt_real_cluster() {
  // What devcluster holds from the start: create what is missing, keep what
  // exists (other test programs may be using it).
  auto boot
    = run({bin("devcluster"), "bootstrap", "--kubeconfig", kubeconfig_}, 60s);
  if (boot.exit_code != 0) {
    std::fprintf(stderr, "test_cluster: devcluster bootstrap failed:\n%s%s\n",
                 boot.out.c_str(), boot.err.c_str());
    return false;
  }
  // Something must sign CertificateRequests: cert-manager, or one
  // `devcluster issuer` for the whole run (make test-real), or ours.
  if (const char* signer = std::getenv("ISTIO_CSR_TEST_SIGNER");
      signer != nullptr && *signer != '\0')
    return true;
  issuer_ = child_process::spawn(
    {bin("devcluster"), "issuer", "--kubeconfig", kubeconfig_});
  static const std::string ready = "devcluster issuer running against ";
  if (!issuer_ || !issuer_->wait_for_line(ready, 30s)) {
    std::fprintf(stderr, "test_cluster: devcluster issuer did not start:\n%s\n",
                 issuer_ ? issuer_->err().c_str() : "");
    return false;
  }
  return true;
}

bool test_cluster::has_devcluster_issuer() const {
  if (is_devcluster() || issuer_)
    return true;
  const char* signer = std::getenv("ISTIO_CSR_TEST_SIGNER");
  return signer != nullptr && std::string_view{signer} == "devcluster-issuer";
}

bool test_cluster::has_cert_manager_webhook() const {
  if (is_devcluster())
    return true;
  auto r = kubectl({"get", "mutatingwebhookconfigurations", "-o", "name"});
  return r.exit_code == 0 && r.out.find("cert-manager") != std::string::npos;
}

test_cluster::~test_cluster() {
  if (issuer_)
    issuer_->stop();
  if (process_)
    process_->stop();
}

command_result test_cluster::kubectl(const std::vector<std::string>& args,
                                     const std::string& stdin_data) const {
  std::vector<std::string> argv{program("kubectl"), "--kubeconfig",
                                kubeconfig_};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, 60s, stdin_data);
}

std::string test_cluster::unique_name(const std::string& prefix) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string suffix;
  for (int i = 0; i < 6; ++i)
    suffix += alphabet[rng() % (sizeof(alphabet) - 1)];
  return prefix + "-" + suffix;
}

} // namespace istio_csr::test
