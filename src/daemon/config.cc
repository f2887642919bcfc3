// Loading, environment overrides, rendering and the client view of the configuration, all
// driven by the rows of ConfigRows() (config_table.cc). yaml-cpp exceptions are caught here and
// never leave this file.
#include "daemon/config.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

extern char** environ;

namespace coordinated::daemon {
namespace {

constexpr std::string_view kSection = "coordinate";
// Deepest YAML nesting converted into file_tree; configuration files are nowhere near it.
constexpr int kMaxTreeDepth = 256;

// ---------------------------------------------------------------------------------------------
// Scalars

bool IsAscii(std::string_view s) {
  for (unsigned char c : s) {
    if (c >= 0x80) return false;
  }
  return true;
}

// A string as the Python 2 daemon served it: bytes when ASCII, else text.
Value StringValue(std::string_view s) { return IsAscii(s) ? Value::Bytes(s) : Value::Text(s); }

bool OneOf(std::string_view s, std::initializer_list<std::string_view> words) {
  for (auto w : words) {
    if (s == w) return true;
  }
  return false;
}

int DigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 99;
}

// Accumulates digits of `base` (underscores skipped) into *acc. False on a bad digit, no
// digit at all, or overflow of uint64.
bool AccumulateDigits(std::string_view s, int base, uint64_t* acc) {
  bool any = false;
  for (char c : s) {
    if (c == '_') continue;
    int d = DigitValue(c);
    if (d >= base) return false;
    if (*acc > (UINT64_MAX - static_cast<uint64_t>(d)) / static_cast<uint64_t>(base)) {
      return false;
    }
    *acc = *acc * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
    any = true;
  }
  return any;
}

// PyYAML's int forms (with YAML 1.2's 0o). nullopt when `s` is not an int or does not fit.
std::optional<Value> ParseInt(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty() || s[0] == '_') return std::nullopt;
  uint64_t mag = 0;
  bool ok;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    ok = AccumulateDigits(s.substr(2), 16, &mag);
  } else if (s.size() > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'O')) {
    ok = AccumulateDigits(s.substr(2), 8, &mag);
  } else if (s.size() > 2 && s[0] == '0' && (s[1] == 'b' || s[1] == 'B')) {
    ok = AccumulateDigits(s.substr(2), 2, &mag);
  } else if (s.size() > 1 && s[0] == '0') {
    ok = AccumulateDigits(s.substr(1), 8, &mag);
  } else if (s.find(':') != std::string_view::npos) {
    // Base 60: [1-9][0-9_]*(:[0-5]?[0-9])+
    if (s[0] == '0') return std::nullopt;
    size_t colon = s.find(':');
    ok = AccumulateDigits(s.substr(0, colon), 10, &mag);
    while (ok && colon != std::string_view::npos) {
      std::string_view rest = s.substr(colon + 1);
      size_t next = rest.find(':');
      std::string_view part = rest.substr(0, next);
      uint64_t p = 0;
      ok = !part.empty() && part.size() <= 2 && part.find('_') == std::string_view::npos &&
           AccumulateDigits(part, 10, &p) && p < 60 && mag <= (UINT64_MAX - p) / 60;
      if (ok) mag = mag * 60 + p;
      colon = next == std::string_view::npos ? next : colon + 1 + next;
    }
  } else {
    ok = AccumulateDigits(s, 10, &mag);
  }
  if (!ok) return std::nullopt;
  if (!negative) return Value::UInt(mag);
  if (mag == 0) return Value::UInt(0);
  return Value::NegIntArg(mag - 1);  // -mag
}

