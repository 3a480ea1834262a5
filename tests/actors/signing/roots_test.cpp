#define CAF_SUITE signing_actors.roots
#include "caf/test/unit_test.hpp"

#include "tests/actors/signing/fixture.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "caf/event_based_actor.hpp"
#include "caf/exit_reason.hpp"
#include "caf/send.hpp"

#include "actors/signing/messages.hpp"
#include "pki/issue.hpp"

using namespace istio_csr;
using namespace istio_csr::test;
using namespace istio_csr::test::signing;
namespace fs = std::filesystem;

namespace {

/// A self-signed CA certificate (PEM).
std::string other_root(const std::string& cn) {
  auto key = pki::private_key::generate_ec(256);
  CAF_REQUIRE(key);
  pki::cert_template tmpl;
  tmpl.subject.common_name = cn;
  tmpl.is_ca = true;
  tmpl.key_usage = pki::key_usage::cert_sign | pki::key_usage::crl_sign;
  auto cert = pki::self_sign(tmpl, *key);
  CAF_REQUIRE(cert);
  return cert->to_pem();
}

/// Writes `content` to `path` in place (truncate + write).
void write_in_place(const std::string& path, const std::string& content) {
  std::ofstream out{path, std::ios::binary | std::ios::trunc};
  out << content;
}

/// Records the roots a subscriber actor receives.
struct received_roots {
  std::mutex mtx;
  std::vector<std::string> pems;

  std::vector<std::string> get() {
    std::lock_guard<std::mutex> guard{mtx};
    return pems;
  }
};

caf::behavior roots_subscriber(caf::event_based_actor*,
                               std::shared_ptr<received_roots> out) {
  return {
    [out](sg::roots_changed_atom, const sg::roots_ptr& roots) {
      std::lock_guard<std::mutex> guard{out->mtx};
      out->pems.push_back(roots->pem);
    },
  };
}

struct fixture : tree_fixture {
  std::string ns = make_namespace("roots");
  std::string token = sa_token(ns, "app");
  std::string id = spiffe_id(ns, "app");
  temp_dir dir;
  std::string root_a = bootstrap_ca_pem();
  std::string root_b = other_root("root B");
  std::string root_c = other_root("root C");

  /// The tree with root-ca watching `file` (which holds root A now).
  void start_watching(const std::string& file) {
    auto s = defaults(ns);
    s.root_ca.file = file;
    s.root_ca.settle = std::chrono::milliseconds{20};
    start(s);
  }

  bool wait_roots(const std::string& pem) {
    return wait_until(
      [&] {
        auto current = setup.roots->current();
        return current && current->pem == pem;
      },
      10s, 10ms);
  }

  std::string last_element() {
    auto res = sign({workload_csr({id}), token});
    CAF_REQUIRE_EQUAL(res.code, "ok");
    return res.chain.back();
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(roots_tests, fixture)

CAF_TEST(a changed root file reaches the next response) {
  auto file = dir.write("roots.pem", root_a);
  start_watching(file);
  auto received = std::make_shared<received_roots>();
  auto sub = sys().spawn(roots_subscriber, received);
  caf::anon_send(child(sg::names::root_ca), sg::roots_subscribe_atom::value,
                 sub);
  CAF_CHECK_EQUAL(last_element(), root_a);
  // Rotation: both roots trusted for a while.
  write_in_place(file, root_a + root_b);
  CAF_REQUIRE(wait_roots(root_a + root_b));
  CAF_CHECK_EQUAL(last_element(), root_a + root_b);
  // An editor's rename over the file.
  auto tmp = dir.write("roots.pem.tmp", root_b + root_a);
  fs::rename(tmp, file);
  CAF_REQUIRE(wait_roots(root_b + root_a));
  CAF_CHECK_EQUAL(last_element(), root_b + root_a);
  // The subscriber saw the first roots and both changes, in order.
  CAF_CHECK(wait_until([&] { return received->get().size() >= 3; }, 10s));
  auto got = received->get();
  CAF_REQUIRE_GREATER_OR_EQUAL(got.size(), 3u);
  CAF_CHECK_EQUAL(got[0], root_a);
  CAF_CHECK_EQUAL(got[1], root_a + root_b);
  CAF_CHECK_EQUAL(got[2], root_b + root_a);
  caf::anon_send_exit(sub, caf::exit_reason::user_shutdown);
}

CAF_TEST(a mounted ConfigMap swaps its data symlink atomically) {
  // The kubelet's layout: root-cert.pem -> ..data/root-cert.pem,
  // ..data -> ..<timestamp>/.
  auto base = dir.path();
  fs::create_directory(base + "/..2024_01");
  write_in_place(base + "/..2024_01/root-cert.pem", root_a);
  fs::create_directory_symlink("..2024_01", base + "/..data");
  fs::create_symlink("..data/root-cert.pem", base + "/root-cert.pem");
  start_watching(base + "/root-cert.pem");
  CAF_CHECK_EQUAL(last_element(), root_a);
  auto swap = [&](const std::string& from, const std::string& to,
                  const std::string& content) {
    fs::create_directory(base + "/" + to);
    write_in_place(base + "/" + to + "/root-cert.pem", content);
    fs::create_directory_symlink(to, base + "/..data_tmp");
    fs::rename(base + "/..data_tmp", base + "/..data");
    fs::remove_all(base + "/" + from);
  };
  swap("..2024_01", "..2024_02", root_a + root_b);
  CAF_REQUIRE(wait_roots(root_a + root_b));
  CAF_CHECK_EQUAL(last_element(), root_a + root_b);
  // Again: the watch follows the new target.
  swap("..2024_02", "..2024_03", root_a + root_c);
  CAF_REQUIRE(wait_roots(root_a + root_c));
  CAF_CHECK_EQUAL(last_element(), root_a + root_c);
}

CAF_TEST(a bad root file keeps the current roots) {
  auto file = dir.write("roots.pem", root_a);
  log_capture logs;
  start_watching(file);
  write_in_place(file, "not a certificate");
  CAF_CHECK(logs.wait_for("failed to load the root CA file, keeping the "
                          "current roots"));
  auto kept = setup.roots->current();
  CAF_CHECK_EQUAL(kept->pem, root_a);
  CAF_CHECK_EQUAL(last_element(), root_a);
  fs::remove(file);
  CAF_CHECK(logs.wait_for("failed to read the root CA file"));
  kept = setup.roots->current();
  CAF_CHECK_EQUAL(kept->pem, root_a);
  // It comes back.
  write_in_place(file, root_a + root_c);
  CAF_CHECK(wait_roots(root_a + root_c));
}

CAF_TEST(the root store notifies listeners of changes only) {
  sg::root_store store;
  std::vector<std::string> seen;
  store.add_listener(
    [&](const sg::root_store::bundle_ptr& b) { seen.push_back(b->pem); });
  CAF_CHECK(seen.empty());
  auto a = sg::policy::load_root_bundle(root_a);
  CAF_REQUIRE(a);
  CAF_CHECK(store.set(*a));
  CAF_CHECK(!store.set(*a));
  CAF_REQUIRE_EQUAL(seen.size(), 1u);
  // A late listener gets the current roots at once.
  std::vector<std::string> late;
  store.add_listener(
    [&](const sg::root_store::bundle_ptr& b) { late.push_back(b->pem); });
  CAF_CHECK_EQUAL(late, std::vector<std::string>{root_a});
}

CAF_TEST_FIXTURE_SCOPE_END()
