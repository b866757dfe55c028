// Prompt files, single prompts and batches alike (`run --prompt`, `batch`/`compare
// --prompt-file`): bytes -> JSON -> parse_prompts, the path of read_prompt_file.
#include "fuzz/fuzz_target.hpp"
#include "io/prompt_io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace iclcert;
  return fuzz::run_reader(data, size, [](const std::string& text) {
    parse_prompts(parse_json_text(text, fuzz::kFile), fuzz::kFile);
  });
}
