// Output of coordinate-admin: aligned tables for people, JSON (-o json) or JSON lines
// (-o jsonl) for scripts.
//
// Commands build their rows as JSON objects (the machine form) and describe the table columns;
// the table view formats times as ISO-8601 UTC and escapes anything that could disturb a
// terminal: control characters (C0, DEL, C1) and bytes that are not UTF-8 are shown as \xNN,
// \n, \t, \r, \u{NN}, and a backslash as \\ (so a key shown in a table can be given back with
// --escaped). JSON output is valid UTF-8 with DEL and C1 characters escaped as \u00NN.
#pragma once

#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/value.h"
#include "scheduler/dump.h"

namespace coordadmin {

using Json = coordinated::scheduler::Json;
using coordinated::Value;

enum class Format { kTable, kJson, kJsonl };

struct Column {
  enum Kind { kText, kNumber, kTime };
  std::string header;
  std::string field;
  Kind kind = kText;
  size_t max_width = 0;  // 0: no limit (longer cells are cut with "...")
  std::function<std::string(const Json&)> render = nullptr;  // a custom display form
};

// A list: a table with a header line, a JSON array, or one JSON object per line.
void PrintList(std::ostream& out, Format format, const std::vector<Column>& columns,
               const std::vector<Json>& rows, bool no_header = false);
// One object: "label: value" lines (nested lists of objects as small tables), or JSON.
void PrintRecord(std::ostream& out, Format format, const Json& record);

// Escapes control characters, invalid UTF-8 and backslashes (see above).
std::string TerminalSafe(std::string_view s);
// The inverse of TerminalSafe for command-line arguments given with --escaped.
std::string Unescape(std::string_view s);
// JSON text (indent < 0: one line) with DEL and C1 characters escaped.
std::string SafeJson(const Json& j, int indent = -1);

// A name, key or worker id for JSON output: a plain string when it is UTF-8, else
// {"$base64": ...}. Kinds (bytes or text) are not kept: the daemon compares names by bytes.
Json NameJson(const Value& v);
Json OptTime(const std::optional<double>& t);
// ISO-8601 UTC to the second ("2026-01-02T03:04:05Z"); "-" for 0.
std::string FormatTime(double unix_seconds);
// The display form of a cell value. Values in the lossless encoding (unit data, definitions)
// are shown as Python 2 repr() would show them: {'url': 'http://a/', u'text': (1, 2.0)}, with
// every non-printable byte escaped.
std::string CellText(const Json& v, Column::Kind kind);
std::string PyDisplay(const Value& v);

}  // namespace coordadmin
