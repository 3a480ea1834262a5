#define CAF_SUITE kube_api.label_selector
#include "caf/test/unit_test.hpp"
#include "errors/describe.hpp"

#include "caf/sec.hpp"

#include "kube/api/label_selector.hpp"
#include "kube/api/validation.hpp"

using namespace istio_csr::kube;
using op = label_requirement::op;

namespace {

label_selector parse_ok(std::string_view text) {
  auto res = label_selector::parse(text);
  if (!res) {
    CAF_FAIL("unexpected error for '"
             << text << "': " << istio_csr::errors::message(res.error()));
  }
  return std::move(*res);
}

std::string parse_err(std::string_view text) {
  auto res = label_selector::parse(text);
  if (res) {
    CAF_FAIL("expected an error for '" << text << "', got '" << res->to_string()
                                       << "'");
  }
  CAF_CHECK_EQUAL(res.error().code(),
                  static_cast<uint8_t>(caf::sec::invalid_argument));
  return istio_csr::errors::message(res.error());
}

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

using labels = std::map<std::string, std::string>;

} // namespace

CAF_TEST(empty and whitespace selectors match everything) {
  for (auto text : {"", " ", "  \t "}) {
    auto sel = parse_ok(text);
    CAF_CHECK(sel.empty());
    CAF_CHECK(sel.matches({}));
    CAF_CHECK(sel.matches(labels{{"a", "b"}}));
    CAF_CHECK_EQUAL(sel.to_string(), "");
  }
}

CAF_TEST(every operator parses into the right requirement) {
  struct row {
    const char* text;
    const char* key;
    op operation;
    std::vector<std::string> values;
    const char* canonical;
  };
  std::vector<row> rows{
    {"a=b", "a", op::equals, {"b"}, "a=b"},
    {"a==b", "a", op::equals, {"b"}, "a=b"},
    {"a!=b", "a", op::not_equals, {"b"}, "a!=b"},
    {"a in (x,y)", "a", op::in, {"x", "y"}, "a in (x,y)"},
    {"a notin (y,x,y)", "a", op::not_in, {"x", "y"}, "a notin (x,y)"},
    {"a", "a", op::exists, {}, "a"},
    {"!a", "a", op::does_not_exist, {}, "!a"},
    {"  a  =  b  ", "a", op::equals, {"b"}, "a=b"},
    {"a in(x)", "a", op::in, {"x"}, "a in (x)"},
    {"a=", "a", op::equals, {""}, "a="},
    {"a in ()", "a", op::in, {""}, "a in ()"},
    {"a in (x,)", "a", op::in, {"", "x"}, "a in (,x)"},
    {"a in (in,notin)", "a", op::in, {"in", "notin"}, "a in (in,notin)"},
    {"example.com/a-b_c.d=V-1.x_y",
     "example.com/a-b_c.d",
     op::equals,
     {"V-1.x_y"},
     "example.com/a-b_c.d=V-1.x_y"},
    {"! a", "a", op::does_not_exist, {}, "!a"},
  };
  for (auto& r : rows) {
    CAF_MESSAGE("selector: " << r.text);
    auto sel = parse_ok(r.text);
    CAF_CHECK_EQUAL(sel.requirements().size(), 1u);
    if (sel.requirements().size() != 1)
      continue;
    auto& req = sel.requirements().front();
    CAF_CHECK_EQUAL(req.key, r.key);
    CAF_CHECK(req.operation == r.operation);
    CAF_CHECK_EQUAL(req.values, r.values);
    CAF_CHECK_EQUAL(sel.to_string(), r.canonical);
    // The canonical form parses back to the same selector.
    CAF_CHECK(parse_ok(sel.to_string()).requirements() == sel.requirements());
  }
}

CAF_TEST(several requirements are sorted by key) {
  auto sel = parse_ok("z=1, !b ,a in (2,1),m");
  CAF_REQUIRE_EQUAL(sel.requirements().size(), 4u);
  CAF_CHECK_EQUAL(sel.to_string(), "a in (1,2),!b,m,z=1");
}

CAF_TEST(matching follows kubernetes semantics) {
  auto sel = parse_ok("env in (prod,stage),tier!=db,!legacy,team");
  CAF_CHECK(sel.matches(labels{{"env", "prod"}, {"team", "x"}}));
  CAF_CHECK(
    sel.matches(labels{{"env", "stage"}, {"team", "x"}, {"tier", "web"}}));
  CAF_CHECK(!sel.matches(labels{{"env", "dev"}, {"team", "x"}}));
  CAF_CHECK(!sel.matches(labels{{"team", "x"}}));
  CAF_CHECK(
    !sel.matches(labels{{"env", "prod"}, {"team", "x"}, {"tier", "db"}}));
  CAF_CHECK(
    !sel.matches(labels{{"env", "prod"}, {"team", "x"}, {"legacy", ""}}));
  CAF_CHECK(!sel.matches(labels{{"env", "prod"}}));
  // != and notin match when the key is absent.
  CAF_CHECK(parse_ok("a!=b").matches({}));
  CAF_CHECK(parse_ok("a notin (b)").matches({}));
  CAF_CHECK(!parse_ok("a notin (b)").matches(labels{{"a", "b"}}));
  CAF_CHECK(parse_ok("a notin (b)").matches(labels{{"a", "c"}}));
  // = does not match an absent key, even with the empty value.
  CAF_CHECK(!parse_ok("a=").matches({}));
  CAF_CHECK(parse_ok("a=").matches(labels{{"a", ""}}));
  CAF_CHECK(!parse_ok("a=b").matches(labels{{"a", "B"}}));
  CAF_CHECK(parse_ok("istio-csr-injection=enabled")
              .matches(labels{{"istio-csr-injection", "enabled"}}));
}

