// The main() of a fuzz target outside libFuzzer (the g++ builds): feeds each
// file given, and each regular file of each directory given (sorted, not
// recursive), to LLVMFuzzerTestOneInput once. ctest runs every target over
// its seed corpus this way (docs/fuzzing.md); a crash or a sanitizer report
// fails the test like any other. With no input at all it fails too: an
// empty corpus replays nothing and must not pass.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size);

namespace {

std::vector<std::filesystem::path> inputs_of(const std::filesystem::path& arg) {
  std::vector<std::filesystem::path> files;
  if (std::filesystem::is_directory(arg)) {
    for (const auto& entry : std::filesystem::directory_iterator{arg})
      if (entry.is_regular_file())
        files.push_back(entry.path());
    std::sort(files.begin(), files.end());
  } else {
    files.push_back(arg);
  }
  return files;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE_OR_DIR...\n", argv[0]);
    return 2;
  }
  std::size_t replayed = 0;
  for (int i = 1; i < argc; ++i) {
    for (const auto& file : inputs_of(argv[i])) {
      std::ifstream in{file, std::ios::binary};
      if (!in) {
        std::fprintf(stderr, "cannot read %s\n", file.c_str());
        return 1;
      }
      std::string bytes{std::istreambuf_iterator<char>{in}, {}};
      // Like libFuzzer: the input lives in its own heap block, so that ASan
      // catches a read one past its end.
      std::vector<std::uint8_t> copy(bytes.begin(), bytes.end());
      std::fprintf(stderr, "replaying %s (%zu bytes)\n", file.c_str(),
                   copy.size());
      LLVMFuzzerTestOneInput(copy.data(), copy.size());
      ++replayed;
    }
  }
  if (replayed == 0) {
    std::fprintf(stderr, "no inputs to replay\n");
    return 1;
  }
  std::printf("replayed %zu inputs\n", replayed);
  return 0;
}
