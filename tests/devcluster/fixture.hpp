#pragma once

// Shared by devcluster's test suites: one cluster per test program (each
// suite runs in its own process), a raw HTTPS client and helpers.

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "caf/test/unit_test.hpp"

#include "tests/devcluster/https_client.hpp"
#include "tests/support/test_cluster.hpp"

// CAF 0.17's CAF_CHECK_EQUAL & co. bind their operands with `auto&&`, so
// `CAF_CHECK_EQUAL(r.json()["kind"], ...)` compares a reference into a
// destroyed temporary. These tests compare JSON taken from temporaries all
// the time: copy the operands instead (same output, same semantics).
#undef CAF_CHECK_FUNC
#define CAF_CHECK_FUNC(func, x_expr, y_expr)                                   \
  do {                                                                         \
    func comparator;                                                           \
    auto x_val___ = x_expr;                                                    \
    auto y_val___ = y_expr;                                                    \
    static_cast<void>(::caf::test::detail::check(                              \
      ::caf::test::engine::current_test(), __FILE__, __LINE__,                 \
      CAF_FUNC_EXPR(func, x_expr, y_expr), false,                              \
      comparator(x_val___, y_val___), x_val___, y_val___));                    \
    ::caf::test::engine::last_check_file(__FILE__);                            \
    ::caf::test::engine::last_check_line(__LINE__);                            \
  } while (false)
#undef CAF_REQUIRE_FUNC
#define CAF_REQUIRE_FUNC(func, x_expr, y_expr)                                 \
  do {                                                                         \
    func comparator;                                                           \
    auto x_val___ = x_expr;                                                    \
    auto y_val___ = y_expr;                                                    \
    auto CAF_UNIQUE(__result) = ::caf::test::detail::check(                    \
      ::caf::test::engine::current_test(), __FILE__, __LINE__,                 \
      CAF_FUNC_EXPR(func, x_expr, y_expr), false,                              \
      comparator(x_val___, y_val___), x_val___, y_val___);                     \
    if (!CAF_UNIQUE(__result))                                                 \
      ::caf::test::detail::requirement_failed(                                 \
        CAF_FUNC_EXPR(func, x_expr, y_expr));                                  \
    ::caf::test::engine::last_check_file(__FILE__);                            \
    ::caf::test::engine::last_check_line(__LINE__);                            \
  } while (false)

namespace istio_csr::test {

using json = nlohmann::json;

/// The cluster of this test program (devcluster, or the real cluster of
/// ISTIO_CSR_TEST_KUBECONFIG), started on first use.
test_cluster& cluster();

/// An admin client for `cluster()`.
const https_client& client();

/// True on devcluster; otherwise prints why the calling test is skipped.
bool devcluster_only(const char* what);

/// Creates a namespace with a unique name and waits for its `default`
/// ServiceAccount (created asynchronously on a real cluster). On a real
/// cluster, the namespace is deleted when the test program exits.
std::string fresh_namespace(const std::string& prefix);

/// "/api/v1/namespaces/NS/RESOURCE[/NAME]".
std::string core_path(const std::string& ns, const std::string& resource,
                      const std::string& name = {});

/// "/apis/GROUP_VERSION/namespaces/NS/RESOURCE[/NAME]".
std::string group_path(const std::string& group_version, const std::string& ns,
                       const std::string& resource,
                       const std::string& name = {});

/// A ConfigMap body.
json config_map(const std::string& name,
                const std::map<std::string, std::string>& labels = {},
                const std::map<std::string, std::string>& data = {});

/// A Pod body with one container; on a real cluster, bound to a node.
json pod(const std::string& name,
         const std::string& service_account = "default");

/// The node pods are bound to: a Node object this program creates (on a
/// real cluster, deleted at exit).
const std::string& node_name();

/// Creates `body` at `path` and returns the created object (fails the
/// test unless the answer is 201).
json create(const std::string& path, const json& body);

/// `metadata.resourceVersion` as a number.
uint64_t rv_of(const json& obj);

/// Polls `pred` every 50 ms for up to `timeout`.
bool eventually(const std::function<bool()>& pred,
                std::chrono::milliseconds timeout = std::chrono::seconds(60));

} // namespace istio_csr::test
