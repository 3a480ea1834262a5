#include "kube/api/label_selector.hpp"

#include <algorithm>

#include "caf/sec.hpp"

#include "kube/api/validation.hpp"

namespace istio_csr::kube {

namespace {

// -- lexer (mirrors k8s.io/apimachinery/pkg/labels/selector.go) --------------

enum class tok {
  end,
  identifier,
  not_op,        // !
  equals,        // =
  double_equals, // ==
  not_equals,    // !=
  in,            // in
  not_in,        // notin
  open_paren,    // (
  close_paren,   // )
  comma,         // ,
  greater,       // > (valid in Kubernetes, not supported here)
  less,          // < (valid in Kubernetes, not supported here)
};

struct token {
  tok kind = tok::end;
  std::string_view text;
  size_t pos = 0; // 0-based offset into the input
};

bool is_whitespace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool is_special(char c) {
  return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '>'
         || c == '<';
}

class lexer {
 public:
  explicit lexer(std::string_view in) : in_(in) {}

  token next() {
    while (pos_ < in_.size() && is_whitespace(in_[pos_]))
      ++pos_;
    token t;
    t.pos = pos_;
    if (pos_ >= in_.size())
      return t;
    auto c = in_[pos_];
    if (is_special(c)) {
      auto two = in_.substr(pos_, 2);
      if (two == "==" || two == "!=") {
        t.kind = two == "==" ? tok::double_equals : tok::not_equals;
        t.text = two;
        pos_ += 2;
        return t;
      }
      t.text = in_.substr(pos_, 1);
      ++pos_;
      switch (c) {
        case '=': t.kind = tok::equals; break;
        case '!': t.kind = tok::not_op; break;
        case '(': t.kind = tok::open_paren; break;
        case ')': t.kind = tok::close_paren; break;
        case ',': t.kind = tok::comma; break;
        case '>': t.kind = tok::greater; break;
        default: t.kind = tok::less; break;
      }
      return t;
    }
    auto start = pos_;
    while (pos_ < in_.size() && !is_whitespace(in_[pos_])
           && !is_special(in_[pos_]))
      ++pos_;
    t.text = in_.substr(start, pos_ - start);
    if (t.text == "in")
      t.kind = tok::in;
    else if (t.text == "notin")
      t.kind = tok::not_in;
    else
      t.kind = tok::identifier;
    return t;
  }

  token peek() {
    auto saved = pos_;
    auto t = next();
    pos_ = saved;
    return t;
  }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

std::string describe(const token& t) {
  if (t.kind == tok::end)
    return "end of input";
  std::string out = "'";
  out += t.text;
  out += '\'';
  return out;
}

class parser {
 public:
  explicit parser(std::string_view text) : text_(text), lex_(text) {}

  caf::expected<std::vector<label_requirement>> run() {
    std::vector<label_requirement> result;
    if (lex_.peek().kind == tok::end)
      return result;
    while (true) {
      auto req = requirement();
      if (!req)
        return std::move(req.error());
      result.emplace_back(std::move(*req));
      auto t = lex_.next();
      if (t.kind == tok::end)
        break;
      if (t.kind != tok::comma)
        return fail(t, "expected ',' or end of input");
      auto after = lex_.peek();
      if (after.kind != tok::identifier && after.kind != tok::not_op)
        return fail(after, "expected a key after ','");
    }
    // Kubernetes sorts requirements by key; keep the order stable otherwise.
    std::stable_sort(
      result.begin(), result.end(),
      [](const auto& x, const auto& y) { return x.key < y.key; });
    return result;
  }

 private:
  caf::error fail(const token& t, std::string_view what) {
    std::string msg = "invalid label selector \"";
    msg += text_;
    msg += "\": unexpected ";
    msg += describe(t);
    msg += " at position ";
    msg += std::to_string(t.pos + 1);
    msg += ", ";
    msg += what;
    return caf::make_error(caf::sec::invalid_argument, std::move(msg));
  }

  caf::error invalid(const token& t, std::string_view what,
                     const std::vector<std::string>& errs) {
    std::string msg = "invalid label selector \"";
    msg += text_;
    msg += "\": invalid ";
    msg += what;
    msg += " '";
    msg += t.text;
    msg += "' at position ";
    msg += std::to_string(t.pos + 1);
    msg += ": ";
    msg += join_errors(errs);
    return caf::make_error(caf::sec::invalid_argument, std::move(msg));
  }

