#pragma once

#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "tests/support/process.hpp"

namespace istio_csr::test::helm {

/// Release name and namespace every rendering uses.
inline constexpr const char* release_name = "istio-csr";
inline constexpr const char* release_namespace = "cert-manager";

/// The chart under test (`helm/istio-csr`).
std::string chart_dir();

/// A values file of `tests/helm/values/`.
std::string values_file(const std::string& name);

/// Path of helm (`find_program("helm")`: $HELM, tools/helm, $PATH). Fails
/// the current test, telling to run `make deps`, when there is none: a
/// missing helm must never make these tests pass.
std::string require_helm();

/// Runs `helm args...` with its cache, config and data homes in a private
/// temp dir (never the user's).
command_result run_helm(const std::vector<std::string>& args);

/// The result of one `helm template`.
struct rendering {
  command_result result;
  /// Every non-empty document, in output order.
  std::vector<YAML::Node> objects;

  bool ok() const noexcept {
    return result.exit_code == 0;
  }

  /// The object of that kind and name (and namespace, when not empty); a
  /// null node when there is none. Fails the test if there are several.
  YAML::Node find(const std::string& kind, const std::string& name,
                  const std::string& ns = {}) const;

  /// Whether such an object exists.
  bool has(const std::string& kind, const std::string& name,
           const std::string& ns = {}) const;

  /// "Kind namespace/name" (or "Kind name") of every object, sorted.
  std::vector<std::string> ids() const;

  /// The Deployment's only container's args; fails the test if absent.
  std::vector<std::string> args() const;
};

/// Renders the chart with the given values files, then `values_yaml` (YAML
/// text, if not empty), then `extra` helm arguments. Fails the test when
/// helm succeeds but prints something that is not YAML.
rendering render(const std::vector<std::string>& files,
                 const std::string& values_yaml = {},
                 const std::vector<std::string>& extra = {});

/// Shorthand: only inline values.
inline rendering render_values(const std::string& values_yaml) {
  return render({}, values_yaml);
}

/// `helm lint --strict` with the same inputs as render(); the result.
command_result lint(const std::vector<std::string>& files,
                    const std::string& values_yaml = {});

/// The scalars of a sequence node, as strings (empty if not a sequence).
std::vector<std::string> strings(const YAML::Node& seq);

/// A scalar as a string; "<absent>" when the node is missing or null.
std::string str(const YAML::Node& node);

/// Checks that `got` equals `want` item by item: reports each differing
/// index with both values, and the sizes. Returns whether they are equal.
bool check_same_list(const std::vector<std::string>& got,
                     const std::vector<std::string>& want,
                     const std::string& what);

/// The upstream default container args (docs/upstream.md §8.2) for release
/// namespace `cert-manager`; tests edit copies of it.
std::vector<std::string> default_args();

} // namespace istio_csr::test::helm
