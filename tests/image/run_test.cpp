// The image runs the way a pod runs it (see image.hpp's neighbour
// CMakeLists.txt and docs/image.md): umoci unpack of the archive `make image`
// writes, the entrypoint as uid 65532 on a read-only root (bwrap), the
// chart's default args, a service account's in-cluster configuration,
// against devcluster; /readyz answers and the image's csrctl gets a chain.

#define CAF_SUITE image.run

#include "tests/image/image.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "tests/helm/helm_chart.hpp"
#include "tests/support/test_cluster.hpp"
#include "tests/support/skip.hpp"

using namespace istio_csr::test;
using namespace istio_csr::test::image;
using json = nlohmann::json;

namespace {

/// Why the test cannot run here ("" when it can).
std::string missing_tools() {
  for (auto name : {"umoci", "bwrap"})
    if (find_program(name).empty())
      return std::string{name}
             + " not found: the image test needs umoci and bwrap (run 'make "
               "image' once to install them)";
  return {};
}

/// `bwrap` as a pod's container: its own user (uid and gid 65532), pid, ipc
/// and uts namespaces, the unpacked root read-only, `binds` (host path,
/// image path) read-only on top, /proc and a minimal /dev, only the image's
/// environment plus `env`, then `argv`. The network is the host's (devcluster
/// and the test's clients are on loopback).
std::vector<std::string>
sandbox(const std::string& rootfs,
        const std::vector<std::pair<std::string, std::string>>& binds,
        const std::vector<std::string>& image_env,
        const std::vector<std::pair<std::string, std::string>>& env,
        const std::vector<std::string>& argv) {
  std::vector<std::string> cmd{program("bwrap"),
                               "--unshare-user",
                               "--uid",
                               "65532",
                               "--gid",
                               "65532",
                               "--unshare-pid",
                               "--unshare-ipc",
                               "--unshare-uts",
                               "--hostname",
                               "istio-csr-image-test",
                               "--die-with-parent",
                               "--ro-bind",
                               rootfs,
                               "/"};
  for (auto& [from, to] : binds) {
    cmd.insert(cmd.end(), {"--ro-bind", from, to});
  }
  cmd.insert(cmd.end(), {"--proc", "/proc", "--dev", "/dev", "--clearenv"});
  for (auto& e : image_env) {
    auto eq = e.find('=');
    cmd.insert(cmd.end(), {"--setenv", e.substr(0, eq), e.substr(eq + 1)});
  }
  for (auto& [k, v] : env)
    cmd.insert(cmd.end(), {"--setenv", k, v});
  cmd.push_back("--");
  cmd.insert(cmd.end(), argv.begin(), argv.end());
  return cmd;
}

/// The pids of `pid` and its descendants.
std::vector<int> process_tree(int pid) {
  std::vector<int> result{pid};
  for (size_t i = 0; i < result.size(); ++i) {
    auto p = std::to_string(result[i]);
    std::istringstream kids{
      read_file("/proc/" + p + "/task/" + p + "/children")};
    for (int kid; kids >> kid;)
      result.push_back(kid);
  }
  return result;
}

} // namespace

