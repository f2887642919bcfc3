#include "daemon/http_util.h"

#include <fmt/format.h>

#include <cmath>

namespace coordinated::daemon {
namespace {

constexpr char kHexUpper[] = "0123456789ABCDEF";
constexpr char kHexLower[] = "0123456789abcdef";
constexpr int kMaxJsonDepth = 64;

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

nlohmann::json ToJson(const Value& v, int depth) {
  if (depth > kMaxJsonDepth) return "...";
  switch (v.kind()) {
    case Value::Kind::kEncoded:
      return ToJson(v.Decoded(), depth);
    case Value::Kind::kNull:
    case Value::Kind::kUndefined:
      return nullptr;
    case Value::Kind::kBool:
      return v.as_bool();
    case Value::Kind::kUInt:
      return v.raw_num();
    case Value::Kind::kNegInt:
      if (auto i = v.AsInt64()) return *i;
      return v.ToDiagnostic();
    case Value::Kind::kDouble: {
      const double d = v.as_double();
      if (!std::isfinite(d)) return nullptr;
      return d;
    }
    case Value::Kind::kBytes:
    case Value::Kind::kText:
      return DisplayString(v.str());
    case Value::Kind::kArray:
    case Value::Kind::kTuple: {
      nlohmann::json out = nlohmann::json::array();
      for (const Value& item : v.items()) out.push_back(ToJson(item, depth + 1));
      return out;
    }
    case Value::Kind::kMap: {
      nlohmann::json out = nlohmann::json::object();
      for (size_t i = 0; i < v.map_size(); ++i) {
        const Value& k = v.key_at(i);
        std::string name = k.is_string() ? DisplayString(k.str()) : DisplayString(k.ToDiagnostic());
        out[name] = ToJson(v.value_at(i), depth + 1);
      }
      return out;
    }
    case Value::Kind::kTag:
      if (v.tag() == Value::kTagUuid && v.tagged().is_bytes() && v.tagged().str().size() == 16) {
        std::string hex;
        for (unsigned char c : v.tagged().str()) {
          hex += kHexLower[c >> 4];
          hex += kHexLower[c & 15];
        }
        return hex;
      }
      return nlohmann::json{{"tag", v.tag()}, {"value", ToJson(v.tagged(), depth + 1)}};
    case Value::Kind::kSimple:
      return DisplayString(v.ToDiagnostic());
  }
  return nullptr;
}

}  // namespace

size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return 1;
  const size_t len = c >= 0xf0 && c <= 0xf4   ? 4
                     : c >= 0xe0 && c <= 0xef ? 3
                     : c >= 0xc2 && c <= 0xdf ? 2
                                              : 0;
  if (len == 0 || i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return 0;
  }
  const auto c1 = static_cast<unsigned char>(s[i + 1]);
  if (len == 3 && ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 >= 0xa0))) return 0;
  if (len == 4 && ((c == 0xf0 && c1 < 0x90) || (c == 0xf4 && c1 >= 0x90))) return 0;
  return len;
}

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = Utf8SequenceLength(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string DisplayString(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size();) {
    const size_t n = Utf8SequenceLength(raw, i);
    if (n == 0) {
      const auto c = static_cast<unsigned char>(raw[i]);
      out += "\\x";
      out += kHexLower[c >> 4];
      out += kHexLower[c & 15];
      ++i;
    } else {
      out.append(raw.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string PercentEncode(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (unsigned char c : raw) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHexUpper[c >> 4];
      out += kHexUpper[c & 15];
    }
  }
  return out;
}

std::optional<std::string> PercentDecode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return std::nullopt;
      const int hi = HexDigit(in[i + 1]);
      const int lo = HexDigit(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<std::map<std::string, std::string>> ParseQuery(std::string_view query) {
  std::map<std::string, std::string> out;
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view part = query.substr(pos, amp - pos);
    if (!part.empty()) {
      const size_t eq = part.find('=');
      auto name = PercentDecode(part.substr(0, eq), true);
      auto value = PercentDecode(eq == std::string_view::npos ? "" : part.substr(eq + 1), true);
      if (!name || !value) return std::nullopt;
      out[*name] = *value;
    }
    pos = amp + 1;
  }
  return out;
}

nlohmann::json ValueToJson(const Value& v) { return ToJson(v, 0); }

std::string HtmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace coordinated::daemon