  caf::expected<label_requirement> requirement() {
    label_requirement req;
    auto t = lex_.next();
    bool negated = false;
    if (t.kind == tok::not_op) {
      negated = true;
      t = lex_.next();
    }
    if (t.kind != tok::identifier)
      return fail(t, "expected a key");
    if (auto errs = qualified_name_errors(t.text); !errs.empty())
      return invalid(t, "key", errs);
    req.key = std::string{t.text};
    auto op = lex_.peek();
    if (op.kind == tok::end || op.kind == tok::comma) {
      req.operation = negated ? label_requirement::op::does_not_exist
                              : label_requirement::op::exists;
      return req;
    }
    if (negated)
      return fail(op, "expected ',' or end of input after '!" + req.key + "'");
    lex_.next();
    switch (op.kind) {
      case tok::equals:
      case tok::double_equals:
        req.operation = label_requirement::op::equals;
        break;
      case tok::not_equals:
        req.operation = label_requirement::op::not_equals;
        break;
      case tok::in: req.operation = label_requirement::op::in; break;
      case tok::not_in: req.operation = label_requirement::op::not_in; break;
      case tok::greater:
      case tok::less:
        return fail(op, "the operators '>' and '<' are not supported");
      default:
        return fail(op, "expected one of '=', '==', '!=', 'in', 'notin'");
    }
    if (req.operation == label_requirement::op::in
        || req.operation == label_requirement::op::not_in) {
      auto open = lex_.next();
      if (open.kind != tok::open_paren)
        return fail(open, "expected '(' after '" + std::string{op.text} + "'");
      while (true) {
        auto v = lex_.next();
        if (v.kind == tok::close_paren && req.values.empty()) {
          // As in Kubernetes, `in ()` is the set holding the empty value.
          req.values.emplace_back();
          break;
        }
        if (v.kind == tok::comma || v.kind == tok::close_paren) {
          // Kubernetes accepts an empty value between commas: `in (a,,b)`.
          req.values.emplace_back();
          if (v.kind == tok::close_paren)
            break;
          continue;
        }
        if (v.kind != tok::identifier && v.kind != tok::in
            && v.kind != tok::not_in)
          return fail(v, "expected a value, ',' or ')'");
        if (auto errs = label_value_errors(v.text); !errs.empty())
          return invalid(v, "value", errs);
        req.values.emplace_back(v.text);
        auto sep = lex_.next();
        if (sep.kind == tok::close_paren)
          break;
        if (sep.kind != tok::comma)
          return fail(sep, "expected ',' or ')'");
        if (lex_.peek().kind == tok::close_paren) {
          // Trailing comma: `in (a,)` means the values "a" and "".
          req.values.emplace_back();
          lex_.next();
          break;
        }
      }
      std::sort(req.values.begin(), req.values.end());
      req.values.erase(std::unique(req.values.begin(), req.values.end()),
                       req.values.end());
      return req;
    }
    // Exact value; `key=` (nothing before ',' or the end) is the empty value.
    auto v = lex_.peek();
    if (v.kind == tok::end || v.kind == tok::comma) {
      req.values.emplace_back();
      return req;
    }
    lex_.next();
    if (v.kind != tok::identifier && v.kind != tok::in && v.kind != tok::not_in)
      return fail(v, "expected a value");
    if (auto errs = label_value_errors(v.text); !errs.empty())
      return invalid(v, "value", errs);
    req.values.emplace_back(v.text);
    return req;
  }

