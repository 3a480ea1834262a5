#define CAF_SUITE kube.kubeconfig
#include "caf/test/unit_test.hpp"

#include <filesystem>

#include "errors/describe.hpp"
#include "kube/api/base64.hpp"
#include "kube/api/errc.hpp"
#include "kube/api/validation.hpp"
#include "kube/client/config.hpp"
#include "kube/client/kubeconfig.hpp"
#include "tests/support/process.hpp"

using namespace istio_csr;
using namespace istio_csr::kube;
using istio_csr::test::temp_dir;

namespace {

/// An environment with only the given variables and a service-account
/// directory that does not exist unless a test creates it.
struct fake_env {
  std::map<std::string, std::string> vars;
  std::string sa_dir = "/nonexistent/serviceaccount";

  config_environment get() const {
    config_environment env;
    auto copy = vars;
    env.getenv = [copy](const std::string& name) -> std::optional<std::string> {
      auto i = copy.find(name);
      if (i == copy.end())
        return std::nullopt;
      return i->second;
    };
    env.service_account_dir = sa_dir;
    return env;
  }
};

std::string expect_error(const caf::expected<client_config>& res) {
  if (res) {
    CAF_FAIL("expected an error, got a config for " << res->server);
  }
  CAF_CHECK(is(res.error(), errc::config_error));
  return errors::message(res.error());
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

const char* basic_config = R"(apiVersion: v1
kind: Config
clusters:
- name: c1
  cluster:
    server: https://10.0.0.1:6443
    certificate-authority-data: Q0EgUEVN
    tls-server-name: kube.internal
- name: c2
  cluster:
    server: https://c2.example:443
    certificate-authority: certs/ca.pem
contexts:
- name: ctx1
  context:
    cluster: c1
    user: u1
    namespace: team-a
- name: ctx2
  context:
    cluster: c2
    user: u2
current-context: ctx1
users:
- name: u1
  user:
    token: static-token
    as: admin
    as-groups: [g1, g2]
- name: u2
  user:
    client-certificate: certs/client.pem
    client-key: certs/client-key.pem
    tokenFile: token
)";

} // namespace

CAF_TEST(current context with inline data) {
  temp_dir dir;
  auto path = dir.write("config", basic_config);
  config::kube_client_flags flags;
  flags.kubeconfig = path;
  flags.qps = 7;
  flags.burst = 9;
  flags.request_timeout = std::chrono::milliseconds{1500};
  auto cfg = load_config(flags, fake_env{}.get());
  CAF_REQUIRE(cfg);
  CAF_CHECK_EQUAL(cfg->server, "https://10.0.0.1:6443");
  CAF_CHECK_EQUAL(cfg->ca_pem, "CA PEM");
  CAF_CHECK_EQUAL(cfg->tls_server_name, "kube.internal");
  CAF_CHECK_EQUAL(cfg->token, "static-token");
  CAF_CHECK_EQUAL(cfg->namespace_, "team-a");
  CAF_CHECK_EQUAL(cfg->impersonate_user, "admin");
  CAF_CHECK_EQUAL(cfg->impersonate_groups,
                  (std::vector<std::string>{"g1", "g2"}));
  CAF_CHECK_EQUAL(cfg->qps, 7.0);
  CAF_CHECK_EQUAL(cfg->burst, 9);
  CAF_CHECK_EQUAL(cfg->request_timeout.count(), 1500);
  CAF_CHECK(contains(cfg->source, path));
  CAF_CHECK(contains(cfg->source, "context ctx1"));
  CAF_CHECK(!contains(cfg->source, "static-token"));
}