// Floats: YAML 1.2 core forms plus PyYAML's (`1.`, `1_000.5`). Needs a `.` or an exponent.
std::optional<double> ParseFloat(std::string_view s) {
  std::string_view body = s;
  if (!body.empty() && (body[0] == '-' || body[0] == '+')) body.remove_prefix(1);
  if (OneOf(body, {".inf", ".Inf", ".INF"})) {
    return s[0] == '-' ? -std::numeric_limits<double>::infinity()
                       : std::numeric_limits<double>::infinity();
  }
  if (body.size() == s.size() && OneOf(s, {".nan", ".NaN", ".NAN"})) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  std::string clean;
  bool digits = false, dot = false, exp = false;
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c >= '0' && c <= '9') {
      digits = true;
      clean.push_back(c);
    } else if (c == '_' && digits && !exp) {
      continue;
    } else if (c == '.' && !dot && !exp) {
      dot = true;
      clean.push_back(c);
    } else if ((c == 'e' || c == 'E') && digits && !exp) {
      exp = true;
      clean.push_back('e');
      if (i + 1 < body.size() && (body[i + 1] == '+' || body[i + 1] == '-')) {
        clean.push_back(body[++i]);
      }
      if (i + 1 >= body.size()) return std::nullopt;
    } else {
      return std::nullopt;
    }
  }
  if (!digits || (!dot && !exp)) return std::nullopt;
  double d = 0;
  auto [ptr, ec] = std::from_chars(clean.data(), clean.data() + clean.size(), d);
  if (ptr != clean.data() + clean.size()) return std::nullopt;
  if (ec == std::errc::result_out_of_range) return std::nullopt;  // keep it as a string
  if (ec != std::errc()) return std::nullopt;
  return s[0] == '-' ? -d : d;
}

// ---------------------------------------------------------------------------------------------
// YAML -> Value

bool IsSecretName(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower.find("password") != std::string::npos || lower.find("secret") != std::string::npos ||
         lower.find("token") != std::string::npos;
}

int LineOf(const YAML::Node& n) {
  YAML::Mark m = n.Mark();
  return m.is_null() ? 0 : m.line + 1;
}

const ConfigRow* RowByPath(std::string_view path) {
  for (const auto& row : ConfigRows()) {
    if (path == row.key.path) return &row;
  }
  return nullptr;
}

class Loader {
 public:
  explicit Loader(std::string path) : path_(std::move(path)) {}

  std::string Where(const YAML::Node& n) const { return fmt::format("{}:{}", path_, LineOf(n)); }

  // The whole node as a Value (see ResolveYamlScalar), secret keys dropped.
  StatusOr<Value> Convert(const YAML::Node& n, int depth) const {
    if (depth > kMaxTreeDepth) {
      return Status::InvalidArgument(
          fmt::format("YAML nested deeper than {} levels at {}", kMaxTreeDepth, Where(n)));
    }
    switch (n.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        return Value::Null();
      case YAML::NodeType::Scalar:
        return ConvertScalar(n);
      case YAML::NodeType::Sequence: {
        Value out = Value::Array();
        for (const auto& item : n) {
          COORD_ASSIGN_OR_RETURN(Value v, Convert(item, depth + 1));
          out.Append(std::move(v));
        }
        return out;
      }
      case YAML::NodeType::Map: {
        Value out = Value::Map();
        for (auto it = n.begin(); it != n.end(); ++it) {
          if (it->first.IsScalar() && IsSecretName(it->first.Scalar())) continue;
          COORD_ASSIGN_OR_RETURN(Value k, Convert(it->first, depth + 1));
          COORD_ASSIGN_OR_RETURN(Value v, Convert(it->second, depth + 1));
          out.AppendEntry(std::move(k), std::move(v));
        }
        return out;
      }
    }
    return Value::Null();
  }