  std::string_view text_;
  lexer lex_;
};

} // namespace

caf::expected<label_selector> label_selector::parse(std::string_view text) {
  parser p{text};
  auto reqs = p.run();
  if (!reqs)
    return std::move(reqs.error());
  label_selector result;
  result.requirements_ = std::move(*reqs);
  return result;
}

bool label_selector::matches(
  const std::map<std::string, std::string>& labels) const {
  for (auto& r : requirements_) {
    auto i = labels.find(r.key);
    bool has = i != labels.end();
    auto in_values = [&] {
      return has
             && std::binary_search(r.values.begin(), r.values.end(), i->second);
    };
    switch (r.operation) {
      case label_requirement::op::exists:
        if (!has)
          return false;
        break;
      case label_requirement::op::does_not_exist:
        if (has)
          return false;
        break;
      case label_requirement::op::equals:
      case label_requirement::op::in:
        if (!in_values())
          return false;
        break;
      case label_requirement::op::not_equals:
      case label_requirement::op::not_in:
        // As in Kubernetes: an absent key satisfies `!=` and `notin`.
        if (in_values())
          return false;
        break;
    }
  }
  return true;
}

std::string label_selector::to_string() const {
  std::string out;
  for (auto& r : requirements_) {
    if (!out.empty())
      out += ',';
    switch (r.operation) {
      case label_requirement::op::exists: out += r.key; break;
      case label_requirement::op::does_not_exist:
        out += '!';
        out += r.key;
        break;
      case label_requirement::op::equals:
      case label_requirement::op::not_equals:
        out += r.key;
        out += r.operation == label_requirement::op::equals ? "=" : "!=";
        if (!r.values.empty())
          out += r.values.front();
        break;
      case label_requirement::op::in:
      case label_requirement::op::not_in: {
        out += r.key;
        out += r.operation == label_requirement::op::in ? " in (" : " notin (";
        bool first = true;
        for (auto& v : r.values) {
          if (!first)
            out += ',';
          first = false;
          out += v;
        }
        out += ')';
        break;
      }
    }
  }
  return out;
}

// -- field selector ----------------------------------------------------------

namespace {

// Splits on commas not preceded by a backslash escape.
std::vector<std::string_view> split_terms(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  bool escaped = false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (escaped) {
      escaped = false;
    } else if (s[i] == '\\') {
      escaped = true;
    } else if (s[i] == ',') {
      out.emplace_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  out.emplace_back(s.substr(start));
  return out;
}

caf::expected<std::string> unescape(std::string_view s,
                                    std::string_view whole) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\') {
      if (i + 1 >= s.size()
          || (s[i + 1] != '\\' && s[i + 1] != ',' && s[i + 1] != '=')) {
        std::string msg = "invalid field selector \"";
        msg += whole;
        msg += "\": invalid escape sequence in '";
        msg += s;
        msg += "'";
        return caf::make_error(caf::sec::invalid_argument, std::move(msg));
      }
      out += s[++i];
    } else if (s[i] == '=') {
      std::string msg = "invalid field selector \"";
      msg += whole;
      msg += "\": unescaped '=' in value '";
      msg += s;
      msg += "'";
      return caf::make_error(caf::sec::invalid_argument, std::move(msg));
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == ',' || c == '=')
      out += '\\';
    out += c;
  }
  return out;
}

} // namespace

caf::expected<field_selector> field_selector::parse(std::string_view text) {
  field_selector result;
  for (auto part : split_terms(text)) {
    if (part.empty())
      continue;
    // The first position at which one of "!=", "==", "=" starts.
    size_t pos = std::string_view::npos;
    size_t op_len = 0;
    bool negated = false;
    for (size_t i = 0; i < part.size(); ++i) {
      auto rest = part.substr(i);
      if (rest.starts_with("!=")) {
        pos = i, op_len = 2, negated = true;
        break;
      }
      if (rest.starts_with("==")) {
        pos = i, op_len = 2;
        break;
      }
      if (rest.starts_with("=")) {
        pos = i, op_len = 1;
        break;
      }
    }
    if (pos == std::string_view::npos) {
      std::string msg = "invalid field selector \"";
      msg += text;
      msg += "\": can't understand '";
      msg += part;
      msg += "', expected FIELD=VALUE, FIELD==VALUE or FIELD!=VALUE";
      return caf::make_error(caf::sec::invalid_argument, std::move(msg));
    }
    term t;
    t.field = std::string{part.substr(0, pos)};
    t.negated = negated;
    if (t.field.empty()) {
      std::string msg = "invalid field selector \"";
      msg += text;
      msg += "\": empty field name in '";
      msg += part;
      msg += "'";
      return caf::make_error(caf::sec::invalid_argument, std::move(msg));
    }
    auto value = unescape(part.substr(pos + op_len), text);
    if (!value)
      return std::move(value.error());
    t.value = std::move(*value);
    result.terms_.emplace_back(std::move(t));
  }
  return result;
}

std::string field_selector::to_string() const {
  std::string out;
  for (auto& t : terms_) {
    if (!out.empty())
      out += ',';
    out += t.field;
    out += t.negated ? "!=" : "=";
    out += escape(t.value);
  }
  return out;
}

} // namespace istio_csr::kube
