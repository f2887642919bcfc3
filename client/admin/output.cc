#include "output.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <limits>
#include <ostream>
#include <set>

#include "scheduler/coordinator.h"

namespace coordadmin {

using coordinated::scheduler::Base64Decode;
using coordinated::scheduler::Base64Encode;
using coordinated::scheduler::IsValidUtf8;

namespace {

size_t Utf8Length(std::string_view s) {
  size_t n = 0;
  for (char c : s) {
    if ((static_cast<uint8_t>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

// Cuts a display string to `max` code points, ending it with "...".
std::string Cut(std::string s, size_t max) {
  if (max == 0 || Utf8Length(s) <= max) return s;
  size_t keep = max > 3 ? max - 3 : 0, count = 0, i = 0;
  for (; i < s.size(); ++i) {
    if ((static_cast<uint8_t>(s[i]) & 0xC0) != 0x80) {
      if (count == keep) break;
      ++count;
    }
  }
  s.resize(i);
  return s + "...";
}

bool IsTimeKey(std::string_view k) {
  static const std::set<std::string_view> kTimes = {"expiration", "expires",         "start",
                                                    "end",        "last_heard",      "deadline",
                                                    "not_before", "next_continuous", "time"};
  return kTimes.count(k) > 0;
}

bool IsWrapper(const Json& j) {
  if (!j.is_object() || j.empty()) return false;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it.key().empty() && it.key()[0] == '$') return true;
  }
  return false;
}

// A scalar, or a byte string shown as one ({"$bytes": ...} / {"$base64": ...}).
bool ScalarLike(const Json& v) {
  if (!v.is_structured()) return true;
  return v.is_object() && v.size() == 1 &&
         ((v.contains("$bytes") && v["$bytes"].is_string()) ||
          (v.contains("$base64") && v["$base64"].is_string()));
}

bool AllScalars(const Json& j) {
  return std::all_of(j.begin(), j.end(), [](const Json& v) { return ScalarLike(v); });
}

void Table(std::ostream& out, const std::vector<Column>& columns, const std::vector<Json>& rows,
           bool no_header, size_t indent) {
  std::vector<std::vector<std::string>> cells;
  std::vector<size_t> width(columns.size(), 0);
  if (!no_header) {
    cells.emplace_back();
    for (size_t c = 0; c < columns.size(); ++c) {
      cells.back().push_back(columns[c].header);
      width[c] = Utf8Length(columns[c].header);
    }
  }
  for (const Json& row : rows) {
    cells.emplace_back();
    for (size_t c = 0; c < columns.size(); ++c) {
      auto it = row.find(columns[c].field);
      std::string text = it == row.end()     ? "-"
                         : columns[c].render ? columns[c].render(*it)
                                             : CellText(*it, columns[c].kind);
      text = Cut(std::move(text), columns[c].max_width);
      width[c] = std::max(width[c], Utf8Length(text));
      cells.back().push_back(std::move(text));
    }
  }
  for (const auto& line : cells) {
    std::string s(indent, ' ');
    for (size_t c = 0; c < columns.size(); ++c) {
      const size_t pad = width[c] - Utf8Length(line[c]);
      const bool last = c + 1 == columns.size();
      if (columns[c].kind == Column::kNumber) {
        s += std::string(pad, ' ') + line[c];
      } else {
        s += line[c];
        if (!last) s += std::string(pad, ' ');
      }
      if (!last) s += "  ";
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    out << s << '\n';
  }
}

void Record(std::ostream& out, const Json& record, size_t indent) {
  size_t label = 0;
  for (auto it = record.begin(); it != record.end(); ++it) label = std::max(label, it.key().size());
  for (auto it = record.begin(); it != record.end(); ++it) {
    const std::string& k = it.key();
    const Json& v = it.value();
    const std::string head = std::string(indent, ' ') + k + ":";
    const std::string pad(label - k.size() + 1, ' ');
    if (v.is_array() && !v.empty() && std::all_of(v.begin(), v.end(), [](const Json& e) {
          return e.is_object() && !IsWrapper(e) && AllScalars(e);
        })) {
      std::vector<Column> cols;
      for (auto f = v[0].begin(); f != v[0].end(); ++f) {
        cols.push_back({f.key(), f.key(), IsTimeKey(f.key()) ? Column::kTime : Column::kText});
      }
      out << head << '\n';
      Table(out, cols, std::vector<Json>(v.begin(), v.end()), false, indent + 2);
    } else if (v.is_object() && !v.empty() && !IsWrapper(v) && AllScalars(v)) {
      out << head << '\n';
      Record(out, v, indent + 2);
    } else if (v.is_array() && !v.empty() &&
               std::all_of(v.begin(), v.end(), [](const Json& e) { return e.is_string(); })) {
      std::string joined;
      for (const Json& e : v) joined += (joined.empty() ? "" : ", ") + CellText(e, Column::kText);
      out << head << pad << joined << '\n';
    } else {
      out << head << pad << CellText(v, IsTimeKey(k) ? Column::kTime : Column::kText) << '\n';
    }
  }
}

void AppendUtf8(std::string* out, uint32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string TerminalSafe(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<uint8_t>(s[i]);
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7F) {
      out += fmt::format("\\x{:02x}", c);
    } else if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else {
      const size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
      if (len > 1 && i + len <= s.size() && IsValidUtf8(s.substr(i, len))) {
        if (len == 2 && c == 0xC2 && static_cast<uint8_t>(s[i + 1]) < 0xA0) {
          out += fmt::format("\\u{{{:02x}}}", static_cast<uint8_t>(s[i + 1]));  // C1 control
        } else {
          out.append(s.substr(i, len));
        }
        i += len;
        continue;
      }
      out += fmt::format("\\x{:02x}", c);
    }
    ++i;
  }
  return out;
}

std::string Unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out.push_back(s[i]);
      continue;
    }
    const char e = s[i + 1];
    if (e == '\\') {
      out.push_back('\\');
      ++i;
    } else if (e == 'n') {
      out.push_back('\n');
      ++i;
    } else if (e == 't') {
      out.push_back('\t');
      ++i;
    } else if (e == 'r') {
      out.push_back('\r');
      ++i;
    } else if (e == 'x' && i + 3 < s.size() && HexDigit(s[i + 2]) >= 0 && HexDigit(s[i + 3]) >= 0) {
      out.push_back(static_cast<char>(HexDigit(s[i + 2]) * 16 + HexDigit(s[i + 3])));
      i += 3;
    } else if (e == 'u' && i + 2 < s.size() && s[i + 2] == '{') {
      const size_t close = s.find('}', i + 3);
      uint32_t cp = 0;
      bool ok = close != std::string_view::npos && close > i + 3 && close - (i + 3) <= 6;
      for (size_t k = i + 3; ok && k < close; ++k) {
        const int d = HexDigit(s[k]);
        if (d < 0) ok = false;
        cp = cp * 16 + static_cast<uint32_t>(d);
      }
      if (ok && cp <= 0x10FFFF) {
        AppendUtf8(&out, cp);
        i = close;
      } else {
        out.push_back('\\');
      }
    } else {
      out.push_back('\\');
    }
  }
  return out;
}

std::string SafeJson(const Json& j, int indent) {
  const std::string raw = j.dump(indent, ' ', false, Json::error_handler_t::replace);
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    const auto c = static_cast<uint8_t>(raw[i]);
    if (c == 0x7F) {
      out += "\\u007f";
    } else if (c == 0xC2 && i + 1 < raw.size() && static_cast<uint8_t>(raw[i + 1]) >= 0x80 &&
               static_cast<uint8_t>(raw[i + 1]) < 0xA0) {
      out += fmt::format("\\u00{:02x}", static_cast<uint8_t>(raw[i + 1]));
      ++i;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

Json NameJson(const Value& v) {
  if (v.is_null()) return nullptr;
  if (!v.is_string()) return coordinated::scheduler::ValueToJson(v);
  if (IsValidUtf8(v.str())) return v.str();
  Json o = Json::object();
  o["$base64"] = Base64Encode(v.str());
  return o;
}

namespace {
std::string IntText(const Value& v) {
  if (v.kind() == Value::Kind::kUInt) return std::to_string(v.raw_num());
  const unsigned __int128 mag = static_cast<unsigned __int128>(v.raw_num()) + 1;
  if (mag <= std::numeric_limits<uint64_t>::max()) {
    return "-" + std::to_string(static_cast<uint64_t>(mag));
  }
  return "-18446744073709551616";
}
}  // namespace

std::string PyDisplay(const Value& v) {
  using K = Value::Kind;
  switch (v.kind()) {
    case K::kEncoded:
      return PyDisplay(v.Decoded());
    case K::kNull:
      return "None";
    case K::kUndefined:
      return "undefined";
    case K::kBool:
      return v.as_bool() ? "True" : "False";
    case K::kUInt:
    case K::kNegInt:
      return IntText(v);
    case K::kDouble: {
      const double d = v.as_double();
      if (std::isnan(d)) return "nan";
      if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
      std::string s = fmt::format("{}", d);
      if (s.find_first_of(".eE") == std::string::npos) s += ".0";
      return s;
    }
    case K::kBytes:
    case K::kText:
      return coordinated::scheduler::PyRepr(v);
    case K::kArray:
    case K::kTuple: {
      std::string s = v.is_tuple() ? "(" : "[";
      for (size_t i = 0; i < v.items().size(); ++i) {
        if (i) s += ", ";
        s += PyDisplay(v.items()[i]);
      }
      if (v.is_tuple() && v.items().size() == 1) s += ",";
      return s + (v.is_tuple() ? ")" : "]");
    }
    case K::kMap: {
      std::string s = "{";
      for (size_t i = 0; i < v.map_size(); ++i) {
        if (i) s += ", ";
        s += PyDisplay(v.key_at(i)) + ": " + PyDisplay(v.value_at(i));
      }
      return s + "}";
    }
    case K::kTag: {
      const Value& t = v.tagged();
      if (v.tag() == Value::kTagUuid && t.is_bytes() && t.str().size() == 16) {
        std::string hex;
        for (size_t i = 0; i < 16; ++i) {
          if (i == 4 || i == 6 || i == 8 || i == 10) hex.push_back('-');
          hex += fmt::format("{:02x}", static_cast<uint8_t>(t.str()[i]));
        }
        return "UUID('" + hex + "')";
      }
      return fmt::format("tag{}({})", v.tag(), PyDisplay(t));
    }
    case K::kSimple:
      return fmt::format("simple({})", v.raw_num());
  }
  return "?";
}

Json OptTime(const std::optional<double>& t) { return t ? Json(*t) : Json(nullptr); }

std::string FormatTime(double t) {
  if (t == 0 || !std::isfinite(t)) return "-";
  const auto secs = static_cast<time_t>(std::floor(t));
  struct tm tm;
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string CellText(const Json& v, Column::Kind kind) {
  switch (v.type()) {
    case Json::value_t::null:
      return "-";
    case Json::value_t::boolean:
      return v.get<bool>() ? "yes" : "no";
    case Json::value_t::string:
      return TerminalSafe(v.get_ref<const std::string&>());
    case Json::value_t::number_float:
      if (kind == Column::kTime) return FormatTime(v.get<double>());
      return fmt::format("{}", v.get<double>());
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      if (kind == Column::kTime) return FormatTime(v.get<double>());
      return v.dump();
    case Json::value_t::object:
      if (v.size() == 1 && v.contains("$bytes") && v["$bytes"].is_string()) {
        return TerminalSafe(v["$bytes"].get_ref<const std::string&>());
      }
      if (v.size() == 1 && v.contains("$base64") && v["$base64"].is_string()) {
        auto raw = Base64Decode(v["$base64"].get_ref<const std::string&>());
        if (raw.ok()) return TerminalSafe(*raw);
      }
      [[fallthrough]];
    default: {
      auto value = coordinated::scheduler::ValueFromJson(v);
      return value.ok() ? PyDisplay(*value) : SafeJson(v);
    }
  }
}

void PrintList(std::ostream& out, Format format, const std::vector<Column>& columns,
               const std::vector<Json>& rows, bool no_header) {
  switch (format) {
    case Format::kTable:
      Table(out, columns, rows, no_header, 0);
      break;
    case Format::kJson:
      out << SafeJson(Json(rows), 2) << '\n';
      break;
    case Format::kJsonl:
      for (const Json& r : rows) out << SafeJson(r) << '\n';
      break;
  }
  out.flush();
}

void PrintRecord(std::ostream& out, Format format, const Json& record) {
  switch (format) {
    case Format::kTable:
      Record(out, record, 0);
      break;
    case Format::kJson:
      out << SafeJson(record, 2) << '\n';
      break;
    case Format::kJsonl:
      out << SafeJson(record) << '\n';
      break;
  }
  out.flush();
}

}  // namespace coordadmin
