// Model files (reduced, full and dense layers): bytes -> JSON -> parse_model, the path of
// read_model_file.
#include "fuzz/fuzz_target.hpp"
#include "io/model_io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace iclcert;
  return fuzz::run_reader(data, size, [](const std::string& text) {
    parse_model(parse_json_text(text, fuzz::kFile), fuzz::kFile);
  });
}