CAF_TEST(relative paths resolve against the kubeconfig directory) {
  temp_dir dir;
  std::filesystem::create_directories(dir.file("certs"));
  dir.write("certs/ca.pem", "CA2");
  dir.write("certs/client.pem", "CERT");
  dir.write("certs/client-key.pem", "KEY");
  dir.write("token", "file-token\n");
  auto path = dir.write("config", basic_config);
  config::kube_client_flags flags;
  flags.kubeconfig = path;
  flags.context = "ctx2";
  // Run from another directory: resolution must not depend on the cwd.
  auto cfg = load_config(flags, fake_env{}.get());
  CAF_REQUIRE(cfg);
  CAF_CHECK_EQUAL(cfg->server, "https://c2.example:443");
  CAF_CHECK_EQUAL(cfg->ca_pem, "CA2");
  CAF_CHECK_EQUAL(cfg->client_cert_pem, "CERT");
  CAF_CHECK_EQUAL(cfg->client_key_pem, "KEY");
  CAF_CHECK_EQUAL(cfg->token_file, dir.file("token"));
  CAF_CHECK_EQUAL(cfg->namespace_, "");
}

CAF_TEST(a missing referenced file names the field and the file) {
  temp_dir dir;
  auto path = dir.write("config", basic_config);
  config::kube_client_flags flags;
  flags.kubeconfig = path;
  flags.context = "ctx2";
  auto msg = expect_error(load_config(flags, fake_env{}.get()));
  CAF_CHECK(contains(msg, "kubeconfig " + path
                            + ": clusters[1].cluster.certificate-authority: "
                              "cannot read "
                            + dir.file("certs/ca.pem")));
}

CAF_TEST(invalid base64 names the file and the field) {
  temp_dir dir;
  auto path = dir.write("config", R"(clusters:
- name: c
  cluster:
    server: https://x
users:
- name: u
  user:
    client-key-data: "not*base64"
)");
  config::kube_client_flags flags;
  flags.kubeconfig = path;
  auto msg = expect_error(load_config(flags, fake_env{}.get()));
  CAF_CHECK_EQUAL(msg, "kubeconfig " + path
                         + ": users[0].user.client-key-data: invalid base64");
}

CAF_TEST(structural errors are precise) {
  temp_dir dir;
  config::kube_client_flags flags;
  auto check = [&](const std::string& yaml, const std::string& expected) {
    auto path = dir.write("config", yaml);
    flags.kubeconfig = path;
    auto msg = expect_error(load_config(flags, fake_env{}.get()));
    if (!contains(msg, expected))
      CAF_FAIL("message '" << msg << "' lacks '" << expected << "'");
  };
  check("clusters: {a: b}\n", ": clusters: expected a list");
  check("clusters:\n- cluster: {server: x}\n", ": clusters[0].name: missing");
  check(
    "clusters:\n- name: c\n  cluster:\n    insecure-skip-tls-verify: maybe\n",
    ": clusters[0].cluster.insecure-skip-tls-verify: expected true or false");
  check("users:\n- name: u\n  user:\n    as-groups: g\n",
        ": users[0].user.as-groups: expected a list of strings");
  check("clusters: [\n", ": line ");
  check("current-context: nope\ncontexts: []\n",
        "context \"nope\" does not exist");
  check("contexts:\n- name: a\n  context: {cluster: c, user: u}\n"
        "current-context: a\n",
        "cluster \"c\" does not exist");
  check("clusters:\n- name: c\n  cluster: {server: https://x}\n"
        "contexts:\n- name: a\n  context: {cluster: c, user: u}\n"
        "current-context: a\n",
        "user \"u\" does not exist");
  check("clusters:\n- name: c\n  cluster: {}\n"
        "contexts:\n- name: a\n  context: {cluster: c}\n"
        "current-context: a\n",
        ": clusters[0].cluster.server: missing");
  check("clusters:\n- name: c\n  cluster: {server: https://x}\n"
        "contexts:\n- name: a\n  context: {cluster: c, user: u}\n"
        "users:\n- name: u\n  user:\n    exec: {command: aws}\n"
        "current-context: a\n",
        ": users[0].user.exec: exec credential plugins are not supported");
  check("clusters:\n- name: c\n  cluster: {server: https://x}\n"
        "contexts:\n- name: a\n  context: {cluster: c, user: u}\n"
        "users:\n- name: u\n  user: {tokenFile: /nonexistent/tok}\n"
        "current-context: a\n",
        ": users[0].user.tokenFile: cannot read /nonexistent/tok");
  check("clusters:\n- name: c\n  cluster: {server: https://x}\n"
        "contexts:\n- name: a\n  context: {cluster: c, user: u}\n"
        "users:\n- name: u\n  user: {client-certificate-data: Q0VSVA==}\n"
        "current-context: a\n",
        "a client certificate needs a client key");
}

