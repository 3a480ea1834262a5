#include "tests/support/http.hpp"

#include "tests/support/process.hpp"

namespace istio_csr::test {

http_result curl_http(std::uint16_t port, const std::string& target,
                      const std::string& method,
                      const std::vector<std::string>& extra) {
  std::vector<std::string> argv{
    program("curl"),  "-s",         "-X", method, "-o", "-", "-w",
    "\n%{http_code}", "--max-time", "20"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back("http://127.0.0.1:" + std::to_string(port) + target);
  auto res = run(argv, 30s);
  http_result out;
  auto nl = res.out.rfind('\n');
  if (res.exit_code != 0 || nl == std::string::npos) {
    out.error = "curl exited " + std::to_string(res.exit_code) + ": " + res.err;
    return out;
  }
  out.status = std::stoi(res.out.substr(nl + 1));
  out.body = res.out.substr(0, nl);
  return out;
}

} // namespace istio_csr::test
