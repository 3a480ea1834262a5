// The Dockerfile builds the same image as `make image` (scripts/build-image):
// its build stage installs scripts/install-deps' build packages, it makes the
// root filesystem from image/packages with scripts/image-rootfs (after
// scripts/image-packages --check), and its user, entrypoint, environment and
// labels are those scripts/build-image writes into the image config.

#define CAF_SUITE image.dockerfile

#include "tests/image/image.hpp"

using namespace istio_csr::test;
using namespace istio_csr::test::image;

namespace {

/// The value of `name="..."` (possibly over several lines) in a shell script.
std::string shell_assignment(const std::string& script,
                             const std::string& name) {
  auto at = script.find("\n" + name + "=\"");
  CAF_REQUIRE(at != std::string::npos);
  auto begin = at + name.size() + 3;
  auto end = script.find('"', begin);
  CAF_REQUIRE(end != std::string::npos);
  return script.substr(begin, end - begin);
}

struct fixture {
  std::vector<std::string> lines = dockerfile_lines();
  std::string build_image = read_file(source_path("scripts/build-image"));
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(dockerfile_tests, fixture)

CAF_TEST(the final stage has no base image) {
  auto froms = instructions(lines, "FROM");
  CAF_REQUIRE_EQUAL(froms.size(), 2u);
  CAF_CHECK_EQUAL(froms[0], "debian:bookworm AS build");
  CAF_CHECK_EQUAL(froms[1], "scratch");
  auto copies = instructions(lines, "COPY");
  CAF_CHECK(std::count(copies.begin(), copies.end(), "--from=build /rootfs/ /")
            == 1);
}

CAF_TEST(the build stage installs the packages of install deps) {
  auto deps = read_file(source_path("scripts/install-deps"));
  auto want = words(shell_assignment(deps, "packages"));
  CAF_REQUIRE(!want.empty());
  std::set<std::string> got;
  for (auto& run : instructions(lines, "RUN")) {
    auto at = run.find("--no-install-recommends");
    if (at == std::string::npos)
      continue;
    auto list = run.substr(at + std::string{"--no-install-recommends"}.size());
    got = words(list);
  }
  CAF_CHECK_EQUAL(got.size(), want.size());
  for (auto& p : want)
    if (got.count(p) == 0)
      CAF_ERROR("the Dockerfile does not install " << p
                                                   << " (scripts/install-deps)");
  for (auto& p : got)
    if (want.count(p) == 0)
      CAF_ERROR("the Dockerfile installs " << p
                                           << ", scripts/install-deps does not");
}

CAF_TEST(the root filesystem comes from image packages by image rootfs) {
  auto runs = instructions(lines, "RUN");
  bool checked = false;
  bool made = false;
  for (auto& run : runs) {
    checked = checked
              || contains(run, "scripts/image-packages --check "
                               "/build/bin/istio-csr /build/bin/csrctl");
    made = made
           || (contains(run, "scripts/image-rootfs image/packages /rootfs ")
               && contains(run, "/build/bin/istio-csr /build/bin/csrctl"));
  }
  CAF_CHECK(checked);
  CAF_CHECK(made);
  // And so does make image.
  CAF_CHECK(contains(build_image, "scripts/image-rootfs image/packages "));
  CAF_CHECK(contains(build_image, "scripts/image-packages --check $bins"));
  CAF_CHECK(contains(build_image, "bins=\"build-release/bin/istio-csr "
                                  "build-release/bin/csrctl\""));
}

CAF_TEST(user entrypoint environment and labels are those of build image) {
  auto entrypoint = instructions(lines, "ENTRYPOINT");
  CAF_REQUIRE_EQUAL(entrypoint.size(), 1u);
  CAF_CHECK_EQUAL(entrypoint[0], "[\"/usr/bin/istio-csr\"]");
  CAF_CHECK(contains(build_image, "\\\"Entrypoint\\\":[\\\"/usr/bin/istio-csr\\\"]"));
  auto user = instructions(lines, "USER");
  CAF_REQUIRE_EQUAL(user.size(), 1u);
  CAF_CHECK_EQUAL(user[0], "65532:65532");
  CAF_CHECK(contains(build_image, "\\\"User\\\":\\\"65532:65532\\\""));
  auto workdir = instructions(lines, "WORKDIR");
  CAF_REQUIRE(!workdir.empty());
  CAF_CHECK_EQUAL(workdir.back(), "/");
  CAF_CHECK(contains(build_image, "\\\"WorkingDir\\\":\\\"/\\\""));
  auto env = instructions(lines, "ENV");
  CAF_CHECK_EQUAL(env.size(), 2u);
  for (auto& e : env)
    if (!contains(build_image, "\\\"" + e + "\\\""))
      CAF_ERROR("ENV " << e << " is not in scripts/build-image's config");
  // Every label key of build-image, and no other.
  std::set<std::string> dockerfile_keys;
  for (auto& l : instructions(lines, "LABEL"))
    dockerfile_keys.insert(l.substr(0, l.find('=')));
  // The labels are the assignment `labels="..."` of build-image.
  auto begin = build_image.find("\nlabels=\"");
  auto end = build_image.find("\nprintf", begin);
  CAF_REQUIRE(begin != std::string::npos && end != std::string::npos);
  auto labels = build_image.substr(begin, end - begin);
  std::set<std::string> script_keys;
  std::regex key{"\\\\\"(org\\.opencontainers\\.image\\.[a-z.]+)\\\\\":"};
  for (auto it = std::sregex_iterator(labels.begin(), labels.end(), key);
       it != std::sregex_iterator(); ++it)
    script_keys.insert((*it)[1]);
  CAF_CHECK_EQUAL(script_keys.size(), 5u);
  CAF_CHECK(dockerfile_keys == script_keys);
  // The description is the same text.
  for (auto& l : instructions(lines, "LABEL"))
    if (l.rfind("org.opencontainers.image.description=", 0) == 0) {
      auto text = l.substr(l.find('"') + 1);
      text.pop_back();
      CAF_CHECK(contains(build_image, text));
    }
}

CAF_TEST_FIXTURE_SCOPE_END()