CAF_TEST(a missing explicit kubeconfig is an error) {
  config::kube_client_flags flags;
  flags.kubeconfig = "/nonexistent/kubeconfig";
  auto msg = expect_error(load_config(flags, fake_env{}.get()));
  CAF_CHECK(contains(msg, "kubeconfig /nonexistent/kubeconfig: cannot read"));
}

CAF_TEST(KUBECONFIG merges like kubectl and the first definition wins) {
  temp_dir dir;
  auto a = dir.write("a", R"(clusters:
- name: shared
  cluster: {server: "https://from-a:1"}
users:
- name: ua
  user: {token: ta}
contexts:
- name: ca
  context: {cluster: shared, user: ua}
)");
  auto b = dir.write("b", R"(clusters:
- name: shared
  cluster: {server: "https://from-b:2"}
- name: only-b
  cluster: {server: "https://only-b:3"}
users:
- name: ub
  user: {token: tb}
contexts:
- name: cb
  context: {cluster: only-b, user: ub}
current-context: ca
)");
  fake_env env;
  env.vars["KUBECONFIG"] = a + "::/nonexistent/c:" + b;
  config::kube_client_flags flags;
  auto cfg = load_config(flags, env.get());
  CAF_REQUIRE(cfg);
  // current-context comes from b (a has none); cluster "shared" from a.
  CAF_CHECK_EQUAL(cfg->server, "https://from-a:1");
  CAF_CHECK_EQUAL(cfg->token, "ta");
  flags.context = "cb";
  cfg = load_config(flags, env.get());
  CAF_REQUIRE(cfg);
  CAF_CHECK_EQUAL(cfg->server, "https://only-b:3");
  CAF_CHECK_EQUAL(cfg->token, "tb");
  // --cluster and --user override the context's choice.
  flags.cluster = "shared";
  flags.user = "ua";
  cfg = load_config(flags, env.get());
  CAF_REQUIRE(cfg);
  CAF_CHECK_EQUAL(cfg->server, "https://from-a:1");
  CAF_CHECK_EQUAL(cfg->token, "ta");
}

CAF_TEST(HOME kube config is the default) {
  temp_dir dir;
  std::filesystem::create_directories(dir.file(".kube"));
  dir.write(".kube/config", basic_config);
  fake_env env;
  env.vars["HOME"] = dir.path();
  auto cfg = load_config({}, env.get());
  CAF_REQUIRE(cfg);
  CAF_CHECK_EQUAL(cfg->server, "https://10.0.0.1:6443");
}

CAF_TEST(command line overrides) {
  temp_dir dir;
  auto path = dir.write("config", basic_config);
  auto ca = dir.write("ca-override.pem", "CA OVERRIDE");
  auto cert = dir.write("c.pem", "C");
  auto key = dir.write("k.pem", "K");
  config::kube_client_flags flags;
  flags.kubeconfig = path;
  flags.server = "https://override:1234";
  flags.certificate_authority = ca;
  flags.tls_server_name = "sni.example";
  flags.token = "flag-token";
  flags.client_certificate = cert;
  flags.client_key = key;
  flags.as = "someone";
  flags.as_uid = "uid-1";
  flags.as_group = {"x"};
  flags.as_user_extra = {"scopes=a", "scopes=b"};
  auto cfg = load_config(flags, fake_env{}.get());
  CAF_REQUIRE(cfg);
  CAF_CHECK_EQUAL(cfg->server, "https://override:1234");
  CAF_CHECK_EQUAL(cfg->ca_pem, "CA OVERRIDE");
  CAF_CHECK_EQUAL(cfg->tls_server_name, "sni.example");
  CAF_CHECK_EQUAL(cfg->token, "flag-token");
  CAF_CHECK_EQUAL(cfg->client_cert_pem, "C");
  CAF_CHECK_EQUAL(cfg->client_key_pem, "K");
  CAF_CHECK_EQUAL(cfg->impersonate_user, "someone");
  CAF_CHECK_EQUAL(cfg->impersonate_uid, "uid-1");
  CAF_CHECK_EQUAL(cfg->impersonate_groups, std::vector<std::string>{"x"});
  CAF_CHECK_EQUAL(cfg->impersonate_extra.at("scopes"),
                  (std::vector<std::string>{"a", "b"}));
  // --insecure-skip-tls-verify drops the configured CA.
  flags.certificate_authority.clear();
  flags.insecure_skip_tls_verify = true;
  cfg = load_config(flags, fake_env{}.get());
  CAF_REQUIRE(cfg);
  CAF_CHECK(cfg->insecure_skip_tls_verify);
  CAF_CHECK(cfg->ca_pem.empty());
  // --server alone (no kubeconfig anywhere) is enough.
  config::kube_client_flags only_server;
  only_server.server = "https://1.2.3.4:6443";
  only_server.token = "t";
  cfg = load_config(only_server, fake_env{}.get());
  CAF_REQUIRE(cfg);
  CAF_CHECK_EQUAL(cfg->server, "https://1.2.3.4:6443");
  CAF_CHECK_EQUAL(cfg->token, "t");
}

