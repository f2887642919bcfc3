// A main() for the fuzz targets when libFuzzer is not available (GCC builds): replays every
// file of the given directories (or the given files) through LLVMFuzzerTestOneInput, then a
// fixed number of deterministic mutations of each (bit flips, interesting bytes, truncations,
// duplicated, deleted and inserted ranges, the input twice), so the corpus doubles as a cheap
// regression fuzz in CTest.
//
// Usage: <target>_replay [--mutations=N] [--seed=S] DIR_OR_FILE...
// Files are replayed in name order and mutations come from a generator seeded by S and the
// file's name, so a run is reproducible. A property failure aborts; the input being run is
// printed to stderr and its bytes written to ./replay-crash-<executable name>.
#include <algorithm>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

namespace fs = std::filesystem;

constexpr uint8_t kInteresting[] = {0x00, 0x01, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1f, 0x3f, 0x5f,
                                    0x7f, 0x80, 0x9f, 0xa0, 0xbf, 0xc0, 0xd8, 0xf4, 0xf6, 0xf7,
                                    0xf9, 0xfa, 0xfb, 0xff, '\n', ':',  '-',  ' ',  '[',  '{'};

std::string g_current;   // what is running, for the failure message
std::string g_bytes;     // its bytes
std::string g_crash_to;  // where they are written on failure

void Run(const std::string& input) {
  g_bytes = input;
  // A fresh copy so reads past the end are caught by sanitizers.
  std::vector<uint8_t> copy(input.begin(), input.end());
  LLVMFuzzerTestOneInput(copy.data(), copy.size());
}

std::string Mutate(std::string s, std::mt19937_64& rng) {
  auto below = [&rng](size_t n) { return n == 0 ? size_t{0} : static_cast<size_t>(rng() % n); };
  const int steps = 1 + static_cast<int>(below(3));
  for (int i = 0; i < steps; ++i) {
    switch (below(8)) {
      case 0:  // flip one bit
        if (!s.empty()) s[below(s.size())] ^= static_cast<char>(1u << below(8));
        break;
      case 1:  // an interesting byte
        if (!s.empty())
          s[below(s.size())] = static_cast<char>(kInteresting[below(sizeof kInteresting)]);
        break;
      case 2:  // a random byte
        if (!s.empty()) s[below(s.size())] = static_cast<char>(rng());
        break;
      case 3:  // truncate
        s.resize(below(s.size() + 1));
        break;
      case 4: {  // duplicate a range in place
        if (s.empty()) break;
        const size_t at = below(s.size());
        const size_t len = 1 + below(std::min<size_t>(s.size() - at, 64));
        s.insert(at, s.substr(at, len));
        break;
      }
      case 5: {  // delete a range
        if (s.empty()) break;
        const size_t at = below(s.size());
        s.erase(at, 1 + below(std::min<size_t>(s.size() - at, 16)));
        break;
      }
      case 6: {  // insert random bytes
        const size_t at = below(s.size() + 1);
        std::string bytes(1 + below(4), '\0');
        for (char& c : bytes) c = static_cast<char>(rng());
        s.insert(at, bytes);
        break;
      }
      default:  // the input twice (two messages, a repeated section)
        if (s.size() < 4096) s += s;
        break;
    }
  }
  return s;
}

bool ReadFile(const fs::path& p, std::string* out) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return false;
  out->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

uint64_t HashName(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

void OnAbort(int) {
  std::fprintf(stderr, "replay: failed on %s; input written to %s\n", g_current.c_str(),
               g_crash_to.c_str());
  if (FILE* f = std::fopen(g_crash_to.c_str(), "wb")) {
    std::fwrite(g_bytes.data(), 1, g_bytes.size(), f);
    std::fclose(f);
  }
}

}  // namespace

int main(int argc, char** argv) {
  long mutations = 200;
  uint64_t seed = 1;
  std::vector<fs::path> files;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.rfind("--mutations=", 0) == 0) {
      mutations = std::strtol(argv[i] + 12, nullptr, 10);
    } else if (arg.rfind("--seed=", 0) == 0) {
      seed = std::strtoull(argv[i] + 7, nullptr, 10);
    } else if (fs::is_directory(arg)) {
      for (const auto& e : fs::directory_iterator(arg)) {
        if (e.is_regular_file()) files.push_back(e.path());
      }
    } else if (fs::is_regular_file(arg)) {
      files.emplace_back(arg);
    } else {
      std::fprintf(stderr, "replay: no such file or directory: %s\n", argv[i]);
      return 2;
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "usage: %s [--mutations=N] [--seed=S] DIR_OR_FILE...\n", argv[0]);
    return 2;
  }
  std::sort(files.begin(), files.end());
  g_crash_to = "replay-crash-" + fs::path(argv[0]).filename().string();
  std::signal(SIGABRT, OnAbort);

  uint64_t runs = 0;
  for (const auto& file : files) {
    std::string input;
    if (!ReadFile(file, &input)) {
      std::fprintf(stderr, "replay: cannot read %s\n", file.c_str());
      return 2;
    }
    g_current = file.string();
    Run(input);
    ++runs;
    std::mt19937_64 rng(seed ^ HashName(file.filename().string()));
    for (long m = 0; m < mutations; ++m) {
      g_current = file.string() + " mutation " + std::to_string(m);
      Run(Mutate(input, rng));
      ++runs;
    }
  }
  std::printf("replay: %zu files, %llu inputs, no failure\n", files.size(),
              static_cast<unsigned long long>(runs));
  return 0;
}