CAF_TEST(the image runs as a pod with the chart defaults) {
  if (auto why = missing_tools(); !why.empty()) {
    ICSR_SKIP(why);
    return;
  }
  auto tag = app_version();
  auto archive = source_path("build/istio-csr-" + tag + ".oci.tar");
  if (::access(archive.c_str(), R_OK) != 0)
    CAF_FAIL(archive << " is missing: ctest's image.build (or 'make image') "
                        "writes it");
  temp_dir dir;

  // 1. Unpack as a runtime does: the OCI layout, then umoci.
  auto layout = dir.file("layout");
  CAF_REQUIRE_EQUAL(::mkdir(layout.c_str(), 0755), 0);
  auto untar = run({program("tar"), "-xf", archive, "-C", layout});
  CAF_REQUIRE_EQUAL(untar.exit_code, 0);
  auto bundle = dir.file("bundle");
  auto unpack = run({program("umoci"), "unpack", "--rootless", "--image",
                     layout + ":" + tag, bundle},
                    120s);
  if (unpack.exit_code != 0)
    CAF_FAIL("umoci unpack failed: " << unpack.out << unpack.err);
  auto rootfs = bundle + "/rootfs";

  // What the runtime takes from the image config.
  auto config = json::parse(read_file(bundle + "/config.json"));
  auto process = config.at("process");
  CAF_CHECK_EQUAL(process.at("user").at("uid").get<int>(), 65532);
  CAF_CHECK_EQUAL(process.at("user").at("gid").get<int>(), 65532);
  auto entrypoint = process.at("args").get<std::vector<std::string>>();
  CAF_REQUIRE_EQUAL(entrypoint.size(), 1u);
  CAF_CHECK_EQUAL(entrypoint[0], "/usr/bin/istio-csr");
  auto image_env = process.at("env").get<std::vector<std::string>>();
  // The Dockerfile's entrypoint and environment are the same.
  auto lines = dockerfile_lines();
  auto docker_entrypoint = instructions(lines, "ENTRYPOINT");
  CAF_REQUIRE_EQUAL(docker_entrypoint.size(), 1u);
  CAF_CHECK_EQUAL(docker_entrypoint[0], "[\"" + entrypoint[0] + "\"]");
  for (auto& e : instructions(lines, "ENV"))
    CAF_CHECK(std::count(image_env.begin(), image_env.end(), e) == 1);
  auto labels = read_file(layout + "/index.json");
  CAF_CHECK(contains(labels, "\"org.opencontainers.image.ref.name\":\"" + tag
                               + "\""));

  // 2. What must not be in it: a shell, a package manager, private keys;
  //    what must: the CA bundle, the users. Everything readable by 65532.
  for (auto path : {"/usr/bin/sh", "/usr/bin/bash", "/usr/bin/dash",
                    "/usr/bin/dpkg", "/usr/bin/apt", "/usr/bin/apt-get",
                    "/usr/bin/ldd"}) {
    struct stat st {};
    CAF_CHECK_NOT_EQUAL(::lstat((rootfs + path).c_str(), &st), 0);
  }
  CAF_CHECK(contains(read_file(rootfs + "/etc/passwd"),
                     "nonroot:x:65532:65532:"));
  CAF_CHECK(contains(read_file(rootfs + "/etc/group"), "nonroot:x:65532:"));
  CAF_CHECK(contains(read_file(rootfs + "/etc/ssl/certs/ca-certificates.crt"),
                     "-----BEGIN CERTIFICATE-----"));
  auto keys = run({program("grep"), "-rlE", "-e",
                   "-----BEGIN ([A-Z]+ )?PRIVATE KEY-----", rootfs});
  CAF_CHECK_EQUAL(keys.exit_code, 1); // no match
  CAF_CHECK_EQUAL(keys.out, "");
  auto unreadable = run({program("find"), rootfs, "!", "-type", "l", "(", "!",
                         "-perm", "-o+r", "-o", "-type", "d", "!", "-perm",
                         "-o+x", ")", "-print"});
  CAF_CHECK_EQUAL(unreadable.exit_code, 0);
  CAF_CHECK_EQUAL(unreadable.out, "");

  // 3. The cluster, and the agent's service account as a pod mounts it.
  auto cluster = test_cluster::start();
  CAF_REQUIRE(cluster != nullptr);
  if (!cluster->is_devcluster()) {
    ICSR_SKIP("the image test runs against devcluster (loopback API "
              "server), not ISTIO_CSR_TEST_KUBECONFIG");
    return;
  }
  const std::string ns = helm::release_namespace;
  const std::string sa = "cert-manager-istio-csr";
  auto created = cluster->kubectl({"create", "serviceaccount", sa, "-n", ns});
  CAF_REQUIRE_EQUAL(created.exit_code, 0);
  auto token = cluster->kubectl(
    {"create", "token", sa, "-n", ns, "--duration=1h"});
  CAF_REQUIRE_EQUAL(token.exit_code, 0);
  auto ca = cluster->kubectl({"get", "configmap", "kube-root-ca.crt", "-n", ns,
                              "-o", "jsonpath={.data.ca\\.crt}"});
  CAF_REQUIRE_EQUAL(ca.exit_code, 0);
  CAF_REQUIRE(contains(ca.out, "BEGIN CERTIFICATE"));
  auto sa_dir = dir.file("serviceaccount");
  CAF_REQUIRE_EQUAL(::mkdir(sa_dir.c_str(), 0755), 0);
  auto t = token.out;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r'))
    t.pop_back();
  {
    std::ofstream(sa_dir + "/token") << t;
    std::ofstream(sa_dir + "/ca.crt") << ca.out;
    std::ofstream(sa_dir + "/namespace") << ns;
  }
  ::chmod((sa_dir + "/token").c_str(), 0644);
  // Mount points, as the runtime creates them in the container's root.
  const std::string sa_mount = "/var/run/secrets/kubernetes.io/serviceaccount";
  for (auto path : {"/proc", "/dev", "/var/run/secrets/kubernetes.io"}) {
    auto mk = run({program("mkdir"), "-p", rootfs + path});
    CAF_REQUIRE_EQUAL(mk.exit_code, 0);
  }
  CAF_REQUIRE_EQUAL(::mkdir((rootfs + sa_mount).c_str(), 0755), 0);
  auto server = cluster->server(); // https://127.0.0.1:PORT
  auto colon = server.rfind(':');
  auto api_host = server.substr(8, colon - 8);
  auto api_port = server.substr(colon + 1);

  // 4. The chart's default args (release namespace cert-manager), every port
  //    0: the agent picks free ones and logs them.
  auto rendering = helm::render({}, {},
                                {"--set", "app.server.serving.port=0", "--set",
                                 "app.readinessProbe.port=0", "--set",
                                 "app.metrics.port=0"});
  CAF_REQUIRE(rendering.ok());
  auto args = rendering.args();
  auto defaults = helm::render({}, {});
  CAF_REQUIRE(defaults.ok());
  auto default_args = defaults.args();
  CAF_REQUIRE_EQUAL(args.size(), default_args.size());
  for (size_t i = 0; i < args.size(); ++i)
    if (args[i] != default_args[i])
      CAF_CHECK(args[i] == "--serving-address=0.0.0.0:0"
                || args[i] == "--readiness-probe-port=0"
                || args[i] == "--metrics-port=0");
  auto image = rendering.find("Deployment", "cert-manager-istio-csr", ns)
                 ["spec"]["template"]["spec"]["containers"][0]["image"];
  auto image_ref = helm::str(image);
  CAF_CHECK_EQUAL(image_ref, "istio-csr:" + tag);

  std::vector<std::string> argv{entrypoint[0]};
  argv.insert(argv.end(), args.begin(), args.end());
  auto agent = child_process::spawn(
    sandbox(rootfs, {{sa_dir, sa_mount}}, image_env,
            {{"KUBERNETES_SERVICE_HOST", api_host},
             {"KUBERNETES_SERVICE_PORT", api_port}},
            argv));
  CAF_REQUIRE(agent != nullptr);
  auto log = [&] { return agent->out() + agent->err(); };
  auto grpc_line = agent->wait_for_line("serving gRPC", 90s, true);
  if (!grpc_line)
    CAF_FAIL("the agent did not log its gRPC port; its output:\n" << log());
  auto ready_line = agent->wait_for_line("serving readiness", 30s, true);
  if (!ready_line)
    CAF_FAIL("the agent did not log its readiness port; its output:\n"
             << log());
  auto grpc_port = port_field(*grpc_line);
  auto ready_port = port_field(*ready_line);
  if (grpc_port == 0 || ready_port == 0)
    CAF_FAIL("no port=N in the agent's lines:\n" << *grpc_line << "\n"
                                                  << *ready_line);
  auto readyz = [&] {
    auto r = run({program("curl"), "-s", "-o", "/dev/null", "-w",
                  "%{http_code}", "--max-time", "2",
                  "http://127.0.0.1:" + std::to_string(ready_port) + "/readyz"},
                 5s);
    return r.out;
  };
  bool ready = wait_until(
    [&] { return !agent->running() || readyz() == "200"; }, 90s, 100ms);
  if (!ready || !agent->running())
    CAF_FAIL("the agent from the image did not get ready; its output:\n"
             << log());
  CAF_MESSAGE("the agent from the image is ready (gRPC port " << grpc_port
                                                               << ")");
  CAF_CHECK(contains(log(), "in-cluster"));

  // It runs as 65532 in its user namespace, not as root.
  bool found = false;
  for (auto pid : process_tree(agent->pid())) {
    auto p = std::to_string(pid);
    auto cmdline = read_file("/proc/" + p + "/cmdline");
    if (cmdline.rfind("/usr/bin/istio-csr", 0) != 0)
      continue;
    found = true;
    std::istringstream map{read_file("/proc/" + p + "/uid_map")};
    std::string inside, outside, count;
    map >> inside >> outside >> count;
    CAF_CHECK_EQUAL(inside, "65532");
    auto own_uid = std::to_string(::getuid());
    CAF_CHECK_EQUAL(outside, own_uid);
    CAF_CHECK_EQUAL(count, "1");
  }
  CAF_CHECK(found);

  // 5. The image's own csrctl (same image, other entrypoint) asks for a
  //    workload certificate, with an admin kubeconfig mounted.
  { std::ofstream(rootfs + "/tmp/kubeconfig"); } // its mount point
  auto csrctl = run(
    sandbox(rootfs, {{cluster->kubeconfig(), "/tmp/kubeconfig"}}, image_env,
            {},
            {"/usr/bin/csrctl", "request", "--kubeconfig", "/tmp/kubeconfig",
             "--address", "127.0.0.1:" + std::to_string(grpc_port),
             "--namespace", "default", "--service-account", "default"}),
    120s);
  CAF_MESSAGE("csrctl exit " << csrctl.exit_code << "\n"
                             << csrctl.out << csrctl.err);
  CAF_CHECK_EQUAL(csrctl.exit_code, 0);
  CAF_CHECK(contains(csrctl.out, "identity: spiffe://cluster.local/ns/default/"
                                 "sa/default\n"));
  CAF_CHECK(contains(csrctl.out, "verified to the root bundle"));
  if (csrctl.exit_code != 0)
    CAF_MESSAGE("agent output:\n" << log());
  auto status = agent->stop();
  CAF_MESSAGE("agent exit " << status);
}
