#include "yaml_value.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>

namespace coordadmin {

using coordinated::Status;
using coordinated::StatusOr;
using coordinated::Value;

namespace {

std::string Lower(const std::string& s) {
  std::string out;
  for (char c : s) out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return out;
}

std::string WithoutUnderscores(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c != '_') out.push_back(c);
  }
  return out;
}

bool AllOf(const std::string& s, size_t from, const char* digits) {
  if (from >= s.size()) return false;
  for (size_t i = from; i < s.size(); ++i) {
    if (!std::strchr(digits, s[i])) return false;
  }
  return true;
}

std::optional<Value> ParseInt(const std::string& raw) {
  std::string s = WithoutUnderscores(raw);
  if (s.empty()) return std::nullopt;
  bool neg = false;
  size_t i = 0;
  if (s[0] == '+' || s[0] == '-') {
    neg = s[0] == '-';
    i = 1;
  }
  int base = 10;
  size_t from = i;
  if (s.compare(i, 2, "0x") == 0) {
    base = 16;
    from = i + 2;
    if (!AllOf(s, from, "0123456789abcdefABCDEF")) return std::nullopt;
  } else if (s.compare(i, 2, "0b") == 0) {
    base = 2;
    from = i + 2;
    if (!AllOf(s, from, "01")) return std::nullopt;
  } else if (s.compare(i, 2, "0o") == 0) {
    base = 8;
    from = i + 2;
    if (!AllOf(s, from, "01234567")) return std::nullopt;
  } else if (s.size() > i + 1 && s[i] == '0') {
    base = 8;
    from = i + 1;
    if (!AllOf(s, from, "01234567")) return std::nullopt;
  } else if (!AllOf(s, from, "0123456789")) {
    return std::nullopt;
  }
  errno = 0;
  const unsigned long long v = std::strtoull(s.c_str() + from, nullptr, base);
  if (errno == ERANGE) return std::nullopt;
  if (!neg) return Value::UInt(v);
  if (v == 0) return Value::UInt(0);
  return Value::NegIntArg(v - 1);
}

std::optional<Value> ParseFloat(const std::string& raw) {
  const std::string l = Lower(raw);
  if (l == ".inf" || l == "+.inf") return Value::Double(std::numeric_limits<double>::infinity());
  if (l == "-.inf") return Value::Double(-std::numeric_limits<double>::infinity());
  if (l == ".nan") return Value::Double(std::numeric_limits<double>::quiet_NaN());
  std::string s = WithoutUnderscores(raw);
  // [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?, with a '.' or an exponent.
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  size_t digits = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  bool dot = false, exp = false;
  if (i < s.size() && s[i] == '.') {
    dot = true;
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  }
  if (digits == 0) return std::nullopt;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    exp = true;
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t ed = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++ed;
    if (ed == 0) return std::nullopt;
  }
  if (i != s.size() || (!dot && !exp)) return std::nullopt;
  return Value::Double(std::strtod(s.c_str(), nullptr));
}

Value Scalar(const YAML::Node& n) {
  const std::string& s = n.Scalar();
  const std::string& tag = n.Tag();
  if (tag == "tag:yaml.org,2002:str" || tag == "!") return Value::Text(s);
  const std::string l = Lower(s);
  if (tag == "?" || tag.empty()) {
    if (s.empty() || s == "~" || l == "null") return Value::Null();
    if (l == "true" || l == "yes" || l == "on") return Value::Bool(true);
    if (l == "false" || l == "no" || l == "off") return Value::Bool(false);
    if (auto i = ParseInt(s)) return *i;
    if (auto f = ParseFloat(s)) return *f;
  }
  if (tag == "tag:yaml.org,2002:int") {
    if (auto i = ParseInt(s)) return *i;
  }
  if (tag == "tag:yaml.org,2002:float") {
    if (auto f = ParseFloat(s)) return *f;
    if (auto i = ParseInt(s)) return Value::Double(*i->AsNumber());
  }
  if (tag == "tag:yaml.org,2002:bool") return Value::Bool(l == "true" || l == "yes" || l == "on");
  if (tag == "tag:yaml.org,2002:null") return Value::Null();
  return Value::Text(s);
}

Value Convert(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return Value::Null();
    case YAML::NodeType::Scalar:
      return Scalar(n);
    case YAML::NodeType::Sequence: {
      std::vector<Value> items;
      for (const auto& e : n) items.push_back(Convert(e));
      return Value::Array(std::move(items));
    }
    case YAML::NodeType::Map: {
      Value m = Value::Map();
      for (const auto& kv : n) m.AppendEntry(Convert(kv.first), Convert(kv.second));
      return m;
    }
  }
  return Value::Null();
}

}  // namespace

StatusOr<Value> ParseYaml(const std::string& text) {
  try {
    YAML::Node root = YAML::Load(text);
    return Convert(root);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(e.what());
  }
}

}  // namespace coordadmin
