#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tests/support/process.hpp"

namespace istio_csr::test {

/// The Kubernetes API a test runs against: a devcluster started for the
/// test (default), or the real cluster named by the environment variable
/// ISTIO_CSR_TEST_KUBECONFIG. On a real cluster it first creates what a
/// fresh devcluster holds (`devcluster bootstrap`: namespace istio-system,
/// the istio-ca root Secret and CA Issuer; existing objects are kept) and,
/// unless ISTIO_CSR_TEST_SIGNER names a signer already running (cert-manager,
/// or the one `devcluster issuer` of `make test-real`), runs a
/// `devcluster issuer` for as long as it lives. Tests that need
/// devcluster-only features call `is_devcluster()` and skip with a message
/// otherwise.
class test_cluster {
 public:
  /// Starts devcluster (`bin("devcluster") --listen 127.0.0.1:0
  /// --kubeconfig-out FILE extra_args...`) and waits for its ready line
  /// ("devcluster listening on https://..."), or adopts the real cluster.
  /// Returns nullptr (and prints why) if it cannot.
  static std::unique_ptr<test_cluster>
  start(const std::vector<std::string>& extra_devcluster_args = {});

  ~test_cluster();

  /// Path of a kubeconfig with admin rights.
  const std::string& kubeconfig() const noexcept {
    return kubeconfig_;
  }

  /// Base URL of the API server, e.g. "https://127.0.0.1:40123".
  const std::string& server() const noexcept {
    return server_;
  }

  bool is_devcluster() const noexcept {
    return process_ != nullptr;
  }

  /// Whether cert-manager's webhook checks CertificateRequests (fills
  /// `spec.username`/`groups`, refuses bad CSRs): devcluster emulates it; a
  /// real cluster has it only when cert-manager runs there.
  bool has_cert_manager_webhook() const;

  /// Whether devcluster's issuer signs here (devcluster, or a real cluster
  /// where this harness or `make test-real` runs `devcluster issuer`): its
  /// behaviour annotations (wrong-key, delay, ...) then work; cert-manager
  /// has none.
  bool has_devcluster_issuer() const;

  /// The devcluster process (nullptr for a real cluster).
  child_process* process() const noexcept {
    return process_.get();
  }

  /// Runs `kubectl --kubeconfig <kubeconfig> args...`.
  command_result kubectl(const std::vector<std::string>& args,
                         const std::string& stdin_data = {}) const;

  /// A unique name (prefix + random suffix) for objects a test creates, so
  /// tests can share a real cluster.
  static std::string unique_name(const std::string& prefix);

 private:
  test_cluster() = default;
  bool adopt_real_cluster();
  std::unique_ptr<child_process> issuer_;
  std::unique_ptr<temp_dir> dir_;
  std::unique_ptr<child_process> process_;
  std::string kubeconfig_;
  std::string server_;
};

} // namespace istio_csr::test
