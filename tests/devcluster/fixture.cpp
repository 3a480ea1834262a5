#include "tests/devcluster/fixture.hpp"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <openssl/ssl.h>

#include "caf/test/unit_test.hpp"
#include "tests/support/skip.hpp"

namespace istio_csr::test {

test_cluster& cluster() {
  static std::unique_ptr<test_cluster> instance = [] {
    auto c = test_cluster::start();
    if (!c) {
      std::fprintf(stderr, "cannot start the test cluster\n");
      std::abort();
    }
    return c;
  }();
  return *instance;
}

const https_client& client() {
  static https_client instance{kube_access::of(cluster())};
  return instance;
}

bool devcluster_only(const char* what) {
  if (cluster().is_devcluster())
    return true;
  ICSR_SKIP("on a real cluster: " << what << " is devcluster-only");
  return false;
}

std::string core_path(const std::string& ns, const std::string& resource,
                      const std::string& name) {
  auto p = "/api/v1/namespaces/" + ns + "/" + resource;
  return name.empty() ? p : p + "/" + name;
}

std::string group_path(const std::string& group_version, const std::string& ns,
                       const std::string& resource, const std::string& name) {
  auto p = "/apis/" + group_version + "/namespaces/" + ns + "/" + resource;
  return name.empty() ? p : p + "/" + name;
}

json config_map(const std::string& name,
                const std::map<std::string, std::string>& labels,
                const std::map<std::string, std::string>& data) {
  json meta{{"name", name}};
  if (!labels.empty())
    meta["labels"] = labels;
  json out{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", meta}};
  if (!data.empty())
    out["data"] = data;
  return out;
}

namespace {

/// Objects to delete at exit on a real cluster (devcluster just stops):
/// namespaces (with everything in them) and cluster-scoped objects.
struct namespace_cleanup {
  std::vector<std::string> paths;
  ~namespace_cleanup() {
    if (cluster().is_devcluster())
      return;
    for (auto& p : paths)
      client().del(p);
  }
};

namespace_cleanup& cleanup() {
  // Constructed after cluster() and client(), so destroyed before them; and
  // after OpenSSL registered its exit handler, so it runs before OpenSSL
  // frees itself (otherwise the last DELETEs ran on a freed library and
  // crashed the program at exit on a real cluster).
  cluster();
  client();
  OPENSSL_init_ssl(0, nullptr);
  static namespace_cleanup instance;
  return instance;
}

} // namespace

const std::string& node_name() {
  // A Node of this program's own, as on a real cluster (pod-bound tokens
  // carry its name and uid); removed at exit.
  static const std::string name = [] {
    auto n = test_cluster::unique_name("icsr-node");
    cleanup().paths.push_back("/api/v1/nodes/" + n);
    create("/api/v1/nodes", json{{"apiVersion", "v1"},
                                 {"kind", "Node"},
                                 {"metadata", {{"name", n}}}});
    return n;
  }();
  return name;
}

json pod(const std::string& name, const std::string& service_account) {
  return json{
    {"apiVersion", "v1"},
    {"kind", "Pod"},
    {"metadata", {{"name", name}}},
    {"spec",
     {{"serviceAccountName", service_account},
      {"nodeName", node_name()},
      {"terminationGracePeriodSeconds", 0},
      {"containers",
       {{{"name", "main"}, {"image", "registry.k8s.io/pause:3.10"}}}}}}};
}

json create(const std::string& path, const json& body) {
  auto r = client().post(path, body);
  if (r.status != 201)
    CAF_FAIL("creating at " << path << " answered " << r.status << ": "
                            << r.body << r.error);
  return r.json();
}

uint64_t rv_of(const json& obj) {
  try {
    return std::stoull(obj["metadata"]["resourceVersion"].get<std::string>());
  } catch (...) {
    return 0;
  }
}

bool eventually(const std::function<bool()>& pred,
                std::chrono::milliseconds timeout) {
  return wait_until(pred, timeout, std::chrono::milliseconds(50));
}

std::string fresh_namespace(const std::string& prefix) {
  auto name = test_cluster::unique_name(prefix);
  cleanup().paths.push_back("/api/v1/namespaces/" + name);
  create("/api/v1/namespaces", json{{"apiVersion", "v1"},
                                    {"kind", "Namespace"},
                                    {"metadata", {{"name", name}}}});
  if (!eventually([&] {
        return client()
                 .get(core_path(name, "serviceaccounts", "default"))
                 .status
               == 200;
      }))
    CAF_FAIL("no default ServiceAccount in " << name);
  return name;
}

} // namespace istio_csr::test
