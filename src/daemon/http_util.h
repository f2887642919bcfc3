// Small text helpers of the HTTP side port: UTF-8 checks, percent-encoding of names and keys in
// URLs, query strings, and the rendering of CBOR Values as JSON.
//
// Names and unit keys are arbitrary bytes. In URLs they are percent-encoded byte for byte
// (PercentEncode/PercentDecode round-trip any bytes). In JSON they appear twice: as display text
// (DisplayString: valid UTF-8 kept, every other byte as the four characters \xNN) and as the
// percent-encoded form to put in URLs (the `*_url` fields), which is exact.
//
// Thread-safety: pure functions.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/value.h"

namespace coordinated::daemon {

// Length of the well-formed UTF-8 sequence starting at s[i] (1 for ASCII), 0 when malformed
// (overlong forms, surrogates and code points above U+10FFFF are malformed).
size_t Utf8SequenceLength(std::string_view s, size_t i);
bool IsValidUtf8(std::string_view s);
// Valid UTF-8 as is; every byte of a malformed sequence as "\xNN" (lowercase hex).
std::string DisplayString(std::string_view raw);

// Every byte except A-Z a-z 0-9 - . _ ~ becomes %XX (uppercase hex).
std::string PercentEncode(std::string_view raw);
// %XX sequences become bytes; nullopt for a malformed escape. `plus_is_space` for query strings.
std::optional<std::string> PercentDecode(std::string_view in, bool plus_is_space = false);

// "a=1&b=x%20y" -> {a: "1", b: "x y"}; nullopt when an escape is malformed. Repeated names keep
// the last value.
std::optional<std::map<std::string, std::string>> ParseQuery(std::string_view query);

// A Value as JSON: null/undefined -> null; bool; integers (beyond int64/uint64 -> a string);
// doubles (NaN and infinities -> null); byte and text strings -> DisplayString; arrays and tuples
// -> arrays; maps -> objects (keys: strings as DisplayString, others in CBOR diagnostic
// notation); a UUID tag -> its 32 hex digits; other tags -> {"tag": n, "value": ...}.
// Nesting deeper than 64 levels is cut off as "...".
nlohmann::json ValueToJson(const Value& v);

// HTML-escapes & < > " ' (for the few server-rendered strings of the dashboard).
std::string HtmlEscape(std::string_view s);

}  // namespace coordinated::daemon