  // Applies the entries of a map inside `coordinate:`; `prefix` is the dotted path of `map`
  // ("" for the section itself).
  Status ApplySection(const YAML::Node& map, const std::string& prefix, Config* cfg) const {
    std::set<std::string> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      const YAML::Node key = it->first;  // copies: the iterator's pair is a temporary
      const YAML::Node value = it->second;
      std::string shown_prefix = std::string(kSection) + (prefix.empty() ? "" : "." + prefix);
      if (!key.IsScalar()) {
        return Status::InvalidArgument(
            fmt::format("config key in '{}' at {} is not a string", shown_prefix, Where(key)));
      }
      std::string path = prefix.empty() ? key.Scalar() : prefix + "." + key.Scalar();
      std::string shown = std::string(kSection) + "." + path;
      if (!seen.insert(key.Scalar()).second) {
        return Status::InvalidArgument(
            fmt::format("duplicate config key '{}' at {}", shown, Where(key)));
      }
      const ConfigRow* row = RowByPath(path);
      if (row != nullptr) {
        if (row->key.legacy_ignored) continue;
        COORD_ASSIGN_OR_RETURN(Value v, RowInput(*row, value));
        Status st = row->set(v, cfg);
        if (!st.ok()) return st.Prefixed(fmt::format("config key '{}' at {}", shown, Where(key)));
        continue;
      }
      if (IsSection(path)) {
        if (value.IsNull()) continue;
        if (!value.IsMap()) {
          COORD_ASSIGN_OR_RETURN(Value v, Convert(value, 0));
          return Status::InvalidArgument(
              fmt::format("config key '{}' at {}: expected a map, got {}", shown, Where(key),
                          v.is_string() ? "string '" + v.str() + "'" : v.ToDiagnostic()));
        }
        COORD_RETURN_IF_ERROR(ApplySection(value, path, cfg));
        continue;
      }
      return UnknownKey(key, value, shown);
    }
    return Status::Ok();
  }

 private:
  StatusOr<Value> ConvertScalar(const YAML::Node& n) const {
    const std::string& tag = n.Tag();
    const std::string& text = n.Scalar();
    // "!" marks a quoted or block scalar: always a string, as in PyYAML.
    if (tag == "!" || tag == "tag:yaml.org,2002:str") return StringValue(text);
    return ResolveYamlScalar(text);
  }

  // What a row's `set` receives for this node (see ConfigRow::set).
  StatusOr<Value> RowInput(const ConfigRow& row, const YAML::Node& n) const {
    if (std::string_view(row.key.type) == "string" && n.IsScalar()) return Value::Text(n.Scalar());
    return Convert(n, 0);
  }

  // True when some row lives below `path` (server, limits, ...).
  static bool IsSection(std::string_view path) {
    for (const auto& row : ConfigRows()) {
      std::string_view p = row.key.path;
      if (p.size() > path.size() && p.substr(0, path.size()) == path && p[path.size()] == '.') {
        return true;
      }
    }
    return false;
  }

  // Names the first leaf below an unknown key, so `foo: {bar: 1}` reports
  // 'coordinate.foo.bar' and its line. (Recursion, because assigning a yaml-cpp Node would
  // modify the document instead of rebinding the variable.)
  Status UnknownKey(const YAML::Node& key, const YAML::Node& value, const std::string& shown,
                    int depth = 0) const {
    if (value.IsMap() && value.size() > 0 && depth < kMaxTreeDepth) {
      auto first = value.begin();
      if (first->first.IsScalar()) {
        return UnknownKey(first->first, first->second, shown + "." + first->first.Scalar(),
                          depth + 1);
      }
    }
    return Status::InvalidArgument(fmt::format("unknown config key '{}' at {}", shown, Where(key)));
  }

  std::string path_;
};

Status ReadFile(const std::string& path, std::string* out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Status::IOError(
        fmt::format("cannot open config file '{}': {}", path, std::strerror(errno)));
  }
  struct stat st;
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    return Status::IOError(fmt::format("config file '{}' is a directory", path));
  }
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return Status::IOError(
          fmt::format("cannot read config file '{}': {}", path, std::strerror(err)));
    }
    out->append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return Status::Ok();
}