CAF_TEST(syntax errors name the position and token) {
  auto e = parse_err("a=b c");
  CAF_CHECK(contains(e, "'c'"));
  CAF_CHECK(contains(e, "position 5"));
  CAF_CHECK(contains(e, "\"a=b c\""));
  e = parse_err("a=b,");
  CAF_CHECK(contains(e, "end of input"));
  CAF_CHECK(contains(e, "expected a key"));
  e = parse_err("a in b");
  CAF_CHECK(contains(e, "expected '('"));
  e = parse_err("a in (b");
  CAF_CHECK(contains(e, "expected ',' or ')'"));
  e = parse_err("a in (b c)");
  CAF_CHECK(contains(e, "'c'"));
  e = parse_err("!a=b");
  CAF_CHECK(contains(e, "'='"));
  e = parse_err("=b");
  CAF_CHECK(contains(e, "expected a key"));
  e = parse_err("a>1");
  CAF_CHECK(contains(e, "not supported"));
  e = parse_err("a b");
  CAF_CHECK(contains(e, "expected one of"));
  e = parse_err(",a");
  CAF_CHECK(contains(e, "position 1"));
  e = parse_err("a=(b)");
  CAF_CHECK(contains(e, "expected a value"));
}

CAF_TEST(invalid keys and values are rejected with the k8s reason) {
  auto e = parse_err("-a=b");
  CAF_CHECK(contains(e, "invalid key '-a'"));
  CAF_CHECK(contains(e, "name part must consist of alphanumeric"));
  e = parse_err(std::string(64, 'k') + "=b");
  CAF_CHECK(contains(e, "name part must be no more than 63 characters"));
  CAF_CHECK(parse_ok(std::string(63, 'k') + "=b").requirements().size() == 1);
  e = parse_err("Example.com/a=b");
  CAF_CHECK(contains(e, "prefix part a lowercase RFC 1123 subdomain"));
  e = parse_err("/a=b");
  CAF_CHECK(contains(e, "prefix part must be non-empty"));
  e = parse_err("a/=b");
  CAF_CHECK(contains(e, "name part must be non-empty"));
  e = parse_err("a/b/c=d");
  CAF_CHECK(contains(e, "a qualified name must consist"));
  e = parse_err("a=" + std::string(64, 'v'));
  CAF_CHECK(contains(e, "invalid value"));
  CAF_CHECK(contains(e, "must be no more than 63 characters"));
  CAF_CHECK(parse_ok("a=" + std::string(63, 'v')).requirements().size() == 1);
  e = parse_err("a=b-");
  CAF_CHECK(contains(e, "a valid label must be an empty string"));
  e = parse_err("a in (x,_y)");
  CAF_CHECK(contains(e, "'_y'"));
  e = parse_err("a=b/c");
  CAF_CHECK(contains(e, "invalid value 'b/c'"));
}

CAF_TEST(field selectors) {
  auto sel = field_selector::parse("metadata.name=x,metadata.namespace!=y");
  CAF_REQUIRE(sel);
  CAF_REQUIRE_EQUAL(sel->terms().size(), 2u);
  CAF_CHECK_EQUAL(sel->terms()[0].field, "metadata.name");
  CAF_CHECK_EQUAL(sel->terms()[0].value, "x");
  CAF_CHECK(!sel->terms()[0].negated);
  CAF_CHECK(sel->terms()[1].negated);
  CAF_CHECK_EQUAL(sel->to_string(), "metadata.name=x,metadata.namespace!=y");
  std::map<std::string, std::string> obj{{"metadata.name", "x"},
                                         {"metadata.namespace", "z"}};
  auto lookup = [&](const std::string& f) {
    auto i = obj.find(f);
    return i == obj.end() ? std::string{} : i->second;
  };
  CAF_CHECK(sel->matches(lookup));
  obj["metadata.namespace"] = "y";
  CAF_CHECK(!sel->matches(lookup));
  auto dbl = field_selector::parse("a==b");
  CAF_REQUIRE(dbl);
  CAF_CHECK_EQUAL(dbl->to_string(), "a=b");
  auto empty = field_selector::parse("");
  CAF_REQUIRE(empty);
  CAF_CHECK(empty->empty());
  auto escaped = field_selector::parse("a=x\\,y\\=z\\\\,b=");
  CAF_REQUIRE(escaped);
  CAF_REQUIRE_EQUAL(escaped->terms().size(), 2u);
  CAF_CHECK_EQUAL(escaped->terms()[0].value, "x,y=z\\");
  CAF_CHECK_EQUAL(escaped->terms()[1].value, "");
  CAF_CHECK_EQUAL(escaped->to_string(), "a=x\\,y\\=z\\\\,b=");
  for (auto bad : {"abc", "=x", "a=b=c", "a=b\\q"}) {
    auto res = field_selector::parse(bad);
    CAF_CHECK(!res);
    if (!res)
      CAF_CHECK(contains(istio_csr::errors::message(res.error()),
                         "invalid field selector"));
  }
}
