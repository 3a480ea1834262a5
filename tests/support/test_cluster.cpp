#include "tests/support/test_cluster.hpp"

#include <cstdio>
#include <cstdlib>
#include <random>

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

test_cluster::~test_cluster() {
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
