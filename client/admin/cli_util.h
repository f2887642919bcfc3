// Helpers shared by the command files: argument conversion, status names, footers.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "backend.h"
#include "output.h"

namespace coordadmin {

// A subcommand footer: the examples, then the exit codes.
std::string Footer(const std::string& examples);

// A spec name, unit key or worker id from the command line, sent as a byte string (the daemon
// compares names and keys by their bytes). With `escaped`, \xNN, \n, \t, \r, \\ and \u{N} are
// decoded first, so a key copied from a table works.
Value NameArg(const std::string& arg, bool escaped);

// "available" / "1" ... -> 1..5; exits 2 for anything else.
int ParseStatus(const std::string& s);
const char* StatusName(int status);  // "available" ... ("?" when out of range)

// Every text string (map keys included) turned into a byte string with the same bytes, as a
// Python 2 client would send them.
Value TextToBytes(const Value& v);

// The whole content of a file ("-": standard input); exits 1 when it cannot be read.
std::string ReadInput(const std::string& path);

// The JSON object of a unit for listings and `unit show`.
Json UnitJson(const Value& spec, const UnitRow& u, bool details);
Json WorkerJson(const WorkerRow& w, bool details);

}  // namespace coordadmin
