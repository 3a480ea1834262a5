#include "tests/helm/helm_chart.hpp"

#include <algorithm>
#include <sstream>

#include "caf/test/unit_test.hpp"

namespace istio_csr::test::helm {

namespace {

/// Private HELM_*_HOME for the whole test program.
const temp_dir& helm_home() {
  static temp_dir dir;
  return dir;
}

std::string meta(const YAML::Node& obj, const char* key) {
  auto m = obj["metadata"];
  if (!m || !m[key])
    return {};
  return m[key].as<std::string>();
}

std::vector<std::string> input_args(const std::vector<std::string>& files,
                                    const std::string& values_yaml,
                                    const temp_dir& dir) {
  std::vector<std::string> args;
  for (const auto& f : files) {
    args.emplace_back("-f");
    args.push_back(f);
  }
  if (!values_yaml.empty()) {
    args.emplace_back("-f");
    args.push_back(dir.write("values.yaml", values_yaml));
  }
  return args;
}

} // namespace

std::string chart_dir() {
  return source_path("helm/istio-csr");
}

std::string values_file(const std::string& name) {
  return source_path("tests/helm/values/" + name);
}

std::string require_helm() {
  auto path = find_program("helm");
  if (path.empty())
    CAF_FAIL("helm not found ($HELM, " << source_path("tools/helm")
                                       << ", $PATH): run 'make deps' first");
  return path;
}

command_result run_helm(const std::vector<std::string>& args) {
  std::vector<std::string> argv{require_helm()};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto& home = helm_home();
  return run(argv, 60s, {},
             {{"HELM_CACHE_HOME", home.file("cache")},
              {"HELM_CONFIG_HOME", home.file("config")},
              {"HELM_DATA_HOME", home.file("data")},
              {"HELM_NAMESPACE", release_namespace},
              {"KUBECONFIG", home.file("no-kubeconfig")}});
}

rendering render(const std::vector<std::string>& files,
                 const std::string& values_yaml,
                 const std::vector<std::string>& extra) {
  temp_dir dir;
  std::vector<std::string> args{"template", release_name, chart_dir(),
                                "--namespace", release_namespace};
  auto in = input_args(files, values_yaml, dir);
  args.insert(args.end(), in.begin(), in.end());
  args.insert(args.end(), extra.begin(), extra.end());
  rendering r;
  r.result = run_helm(args);
  if (!r.ok())
    return r;
  try {
    for (auto& doc : YAML::LoadAll(r.result.out))
      if (doc && !doc.IsNull())
        r.objects.push_back(doc);
  } catch (const YAML::Exception& e) {
    CAF_FAIL("helm template printed invalid YAML: " << e.what() << "\n"
                                                    << r.result.out);
  }
  return r;
}

command_result lint(const std::vector<std::string>& files,
                    const std::string& values_yaml) {
  temp_dir dir;
  std::vector<std::string> args{"lint", "--strict", chart_dir(), "--namespace",
                                release_namespace};
  auto in = input_args(files, values_yaml, dir);
  args.insert(args.end(), in.begin(), in.end());
  return run_helm(args);
}

YAML::Node rendering::find(const std::string& kind, const std::string& name,
                           const std::string& ns) const {
  // Not `YAML::Node{}`: a default node is a defined null and converts to
  // true, so "absent" would look present.
  const YAML::Node* found = nullptr;
  int matches = 0;
  for (const auto& obj : objects) {
    if (str(obj["kind"]) != kind || meta(obj, "name") != name)
      continue;
    if (!ns.empty() && meta(obj, "namespace") != ns)
      continue;
    found = &obj;
    ++matches;
  }
  if (matches > 1)
    CAF_FAIL(matches << " objects " << kind << " " << name);
  return found ? *found : YAML::Node{YAML::NodeType::Undefined};
}

bool rendering::has(const std::string& kind, const std::string& name,
                    const std::string& ns) const {
  return static_cast<bool>(find(kind, name, ns));
}

std::vector<std::string> rendering::ids() const {
  std::vector<std::string> xs;
  for (const auto& obj : objects) {
    auto ns = meta(obj, "namespace");
    xs.push_back(str(obj["kind"]) + " " + (ns.empty() ? "" : ns + "/")
                 + meta(obj, "name"));
  }
  std::sort(xs.begin(), xs.end());
  return xs;
}

std::vector<std::string> rendering::args() const {
  const YAML::Node* deployment = nullptr;
  int deployments = 0;
  for (const auto& obj : objects)
    if (str(obj["kind"]) == "Deployment") {
      deployment = &obj;
      ++deployments;
    }
  if (deployments != 1)
    CAF_FAIL("expected one Deployment, got " << deployments);
  auto containers = (*deployment)["spec"]["template"]["spec"]["containers"];
  if (!containers.IsSequence() || containers.size() != 1)
    CAF_FAIL("expected one container in the Deployment");
  if (!containers[0]["args"].IsSequence())
    CAF_FAIL("the container has no args list");
  return strings(containers[0]["args"]);
}

std::vector<std::string> strings(const YAML::Node& seq) {
  std::vector<std::string> xs;
  if (!seq || !seq.IsSequence())
    return xs;
  for (const auto& x : seq)
    xs.push_back(x.as<std::string>());
  return xs;
}

std::string str(const YAML::Node& node) {
  if (!node || node.IsNull())
    return "<absent>";
  if (!node.IsScalar()) {
    std::ostringstream os;
    os << node;
    return os.str();
  }
  return node.as<std::string>();
}

bool check_same_list(const std::vector<std::string>& got,
                     const std::vector<std::string>& want,
                     const std::string& what) {
  bool same = true;
  auto n = std::max(got.size(), want.size());
  for (size_t i = 0; i < n; ++i) {
    auto g = i < got.size() ? got[i] : std::string{"<none>"};
    auto w = i < want.size() ? want[i] : std::string{"<none>"};
    if (g != w) {
      CAF_ERROR(what << "[" << i << "]: got '" << g << "', want '" << w << "'");
      same = false;
    }
  }
  CAF_CHECK_EQUAL(got.size(), want.size());
  CAF_CHECK(same);
  return same;
}

std::vector<std::string> default_args() {
  return {
    "--log-level=1",
    "--log-format=text",
    "--metrics-port=9402",
    "--readiness-probe-port=6060",
    "--readiness-probe-path=/readyz",
    "--certificate-namespace=istio-system",
    "--issuer-enabled=true",
    "--issuer-name=istio-ca",
    "--issuer-kind=Issuer",
    "--issuer-group=cert-manager.io",
    "--preserve-certificate-requests=false",
    "--root-ca-file=",
    "--serving-certificate-dns-names=cert-manager-istio-csr.cert-manager.svc",
    "--serving-certificate-duration=1h",
    "--trust-domain=cluster.local",
    "--cluster-id=Kubernetes",
    "--max-client-certificate-duration=1h",
    "--serving-address=0.0.0.0:6443",
    "--serving-certificate-key-size=2048",
    "--serving-signature-algorithm=RSA",
    "--enable-client-cert-authenticator=false",
    "--leader-election-namespace=istio-system",
    "--disable-kubernetes-client-rate-limiter=false",
    "--runtime-issuance-config-map-name=",
    "--runtime-issuance-config-map-namespace=cert-manager",
    "--istiod-cert-enabled=false",
    "--istiod-cert-name=istiod-dynamic",
    "--istiod-cert-namespace=istio-system",
    "--istiod-cert-duration=1h",
    "--istiod-cert-renew-before=30m",
    "--istiod-cert-key-algorithm=RSA",
    "--istiod-cert-key-size=2048",
    "--istiod-cert-additional-dns-names=",
    "--istiod-cert-istio-revisions=default",
  };
}

} // namespace istio_csr::test::helm
