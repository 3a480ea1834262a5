// The command line and the environment: every value parser of the flags
// (Go's bool, int, float, CSV lists, string maps, TLS versions, cipher
// suites, curves, `$TOKEN_AUDIENCES`, trusted node accounts, Kubernetes
// name rules for annotations and labels), then whole command lines through
// `config::parse` and `validate`.
//
// Input: NUL-separated arguments (at most 32). Each is given to every value
// parser; together they are a command line; the first one is also
// `$TOKEN_AUDIENCES`.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "actors/ambient/trusted_accounts.hpp"
#include "config/go_values.hpp"
#include "config/parse.hpp"
#include "config/tls_names.hpp"
#include "config/validate.hpp"
#include "fuzz/fuzz_input.hpp"
#include "kube/api/go_quote.hpp"
#include "kube/api/validation.hpp"

using namespace istio_csr;

namespace {

void value_parsers(std::string_view s) {
  (void)config::parse_go_bool(s);
  for (int bits : {8, 16, 32, 64})
    (void)config::parse_go_int(s, bits);
  (void)config::parse_go_float(s);
  if (auto list = config::parse_csv_list(s)) {
    (void)config::format_list(*list);
    (void)config::parse_cipher_suites(*list);
    (void)config::parse_tls_curves(*list);
    (void)actors::ambient::trusted_accounts::parse(*list).to_string();
  }
  if (auto map = config::parse_string_map(s)) {
    (void)config::format_map(*map);
    (void)kube::validate_annotations(*map);
  }
  (void)config::parse_serving_tls_min_version(s);
  (void)config::find_cipher_suite(s);
  (void)config::parse_tls_curve(s);
  (void)config::parse_token_audiences(s);
  (void)kube::validate_dns1123_subdomain(s);
  (void)kube::validate_dns1123_label(s);
  (void)kube::validate_qualified_name(s);
  (void)kube::validate_label_value(s);
  (void)kube::go_quote(s);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  auto in = fuzz::text(data, size);
  std::vector<std::string> args;
  while (!in.empty() && args.size() < 32)
    args.emplace_back(fuzz::next_part(in, '\0'));
  for (const auto& arg : args)
    value_parsers(arg);
  auto env = [&args](const std::string& name) -> std::optional<std::string> {
    if (name == "TOKEN_AUDIENCES" && !args.empty())
      return args.front();
    return std::nullopt;
  };
  auto result = config::parse(args, env);
  fuzz::require(result.should_run() || result.exit_code != 0
                  || !result.out_text.empty(),
                "parse either runs, fails, or prints help or version");
  return 0;
}
