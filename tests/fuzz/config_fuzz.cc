// libFuzzer target for the configuration loader (src/daemon/config.h).
//
// The input is the content of a YAML config file, loaded with LoadConfigFile from a temp file
// created once per process. Errors are fine. A file that loads must render (RenderConfigYaml)
// to text that loads again to the same value for every row, as config.h promises. The input
// also goes through ResolveYamlScalar, and through ApplyOverride as a `--set KEY=VALUE` flag:
// the first byte picks a registered key (or, past the table, the text before the first `=` is
// the key), the rest is the value.
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/cbor.h"
#include "common/status.h"
#include "common/value.h"
#include "daemon/config.h"
#include "fuzz_util.h"

namespace {

namespace daemon = coordinated::daemon;
using coordfuzz::FuzzDie;
using coordinated::Status;
using coordinated::Value;

constexpr const char* kTarget = "config_fuzz";

// A file in $TMPDIR (or /tmp) for the process's lifetime, rewritten for every input.
class TempFile {
 public:
  TempFile() {
    const char* base = getenv("TMPDIR");
    path_ = std::string(base && *base ? base : "/tmp") + "/coord-config-fuzz-XXXXXX";
    const int fd = mkstemp(path_.data());
    if (fd < 0) FuzzDie(kTarget, "mkstemp failed");
    close(fd);
  }
  ~TempFile() { unlink(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  const std::string& Write(std::string_view text) const {
    const int fd = open(path_.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0) FuzzDie(kTarget, "cannot open the temp file");
    size_t done = 0;
    while (done < text.size()) {
      const ssize_t n = write(fd, text.data() + done, text.size() - done);
      if (n <= 0) FuzzDie(kTarget, "cannot write the temp file");
      done += static_cast<size_t>(n);
    }
    close(fd);
    return path_;
  }

 private:
  std::string path_;
};

bool SameRowValue(const Value& a, const Value& b) {
  if (a.is_double() && b.is_double() && std::isnan(a.as_double()) && std::isnan(b.as_double())) {
    return true;
  }
  return coordinated::EncodeCbor(a) == coordinated::EncodeCbor(b);
}

void CheckRenderReloads(const TempFile& file, const daemon::Config& cfg) {
  const std::string text = daemon::RenderConfigYaml(cfg);
  daemon::Config again;
  const Status st = daemon::LoadConfigFile(file.Write(text), &again);
  if (!st.ok()) {
    std::fprintf(stderr, "%s\n%s\n", st.ToString().c_str(), text.c_str());
    FuzzDie(kTarget, "rendered config does not load");
  }
  for (const auto& row : daemon::ConfigRows()) {
    if (!row.get) continue;
    const Value want = row.get(cfg);
    const Value got = row.get(again);
    if (!SameRowValue(want, got)) {
      std::fprintf(stderr, "row %s: %s became %s\n", row.key.path, want.ToDiagnostic().c_str(),
                   got.ToDiagnostic().c_str());
      FuzzDie(kTarget, "rendered config loads to a different value");
    }
  }
}

void CheckOverride(std::string_view input) {
  if (input.empty()) return;
  const auto& rows = daemon::ConfigRows();
  const size_t pick = static_cast<uint8_t>(input[0]);
  std::string_view rest = input.substr(1);
  std::string_view path;
  if (pick < rows.size()) {
    path = rows[pick].key.path;
  } else {
    const size_t eq = rest.find('=');
    if (eq == std::string_view::npos) return;
    path = rest.substr(0, eq);
    rest = rest.substr(eq + 1);
  }
  daemon::Config cfg;
  (void)daemon::ApplyOverride(path, rest, &cfg);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const TempFile file;
  const std::string_view input = coordfuzz::AsView(data, size);

  (void)daemon::ResolveYamlScalar(input);
  CheckOverride(input);

  daemon::Config cfg;
  if (daemon::LoadConfigFile(file.Write(input), &cfg).ok()) CheckRenderReloads(file, cfg);
  return 0;
}