CAF_TEST(nothing configured outside a cluster is a clear error) {
  fake_env env;
  env.vars["HOME"] = "/nonexistent-home";
  auto msg = expect_error(load_config({}, env.get()));
  CAF_CHECK(contains(msg, "no Kubernetes configuration"));
  CAF_CHECK(contains(msg, "KUBERNETES_SERVICE_HOST"));
  CAF_CHECK(contains(msg, "/nonexistent-home/.kube/config"));
}

CAF_TEST(in cluster configuration) {
  temp_dir dir;
  dir.write("token", "sa-token\n");
  dir.write("ca.crt", "CLUSTER CA");
  dir.write("namespace", "istio-system\n");
  fake_env env;
  env.sa_dir = dir.path();
  env.vars["KUBERNETES_SERVICE_HOST"] = "10.96.0.1";
  env.vars["KUBERNETES_SERVICE_PORT"] = "443";
  auto cfg = load_config({}, env.get());
  CAF_REQUIRE(cfg);
  CAF_CHECK_EQUAL(cfg->server, "https://10.96.0.1:443");
  CAF_CHECK_EQUAL(cfg->token_file, dir.file("token"));
  CAF_CHECK(cfg->token.empty());
  CAF_CHECK_EQUAL(cfg->ca_pem, "CLUSTER CA");
  CAF_CHECK_EQUAL(cfg->namespace_, "istio-system");
  CAF_CHECK_EQUAL(cfg->source, "in-cluster");
  // IPv6 service host.
  env.vars["KUBERNETES_SERVICE_HOST"] = "fd00::1";
  cfg = in_cluster_config(env.get());
  CAF_REQUIRE(cfg);
  CAF_CHECK_EQUAL(cfg->server, "https://[fd00::1]:443");
  // --token replaces the token file.
  config::kube_client_flags flags;
  flags.token = "override";
  cfg = load_config(flags, env.get());
  CAF_REQUIRE(cfg);
  CAF_CHECK_EQUAL(cfg->token, "override");
  CAF_CHECK(cfg->token_file.empty());
}

CAF_TEST(in cluster without the token is a clear error) {
  temp_dir dir;
  dir.write("ca.crt", "CLUSTER CA");
  fake_env env;
  env.sa_dir = dir.path();
  env.vars["KUBERNETES_SERVICE_HOST"] = "10.96.0.1";
  env.vars["KUBERNETES_SERVICE_PORT"] = "443";
  auto msg = expect_error(load_config({}, env.get()));
  CAF_CHECK(contains(msg, "cannot read the service-account token "
                            + dir.file("token")));
  dir.write("token", "t");
  std::filesystem::remove(dir.file("ca.crt"));
  msg = expect_error(in_cluster_config(env.get()));
  CAF_CHECK(contains(msg, "cannot read the CA " + dir.file("ca.crt")));
  env.vars.erase("KUBERNETES_SERVICE_PORT");
  msg = expect_error(in_cluster_config(env.get()));
  CAF_CHECK(contains(msg, "KUBERNETES_SERVICE_PORT"));
}
