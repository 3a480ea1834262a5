// `make run` (scripts/run-local): starts devcluster and the agent, prints a
// csrctl command that works as printed and a kubectl command that shows the
// istio-ca-root-cert ConfigMap in every namespace, and Ctrl-C stops both.

#define CAF_SUITE e2e.run_local

#include "tests/e2e/fixture.hpp"

#include <signal.h>

#include <sstream>

using namespace istio_csr;
using namespace istio_csr::test;
using namespace istio_csr::test::e2e;

namespace {

std::vector<std::string> split_words(const std::string& line) {
  std::istringstream in{line};
  std::vector<std::string> out;
  std::string word;
  while (in >> word)
    out.push_back(word);
  return out;
}

/// The first line of `text` containing `needle`.
std::string line_with(const std::string& text, const std::string& needle) {
  std::istringstream in{text};
  std::string line;
  while (std::getline(in, line))
    if (line.find(needle) != std::string::npos)
      return line;
  return {};
}

bool alive(int pid) {
  return pid > 0 && ::kill(pid, 0) == 0;
}

} // namespace

CAF_TEST(make run serves certificates and stops on ctrl c) {
  temp_dir state;
  auto script = child_process::spawn(
    {"/bin/sh", source_path("scripts/run-local")},
    {{"ICSR_BIN_DIR", ICSR_BIN_DIR}, {"ICSR_RUN_DIR", state.path()}});
  CAF_REQUIRE(script != nullptr);
  // devcluster and the agent share the script's process group.
  kill_on_abort(script->pid());
  auto hint = script->wait_for_line("csrctl request", 60s);
  if (!hint)
    CAF_FAIL("run-local printed no csrctl command:\n"
             << script->out() << "\n"
             << script->err());
  // Wait until the agent is ready on the readiness port it printed.
  auto readiness = line_with(script->out(), "readiness http://127.0.0.1:");
  auto pos = readiness.find("127.0.0.1:");
  CAF_REQUIRE(pos != std::string::npos);
  auto port = static_cast<std::uint16_t>(
    std::atoi(readiness.c_str() + pos + std::string{"127.0.0.1:"}.size()));
  CAF_REQUIRE(port != 0);
  bool ready = wait_until(
    [&] { return !script->running() || http_status(port, "/readyz") == 200; },
    90s, 50ms);
  if (!ready || !script->running())
    CAF_FAIL("the agent did not get ready:\n"
             << script->out() << "\n"
             << script->err());
  // The printed command works as printed.
  auto argv = split_words(*hint);
  CAF_REQUIRE(!argv.empty());
  auto res = run(argv, 60s);
  CAF_CHECK_EQUAL(res.exit_code, 0);
  CAF_CHECK(res.out.find("verified to the root bundle") != std::string::npos);
  CAF_CHECK(res.out.find("spiffe://cluster.local/ns/default/sa/default")
            != std::string::npos);
  if (res.exit_code != 0)
    CAF_MESSAGE(res.out << res.err << "\n" << script->err());
  // So does kubectl with the printed kubeconfig.
  auto kubectl_line = line_with(script->out(), "kubectl --kubeconfig");
  auto kubectl = split_words(kubectl_line);
  CAF_REQUIRE(kubectl.size() > 2);
  kubectl[0] = program("kubectl");
  auto listed = run(kubectl, 60s);
  CAF_CHECK_EQUAL(listed.exit_code, 0);
  // The printed ConfigMap listing shows one in each of devcluster's
  // namespaces.
  auto cm_line
    = line_with(script->out(), "get configmap -A -l istio.io/config=true");
  auto cm_argv = split_words(cm_line);
  CAF_REQUIRE(cm_argv.size() > 2);
  // "kubectl", or tools/kubectl when `make deps` installed it there.
  CAF_REQUIRE(cm_argv[0] == "kubectl" || cm_argv[0].ends_with("/kubectl"));
  cm_argv[0] = program("kubectl");
  const std::vector<std::string> namespaces{"default",      "kube-system",
                                            "kube-public",  "kube-node-lease",
                                            "istio-system", "cert-manager"};
  bool all = wait_until(
    [&] {
      listed = run(cm_argv, 30s);
      if (listed.exit_code != 0)
        return false;
      for (const auto& ns : namespaces) {
        std::istringstream lines{listed.out};
        std::string line;
        bool found = false;
        while (!found && std::getline(lines, line)) {
          auto words = split_words(line);
          found = words.size() >= 2 && words[0] == ns
                  && words[1] == "istio-ca-root-cert";
        }
        if (!found)
          return false;
      }
      return true;
    },
    60s, 250ms);
  CAF_CHECK(all);
  if (!all)
    CAF_MESSAGE(listed.out << listed.err << "\n" << script->err());
  // Ctrl-C reaches the whole foreground process group.
  auto dc_pid = std::atoi(read_file(state.file("devcluster.pid")).c_str());
  CAF_CHECK(alive(dc_pid));
  ::kill(-script->pid(), SIGINT);
  auto status = script->wait_exit(30s);
  CAF_REQUIRE(status.has_value());
  CAF_CHECK(script->err().find("devcluster stopped") != std::string::npos);
  CAF_CHECK(wait_until([&] { return !alive(dc_pid); }, 10s));
  forget_on_abort(script->pid());
}
