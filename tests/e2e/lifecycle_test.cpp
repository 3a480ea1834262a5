// The agent's life around the signing path: CertificateRequests are cleaned
// up, a rewritten --root-ca-file reaches the next response, SIGTERM stops
// the agent. Each test starts its own cluster and agent.

#define CAF_SUITE e2e.lifecycle

#include "tests/e2e/fixture.hpp"

#include <cstdio>
#include <filesystem>
#include <signal.h>
#include <unistd.h>

#include "errors/describe.hpp"
#include "pki/verify.hpp"

using namespace istio_csr;
using namespace istio_csr::test;
using namespace istio_csr::test::e2e;

namespace {

/// Whether some CertificateRequest carries the identities annotation `value`.
bool has_request_for(const test_cluster& cluster, const std::string& value) {
  for (auto& cr : certificate_requests(cluster)) {
    auto annotations = cr.at("metadata").value("annotations", json::object());
    if (annotations.value(identities_annotation, "") == value)
      return true;
  }
  return false;
}

/// Replaces `path` the way a Kubernetes volume does: write a new file next to
/// it and rename it over the old one.
void atomic_replace(const std::string& path, const std::string& content) {
  auto tmp = path + ".new";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  CAF_REQUIRE(f != nullptr);
  CAF_REQUIRE(std::fwrite(content.data(), 1, content.size(), f)
              == content.size());
  CAF_REQUIRE(std::fclose(f) == 0);
  std::filesystem::rename(tmp, path);
}

/// Writes `content` into the existing file `path` (truncate and write).
void rewrite_in_place(const std::string& path, const std::string& content) {
  std::FILE* f = std::fopen(path.c_str(), "r+b");
  CAF_REQUIRE(f != nullptr);
  CAF_REQUIRE(std::fwrite(content.data(), 1, content.size(), f)
              == content.size());
  CAF_REQUIRE(std::fflush(f) == 0);
  CAF_REQUIRE(::ftruncate(fileno(f), static_cast<off_t>(content.size())) == 0);
  CAF_REQUIRE(std::fclose(f) == 0);
}

} // namespace

CAF_TEST(certificate requests are deleted after signing) {
  auto env = environment::start(agent_settings{});
  env->require();
  // The serving certificate's request is gone once the agent is ready (on
  // devcluster: a real cluster may run other agents)...
  if (env->cluster->is_devcluster())
    CAF_CHECK(wait_until(
      [&] { return !has_request_for(*env->cluster, "istio-csr-serving"); }, 20s,
      100ms));
  // ...and so is a workload's, after the answer.
  auto csr = make_csr(env->identity);
  auto res = env->call(csr.pem);
  CAF_REQUIRE(res.ok());
  CAF_CHECK(wait_until(
    [&] { return !find_request(*env->cluster, csr.pem).has_value(); }, 20s,
    100ms));
  // A call that fails before signing leaves nothing behind either.
  call_options bad;
  bad.token = "not-a-token";
  auto rejected = env->call(make_csr(env->identity).pem, bad);
  CAF_CHECK_EQUAL(rejected.code, 16);
  CAF_CHECK(!has_request_for(*env->cluster, env->identity));
}

CAF_TEST(a rewritten root file reaches the next response) {
  auto extra = make_root("e2e extra root");
  std::string root_file;
  agent_settings settings;
  auto env = environment::start(settings, [&](environment& e) {
    std::string err;
    auto root = issuer_root(*e.cluster, e.settings.issuer_name, err);
    if (root.empty())
      return err;
    root_file = e.dir->write("roots.pem", root);
    e.settings.root_ca_file = root_file;
    e.root_pem = root;
    return std::string{};
  });
  env->require();
  auto issuer_root_pem = env->root_pem;
  // The response ends with the file's bytes.
  auto first = env->call(make_csr(env->identity).pem);
  CAF_REQUIRE(first.ok());
  CAF_CHECK_EQUAL(first.chain.back(), issuer_root_pem);
  // Rewritten in place (inotify Write): a bundle of two roots.
  auto two_roots = issuer_root_pem + extra.cert.to_pem();
  rewrite_in_place(root_file, two_roots);
  call_result latest;
  bool rotated = wait_until(
    [&] {
      latest = env->call(make_csr(env->identity).pem);
      return latest.ok() && latest.chain.back() == two_roots;
    },
    30s, 100ms);
  CAF_CHECK(rotated);
  if (!rotated)
    CAF_MESSAGE("last answer: " << latest.describe() << "\n"
                                << env->csr_agent->log_tail());
  // The whole bundle is one final element and the chain still verifies.
  if (rotated) {
    auto chain = parse_response(latest.chain);
    CAF_CHECK_EQUAL(chain.roots.size(), 2u);
    auto err = pki::verify_chain(chain.leaf, chain.intermediates, chain.roots,
                                 pki::verify_purpose::client_auth);
    auto err_text = errors::message(err);
    CAF_CHECK_EQUAL(err_text, "");
  }
  // Replaced by rename, as a ConfigMap volume does (inotify Remove): the
  // extra root first this time.
  auto swapped = extra.cert.to_pem() + issuer_root_pem;
  atomic_replace(root_file, swapped);
  rotated = wait_until(
    [&] {
      latest = env->call(make_csr(env->identity).pem);
      return latest.ok() && latest.chain.back() == swapped;
    },
    30s, 100ms);
  CAF_CHECK(rotated);
  // A broken file keeps the old roots.
  atomic_replace(root_file, "not a certificate\n");
  auto after_broken = env->call(make_csr(env->identity).pem);
  CAF_CHECK(after_broken.ok());
  if (after_broken.ok())
    CAF_CHECK_EQUAL(after_broken.chain.back(), swapped);
  // And it keeps watching after that.
  atomic_replace(root_file, issuer_root_pem);
  rotated = wait_until(
    [&] {
      latest = env->call(make_csr(env->identity).pem);
      return latest.ok() && latest.chain.back() == issuer_root_pem;
    },
    30s, 100ms);
  CAF_CHECK(rotated);
}

CAF_TEST(sigterm stops the agent) {
  auto env = environment::start(agent_settings{});
  env->require();
  auto& proc = env->csr_agent->process();
  proc.signal(SIGTERM);
  auto status = proc.wait_exit(30s);
  CAF_REQUIRE(status.has_value());
  CAF_CHECK_EQUAL(*status, 0);
  // Nothing listens any more.
  auto res = env->call(make_csr(env->identity).pem, [] {
    call_options o;
    o.timeout = 5s;
    return o;
  }());
  CAF_CHECK_EQUAL(res.code, 14); // UNAVAILABLE
}
