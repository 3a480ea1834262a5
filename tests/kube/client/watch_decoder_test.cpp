#define CAF_SUITE kube.watch_decoder
#include "caf/test/unit_test.hpp"

#include <random>

#include "kube/api/errc.hpp"
#include "kube/client/watch_event.hpp"

using namespace istio_csr::kube;
using json = nlohmann::json;

namespace {

std::string event(const char* type, const std::string& name,
                  const std::string& rv) {
  json ev{{"type", type},
          {"object",
           {{"kind", "ConfigMap"},
            {"metadata", {{"name", name}, {"resourceVersion", rv}}},
            // Braces and escaped quotes inside strings must not confuse
            // the framing.
            {"data", {{"k", "}{ \"quoted\" \\ ]["}}}}}};
  return ev.dump() + "\n";
}

} // namespace

CAF_TEST(events split at every position decode identically) {
  auto stream = event("ADDED", "a", "1") + event("MODIFIED", "a", "2")
                + event("BOOKMARK", "", "3") + event("DELETED", "a", "4");
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    watch_decoder dec;
    std::vector<watch_event> out;
    CAF_REQUIRE(!dec.feed(std::string_view{stream}.substr(0, cut), out));
    CAF_REQUIRE(!dec.feed(std::string_view{stream}.substr(cut), out));
    CAF_REQUIRE(!dec.finish());
    CAF_REQUIRE_EQUAL(out.size(), 4u);
    CAF_CHECK(out[0].type == watch_event_type::added);
    CAF_CHECK(out[1].type == watch_event_type::modified);
    CAF_CHECK(out[2].type == watch_event_type::bookmark);
    CAF_CHECK(out[3].type == watch_event_type::deleted);
    CAF_CHECK_EQUAL(out[3].object["metadata"]["resourceVersion"], "4");
    CAF_CHECK_EQUAL(out[0].object["data"]["k"], "}{ \"quoted\" \\ ][");
  }
}

CAF_TEST(an event is delivered as soon as its last byte arrives) {
  auto one = event("ADDED", "a", "1");
  auto two = event("ADDED", "b", "2");
  watch_decoder dec;
  std::vector<watch_event> out;
  CAF_REQUIRE(!dec.feed(one.substr(0, one.size() - 2), out));
  CAF_CHECK_EQUAL(out.size(), 0u);
  // The closing brace completes the event; the newline is not needed.
  CAF_REQUIRE(!dec.feed(one.substr(one.size() - 2, 1), out));
  CAF_CHECK_EQUAL(out.size(), 1u);
  CAF_REQUIRE(!dec.feed("\n" + two.substr(0, 10), out));
  CAF_CHECK_EQUAL(out.size(), 1u);
  CAF_CHECK_GREATER(dec.buffered(), 0u);
  // A stream ending inside an event is an error.
  CAF_CHECK(is(dec.finish(), errc::decode_error));
  CAF_REQUIRE(!dec.feed(two.substr(10), out));
  CAF_CHECK_EQUAL(out.size(), 2u);
  CAF_CHECK_EQUAL(dec.buffered(), 0u);
  CAF_CHECK(!dec.finish());
}

CAF_TEST(random fragmentation) {
  std::string stream;
  for (int i = 0; i < 50; ++i)
    stream += event(i % 2 ? "MODIFIED" : "ADDED", "o" + std::to_string(i),
                    std::to_string(i));
  std::mt19937 rng{42};
  for (int round = 0; round < 20; ++round) {
    watch_decoder dec;
    std::vector<watch_event> out;
    size_t pos = 0;
    while (pos < stream.size()) {
      auto n = std::uniform_int_distribution<size_t>{1, 300}(rng);
      CAF_REQUIRE(!dec.feed(std::string_view{stream}.substr(pos, n), out));
      pos += n;
    }
    CAF_REQUIRE_EQUAL(out.size(), 50u);
    for (size_t i = 0; i < out.size(); ++i)
      CAF_CHECK_EQUAL(out[i].object["metadata"]["name"],
                      "o" + std::to_string(i));
  }
}

CAF_TEST(error events and malformed input) {
  watch_decoder dec;
  std::vector<watch_event> out;
  CAF_REQUIRE(!dec.feed(
    R"js({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old resource version: 1 (5)"}})js",
    out));
  CAF_REQUIRE_EQUAL(out.size(), 1u);
  CAF_CHECK(out[0].type == watch_event_type::error);
  CAF_CHECK_EQUAL(out[0].object["code"], 410);
  for (auto bad :
       {R"(garbage)", R"({"type":"WHAT","object":{}})", R"({"object":{}})",
        R"({"type":"ADDED"})", R"({"type":"ADDED","object":{]})"}) {
    watch_decoder d;
    std::vector<watch_event> o;
    auto err = d.feed(bad, o);
    CAF_CHECK(is(err, errc::decode_error));
    CAF_CHECK(o.empty());
    // A failed decoder stays failed.
    CAF_CHECK(is(d.feed(event("ADDED", "a", "1"), o), errc::decode_error));
  }
}