Status LoadInto(const std::string& path, const std::string& text, Config* cfg) {
  Loader loader(path);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(fmt::format("invalid YAML in {}:{}:{}: {}", path,
                                               e.mark.line + 1, e.mark.column + 1, e.msg));
  }
  try {
    if (root.IsNull()) {
      cfg->file_tree = Value::Map();  // an empty file, or only comments
    } else if (!root.IsMap()) {
      return Status::InvalidArgument(
          fmt::format("config file {}: the top level must be a map of sections", path));
    } else {
      COORD_ASSIGN_OR_RETURN(cfg->file_tree, loader.Convert(root, 0));
      bool seen = false;
      for (auto it = root.begin(); it != root.end(); ++it) {
        if (!it->first.IsScalar() || it->first.Scalar() != kSection) continue;
        if (seen) {
          return Status::InvalidArgument(
              fmt::format("duplicate config key '{}' at {}", kSection, loader.Where(it->first)));
        }
        seen = true;
        const YAML::Node section = it->second;  // a copy: the iterator's pair is a temporary
        if (section.IsNull()) continue;
        if (!section.IsMap()) {
          return Status::InvalidArgument(fmt::format("config key '{}' at {}: expected a map",
                                                     kSection, loader.Where(it->first)));
        }
        COORD_RETURN_IF_ERROR(loader.ApplySection(section, "", cfg));
      }
    }
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(
        fmt::format("config file {}:{}: {}", path, e.mark.line + 1, e.msg));
  }
  cfg->source = path;
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Rendering

std::string QuoteYaml(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);  // read back as this byte (below 0x80)
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string ScalarYaml(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNull:
      return "null";
    case Value::Kind::kBool:
      return v.as_bool() ? "true" : "false";
    case Value::Kind::kUInt:
    case Value::Kind::kNegInt:
      return v.ToDiagnostic();
    case Value::Kind::kDouble:
      return fmt::format("{}", v.as_double());  // shortest round-trip form
    case Value::Kind::kBytes:
    case Value::Kind::kText:
      return QuoteYaml(v.str());
    default:
      return v.ToDiagnostic();  // no row produces other kinds
  }
}

void AppendComment(std::string_view text, const std::string& indent, std::string* out) {
  const size_t width = 100 - indent.size() - 2;
  std::string line;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view word = text.substr(pos, end - pos);
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      *out += indent + "# " + line + "\n";
      line.clear();
    }
    if (!line.empty()) line += ' ';
    line += word;
    pos = end + 1;
  }
  if (!line.empty()) *out += indent + "# " + line + "\n";
}

// Rows nested by path segment, in table order of first appearance.
struct RenderNode {
  std::string name;
  const ConfigRow* row = nullptr;
  std::vector<RenderNode> children;
};

void Insert(RenderNode* node, std::string_view path, const ConfigRow* row) {
  size_t dot = path.find('.');
  std::string_view head = path.substr(0, dot);
  RenderNode* child = nullptr;
  for (auto& c : node->children) {
    if (c.name == head) child = &c;
  }
  if (child == nullptr) {
    node->children.push_back(RenderNode{std::string(head), nullptr, {}});
    child = &node->children.back();
  }
  if (dot == std::string_view::npos) {
    child->row = row;
  } else {
    Insert(child, path.substr(dot + 1), row);
  }
}

void Emit(const RenderNode& node, const Config& cfg, int depth, std::string* out) {
  std::string indent(static_cast<size_t>(depth) * 2, ' ');
  bool first = true;
  for (const auto& child : node.children) {
    if (!first) *out += "\n";
    first = false;
    if (child.row != nullptr) {
      AppendComment(child.row->key.help, indent, out);
      *out += indent + child.name + ": " + ScalarYaml(child.row->get(cfg)) + "\n";
    } else {
      *out += indent + child.name + ":\n";
      Emit(child, cfg, depth + 1, out);
    }
  }
}

// Finds or adds a map under `name` in `map`, replacing a non-map value.
Value* SubMap(Value* map, std::string_view name) {
  Value* v = map->FindMutableKey(name);
  if (v == nullptr) {
    map->AppendEntry(Value::Bytes(name), Value::Map());
    v = &map->mutable_value_at(map->map_size() - 1);
  }
  if (!v->is_map()) *v = Value::Map();
  return v;
}

