// Counterexample files of `iclcert fuzz --replay`. read_counterexample_file reads a path, so
// the bytes go through a file of this process's own, which also covers load_json_file.
#include "fuzz/fuzz_target.hpp"
#include "properties/fuzz_case.hpp"

#include <cstdio>
#include <fstream>
#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace iclcert;
  // Removed when the process ends normally; a crash leaves it, and libFuzzer keeps the input.
  static const struct TempFile {
    std::string path = "/tmp/iclcert-fuzz-counterexample-" + std::to_string(::getpid()) + ".json";
    ~TempFile() { std::remove(path.c_str()); }
  } file;
  const std::string& path = file.path;
  return fuzz::run_reader(data, size, [](const std::string& text) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
    try {
      properties::read_counterexample_file(path);
    } catch (const InputError& e) {  // names `path`: restate it as naming the fuzz input
      const std::string message = e.what();
      if (message.rfind(path, 0) != 0) fuzz::finding("an InputError that does not name the file", message);
      throw InputError(fuzz::kFile, "", message.substr(path.size() + 2));
    }
  });
}
