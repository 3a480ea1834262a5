// The devcluster program and the in-process server: CLI, kubeconfig,
// signals.
#define CAF_SUITE devcluster.process
#include "caf/test/unit_test.hpp"

#include <csignal>
#include <sys/stat.h>
#include <thread>

#include "devcluster/crypto.hpp"
#include "devcluster/server.hpp"
#include "tests/devcluster/fixture.hpp"

using namespace istio_csr::test;

namespace {

kube_access access_from(const std::string& kubeconfig_text) {
  temp_dir dir;
  auto path = dir.write("kubeconfig", kubeconfig_text);
  kube_access a;
  auto view = run({program("kubectl"), "--kubeconfig", path, "config", "view",
                   "--raw", "--minify", "-o", "json"});
  auto cfg = json::parse(view.out, nullptr, false);
  if (cfg.is_discarded())
    return a;
  a.server = cfg["clusters"][0]["cluster"]["server"];
  a.ca_pem = *istio_csr::devcluster::base64_decode(
    cfg["clusters"][0]["cluster"]["certificate-authority-data"]
      .get<std::string>());
  a.token = cfg["users"][0]["user"]["token"];
  return a;
}

} // namespace

CAF_TEST(the program writes a kubeconfig and exits cleanly on signals) {
  for (int sig : {SIGTERM, SIGINT}) {
    temp_dir dir;
    auto kc = dir.file("kubeconfig");
    auto p = child_process::spawn(
      {bin("devcluster"), "--listen", "127.0.0.1:0", "--kubeconfig-out", kc});
    CAF_REQUIRE(p != nullptr);
    auto line = p->wait_for_line("devcluster listening on ", 30s);
    CAF_REQUIRE(line);
    CAF_CHECK(line->starts_with("devcluster listening on https://127.0.0.1:"));
    // Written before the line, private.
    struct stat st {};
    CAF_REQUIRE_EQUAL(::stat(kc.c_str(), &st), 0);
    CAF_CHECK_EQUAL(st.st_mode & 0777, 0600u);
    auto text = read_file(kc);
    CAF_CHECK(text.find("certificate-authority-data: ") != std::string::npos);
    CAF_CHECK(text.find("token: ") != std::string::npos);
    CAF_CHECK(text.find("current-context: devcluster") != std::string::npos);
    CAF_CHECK(text.find(line->substr(line->find("https://")))
              != std::string::npos);
    auto version
      = run({program("kubectl"), "--kubeconfig", kc, "version", "-o", "json"});
    CAF_CHECK_EQUAL(version.exit_code, 0);
    CAF_CHECK(version.out.find("\"serverVersion\"") != std::string::npos);
    p->signal(sig);
    CAF_CHECK_EQUAL(p->wait_exit(10s).value_or(-1), 0);
  }
}

CAF_TEST(help documents every flag) {
  auto help = run({bin("devcluster"), "--help"});
  CAF_CHECK_EQUAL(help.exit_code, 0);
  for (auto* flag :
       {"--listen", "--kubeconfig-out", "--admin-token", "--history-size",
        "--service-account-issuer", "--api-audiences",
        "--namespace-finalize-delay-ms", "--faults", "--v", "--no-bootstrap",
        "--no-issuer-controllers", "issuer"})
    CAF_CHECK(help.out.find(flag) != std::string::npos);
  auto bad = run({bin("devcluster"), "--listen", "nonsense"});
  CAF_CHECK_NOT_EQUAL(bad.exit_code, 0);
  CAF_CHECK(bad.err.find("--listen") != std::string::npos);
  auto bad_faults
    = run({bin("devcluster"), "--listen", "127.0.0.1:0", "--faults", "{"});
  CAF_CHECK_NOT_EQUAL(bad_faults.exit_code, 0);
  CAF_CHECK(bad_faults.out.find("listening") == std::string::npos);
}

CAF_TEST(the server runs in process) {
  istio_csr::devcluster::server_options opts;
  opts.admin_token = "admin-token-for-test";
  opts.bootstrap = false;
  istio_csr::devcluster::server srv{opts};
  srv.start();
  CAF_CHECK(srv.url().starts_with("https://127.0.0.1:"));
  CAF_CHECK_EQUAL(srv.admin_token(), "admin-token-for-test");
  std::thread runner{[&] { srv.run(); }};
  https_client c{access_from(srv.kubeconfig())};
  CAF_CHECK_EQUAL(c.get("/version").status, 200);
  // Right after start: the signing key may still be being generated; a
  // token request waits for it.
  c.post("/api/v1/namespaces", json{{"metadata", {{"name", "n"}}}});
  auto token = c.post("/api/v1/namespaces/n/serviceaccounts/default/token",
                      json{{"spec", json::object()}});
  CAF_CHECK_EQUAL(token.status, 201);
  // No bootstrap: only the namespace created above.
  CAF_CHECK_EQUAL(c.get("/api/v1/namespaces").json()["items"].size(), 1u);
  CAF_CHECK_EQUAL(c.with_token("wrong").get("/api/v1/namespaces").status, 401);
  srv.stop();
  runner.join();
}

CAF_TEST(the issuer subcommand is reserved) {
  temp_dir dir;
  auto kc = dir.write("kubeconfig", "apiVersion: v1\nkind: Config\n");
  auto r = run({bin("devcluster"), "issuer", "--kubeconfig", kc}, 10s);
  CAF_CHECK(r.out.find("listening") == std::string::npos);
  auto missing = run({bin("devcluster"), "issuer"}, 10s);
  CAF_CHECK_NOT_EQUAL(missing.exit_code, 0);
}