Status ApplyText(const ConfigRow& row, std::string_view text, Config* cfg) {
  if (std::string_view(row.key.type) == "string") return row.set(Value::Text(text), cfg);
  return row.set(ResolveYamlScalar(text), cfg);
}

}  // namespace

Value ResolveYamlScalar(std::string_view s) {
  if (OneOf(s, {"", "~", "null", "Null", "NULL"})) return Value::Null();
  if (OneOf(s, {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"})) {
    return Value::Bool(true);
  }
  if (OneOf(s, {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"})) {
    return Value::Bool(false);
  }
  if (std::optional<Value> i = ParseInt(s)) return *i;
  if (std::optional<double> d = ParseFloat(s)) return Value::Double(*d);
  return StringValue(s);
}

Status LoadConfigFile(const std::string& path, Config* cfg) {
  std::string text;
  COORD_RETURN_IF_ERROR(ReadFile(path, &text));
  Config next = *cfg;
  COORD_RETURN_IF_ERROR(LoadInto(path, text, &next));
  *cfg = std::move(next);
  return Status::Ok();
}

Status ApplyEnvironment(Config* cfg) {
  Config next = *cfg;
  for (const auto& row : ConfigRows()) {
    if (row.key.env == nullptr || !row.set) continue;
    const char* text = std::getenv(row.key.env);
    if (text == nullptr) continue;
    Status st = ApplyText(row, text, &next);
    if (!st.ok()) return st.Prefixed(fmt::format("environment variable {}", row.key.env));
  }
  *cfg = std::move(next);
  return Status::Ok();
}

Status ApplyOverride(std::string_view path, std::string_view text, Config* cfg) {
  const ConfigRow* row = RowByPath(path);
  std::string shown = fmt::format("config key '{}.{}'", kSection, path);
  if (row == nullptr) return Status::InvalidArgument("unknown " + shown);
  if (row->key.legacy_ignored || !row->set) {
    return Status::InvalidArgument(shown + " is accepted in files for compatibility only");
  }
  Status st = ApplyText(*row, text, cfg);
  return st.ok() ? st : st.Prefixed(shown);
}

std::vector<std::string> UnknownEnvironmentVariables() {
  std::vector<std::string> out;
  constexpr std::string_view kPrefix = "COORDINATED_";
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    std::string_view name = entry.substr(0, entry.find('='));
    if (name.substr(0, kPrefix.size()) != kPrefix) continue;
    // Read elsewhere, not configuration: the whitebox crash points of test builds
    // (common/crash_point.h).
    bool known = name == "COORDINATED_CRASH_POINTS" || name == "COORDINATED_CRASH_SEED";
    for (const auto& row : ConfigRows()) known = known || (row.key.env && name == row.key.env);
    if (!known) out.emplace_back(name);
  }
  return out;
}

std::string RenderConfigYaml(const Config& cfg) {
  RenderNode root;
  for (const auto& row : ConfigRows()) {
    if (!row.key.legacy_ignored && row.get) Insert(&root, row.key.path, &row);
  }
  std::string out =
      "# Configuration of coordinated (the durable Coordinate job daemon).\n"
      "#\n"
      "# Precedence: command-line flags > COORDINATED_* environment variables > this file >\n"
      "# built-in defaults. Unknown keys under `coordinate:` are an error; the Python\n"
      "# client's keys (address, fork_worker, ...) are accepted and ignored. Other top-level\n"
      "# sections are kept and served by get_config, minus keys containing password, secret\n"
      "# or token.\n"
      "coordinate:\n";
  Emit(root, cfg, 1, &out);
  return out;
}

Value ConfigForClients(const Config& cfg) {
  Value tree = cfg.file_tree.is_map() ? cfg.file_tree : Value::Map();
  Value* server = SubMap(SubMap(&tree, kSection), "server");
  server->Set(Value::Bytes("host"), StringValue(cfg.host));
  server->Set(Value::Bytes("port"), Value::Int(cfg.port));
  return tree;
}

}  // namespace coordinated::daemon
