#define CAF_SUITE config.go_syntax
#include "caf/test/unit_test.hpp"
#include "errors/describe.hpp"

#include <cmath>
#include <limits>

#include "config/go_duration.hpp"
#include "config/go_values.hpp"
#include "kube/api/validation.hpp"
#include "tests/support/check_case.hpp"

using namespace istio_csr::config;
using namespace std::chrono;

namespace {

constexpr int64_t max_ns = std::numeric_limits<int64_t>::max();
constexpr int64_t min_ns = std::numeric_limits<int64_t>::min();

} // namespace

CAF_TEST(go durations parse like time.ParseDuration) {
  // The table of Go's time_test.go (parseDurationTests) plus our defaults.
  struct row {
    const char* in;
    int64_t ns;
  };
  std::vector<row> rows{
    {"0", 0},
    {"5s", 5'000'000'000},
    {"30s", 30'000'000'000},
    {"1478s", 1478'000'000'000},
    {"-5s", -5'000'000'000},
    {"+5s", 5'000'000'000},
    {"-0", 0},
    {"+0", 0},
    {"5.0s", 5'000'000'000},
    {"5.6s", 5'600'000'000},
    {"5.s", 5'000'000'000},
    {".5s", 500'000'000},
    {"1.0s", 1'000'000'000},
    {"1.00s", 1'000'000'000},
    {"1.004s", 1'004'000'000},
    {"1.0040s", 1'004'000'000},
    {"100.00100s", 100'001'000'000},
    {"10ns", 10},
    {"11us", 11'000},
    {"12\xC2\xB5s", 12'000}, // U+00B5
    {"12\xCE\xBCs", 12'000}, // U+03BC
    {"13ms", 13'000'000},
    {"14s", 14'000'000'000},
    {"15m", 15 * 60'000'000'000},
    {"16h", 16 * 3600'000'000'000},
    {"3h30m", 3 * 3600'000'000'000 + 30 * 60'000'000'000},
    {"10.5s4m", 4 * 60'000'000'000 + 10'500'000'000},
    {"-2m3.4s", -(2 * 60'000'000'000 + 3'400'000'000)},
    {"1h2m3s4ms5us6ns", 3600'000'000'000 + 2 * 60'000'000'000 + 3'000'000'000
                          + 4'000'000 + 5'000 + 6},
    {"39h9m14.425s",
     39 * 3600'000'000'000 + 9 * 60'000'000'000 + 14'425'000'000},
    {"52763797000ns", 52763797000},
    {"0.3333333333333333333h", 20 * 60'000'000'000},
    {"9007199254740993ns", (int64_t{1} << 53) + 1},
    {"9223372036854775807ns", max_ns},
    {"9223372036854775.807us", max_ns},
    {"9223372036s854ms775us807ns", max_ns},
    {"-9223372036854775808ns", min_ns},
    {"-9223372036854775.808us", min_ns},
    {"-9223372036s854ms775us808ns", min_ns},
    {"-2562047h47m16.854775808s", min_ns},
    {"0.100000000000000000000h", 6 * 60'000'000'000},
    {"0.830103483285477580700h",
     49 * 60'000'000'000 + 48'000'000'000 + 372'539'827},
    {"1h", 3600'000'000'000},
    {"90m", 90 * 60'000'000'000},
    {"1h30m", 90 * 60'000'000'000},
    {"20s", 20'000'000'000},
    {"1.5h", 90 * 60'000'000'000},
    {"300ms", 300'000'000},
  };
  for (auto& r : rows) {
    auto d = parse_go_duration(r.in);
    ICSR_CHECK_CASE(d.engaged(), r.in);
    if (d)
      ICSR_CHECK_CASE(d->count() == r.ns, r.in << " -> " << d->count());
  }
}

CAF_TEST(go duration errors carry Go messages) {
  struct row {
    std::string in;
    std::string msg;
  };
  std::vector<row> rows{
    {"", "time: invalid duration \"\""},
    {"3", "time: missing unit in duration \"3\""},
    {"-", "time: invalid duration \"-\""},
    {"s", "time: invalid duration \"s\""},
    {".", "time: invalid duration \".\""},
    {"-.", "time: invalid duration \"-.\""},
    {".s", "time: invalid duration \".s\""},
    {"+.s", "time: invalid duration \"+.s\""},
    {"1d", "time: unknown unit \"d\" in duration \"1d\""},
    {"1h1", "time: missing unit in duration \"1h1\""},
    {"\x85\x85", "time: invalid duration \"\\x85\\x85\""},
    {"\xff\xff", "time: invalid duration \"\\xff\\xff\""},
    {"hello \xff\xff world",
     "time: invalid duration \"hello \\xff\\xff world\""},
    {"9223372036854775808ns",
     "time: invalid duration \"9223372036854775808ns\""},
    {"9223372036854775.808us",
     "time: invalid duration \"9223372036854775.808us\""},
    {"9223372036854ms775us808ns",
     "time: invalid duration \"9223372036854ms775us808ns\""},
    {"-9223372036854775809ns",
     "time: invalid duration \"-9223372036854775809ns\""},
    {"1 h", "time: unknown unit \" h\" in duration \"1 h\""},
    {"1H", "time: unknown unit \"H\" in duration \"1H\""},
  };
  for (auto& r : rows) {
    auto d = parse_go_duration(r.in);
    ICSR_CHECK_CASE(!d, r.in);
    if (!d)
      ICSR_CHECK_CASE(istio_csr::errors::message(d.error()) == r.msg,
                      r.in << " -> " << istio_csr::errors::message(d.error()));
  }
}

CAF_TEST(go durations format like Duration.String) {
  struct row {
    int64_t ns;
    const char* out;
  };
  std::vector<row> rows{
    {0, "0s"},
    {1, "1ns"},
    {1100, "1.1\xC2\xB5s"},
    {2'200'000, "2.2ms"},
    {3'300'000'000, "3.3s"},
    {4 * 60'000'000'000 + 5'000'000'000, "4m5s"},
    {4 * 60'000'000'000 + 5'001'000'000, "4m5.001s"},
    {5 * 3600'000'000'000 + 6 * 60'000'000'000 + 7'001'000'000, "5h6m7.001s"},
    {8 * 60'000'000'000 + 1, "8m0.000000001s"},
    {max_ns, "2562047h47m16.854775807s"},
    {min_ns, "-2562047h47m16.854775808s"},
    {3600'000'000'000, "1h0m0s"},
    {30 * 60'000'000'000, "30m0s"},
    {30'000'000'000, "30s"},
    {-1'500'000'000, "-1.5s"},
    {999, "999ns"},
  };
  for (auto& r : rows)
    ICSR_CHECK_CASE(format_go_duration(nanoseconds{r.ns}) == r.out,
                    r.out << " got " << format_go_duration(nanoseconds{r.ns}));
  // Round trip.
  for (auto s :
       {"1h0m0s", "1m30s", "1.5s", "300ms", "2562047h47m16.854775807s"})
    ICSR_CHECK_CASE(format_go_duration(*parse_go_duration(s)) == s, s);
}

CAF_TEST(go bools) {
  for (auto t : {"1", "t", "T", "TRUE", "true", "True"})
    ICSR_CHECK_CASE(parse_go_bool(t) == caf::expected<bool>{true}, t);
  for (auto f : {"0", "f", "F", "FALSE", "false", "False"})
    ICSR_CHECK_CASE(parse_go_bool(f) == caf::expected<bool>{false}, f);
  for (auto bad : {"", "yes", "no", "on", "tRUE", "2", " true"})
    ICSR_CHECK_CASE(!parse_go_bool(bad), bad);
  CAF_CHECK_EQUAL(istio_csr::errors::message(parse_go_bool("yes").error()),
                  "strconv.ParseBool: parsing \"yes\": invalid syntax");
}

CAF_TEST(go ints) {
  struct row {
    const char* in;
    int64_t value;
  };
  std::vector<row> rows{
    {"0", 0},
    {"1", 1},
    {"-1", -1},
    {"+7", 7},
    {"2048", 2048},
    {"0x10", 16},
    {"0X1f", 31},
    {"010", 8},
    {"0o17", 15},
    {"0b101", 5},
    {"1_000", 1000},
    {"0x_1f", 31},
    {"00", 0},
    {"2147483647", 2147483647},
    {"-2147483648", -2147483648LL},
  };
  for (auto& r : rows) {
    auto v = parse_go_int(r.in, 32);
    ICSR_CHECK_CASE(v && *v == r.value, r.in);
  }
  for (auto bad : {"", "-", "abc", "1.5", "08", "0x", "1__0", "_1", "1_", " 1",
                   "1 ", "0b2"})
    ICSR_CHECK_CASE(!parse_go_int(bad, 32), bad);
  auto big = parse_go_int("2147483648", 32);
  CAF_REQUIRE(!big);
  CAF_CHECK_EQUAL(istio_csr::errors::message(big.error()),
                  "strconv.ParseInt: parsing \"2147483648\": value out of "
                  "range");
  CAF_CHECK(parse_go_int("2147483648", 64));
  CAF_CHECK(!parse_go_int("99999999999999999999", 64));
  CAF_CHECK_EQUAL(istio_csr::errors::message(parse_go_int("x", 64).error()),
                  "strconv.ParseInt: parsing \"x\": invalid syntax");
}

CAF_TEST(go floats) {
  CAF_CHECK(parse_go_float("500") == caf::expected<double>{500.0});
  CAF_CHECK(parse_go_float("-2.5") == caf::expected<double>{-2.5});
  CAF_CHECK(parse_go_float("1e3") == caf::expected<double>{1000.0});
  CAF_CHECK(parse_go_float(".5") == caf::expected<double>{0.5});
  CAF_CHECK(std::isinf(*parse_go_float("+Inf")));
  CAF_CHECK(std::isnan(*parse_go_float("NaN")));
  for (auto bad : {"", "abc", "1.5x", "--1", "1e", " 1"})
    ICSR_CHECK_CASE(!parse_go_float(bad), bad);
}

CAF_TEST(csv lists as pflag string slices) {
  using list = std::vector<std::string>;
  struct row {
    const char* in;
    list out;
  };
  std::vector<row> rows{
    {"", {}},
    {"a", {"a"}},
    {"a,b", {"a", "b"}},
    {"a,,b", {"a", "", "b"}},
    {"a,", {"a", ""}},
    {",", {"", ""}},
    {" a , b ", {" a ", " b "}},
    {"\"a,b\",c", {"a,b", "c"}},
    {"\"say \"\"hi\"\"\"", {"say \"hi\""}},
    {"\"\"", {""}},
  };
  for (auto& r : rows) {
    auto v = parse_csv_list(r.in);
    ICSR_CHECK_CASE(v && *v == r.out, r.in);
  }
  auto bare = parse_csv_list("a\"b");
  CAF_REQUIRE(!bare);
  CAF_CHECK_EQUAL(istio_csr::errors::message(bare.error()),
                  "parse error on line 1, column 2: bare \" in "
                  "non-quoted-field");
  CAF_CHECK(!parse_csv_list("\"open"));
  CAF_CHECK(!parse_csv_list("\"a\"b"));
}

CAF_TEST(string maps as pflag stringToString) {
  using map = std::map<std::string, std::string>;
  struct row {
    const char* in;
    map out;
  };
  std::vector<row> rows{
    {"a=b", {{"a", "b"}}},
    {"a=b,c=d", {{"a", "b"}, {"c", "d"}}},
    // Exactly one '=': the whole value is one pair (pflag quirk).
    {"a=b,c", {{"a", "b,c"}}},
    {"\"a=b\"", {{"a", "b"}}},
    {"a=", {{"a", ""}}},
    {"=v", {{"", "v"}}},
    {"a=x=y,b=z", {{"a", "x=y"}, {"b", "z"}}},
    {"\"a=1,2\",b=3", {{"a", "1,2"}, {"b", "3"}}},
    {"k=v,k=w", {{"k", "w"}}},
  };
  for (auto& r : rows) {
    auto v = parse_string_map(r.in);
    ICSR_CHECK_CASE(v && *v == r.out, r.in);
  }
  auto none = parse_string_map("foo");
  CAF_REQUIRE(!none);
  CAF_CHECK_EQUAL(istio_csr::errors::message(none.error()),
                  "foo must be formatted as key=value");
  auto empty = parse_string_map("");
  CAF_REQUIRE(!empty);
  CAF_CHECK_EQUAL(istio_csr::errors::message(empty.error()),
                  " must be formatted as key=value");
  auto pair = parse_string_map("a=b,c,d=e");
  CAF_REQUIRE(!pair);
  CAF_CHECK_EQUAL(istio_csr::errors::message(pair.error()),
                  "c must be formatted as key=value");
}

CAF_TEST(kube request timeouts) {
  CAF_CHECK(parse_kube_timeout("0") == caf::expected<nanoseconds>{0ns});
  CAF_CHECK(parse_kube_timeout("5") == caf::expected<nanoseconds>{5s});
  CAF_CHECK(parse_kube_timeout("1m") == caf::expected<nanoseconds>{60s});
  CAF_CHECK(parse_kube_timeout("1.5s") == caf::expected<nanoseconds>{1500ms});
  for (auto bad : {"-1", "-1s", "abc", "1d"}) {
    auto v = parse_kube_timeout(bad);
    ICSR_CHECK_CASE(!v, bad);
    if (!v)
      ICSR_CHECK_CASE(istio_csr::errors::message(v.error()).starts_with(
                        "Invalid timeout value. Timeout must be a single "
                        "integer in seconds"),
                      bad);
  }
}
